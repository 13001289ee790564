"""Switch ports and traffic API: scoped reads (another customer's port is a 404), the graph
data per port and range, and creation and changes by engineers and managers through
traffic.services.switchport_save. Community and v3 keys are write-only."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from slaportal.api import ERRORS, DetailSerializer, get_scoped_or_404, validated_input

from ..choices import GraphRange
from ..models import SwitchPort
from ..selectors import switchport_list, traffic_graph
from ..services import switchport_save
from .serializers import SwitchPortInputSerializer, SwitchPortOutputSerializer, TrafficGraphOutputSerializer

NOT_FOUND = {404: OpenApiResponse(DetailSerializer, description="No such switch port in your scope.")}


class _SwitchPortApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """Ports are read by staff and by the users of the port's customer (scoped selector)."""

    permission_classes = [IsAuthenticated]
    serializer_class: Any = SwitchPortOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, no database
            return SwitchPort.objects.none()
        return switchport_list(user=self.request.user)


@extend_schema_view(
    get=extend_schema(operation_id="switch_ports_list"),
    post=extend_schema(operation_id="switch_ports_create", request=SwitchPortInputSerializer,
                       responses={201: SwitchPortOutputSerializer, **ERRORS}),
)
class SwitchPortCollectionApi(generics.ListAPIView, _SwitchPortApi):  # type: ignore[type-arg]
    """GET: the switch ports the user may see. POST: configure a port of a hosting service
    (engineers and managers; others are a 403)."""

    def post(self, request: Request) -> Response:
        data = validated_input(SwitchPortInputSerializer, request)
        service = data.pop("service", None)
        if service is None:
            raise ValidationError({"service": [_("This field is required.")]})
        port = switchport_save(service=service, data=data, actor=request.user)
        return Response(SwitchPortOutputSerializer(port).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(operation_id="switch_ports_retrieve", responses={200: SwitchPortOutputSerializer, **NOT_FOUND}),
    patch=extend_schema(operation_id="switch_ports_partial_update", request=SwitchPortInputSerializer,
                        responses={200: SwitchPortOutputSerializer, **ERRORS, **NOT_FOUND}),
)
class SwitchPortDetailApi(generics.RetrieveAPIView, _SwitchPortApi):  # type: ignore[type-arg]
    """GET: one port. PATCH: change it (engineers and managers); a port stays on its service."""

    def patch(self, request: Request, pk: int) -> Response:
        port = get_scoped_or_404(self.get_queryset(), pk=pk)
        data = validated_input(SwitchPortInputSerializer, request)
        data.pop("service", None)
        port = switchport_save(service=port.service, data=data, actor=request.user, port=port)
        return Response(SwitchPortOutputSerializer(port).data)


@extend_schema_view(get=extend_schema(
    operation_id="switch_ports_traffic_retrieve",
    parameters=[OpenApiParameter("graph", OpenApiTypes.STR, OpenApiParameter.PATH, enum=GraphRange.values,
                                 description="The graph's range: day, week, month or year.")],
    responses={200: TrafficGraphOutputSerializer, **NOT_FOUND}))
class SwitchPortTrafficApi(_SwitchPortApi):
    """GET /api/switch-ports/<id>/traffic/<day|week|month|year>/: one graph's data."""

    serializer_class = TrafficGraphOutputSerializer

    def get(self, request: Request, pk: int, graph: str) -> Response:
        port = get_scoped_or_404(self.get_queryset(), pk=pk)
        if graph not in GraphRange.values:
            raise Http404
        return Response(TrafficGraphOutputSerializer(traffic_graph(port=port, graph=graph)).data)
