"""Installation- and provisioning-orders API. Installation: the scoped list and one order, and each action as a POST: tick an
item done (or take the tick back), pause for a customer-side delay, resume, complete, cancel.

Every order is looked up in the user's scope first (orders.selectors), so another customer's
order is a 404 before anything else is considered; a customer user reads, never acts (403).
Provisioning (/api/provisioning-orders/): the same, with confirm-payment (the E5 clock starts),
items/<code>/done, complete (the customer's contacts are told) and cancel.
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
from ..models import InstallationOrder, ProvisioningOrder
from ..selectors import order_list, provisioning_list
from .serializers import (
    CancelInputSerializer,
    CompleteInputSerializer,
    NoteInputSerializer,
    OrderDetailOutputSerializer,
    OrderFilterSerializer,
    OrderOutputSerializer,
    PauseInputSerializer,
    PaymentInputSerializer,
    ProvisioningCompleteInputSerializer,
    ProvisioningCreateInputSerializer,
    ProvisioningDetailOutputSerializer,
    ProvisioningFilterSerializer,
    ProvisioningOutputSerializer,
    ProvisioningUpdateInputSerializer,
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


# --- E-mail provisioning orders (E5) -----------------------------------------------------------

PROV_NOT_FOUND = {404: OpenApiResponse(DetailSerializer, description="No such provisioning order (or "
                                                                     "checklist item) in your scope.")}
PROV_RESPONSES = {200: ProvisioningDetailOutputSerializer, **ERRORS, **PROV_NOT_FOUND, **CONFLICT}


class _ProvisioningApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """Provisioning orders are read by staff and by the users of the order's customer (their own
    only); another customer's order is a 404 before anything else is considered."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    serializer_class: Any = ProvisioningDetailOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ProvisioningOrder.objects.none()
        return provisioning_list(user=self.request.user)

    def get_order(self, pk: int) -> ProvisioningOrder:
        return get_scoped_or_404(self.get_queryset(), pk=pk)

    def detail(self, pk: int, status: int = 200) -> Response:
        return Response(ProvisioningDetailOutputSerializer(self.get_order(pk)).data, status=status)


@extend_schema_view(get=extend_schema(operation_id="provisioning_orders_list",
                                      parameters=[ProvisioningFilterSerializer]))
class ProvisioningCollectionApi(mixins.ListModelMixin, _ProvisioningApi):
    """The provisioning orders the user may see, newest first, each with its E5 deadline; POST
    opens one (customer service, engineers and managers)."""

    serializer_class = ProvisioningOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ProvisioningOrder.objects.none()
        f = ProvisioningFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        return provisioning_list(user=self.request.user, **f.to_selector_kwargs())

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="provisioning_orders_create", request=ProvisioningCreateInputSerializer,
                   responses={201: ProvisioningDetailOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        data = _valid(ProvisioningCreateInputSerializer, request)
        order = services.provisioning_open(service_id=data["service"].pk, domain=data["domain"],
                                           new_domain=data["new_domain"], actor=request.user)
        return Response(ProvisioningDetailOutputSerializer(provisioning_list(user=request.user).get(pk=order.pk)).data,
                        status=201)


@extend_schema_view(get=extend_schema(operation_id="provisioning_orders_retrieve",
                                      responses={200: ProvisioningDetailOutputSerializer, **PROV_NOT_FOUND}))
class ProvisioningDetailApi(_ProvisioningApi):
    """One order with its checklist and its E5 clock."""

    def get(self, request: Request, pk: int) -> Response:
        return self.detail(pk)


@extend_schema_view(post=extend_schema(operation_id="provisioning_orders_update",
                                       request=ProvisioningUpdateInputSerializer, responses=PROV_RESPONSES))
class ProvisioningUpdateApi(_ProvisioningApi):
    """Enter or correct the domain and its kind while the order is open; a change of kind after
    the payment restarts the deadline from the payment time (24 h or 48 h)."""

    def post(self, request: Request, pk: int) -> Response:
        order = self.get_order(pk)
        data = _valid(ProvisioningUpdateInputSerializer, request)
        services.provisioning_update(order_id=order.pk, domain=data["domain"], new_domain=data["new_domain"],
                                     reason=data["reason"], actor=request.user)
        return self.detail(pk)


@extend_schema_view(post=extend_schema(operation_id="provisioning_orders_confirm_payment",
                                       request=PaymentInputSerializer, responses=PROV_RESPONSES))
class ProvisioningConfirmPaymentApi(_ProvisioningApi):
    """The payment was received (customer service and managers): the E5 clock starts at `paid_at`."""

    def post(self, request: Request, pk: int) -> Response:
        order = self.get_order(pk)
        data = _valid(PaymentInputSerializer, request)
        services.provisioning_payment_confirm(order_id=order.pk, paid_at=data["paid_at"],
                                              reference=data["reference"], actor=request.user)
        return self.detail(pk)


@extend_schema_view(post=extend_schema(operation_id="provisioning_orders_item_done",
                                       request=NoteInputSerializer, responses=PROV_RESPONSES))
class ProvisioningItemDoneApi(_ProvisioningApi):
    """Tick one checklist item done (engineers and managers). `code`: domain_registration (new
    domains only), dns_records, mailboxes, admin_handover or customer_notified."""

    def post(self, request: Request, pk: int, code: str) -> Response:
        order = self.get_order(pk)
        get_scoped_or_404(order.items.all(), code=code)
        data = _valid(NoteInputSerializer, request)
        services.provisioning_item_done(order_id=order.pk, item_code=code, actor=request.user,
                                        note=data["note"])
        return self.detail(pk)


@extend_schema_view(post=extend_schema(operation_id="provisioning_orders_item_undo",
                                       request=NoteInputSerializer, responses=PROV_RESPONSES))
class ProvisioningItemUndoApi(_ProvisioningApi):
    """Take back the tick of one checklist item (engineers and managers)."""

    def post(self, request: Request, pk: int, code: str) -> Response:
        order = self.get_order(pk)
        get_scoped_or_404(order.items.all(), code=code)
        data = _valid(NoteInputSerializer, request)
        services.provisioning_item_undo(order_id=order.pk, item_code=code, actor=request.user,
                                        note=data["note"])
        return self.detail(pk)


@extend_schema_view(post=extend_schema(operation_id="provisioning_orders_complete",
                                       request=ProvisioningCompleteInputSerializer, responses=PROV_RESPONSES))
class ProvisioningCompleteApi(_ProvisioningApi):
    """Complete the provisioning: the domain set, every item done and `confirm` true (engineers
    and managers). Meets E5 and e-mails the customer's authorized contacts; at or after the
    deadline that month's fee waiver is proposed."""

    def post(self, request: Request, pk: int) -> Response:
        order = self.get_order(pk)
        data = _valid(ProvisioningCompleteInputSerializer, request)
        services.provisioning_complete(order_id=order.pk, actor=request.user, confirm=data["confirm"],
                                       note=data["note"], completed_at=data["completed_at"])
        return self.detail(pk)


@extend_schema_view(post=extend_schema(operation_id="provisioning_orders_cancel",
                                       request=CancelInputSerializer, responses=PROV_RESPONSES))
class ProvisioningCancelApi(_ProvisioningApi):
    """Cancel the order and its E5 clock (managers), with a reason."""

    def post(self, request: Request, pk: int) -> Response:
        order = self.get_order(pk)
        data = _valid(CancelInputSerializer, request)
        services.provisioning_cancel(order_id=order.pk, actor=request.user, reason=data["reason"])
        return self.detail(pk)
