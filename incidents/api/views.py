"""Incidents API. Reads from incidents.selectors (scoped: another customer's incident is a 404);
writes are one service call each; the webhook endpoint authenticates by the source's token."""

from __future__ import annotations

import abc
import json
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.selectors import service_list
from slaportal.api import DetailSerializer, IsStaff, ReasonInputSerializer, get_scoped_or_404
from slaportal.api import validated_input as _valid

from .. import services
from ..downtime import service_month_downtime
from ..models import NoticeAttempt
from ..selectors import facility_event_list, incident_list, outage_list
from ..views import parse_month
from ..webhooks import source_for_token, webhook_receive
from .serializers import (
    CallInputSerializer,
    ClassifyInputSerializer,
    DowntimeOutputSerializer,
    DowntimeQuerySerializer,
    ExemptInputSerializer,
    FacilityEventCreateInputSerializer,
    FacilityEventDetailOutputSerializer,
    FacilityEventEndInputSerializer,
    FacilityEventOutputSerializer,
    IncidentCreateInputSerializer,
    IncidentDetailOutputSerializer,
    IncidentFilterSerializer,
    IncidentOutputSerializer,
    NoticeAttemptOutputSerializer,
    OutageCreateInputSerializer,
    OutageFilterSerializer,
    OutageOutputSerializer,
)

ERRORS = {400: DetailSerializer, 403: DetailSerializer, 404: DetailSerializer, 409: DetailSerializer}



@extend_schema_view(get=extend_schema(parameters=[IncidentFilterSerializer]))
class IncidentCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """The incidents the user may see (a customer user: their own)."""

    permission_classes = [IsAuthenticated]
    serializer_class = IncidentOutputSerializer

    def get_queryset(self) -> Any:
        f = IncidentFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        return incident_list(user=self.request.user, state=f.validated_data.get("state"),
                             service_id=f.validated_data.get("service"))

    @extend_schema(operation_id="incidents_create", request=IncidentCreateInputSerializer,
                   responses={201: IncidentDetailOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        """Staff record an incident and (by default) declare the emergency: the outage starts at
        `outage_started_at`, C4 starts now and the first authorized contact is notified."""
        data = _valid(IncidentCreateInputSerializer, request)
        now = timezone.now()
        data["outage_started_at"] = data["outage_started_at"] or now
        rec = services.incident_record(actor=request.user, now=now, **data)
        inc = incident_list(user=request.user).prefetch_related("outages", "notice_attempts__contact").get(
            pk=rec.incident.pk)
        return Response(IncidentDetailOutputSerializer(inc).data, status=status.HTTP_201_CREATED)


class IncidentDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    """One incident with its outages and every notice attempt (channel, address, time, outcome)."""

    permission_classes = [IsAuthenticated]
    serializer_class = IncidentDetailOutputSerializer

    def get_queryset(self) -> Any:
        return incident_list(user=self.request.user).prefetch_related("outages", "notice_attempts__contact")


class _IncidentActionApi(APIView, abc.ABC):
    """One POST action on an incident: scope it (404), parse input, call `act`, answer with it."""

    permission_classes = [IsAuthenticated]
    input_serializer: Any = ReasonInputSerializer

    @abc.abstractmethod
    def act(self, request: Request, incident_id: int, data: dict[str, Any]) -> Any: ...

    def post(self, request: Request, pk: int) -> Response:
        inc = get_scoped_or_404(incident_list(user=request.user), pk=pk)
        data = _valid(self.input_serializer, request)
        self.act(request, inc.pk, data)
        inc = incident_list(user=request.user).get(pk=inc.pk)
        return Response(IncidentDetailOutputSerializer(inc).data)


@extend_schema(request=ReasonInputSerializer, responses={200: IncidentDetailOutputSerializer, **ERRORS})
class IncidentAcknowledgeApi(_IncidentActionApi):
    """The customer acknowledges the emergency (meets C4, counts as the customer's report)."""

    def act(self, request: Request, incident_id: int, data: dict[str, Any]) -> Any:
        return services.incident_acknowledge(incident_id=incident_id, actor=request.user, via="api")


@extend_schema(request=ReasonInputSerializer, responses={200: IncidentDetailOutputSerializer, **ERRORS})
class IncidentDeclareApi(_IncidentActionApi):
    """Declare the emergency on a detected incident (C4 starts, contacts notified). An incident
    staff recorded as detected gets its outage from the start they recorded."""

    def act(self, request: Request, incident_id: int, data: dict[str, Any]) -> Any:
        inc = incident_list(user=request.user).get(pk=incident_id)
        return services.incident_declare(incident_id=incident_id, actor=request.user, reason=data["reason"],
                                         outage_started_at=services.declared_outage_start(inc))


@extend_schema(request=ReasonInputSerializer, responses={200: IncidentDetailOutputSerializer, **ERRORS})
class IncidentResolveApi(_IncidentActionApi):
    def act(self, request: Request, incident_id: int, data: dict[str, Any]) -> Any:
        return services.incident_resolve(incident_id=incident_id, actor=request.user, reason=data["reason"])


@extend_schema(request=ReasonInputSerializer, responses={200: IncidentDetailOutputSerializer, **ERRORS})
class IncidentCloseApi(_IncidentActionApi):
    def act(self, request: Request, incident_id: int, data: dict[str, Any]) -> Any:
        return services.incident_close(incident_id=incident_id, actor=request.user, reason=data["reason"])


@extend_schema(request=ExemptInputSerializer, responses={200: IncidentDetailOutputSerializer, **ERRORS})
class IncidentExemptApi(_IncidentActionApi):
    """Record a notice exemption (contact details outdated through the customer's fault, force majeure)."""

    input_serializer = ExemptInputSerializer

    def act(self, request: Request, incident_id: int, data: dict[str, Any]) -> Any:
        return services.notice_exempt(incident_id=incident_id, actor=request.user, **data)


class NoticeAttemptRecordApi(APIView):
    """The engineer records a phone call: reached (C4 met) or no answer (next channel/contact)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=CallInputSerializer, responses={200: NoticeAttemptOutputSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        visible = incident_list(user=request.user).values("pk")
        attempt = get_scoped_or_404(NoticeAttempt.objects.filter(incident__in=visible), pk=pk)
        data = _valid(CallInputSerializer, request)
        a = services.notice_call_record(attempt_id=attempt.pk, actor=request.user, **data)
        return Response(NoticeAttemptOutputSerializer(a).data)


@extend_schema_view(get=extend_schema(parameters=[OutageFilterSerializer]))
class OutageCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: outages the user may see. POST: staff enter an outage by hand (power events)."""

    permission_classes = [IsAuthenticated]
    serializer_class = OutageOutputSerializer

    def get_queryset(self) -> Any:
        f = OutageFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        return outage_list(user=self.request.user, kind=f.validated_data.get("kind"),
                           service_id=f.validated_data.get("service"))

    @extend_schema(operation_id="outages_create", request=OutageCreateInputSerializer,
                   responses={201: OutageOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        data = _valid(OutageCreateInputSerializer, request)
        o = services.outage_record(actor=request.user, **data)
        return Response(OutageOutputSerializer(o).data, status=status.HTTP_201_CREATED)


class OutageDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated]
    serializer_class = OutageOutputSerializer

    def get_queryset(self) -> Any:
        return outage_list(user=self.request.user)


class OutageClassifyApi(APIView):
    """Set or change an outage's cause; exclusions need a justification; audited."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ClassifyInputSerializer, responses={200: OutageOutputSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        o = get_scoped_or_404(outage_list(user=request.user), pk=pk)
        data = _valid(ClassifyInputSerializer, request)
        o = services.outage_classify(outage_id=o.pk, actor=request.user, **data)
        return Response(OutageOutputSerializer(o).data)


class DowntimeApi(APIView):
    """A service's counted downtime for a month (YYYY-MM; default the current month) and whether
    C1/E1 (kind=network) or C2 (kind=power) is breached."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[DowntimeQuerySerializer],
                   responses={200: DowntimeOutputSerializer, 404: DetailSerializer})
    def get(self, request: Request, pk: int) -> Response:
        service = get_scoped_or_404(service_list(user=request.user), pk=pk)
        q = DowntimeQuerySerializer(data=request.query_params)
        q.is_valid(raise_exception=True)
        year, month = parse_month(q.validated_data.get("month"))
        r = service_month_downtime(service=service, year=year, month=month, kind=q.validated_data["kind"])
        return Response(DowntimeOutputSerializer(r).data)


class RawJSONParser(BaseParser):
    """Keeps the body as bytes: the webhook decodes it itself so a malformed body is a clean 400."""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> bytes:
        return stream.read() if stream is not None else b""


class WebhookApi(APIView):
    """External monitors post here with `Authorization: Bearer <token>` (or `?token=`): Prometheus
    Alertmanager's webhook JSON or the generic JSON `{"service": id, "status": "firing"|"resolved",
    "fingerprint": "...", "starts_at": "...", "ends_at": "...", "title": "..."}`."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [RawJSONParser]

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT, 400: DetailSerializer,
                                                             401: DetailSerializer})
    def post(self, request: Request) -> Response:
        auth = request.headers.get("Authorization", "")
        raw = auth[7:].strip() if auth.lower().startswith("bearer ") else request.query_params.get("token", "")
        source = source_for_token(raw)
        if source is None:
            return Response({"detail": _("Unknown or missing webhook token."), "code": "not_authenticated"},
                            status=status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
        try:
            payload = json.loads(request.data or b"")
        except (ValueError, UnicodeDecodeError):
            raise ParseError(_("The body is not valid JSON.")) from None
        result = webhook_receive(source=source, payload=payload)
        return Response(result.as_dict())


class FacilityEventCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: facility events (staff only). POST: record one; it makes one outage per affected
    active service with the event's cause (customers see those outages, not the event)."""

    permission_classes = [IsAuthenticated, IsStaff]
    serializer_class = FacilityEventOutputSerializer

    def get_queryset(self) -> Any:
        return facility_event_list(user=self.request.user)

    @extend_schema(operation_id="facility_events_create", request=FacilityEventCreateInputSerializer,
                   responses={201: FacilityEventDetailOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        data = _valid(FacilityEventCreateInputSerializer, request)
        data["scopes"] = [(s["scope"], s["value"]) for s in data["scopes"]]
        event = services.facility_event_record(actor=request.user, **data)
        return Response(FacilityEventDetailOutputSerializer(event).data, status=status.HTTP_201_CREATED)


class FacilityEventDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    """One facility event with its outages and the deadlines a force-majeure cause relieved."""

    permission_classes = [IsAuthenticated, IsStaff]
    serializer_class = FacilityEventDetailOutputSerializer

    def get_queryset(self) -> Any:
        return facility_event_list(user=self.request.user).prefetch_related(
            "outages", "clock_reliefs__clock__policy")


class FacilityEventEndApi(APIView):
    """The event is over: its open outages end; clocks it paused under force majeure resume."""

    permission_classes = [IsAuthenticated, IsStaff]

    @extend_schema(request=FacilityEventEndInputSerializer,
                   responses={200: FacilityEventDetailOutputSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        event = get_scoped_or_404(facility_event_list(user=request.user), pk=pk)
        data = _valid(FacilityEventEndInputSerializer, request)
        event = services.facility_event_end(event_id=event.pk, actor=request.user, **data)
        return Response(FacilityEventDetailOutputSerializer(event).data)


class FacilityEventClassifyApi(APIView):
    """Set or change the cause of the event and of every outage it made (audited each)."""

    permission_classes = [IsAuthenticated, IsStaff]

    @extend_schema(request=ClassifyInputSerializer,
                   responses={200: FacilityEventDetailOutputSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        event = get_scoped_or_404(facility_event_list(user=request.user), pk=pk)
        data = _valid(ClassifyInputSerializer, request)
        event = services.facility_event_classify(event_id=event.pk, actor=request.user, **data)
        return Response(FacilityEventDetailOutputSerializer(event).data)
