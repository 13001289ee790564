"""Input and output shapes of the installation- and provisioning-orders API. Inputs only parse and type-check; the
rules (every item done and confirmed, a customer-side cause and a note to pause, who may act)
live in orders.services, so the pages and the API refuse the same things."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.api.serializers import UserRefSerializer
from sla.choices import ClockState
from sla.models import Clock
from slaportal.api import IdField, ScopedPrimaryKeyRelatedField

from ..choices import OrderState, PauseReason, ProvisioningState
from ..models import ChecklistItem, InstallationOrder, ProvisioningItem, ProvisioningOrder


class OrderFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters of the order list."""

    state = serializers.ChoiceField(choices=OrderState.choices, required=False)
    customer = IdField(required=False, help_text="Customer id.")
    contract = IdField(required=False, help_text="Contract id.")
    overdue = serializers.BooleanField(
        required=False, allow_null=True, default=None,
        help_text="true: open orders past their installation deadline (C3); false: the others.")

    def to_selector_kwargs(self) -> dict[str, Any]:
        d = self.validated_data
        return {"state": d.get("state"), "customer_id": d.get("customer"),
                "contract_id": d.get("contract"), "overdue": d.get("overdue")}


class ChecklistItemOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    label = serializers.CharField(source="get_code_display", read_only=True)
    done = serializers.BooleanField(read_only=True)
    done_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ChecklistItem
        fields = ["code", "label", "done", "done_at", "done_by", "note"]
        read_only_fields = fields


class OrderClockOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """The order's C3 clock: when it started, when the installation is due, and its state."""

    class Meta:
        model = Clock
        fields = ["id", "state", "started_at", "due_at", "paused_at", "paused_seconds", "met_at",
                  "breached_at", "completed_at", "cancelled_at"]
        read_only_fields = fields


class OrderOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """An order as the list shows it, with its C3 deadline (annotated by the selector, so a page
    of them costs no extra query per row)."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    service_kind = serializers.CharField(source="service.kind", read_only=True)
    engineer = UserRefSerializer(source="service.engineer", read_only=True, allow_null=True)
    completed_by = UserRefSerializer(read_only=True, allow_null=True)
    due_at = serializers.DateTimeField(source="c3_due_at", read_only=True, allow_null=True,
                                       help_text="Installation deadline (C3); null while pending.")
    clock_state = serializers.ChoiceField(source="c3_state", choices=ClockState.choices, read_only=True,
                                          allow_null=True)
    deadline_pending_year = serializers.IntegerField(
        read_only=True, allow_null=True,
        help_text="Set while the deadline cannot be computed: the working-day calendar of this "
                  "year is missing.")

    class Meta:
        model = InstallationOrder
        fields = ["id", "customer", "customer_name", "contract", "contract_number", "service",
                  "service_name", "service_kind", "engineer", "state", "created_at", "paused_at",
                  "pause_reason", "pause_note", "completed_at", "completed_by", "completion_note",
                  "cancelled_at", "due_at", "clock_state", "deadline_pending_year"]
        read_only_fields = fields


class OrderDetailOutputSerializer(OrderOutputSerializer):
    """One order with its checklist and its C3 clock."""

    items = serializers.SerializerMethodField()
    clock = serializers.SerializerMethodField()

    class Meta(OrderOutputSerializer.Meta):
        fields = [*OrderOutputSerializer.Meta.fields, "items", "clock"]
        read_only_fields = fields

    @extend_schema_field(ChecklistItemOutputSerializer(many=True))
    def get_items(self, obj: InstallationOrder) -> Any:
        from ..selectors import order_items

        return ChecklistItemOutputSerializer(order_items(obj), many=True).data

    @extend_schema_field(OrderClockOutputSerializer(allow_null=True))
    def get_clock(self, obj: InstallationOrder) -> Any:
        from ..selectors import order_c3_clock

        clock = order_c3_clock(obj)
        return OrderClockOutputSerializer(clock).data if clock is not None else None


class NoteInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class PauseInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A delay the customer causes: the cause and what is held up (both required)."""

    reason = serializers.ChoiceField(choices=PauseReason.choices)
    note = serializers.CharField(max_length=2000)


class CompleteInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """`confirm` must be true: the engineer confirms the installation is complete."""

    confirm = serializers.BooleanField(default=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class CancelInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(max_length=2000)




# --- E-mail provisioning orders (E5) -----------------------------------------------------------

class ProvisioningFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters of the provisioning-order list."""

    state = serializers.ChoiceField(choices=ProvisioningState.choices, required=False)
    open = serializers.BooleanField(required=False, default=False,
                                    help_text="true: only orders awaiting payment or being provisioned.")
    customer = IdField(required=False, help_text="Customer id.")
    service = IdField(required=False, help_text="Service id.")
    overdue = serializers.BooleanField(
        required=False, allow_null=True, default=None,
        help_text="true: open orders past their provisioning deadline (E5); false: the others.")

    def to_selector_kwargs(self) -> dict[str, Any]:
        d = self.validated_data
        return {"state": d.get("state"), "open_only": d.get("open", False),
                "customer_id": d.get("customer"), "service_id": d.get("service"),
                "overdue": d.get("overdue")}


class ProvisioningItemOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    label = serializers.CharField(source="get_code_display", read_only=True)
    done = serializers.BooleanField(read_only=True)
    done_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = ProvisioningItem
        fields = ["code", "label", "done", "done_at", "done_by", "note"]
        read_only_fields = fields


class ProvisioningOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """An order as the queue shows it, with its E5 deadline (annotated by the selector, so a page
    of them costs no extra query per row)."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    completed_by = UserRefSerializer(read_only=True, allow_null=True)
    payment_confirmed_by = UserRefSerializer(read_only=True, allow_null=True)
    policy = serializers.CharField(source="e5_policy", read_only=True, allow_null=True,
                                   help_text="E5-EXIST (24 h) or E5-NEW (48 h); null before the payment.")
    due_at = serializers.DateTimeField(source="e5_due_at", read_only=True, allow_null=True,
                                       help_text="Provisioning deadline; null before the payment.")
    clock_state = serializers.ChoiceField(source="e5_state", choices=ClockState.choices, read_only=True,
                                          allow_null=True)

    class Meta:
        model = ProvisioningOrder
        fields = ["id", "customer", "customer_name", "contract", "contract_number", "service",
                  "service_name", "domain", "new_domain", "state", "created_at",
                  "payment_confirmed_at", "payment_confirmed_by", "payment_reference", "completed_at",
                  "completed_by", "completion_note", "cancelled_at", "cancel_reason", "policy",
                  "due_at", "clock_state"]
        read_only_fields = fields


class ProvisioningDetailOutputSerializer(ProvisioningOutputSerializer):
    """One order with its checklist and its E5 clock."""

    items = serializers.SerializerMethodField()
    clock = serializers.SerializerMethodField()

    class Meta(ProvisioningOutputSerializer.Meta):
        fields = [*ProvisioningOutputSerializer.Meta.fields, "items", "clock"]
        read_only_fields = fields

    @extend_schema_field(ProvisioningItemOutputSerializer(many=True))
    def get_items(self, obj: ProvisioningOrder) -> Any:
        from ..selectors import provisioning_items

        return ProvisioningItemOutputSerializer(provisioning_items(obj), many=True).data

    @extend_schema_field(OrderClockOutputSerializer(allow_null=True))
    def get_clock(self, obj: ProvisioningOrder) -> Any:
        from ..selectors import provisioning_clock

        clock = provisioning_clock(obj)
        return OrderClockOutputSerializer(clock).data if clock is not None else None


def _email_services(*, user: Any) -> Any:
    from customers.choices import ServiceKind
    from customers.selectors import service_list

    return service_list(user=user).filter(kind=ServiceKind.EMAIL)


class ProvisioningCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Open an order for a domain of an e-mail service (it waits for the payment)."""

    service = ScopedPrimaryKeyRelatedField(selector=_email_services, help_text="An e-mail service id.")
    domain = serializers.CharField(max_length=253)
    new_domain = serializers.BooleanField(default=False,
                                          help_text="true: a new domain must be registered (48 h).")


class ProvisioningUpdateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Enter or correct the domain and its kind; `reason` is required when the kind changes
    after the payment (the deadline restarts from the payment time)."""

    domain = serializers.CharField(max_length=253)
    new_domain = serializers.BooleanField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class PaymentInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """When the payment was received (default now; never in the future): the E5 clock starts then."""

    paid_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class ProvisioningCompleteInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """`confirm` must be true. `completed_at`: when the work was finished (default now)."""

    confirm = serializers.BooleanField(default=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    completed_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
