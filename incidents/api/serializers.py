from __future__ import annotations

from rest_framework import serializers

from customers.selectors import service_list
from slaportal.api import IdField, ScopedPrimaryKeyRelatedField

from ..choices import (
    Cause,
    FacilityEventKind,
    FacilityScope,
    IncidentSource,
    IncidentState,
    NoticeExemption,
    OutageKind,
)
from ..models import FacilityEvent, FacilityEventClock, FacilityEventScope, Incident, NoticeAttempt, Outage


class IncidentFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters of the incident list."""

    state = serializers.ChoiceField(choices=IncidentState.choices, required=False)
    service = IdField(required=False, help_text="Service id.")


class OutageFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters of the outage list."""

    kind = serializers.ChoiceField(choices=OutageKind.choices, required=False)
    service = IdField(required=False, help_text="Service id.")


class DowntimeQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters of a service's monthly downtime."""

    month = serializers.RegexField(r"^[0-9]{4}-[0-9]{2}$", required=False,
                                   help_text="YYYY-MM; default: the current month (Asia/Shanghai).")
    kind = serializers.ChoiceField(choices=OutageKind.choices, required=False, default=OutageKind.NETWORK,
                                   help_text="network: C1/E1; power: C2.")


class NoticeAttemptOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    contact_name = serializers.CharField(source="contact.name", read_only=True)

    class Meta:
        model = NoticeAttempt
        fields = ["id", "seq", "contact", "contact_name", "channel", "address", "outcome", "detail",
                  "started_at", "finished_at"]


class OutageOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    counted_cause = serializers.BooleanField(source="is_counted_cause", read_only=True)

    class Meta:
        model = Outage
        fields = ["id", "customer", "service", "incident", "target", "kind", "source", "started_at", "ended_at",
                  "cause", "cause_note", "cause_set_by", "cause_set_at", "counted_cause", "evidence",
                  "reported_at"]


class IncidentOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Incident
        fields = ["id", "number", "customer", "service", "target", "source", "title", "description", "state",
                  "detected_at", "declared_at", "notified_at", "acknowledged_at", "acknowledged_by",
                  "resolved_at", "classified_at", "closed_at", "reported_at", "reported_via",
                  "notice_missed_at", "notice_exemption", "notice_exemption_note"]


class IncidentDetailOutputSerializer(IncidentOutputSerializer):
    outages = OutageOutputSerializer(many=True, read_only=True)
    notice_attempts = NoticeAttemptOutputSerializer(many=True, read_only=True)

    class Meta(IncidentOutputSerializer.Meta):
        fields = [*IncidentOutputSerializer.Meta.fields, "outages", "notice_attempts"]


class ClassifyInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    cause = serializers.ChoiceField(choices=Cause.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class ExemptInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    exemption = serializers.ChoiceField(choices=NoticeExemption.choices)
    note = serializers.CharField(max_length=4000)


class CallInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reached = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    called_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None,
        help_text="When the call was made (default: now). Its own time decides C4.")


class IncidentCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Staff record an incident: a phone report by the customer (`customer`, with the caller) or
    their own detection (`staff`); `declare` (default true) declares the emergency at once."""

    service = ScopedPrimaryKeyRelatedField(selector=service_list, help_text="Service id.")
    source = serializers.ChoiceField(choices=[(IncidentSource.CUSTOMER, "phone report by the customer"),
                                              (IncidentSource.STAFF, "own detection by staff")])
    caller_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100,
                                        help_text="Required for a phone report.")
    caller_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=40,
                                         help_text="Required for a phone report.")
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    outage_started_at = serializers.DateTimeField(
        required=False, allow_null=True, default=None,
        help_text="When the service could first not be obtained (default: now); not in the future.")
    declare = serializers.BooleanField(required=False, default=True,
                                       help_text="Declare the emergency now (C4 starts, contacts notified).")


class OutageCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    service = ScopedPrimaryKeyRelatedField(selector=service_list)
    kind = serializers.ChoiceField(choices=OutageKind.choices, default=OutageKind.POWER)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    evidence = serializers.CharField(max_length=10000)
    cause = serializers.ChoiceField(choices=Cause.choices, required=False, allow_blank=True, default="")
    cause_note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class DowntimeOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    service = serializers.IntegerField(source="service_id")
    year = serializers.IntegerField()
    month = serializers.IntegerField()
    kind = serializers.CharField()
    month_start = serializers.DateTimeField()
    month_end = serializers.DateTimeField()
    counted_seconds = serializers.IntegerField()
    minutes = serializers.DecimalField(max_digits=12, decimal_places=4)
    minutes_display = serializers.CharField()
    percent = serializers.DecimalField(max_digits=12, decimal_places=6)
    policy_code = serializers.CharField(allow_null=True)
    comparison = serializers.CharField(allow_null=True)
    threshold = serializers.DecimalField(max_digits=12, decimal_places=4, allow_null=True)
    unit = serializers.CharField(allow_null=True)
    breached = serializers.BooleanField(allow_null=True)
    counted_outage_ids = serializers.ListField(child=serializers.IntegerField())
    excluded = serializers.DictField(child=serializers.CharField())


# --- Facility events (staff only) ---------------------------------------------------------

class FacilityScopeSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    scope = serializers.ChoiceField(choices=FacilityScope.choices)
    value = serializers.CharField(max_length=80)

    class Meta:
        model = FacilityEventScope
        fields = ["scope", "value"]


class FacilityReliefSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    policy = serializers.CharField(source="clock.policy.code", read_only=True)

    class Meta:
        model = FacilityEventClock
        fields = ["clock", "policy", "action", "seconds", "at"]
        read_only_fields = fields


class FacilityEventOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    scopes = FacilityScopeSerializer(many=True, read_only=True)
    outage_count = serializers.SerializerMethodField()

    class Meta:
        model = FacilityEvent
        fields = ["id", "title", "kind", "scopes", "started_at", "ended_at", "evidence", "cause",
                  "cause_note", "cause_set_by", "cause_set_at", "recorded_by", "recorded_at",
                  "outage_count"]
        read_only_fields = fields

    def get_outage_count(self, obj: FacilityEvent) -> int:
        annotated = getattr(obj, "outage_total", None)  # selectors.facility_event_list
        return int(annotated) if annotated is not None else obj.outages.count()


class FacilityEventDetailOutputSerializer(FacilityEventOutputSerializer):
    outages = OutageOutputSerializer(many=True, read_only=True)
    clock_reliefs = FacilityReliefSerializer(many=True, read_only=True)

    class Meta(FacilityEventOutputSerializer.Meta):
        fields = [*FacilityEventOutputSerializer.Meta.fields, "outages", "clock_reliefs"]
        read_only_fields = fields


class FacilityEventCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=FacilityEventKind.choices)
    scopes = FacilityScopeSerializer(many=True, help_text="Where: room / rack_row / uplink and the "
                                     "value exactly as on the services.")
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    evidence = serializers.CharField(required=False, allow_blank=True, default="", max_length=10000)
    cause = serializers.ChoiceField(choices=Cause.choices, required=False, allow_blank=True, default="")
    cause_note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class FacilityEventEndInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    ended_at = serializers.DateTimeField()
