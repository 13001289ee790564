"""Monitored targets and probe mailboxes API: scoped reads (another customer's target or mailbox
is a 404); creation and changes by engineers and managers through monitoring.services
(target_save, mailbox_save). A mailbox's password is write-only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from slaportal.api import DetailSerializer, get_scoped_or_404, validated_input

from ..selectors import mailbox_list, target_list
from ..services import mailbox_save, target_save
from .serializers import (
    MailboxFilterSerializer,
    MailboxInputSerializer,
    MailboxOutputSerializer,
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
