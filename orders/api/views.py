"""Installation-orders API: the scoped list and one order, and each action as a POST: tick an
item done (or take the tick back), pause for a customer-side delay, resume, complete, cancel.

Every order is looked up in the user's scope first (orders.selectors), so another customer's
order is a 404 before anything else is considered; a customer user reads, never acts (403).
Writes are one call of orders.services: bad input is a 400 with field errors, a state that does
not allow the action a 409, and nothing changes."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from slaportal.api import ERRORS, DetailSerializer, StaffNeedsViewPerm, get_scoped_or_404
from slaportal.api import validated_input as _valid

from .. import services
from ..models import InstallationOrder
from ..selectors import order_list
from .serializers import (
    CancelInputSerializer,
    CompleteInputSerializer,
    NoteInputSerializer,
    OrderDetailOutputSerializer,
    OrderFilterSerializer,
    OrderOutputSerializer,
    PauseInputSerializer,
)

NOT_FOUND = {404: OpenApiResponse(DetailSerializer, description="No such installation order (or "
                                                                "checklist item) in your scope.")}
CONFLICT = {409: OpenApiResponse(DetailSerializer,
                                 description="The order's state does not allow this; nothing changed.")}
ACTION_RESPONSES = {200: OrderDetailOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT}


class _OrderApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """Orders are read by staff and by the users of the order's customer (their own only)."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    serializer_class: Any = OrderDetailOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, no database
            return InstallationOrder.objects.none()
        return order_list(user=self.request.user)

    def get_order(self, pk: int) -> InstallationOrder:
        return get_scoped_or_404(self.get_queryset(), pk=pk)

    def detail(self, pk: int) -> Response:
        return Response(OrderDetailOutputSerializer(self.get_order(pk)).data)


@extend_schema_view(get=extend_schema(operation_id="installation_orders_list",
                                      parameters=[OrderFilterSerializer]))
class OrderCollectionApi(mixins.ListModelMixin, _OrderApi):
    """The installation orders the user may see, newest first, each with its C3 deadline."""

    serializer_class = OrderOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return InstallationOrder.objects.none()
        f = OrderFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        return order_list(user=self.request.user, **f.to_selector_kwargs())

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


@extend_schema_view(get=extend_schema(operation_id="installation_orders_retrieve",
                                      responses={200: OrderDetailOutputSerializer, **NOT_FOUND}))
class OrderDetailApi(_OrderApi):
    """One order with its checklist and its C3 clock."""

    def get(self, request: Request, pk: int) -> Response:
        return self.detail(pk)


@extend_schema_view(post=extend_schema(operation_id="installation_orders_item_done",
                                       request=NoteInputSerializer, responses=ACTION_RESPONSES))
class OrderItemDoneApi(_OrderApi):
    """Tick one checklist item done (engineers and managers). `code`: hardware, software, power
    or network, as the order's checklist lists them."""

    def post(self, request: Request, pk: int, code: str) -> Response:
        order = self.get_order(pk)
        get_scoped_or_404(order.items.all(), code=code)
        data = _valid(NoteInputSerializer, request)
        services.order_item_done(order_id=order.pk, item_code=code, actor=request.user, note=data["note"])
        return self.detail(pk)


@extend_schema_view(post=extend_schema(operation_id="installation_orders_item_undo",
                                       request=NoteInputSerializer, responses=ACTION_RESPONSES))
class OrderItemUndoApi(_OrderApi):
    """Take back the tick of one checklist item (engineers and managers)."""

    def post(self, request: Request, pk: int, code: str) -> Response:
        order = self.get_order(pk)
        get_scoped_or_404(order.items.all(), code=code)
        data = _valid(NoteInputSerializer, request)
        services.order_item_undo(order_id=order.pk, item_code=code, actor=request.user, note=data["note"])
        return self.detail(pk)


@extend_schema_view(post=extend_schema(operation_id="installation_orders_pause",
                                       request=PauseInputSerializer, responses=ACTION_RESPONSES))
class OrderPauseApi(_OrderApi):
    """Pause for a delay the customer causes; the C3 clock stops (engineers and managers)."""

    def post(self, request: Request, pk: int) -> Response:
        order = self.get_order(pk)
        data = _valid(PauseInputSerializer, request)
        services.order_pause(order_id=order.pk, reason_code=data["reason"], note=data["note"],
                             actor=request.user)
        return self.detail(pk)


@extend_schema_view(post=extend_schema(operation_id="installation_orders_resume",
                                       request=NoteInputSerializer, responses=ACTION_RESPONSES))
class OrderResumeApi(_OrderApi):
    """Resume a paused order; the deadline moves by the paused span (engineers and managers)."""

    def post(self, request: Request, pk: int) -> Response:
        order = self.get_order(pk)
        data = _valid(NoteInputSerializer, request)
        services.order_resume(order_id=order.pk, note=data["note"], actor=request.user)
        return self.detail(pk)


@extend_schema_view(post=extend_schema(operation_id="installation_orders_complete",
                                       request=CompleteInputSerializer, responses=ACTION_RESPONSES))
class OrderCompleteApi(_OrderApi):
    """Complete the installation: every item done and `confirm` true (engineers and managers).
    Meets C3; at or after the deadline the installation-fee refund is proposed."""

    def post(self, request: Request, pk: int) -> Response:
        order = self.get_order(pk)
        data = _valid(CompleteInputSerializer, request)
        services.order_complete(order_id=order.pk, actor=request.user, confirm=data["confirm"],
                                note=data["note"])
        return self.detail(pk)


@extend_schema_view(post=extend_schema(operation_id="installation_orders_cancel",
                                       request=CancelInputSerializer, responses=ACTION_RESPONSES))
class OrderCancelApi(_OrderApi):
    """Cancel the order and its C3 clock (managers), with a reason."""

    def post(self, request: Request, pk: int) -> Response:
        order = self.get_order(pk)
        data = _valid(CancelInputSerializer, request)
        services.order_cancel(order_id=order.pk, actor=request.user, reason=data["reason"])
        return self.detail(pk)
