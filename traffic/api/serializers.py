from __future__ import annotations

from rest_framework import serializers

from customers.selectors import service_list
from slaportal.api import ScopedPrimaryKeyRelatedField

from ..choices import AuthProtocol, GraphRange, PrivProtocol, SnmpVersion
from ..models import SwitchPort


class SwitchPortOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A switch port as the API shows it: never its community or keys."""

    class Meta:
        model = SwitchPort
        fields = ["id", "service", "customer", "name", "device_address", "snmp_port", "port_number", "interface",
                  "if_index", "snmp_version", "v3_user", "v3_auth_protocol", "v3_priv_protocol", "max_bps",
                  "active", "last_polled_at", "last_sample_at", "last_in_bps", "last_out_bps", "last_detail"]


class SwitchPortInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Create or change a switch port; community and keys are write-only (blank keeps them)."""

    service = ScopedPrimaryKeyRelatedField(selector=service_list, required=False,
                                           help_text="The hosting service (on creation; a port stays on it).")
    name = serializers.CharField(required=False, allow_blank=True, max_length=120)
    device_address = serializers.CharField(required=False, max_length=255)
    snmp_port = serializers.IntegerField(required=False, min_value=1, max_value=65535)
    port_number = serializers.CharField(required=False, allow_blank=True, max_length=40)
    interface = serializers.CharField(required=False, max_length=120)
    snmp_version = serializers.ChoiceField(choices=SnmpVersion.choices, required=False)
    community = serializers.CharField(required=False, allow_blank=True, write_only=True, trim_whitespace=False)
    v3_user = serializers.CharField(required=False, allow_blank=True, max_length=64)
    v3_auth_protocol = serializers.ChoiceField(choices=AuthProtocol.choices, required=False)
    v3_auth_key = serializers.CharField(required=False, allow_blank=True, write_only=True, trim_whitespace=False)
    v3_priv_protocol = serializers.ChoiceField(choices=PrivProtocol.choices, required=False)
    v3_priv_key = serializers.CharField(required=False, allow_blank=True, write_only=True, trim_whitespace=False)
    max_bps = serializers.IntegerField(required=False, min_value=1)
    active = serializers.BooleanField(required=False)


class TrafficP95OutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The month's 95th percentile of the 5-minute samples (burstable billing)."""

    month = serializers.CharField(help_text="YYYY-MM, local time.")
    samples = serializers.IntegerField(help_text="5-minute samples in the month so far.")
    # "in" is a Python keyword, so the field is put in the class namespace by its wire name.
    locals()["in"] = serializers.FloatField(allow_null=True, help_text="bit/s in; null without samples.")
    out = serializers.FloatField(allow_null=True, help_text="bit/s out; null without samples.")
    billable = serializers.FloatField(allow_null=True, help_text="The higher of in and out; null without samples.")


class TrafficSummaryOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The figures under a graph, in bit/s; null where the range has no samples (current: no
    sample in the last 15 minutes)."""

    in_max = serializers.FloatField(allow_null=True)
    out_max = serializers.FloatField(allow_null=True)
    in_avg = serializers.FloatField(allow_null=True)
    out_avg = serializers.FloatField(allow_null=True)
    in_current = serializers.FloatField(allow_null=True)
    out_current = serializers.FloatField(allow_null=True)
    p95 = TrafficP95OutputSerializer()


class TrafficGraphOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One graph: parallel arrays, one item per slot of the range's ring, oldest first."""

    port = serializers.IntegerField()
    range = serializers.ChoiceField(choices=GraphRange.choices)
    resolution = serializers.IntegerField(help_text="Seconds per slot.")
    t = serializers.ListField(child=serializers.IntegerField(), help_text="Slot start, epoch seconds.")
    in_avg = serializers.ListField(child=serializers.FloatField(), help_text="Average bit/s in.")
    out_avg = serializers.ListField(child=serializers.FloatField(), help_text="Average bit/s out.")
    in_max = serializers.ListField(child=serializers.FloatField(), help_text="Highest 5-minute bit/s in.")
    out_max = serializers.ListField(child=serializers.FloatField(), help_text="Highest 5-minute bit/s out.")
    summary = TrafficSummaryOutputSerializer()
