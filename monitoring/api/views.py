"""Monitored targets and probe mailboxes API: scoped reads (another customer's target or mailbox
is a 404); creation and changes by engineers and managers through monitoring.services
(target_save, mailbox_save). A mailbox's password is write-only. /api/status/ is the live status
page's data."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from slaportal.api import DetailSerializer, get_scoped_or_404, validated_input

from ..selectors import last_result_text, mailbox_list, status_board, status_counts, target_list
from ..services import mailbox_save, target_save
from .serializers import (
    MailboxFilterSerializer,
    MailboxInputSerializer,
    MailboxOutputSerializer,
    StatusFilterSerializer,
    StatusOutputSerializer,
    TargetCreateInputSerializer,
    TargetFilterSerializer,
    TargetOutputSerializer,
)


@extend_schema_view(get=extend_schema(parameters=[TargetFilterSerializer]))
class TargetCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated]
    serializer_class = TargetOutputSerializer

    def get_queryset(self) -> Any:
        f = TargetFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        return target_list(user=self.request.user, state=f.validated_data.get("state"),
                           service_id=f.validated_data.get("service"))

    @extend_schema(operation_id="targets_create", request=TargetCreateInputSerializer,
                   responses={201: TargetOutputSerializer, 400: DetailSerializer, 403: DetailSerializer})
    def post(self, request: Request) -> Response:
        s = TargetCreateInputSerializer(data=request.data, context={"request": request})
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        service = data.pop("service")
        t = target_save(service=service, data=data, actor=request.user)
        return Response(TargetOutputSerializer(t).data, status=status.HTTP_201_CREATED)


class TargetDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated]
    serializer_class = TargetOutputSerializer

    def get_queryset(self) -> Any:
        return target_list(user=self.request.user)


@extend_schema_view(get=extend_schema(parameters=[MailboxFilterSerializer]))
class MailboxCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: the probe mailboxes the user may see. POST: add one to an e-mail service."""

    permission_classes = [IsAuthenticated]
    serializer_class = MailboxOutputSerializer

    def get_queryset(self) -> Any:
        f = MailboxFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        return mailbox_list(user=self.request.user, service_id=f.validated_data.get("service"))

    @extend_schema(operation_id="mailboxes_create", request=MailboxInputSerializer,
                   responses={201: MailboxOutputSerializer, 400: DetailSerializer, 403: DetailSerializer})
    def post(self, request: Request) -> Response:
        data = validated_input(MailboxInputSerializer, request)
        service = data.pop("service")
        mb = mailbox_save(service=service, data=data, actor=request.user)
        return Response(MailboxOutputSerializer(mb).data, status=status.HTTP_201_CREATED)


class MailboxDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    """GET: one probe mailbox with its checks. PATCH: change it (password write-only)."""

    permission_classes = [IsAuthenticated]
    serializer_class = MailboxOutputSerializer

    def get_queryset(self) -> Any:
        return mailbox_list(user=self.request.user)

    @extend_schema(operation_id="mailboxes_partial_update", request=MailboxInputSerializer,
                   responses={200: MailboxOutputSerializer, 400: DetailSerializer, 403: DetailSerializer,
                              404: DetailSerializer})
    def patch(self, request: Request, pk: int) -> Response:
        mb = get_scoped_or_404(self.get_queryset(), pk=pk)
        data = validated_input(MailboxInputSerializer, request, partial=True)
        data.pop("service", None)  # a mailbox stays on its service
        mb = mailbox_save(service=mb.service, data=data, actor=request.user, mailbox=mb)
        return Response(MailboxOutputSerializer(mb).data)


def _ref(obj: Any) -> dict[str, Any]:
    return {"id": obj.pk, "name": obj.name}


class StatusApi(APIView):
    """GET: the live status of the user's scope (a customer user: their own targets; staff: one
    customer with ?customer=, or all of them a page at a time): each target's state, last probe and
    last result, the open incidents and the planned maintenance. Polled by the status page."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="status_retrieve", parameters=[StatusFilterSerializer],
                   responses={200: StatusOutputSerializer, 400: DetailSerializer, 401: DetailSerializer,
                              404: DetailSerializer})
    def get(self, request: Request) -> Response:
        from ..views import status_scope

        f = StatusFilterSerializer(data=request.query_params)
        f.is_valid(raise_exception=True)
        history = bool(f.validated_data.get("history"))
        customer, _state, targets, page = status_scope(request._request)
        board = status_board(user=request.user, customer_id=customer.pk if customer else None,
                             targets=targets, with_history=history)
        rows = []
        for ts in board.targets:
            t = ts.target
            row: dict[str, Any] = {
                "id": t.pk, "name": str(t), "customer": _ref(t.customer), "service": _ref(t.service),
                "kind": t.kind, "kind_display": t.get_kind_display(), "state": t.state,
                "state_display": t.get_state_display(), "last_probe_at": t.last_probe_at,
                "last_ok_at": t.last_ok_at, "last_result_ok": ts.last_probe_ok,
                "last_result": last_result_text(t), "last_detail": t.last_detail}
            if history:
                row["uptime_90d"] = ts.uptime
                row["days"] = [{"day": c.day, "ok": c.ok, "failed": c.fail, "outage_minutes": c.outage_minutes,
                                "uptime": c.uptime} for c in ts.days]
            rows.append(row)
        sources = {"facility": _("Data-centre maintenance window"), "mail_platform": _("Mail platform adjustment")}
        data = {
            "generated_at": board.generated_at,
            "customer": _ref(customer) if customer else None,
            "page": {"number": page.number, "pages": page.paginator.num_pages, "count": page.paginator.count}
            if page is not None else None,
            "counts": status_counts(user=request.user, customer_id=customer.pk if customer else None),
            "targets": rows,
            "incidents": [{"id": i.pk, "number": i.number, "title": i.title, "customer": _ref(i.customer),
                           "service": _ref(i.service),
                           "target": i.target_id, "state": i.state, "state_display": i.get_state_display(),
                           "since": i.detected_at} for i in board.incidents],
            "maintenance": [{"kind": m.source, "kind_display": sources[m.source], "title": m.title,
                             "starts_at": m.starts_at, "ends_at": m.ends_at, "ongoing": m.ongoing,
                             "services": list(m.services)} for m in board.maintenance],
        }
        # Never cached: the page polls this for what is true now.
        return Response(StatusOutputSerializer(data).data, headers={"Cache-Control": "no-store"})
