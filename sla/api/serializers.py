"""Input and output shapes of the SLA API. Policies are referred to by their code (C3, E5…)
everywhere: in bodies, in outputs and in filters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers import selectors as customer_selectors
from customers.api.serializers import UserRefSerializer
from customers.choices import ServiceKind
from sla.choices import CalendarCode, ClockState, Comparison, PolicyKind, Remedy, Unit
from sla.models import Clock, ContractPolicy, SlaPolicy, WorkdayOverride
from sla.selectors import LIVE_MAX_IDS, Bucket
from sla.templatetags.sla_ui import clock_in_warning, clock_is_late, time_left_text
from slaportal.api import IdField, ScopedPrimaryKeyRelatedField
from slaportal.api_query import ID_MAX

# --- Policies -----------------------------------------------------------------------------


class PolicyOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    name = serializers.CharField(read_only=True)

    class Meta:
        model = SlaPolicy
        fields = ["id", "code", "name", "name_zh", "name_en", "kind", "metric", "starts_on",
                  "comparison", "threshold", "unit", "calendar", "warning_percent", "remedy",
                  "clause", "service_kinds", "active"]
        read_only_fields = fields


class PolicyInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Create (every field but the optional ones) or change (PATCH: any subset). A missing or
    null target reaches the model, which says 'a policy needs a target' under `threshold`."""

    code = serializers.CharField(max_length=20)
    name_zh = serializers.CharField(max_length=200)
    name_en = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=PolicyKind.choices)
    metric = serializers.CharField(max_length=200)
    starts_on = serializers.CharField(max_length=200, required=False, allow_blank=True)
    comparison = serializers.ChoiceField(choices=Comparison.choices)
    threshold = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    unit = serializers.ChoiceField(choices=Unit.choices)
    calendar = serializers.ChoiceField(choices=CalendarCode.choices)
    warning_percent = serializers.IntegerField(required=False)
    remedy = serializers.ChoiceField(choices=Remedy.choices)
    clause = serializers.CharField(max_length=200)
    service_kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=ServiceKind.choices), required=False, max_length=10,
        help_text="The kinds of service the promise is made for; empty: every kind.")
    active = serializers.BooleanField(required=False)


# --- Per-contract overrides ---------------------------------------------------------------

class PolicyOverrideOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    customer = serializers.IntegerField(source="contract.customer_id", read_only=True)
    policy = serializers.CharField(source="policy.code", read_only=True)

    class Meta:
        model = ContractPolicy
        fields = ["id", "contract", "contract_number", "customer", "policy", "threshold",
                  "warning_percent", "active", "note"]
        read_only_fields = fields


class PolicyOverrideUpdateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    threshold = serializers.DecimalField(max_digits=12, decimal_places=4, required=False,
                                         allow_null=True)
    warning_percent = serializers.IntegerField(required=False, allow_null=True)
    active = serializers.BooleanField(required=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class PolicyOverrideCreateInputSerializer(PolicyOverrideUpdateInputSerializer):
    contract = ScopedPrimaryKeyRelatedField(selector=customer_selectors.contract_list)
    policy = serializers.SlugRelatedField(slug_field="code", queryset=SlaPolicy.objects.all())


# --- Working-day overrides ----------------------------------------------------------------

class WorkdayOverrideOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = WorkdayOverride
        fields = ["id", "date", "is_working_day", "note"]
        read_only_fields = fields


class WorkdayOverrideInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    date = serializers.DateField()
    is_working_day = serializers.BooleanField()
    note = serializers.CharField(max_length=200, required=False, allow_blank=True)


# --- Clocks -------------------------------------------------------------------------------

class ClockOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    subject_type = serializers.SerializerMethodField()
    subject_id = serializers.IntegerField(source="object_id", read_only=True)
    policy = serializers.CharField(source="policy.code", read_only=True)
    policy_name = serializers.CharField(source="policy.name", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True, allow_null=True,
                                          default=None)
    assignee = UserRefSerializer(read_only=True, allow_null=True)
    state = serializers.ChoiceField(choices=ClockState.choices, read_only=True)
    breach_withdrawn = serializers.BooleanField(
        read_only=True, help_text="Breached once, but the breach no longer stands: met, recorded "
        "late (the event came before due_at), or exempted (force majeure). Consequences withdrawn.")

    class Meta:
        model = Clock
        fields = ["id", "label", "subject_type", "subject_id", "policy", "policy_name", "customer",
                  "customer_name", "contract", "assignee", "target", "unit", "calendar", "state",
                  "started_at", "due_at", "warn_at", "warned_at", "paused_at", "paused_seconds",
                  "met_at", "breached_at", "cancelled_at", "completed_at", "breach_withdrawn"]
        read_only_fields = fields

    def get_subject_type(self, obj: Clock) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"


class OverdueOutputSerializer(ClockOutputSerializer):
    """A clock on the overdue review, with its bucket and how far it is past (negative) or
    before (positive) its deadline, in seconds, at the time of the request."""

    bucket = serializers.ChoiceField(choices=Bucket.choices, read_only=True)
    seconds_left = serializers.SerializerMethodField()

    class Meta(ClockOutputSerializer.Meta):
        fields = [*ClockOutputSerializer.Meta.fields, "bucket", "seconds_left"]
        read_only_fields = fields

    @extend_schema_field(serializers.IntegerField())
    def get_seconds_left(self, obj: Clock) -> int:
        now: datetime = self.context.get("now") or timezone.now()
        return int((obj.due_at - now).total_seconds())


class OverdueFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters of the overdue review."""

    customer = IdField(required=False, help_text="Customer id.")
    assignee = IdField(required=False, help_text="Assignee (user) id.")
    policy = serializers.CharField(required=False, help_text="Policy code, e.g. C8.")
    bucket = serializers.ChoiceField(choices=Bucket.choices, required=False)
    include_on_track = serializers.BooleanField(
        required=False, default=False,
        help_text="Also list open clocks not yet in their warning window.")

    def to_selector_kwargs(self) -> dict[str, Any]:
        d = self.validated_data
        return {"customer_id": d.get("customer"), "assignee_id": d.get("assignee"),
                "policy_code": d.get("policy"), "bucket": d.get("bucket"),
                "include_on_track": d.get("include_on_track", False)}


# --- Live refresh of the clocks on a page (static/js/live.js) -----------------------------

class ClockLiveFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters of the live refresh."""

    ids = serializers.RegexField(
        r"^[0-9]{1,19}(,[0-9]{1,19})*$", max_length=4000,
        help_text="Clock ids, comma-separated (at most 200). Ids outside your scope are left out "
                  "of the answer, not refused.")

    def validate_ids(self, value: str) -> list[int]:
        ids = list(dict.fromkeys(int(v) for v in value.split(",")))
        if len(ids) > LIVE_MAX_IDS:
            raise serializers.ValidationError(
                _("At most %(n)d clocks at a time.") % {"n": LIVE_MAX_IDS})
        if any(not 1 <= i <= ID_MAX for i in ids):
            raise serializers.ValidationError(_("Every id must be a whole number from 1."))
        return ids


class ClockLiveSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One clock as a live page refreshes it: its state, its times and the time-left text the
    page shows, in the reader's language, at the time of the request."""

    id = serializers.IntegerField(read_only=True)
    state = serializers.ChoiceField(choices=ClockState.choices, read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    due_at = serializers.DateTimeField(read_only=True)
    warn_at = serializers.DateTimeField(read_only=True)
    paused_at = serializers.DateTimeField(read_only=True, allow_null=True)
    warned = serializers.SerializerMethodField()
    late = serializers.SerializerMethodField()
    warning = serializers.SerializerMethodField()
    time_left = serializers.SerializerMethodField()

    @extend_schema_field(serializers.BooleanField(help_text="The warning time passed (warning sent)."))
    def get_warned(self, obj: Clock) -> bool:
        return obj.warned_at is not None

    @extend_schema_field(serializers.BooleanField(help_text="Breached, or open and past its deadline."))
    def get_late(self, obj: Clock) -> bool:
        return clock_is_late(obj, self.context["now"])

    @extend_schema_field(serializers.BooleanField(help_text="Running, inside its warning window."))
    def get_warning(self, obj: Clock) -> bool:
        return clock_in_warning(obj, self.context["now"])

    @extend_schema_field(serializers.CharField(help_text="'3 h 12 min left', 'overdue by 5 min'…"))
    def get_time_left(self, obj: Clock) -> str:
        return time_left_text(obj, self.context["now"])


class ClockLiveOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    now = serializers.DateTimeField(read_only=True, help_text="The server's time of the answer.")
    clocks = ClockLiveSerializer(many=True, read_only=True)
