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
