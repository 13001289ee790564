from __future__ import annotations

from rest_framework import serializers

from customers.selectors import service_list
from slaportal.api import IdField, ScopedPrimaryKeyRelatedField

from ..choices import CheckKind, MailSecurity, TargetState
from ..models import Mailbox, Target


class TargetFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters of the target list."""

    state = serializers.ChoiceField(choices=TargetState.choices, required=False)
    service = IdField(required=False, help_text="Service id.")


class TargetOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Target
        fields = ["id", "customer", "service", "kind", "name", "host", "port", "url", "expected_status",
                  "interval_seconds", "timeout_seconds", "active", "state", "last_method", "last_probe_at",
                  "last_ok_at", "last_detail", "next_due_at"]


class TargetCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    service = ScopedPrimaryKeyRelatedField(selector=service_list)
    kind = serializers.ChoiceField(choices=CheckKind.choices)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    host = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    port = serializers.IntegerField(required=False, allow_null=True, default=None)
    url = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    expected_status = serializers.IntegerField(required=False, default=200)
    interval_seconds = serializers.IntegerField(required=False, default=300)
    timeout_seconds = serializers.FloatField(required=False, default=10.0)
    active = serializers.BooleanField(required=False, default=True)


class MailboxCheckSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Target
        fields = ["id", "kind", "active", "state", "last_probe_at", "last_ok_at", "last_detail"]


class MailboxOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A probe mailbox; the password is never returned, only whether one is stored."""

    password_set = serializers.BooleanField(read_only=True)
    checks = MailboxCheckSerializer(source="targets", many=True, read_only=True)

    class Meta:
        model = Mailbox
        fields = ["id", "customer", "service", "address", "username", "password_set", "smtp_host", "smtp_port",
                  "smtp_security", "imap_host", "imap_port", "imap_security", "pop3_host", "pop3_port",
                  "pop3_security", "webmail_url", "webmail_expected_status", "interval_seconds",
                  "timeout_seconds", "active", "created_at", "checks"]


class MailboxInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Create (POST, with `service`) or change (PATCH) a probe mailbox. `password` is write-only;
    left out or blank, the stored one is kept."""

    service = ScopedPrimaryKeyRelatedField(selector=service_list)
    address = serializers.EmailField(max_length=254)
    username = serializers.CharField(required=False, allow_blank=True, max_length=254)
    password = serializers.CharField(required=False, allow_blank=True, write_only=True, trim_whitespace=False,
                                     max_length=500)
    smtp_host = serializers.CharField(required=False, allow_blank=True, max_length=255)
    smtp_port = serializers.IntegerField(required=False, min_value=1, max_value=65535)
    smtp_security = serializers.ChoiceField(choices=MailSecurity.choices, required=False)
    imap_host = serializers.CharField(required=False, allow_blank=True, max_length=255)
    imap_port = serializers.IntegerField(required=False, min_value=1, max_value=65535)
    imap_security = serializers.ChoiceField(choices=MailSecurity.choices, required=False)
    pop3_host = serializers.CharField(required=False, allow_blank=True, max_length=255)
    pop3_port = serializers.IntegerField(required=False, min_value=1, max_value=65535)
    pop3_security = serializers.ChoiceField(choices=MailSecurity.choices, required=False)
    webmail_url = serializers.CharField(required=False, allow_blank=True, max_length=500)
    webmail_expected_status = serializers.IntegerField(required=False, min_value=100, max_value=599)
    interval_seconds = serializers.IntegerField(required=False, min_value=30, max_value=86400)
    timeout_seconds = serializers.FloatField(required=False, min_value=1, max_value=60)
    active = serializers.BooleanField(required=False)


class MailboxFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    service = IdField(required=False, help_text="Service id.")


# --- /api/status/: the live status page's data (issue 13) ----------------------------------------
class StatusFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters of /api/status/."""

    customer = IdField(required=False, help_text="Customer id (staff; a customer user gets their own).")
    state = serializers.ChoiceField(choices=TargetState.choices, required=False)
    page = serializers.IntegerField(required=False, min_value=1,
                                    help_text="Staff without a customer: the page of 100 targets.")
    history = serializers.BooleanField(required=False, default=False,
                                       help_text="Add each target's last 90 days and its 90-day uptime.")


class StatusRefSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()


class StatusDaySerializer(serializers.Serializer):  # type: ignore[type-arg]
    day = serializers.DateField()
    ok = serializers.IntegerField(help_text="Successful probes that day.")
    failed = serializers.IntegerField(help_text="Failed probes that day.")
    outage_minutes = serializers.IntegerField(help_text="Minutes covered by an outage, rounded up.")
    uptime = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True,
                                      help_text="Percent; null when the day has no data.")


class StatusTargetSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    name = serializers.CharField()
    customer = StatusRefSerializer()
    service = StatusRefSerializer()
    kind = serializers.ChoiceField(choices=CheckKind.choices)
    kind_display = serializers.CharField()
    state = serializers.ChoiceField(choices=TargetState.choices)
    state_display = serializers.CharField()
    last_probe_at = serializers.DateTimeField(allow_null=True)
    last_ok_at = serializers.DateTimeField(allow_null=True)
    last_result_ok = serializers.BooleanField(allow_null=True)
    last_result = serializers.CharField(help_text="The last result, translated.")
    last_detail = serializers.CharField(help_text="The probe's raw detail.")
    uptime_90d = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True, required=False,
                                          help_text="Percent over the last 90 days; null without ?history=1 "
                                                    "or without data.")
    days = StatusDaySerializer(many=True, required=False)


class StatusIncidentSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    number = serializers.CharField(allow_null=True)
    title = serializers.CharField()
    customer = StatusRefSerializer()
    service = StatusRefSerializer()
    target = serializers.IntegerField(allow_null=True)
    state = serializers.CharField()
    state_display = serializers.CharField()
    since = serializers.DateTimeField(help_text="Detected at.")


class StatusMaintenanceSerializer(serializers.Serializer):  # type: ignore[type-arg]
    # A plain string (not an enum) so the schema's "kind" enums of other components keep their names.
    kind = serializers.CharField(help_text="facility: a data-centre maintenance window; mail_platform: an "
                                           "adjustment of the mail platform hosting the customer's domains.")
    kind_display = serializers.CharField()
    title = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    ongoing = serializers.BooleanField()
    services = serializers.ListField(child=serializers.CharField())


class StatusPageSerializer(serializers.Serializer):  # type: ignore[type-arg]
    number = serializers.IntegerField()
    pages = serializers.IntegerField()
    count = serializers.IntegerField()


class StatusOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The status board of the user's scope at `generated_at`."""

    generated_at = serializers.DateTimeField()
    customer = StatusRefSerializer(allow_null=True)
    page = StatusPageSerializer(allow_null=True)
    counts = serializers.DictField(child=serializers.IntegerField(),
                                   help_text="Active targets of the scope per state (all pages).")
    targets = StatusTargetSerializer(many=True)
    incidents = StatusIncidentSerializer(many=True)
    maintenance = StatusMaintenanceSerializer(many=True)
