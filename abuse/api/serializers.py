"""Input and output shapes of the anti-spam API. Inputs only parse and type-check; the rules
live in abuse.services, so the pages and the API refuse the same things."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.api.serializers import UserRefSerializer
from customers.choices import ServiceKind
from customers.models import Customer
from monitoring.choices import MailSecurity
from sla.models import Clock

from ..choices import CaseKind, CaseState, EvidenceKind, Verdict
from ..models import AbuseDesk, BlacklistListing, CaseEvidence, CaseStep, IscPublication, SpamCase

# The earliest time staff may give for a detection, publication or listing. Anything earlier is a
# typo, and it would start an SLA clock in the distant past; before 1901 Asia/Shanghai also had no
# standard offset (local mean time, +08:05:43), which is not an RFC 3339 time any client can read back.
EVENT_TIME_MIN = date(2000, 1, 1)
EVENT_TIME_MAX = date(9998, 12, 31)


class EventTimeField(serializers.DateTimeField):
    """When something happened, as staff record it: from 2000-01-01 (local time) on. Whether it
    may lie in the future is for the service to say."""

    def to_internal_value(self, value: Any) -> datetime:
        at: datetime = super().to_internal_value(value)
        day = timezone.localtime(at).date() if timezone.is_aware(at) else at.date()
        if not EVENT_TIME_MIN <= day <= EVENT_TIME_MAX:
            raise serializers.ValidationError(
                _("Give a date between %(min)s and %(max)s.")
                % {"min": EVENT_TIME_MIN.isoformat(), "max": EVENT_TIME_MAX.isoformat()},
                code="out_of_range")
        return at


class SpamClockOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Clock
        fields = ["id", "state", "started_at", "due_at", "met_at", "breached_at", "completed_at", "cancelled_at"]
        read_only_fields = fields


class SpamStepOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    label = serializers.CharField(source="get_code_display", read_only=True)  # type: ignore[assignment]
    done = serializers.BooleanField(read_only=True)
    done_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CaseStep
        fields = ["code", "label", "done", "done_at", "done_by", "value", "note"]
        read_only_fields = fields


class SpamEvidenceOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    step = serializers.CharField(source="step.code", read_only=True, allow_null=True, default=None)

    class Meta:
        model = CaseEvidence
        fields = ["id", "kind", "step", "original_name", "content_type", "size", "sha256", "uploaded_at"]
        read_only_fields = fields


class CaseOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A case as the list shows it, with both deadlines (annotated by the selector)."""

    customer_name = serializers.CharField(source="customer.name", read_only=True, allow_null=True, default=None)
    response_due_at = serializers.DateTimeField(source="resp_due_at", read_only=True, allow_null=True,
                                                help_text="E4-RESP: response within 1 working day.")
    response_clock_state = serializers.CharField(source="resp_state", read_only=True, allow_null=True)
    result_due_at = serializers.DateTimeField(read_only=True, allow_null=True,
                                              help_text="E4-RESULT: result to the complainant within 3 days.")
    result_clock_state = serializers.CharField(source="result_state", read_only=True, allow_null=True)

    class Meta:
        model = SpamCase
        fields = ["id", "number", "kind", "source", "state", "complaint", "customer", "customer_name",
                  "title", "opened_at", "verdict", "closed_at", "response_due_at", "response_clock_state",
                  "result_due_at", "result_clock_state"]
        read_only_fields = fields


class CaseDetailOutputSerializer(CaseOutputSerializer):
    """One case with its steps and clocks; staff also get the sender details and evidence."""

    steps = serializers.SerializerMethodField()
    clocks = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()

    class Meta(CaseOutputSerializer.Meta):
        fields = [*CaseOutputSerializer.Meta.fields, "description", "complainant_name", "complainant_email",
                  "message_id", "mail_from", "mail_subject", "result", "steps", "clocks", "evidence"]
        read_only_fields = fields

    def _staff(self) -> bool:
        from customers.selectors import user_is_staff

        request = self.context.get("request")
        return user_is_staff(getattr(request, "user", None))

    @extend_schema_field(SpamStepOutputSerializer(many=True))
    def get_steps(self, obj: SpamCase) -> Any:
        from ..selectors import case_steps

        data = SpamStepOutputSerializer(case_steps(obj), many=True).data
        if not self._staff():  # a customer sees what was done and when, not third parties' details
            for row in data:
                row["value"], row["note"], row["done_by"] = "", "", None
        return data

    @extend_schema_field(SpamClockOutputSerializer(many=True))
    def get_clocks(self, obj: SpamCase) -> Any:
        from ..selectors import case_clocks

        return [dict(SpamClockOutputSerializer(c).data, policy=code) for code, c in case_clocks(obj).items() if c]

    @extend_schema_field(SpamEvidenceOutputSerializer(many=True))
    def get_evidence(self, obj: SpamCase) -> Any:
        from ..selectors import case_evidence

        return SpamEvidenceOutputSerializer(case_evidence(obj), many=True).data if self._staff() else []


class CaseFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    state = serializers.ChoiceField(choices=CaseState.choices, required=False)
    kind = serializers.ChoiceField(choices=CaseKind.choices, required=False)


class CaseCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A case staff open after detecting spam; `opened_at` (default now) starts the clocks."""

    kind = serializers.ChoiceField(choices=CaseKind.choices)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)
    customer = serializers.PrimaryKeyRelatedField(
        queryset=Customer.objects.filter(services__kind=ServiceKind.EMAIL).distinct(), required=False,
        allow_null=True, default=None)
    complainant_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    complainant_email = serializers.EmailField(required=False, allow_blank=True, default="")
    opened_at = EventTimeField(required=False, allow_null=True, default=None)


class SpamStepInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    value = serializers.CharField(required=False, allow_blank=True, default="", max_length=300,
                                  help_text="The account, IP address or domain the step acted on.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class SpamEvidenceInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    file = serializers.FileField()
    kind = serializers.ChoiceField(choices=EvidenceKind.choices, default=EvidenceKind.EVIDENCE)
    step = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)


class SpamCaseKindInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    kind = serializers.ChoiceField(choices=CaseKind.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class SpamCaseCloseInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    result = serializers.CharField(max_length=20000)


class PublicationOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    due_at = serializers.DateTimeField(source="isc_due_at", read_only=True, allow_null=True,
                                       help_text="E4-ISC: processed within 1 working day of publication.")
    clock_state = serializers.CharField(source="isc_state", read_only=True, allow_null=True)

    class Meta:
        model = IscPublication
        fields = ["id", "reference", "published_at", "url", "file_type", "file_sha256", "recorded_at", "state",
                  "processed_at", "blocked", "due_at", "clock_state"]
        read_only_fields = fields


class PublicationInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reference = serializers.CharField(max_length=200)
    published_at = EventTimeField()
    url = serializers.URLField(required=False, allow_blank=True, default="", max_length=500)


class IscProcessInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    blocked = serializers.CharField(max_length=20000, help_text="What was blocked.")
    processed_at = EventTimeField(required=False, allow_null=True, default=None)


class ListingOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = BlacklistListing
        fields = ["id", "organisation", "listed_item", "listed_at", "url", "note", "recorded_at",
                  "reported_at", "report_note"]
        read_only_fields = fields


class ListingInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    organisation = serializers.CharField(max_length=200)
    listed_item = serializers.CharField(max_length=253)
    listed_at = EventTimeField()
    url = serializers.URLField(required=False, allow_blank=True, default="", max_length=500)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=20000)


class ListingReportInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    note = serializers.CharField(max_length=20000)
    reported_at = EventTimeField(required=False, allow_null=True, default=None)


class DeskOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """The contact every user reads."""

    class Meta:
        model = AbuseDesk
        fields = ["organisation", "contact_name", "phone", "email", "notice"]
        read_only_fields = fields


class DeskStaffOutputSerializer(DeskOutputSerializer):
    """Managers also see the mailbox settings (never the password, only whether one is set)."""

    has_password = serializers.BooleanField(read_only=True)

    class Meta(DeskOutputSerializer.Meta):
        fields = [*DeskOutputSerializer.Meta.fields, "imap_host", "imap_port", "imap_security", "imap_login",
                  "imap_folder", "reading_enabled", "has_password", "last_read_at", "last_read_error"]
        read_only_fields = fields


class DeskInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    organisation = serializers.CharField(required=False, allow_blank=True, max_length=200)
    contact_name = serializers.CharField(max_length=120)
    phone = serializers.CharField(max_length=40)
    email = serializers.EmailField()
    notice = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    imap_host = serializers.CharField(required=False, allow_blank=True, max_length=253)
    imap_port = serializers.IntegerField(required=False, min_value=1, max_value=65535)
    imap_security = serializers.ChoiceField(choices=MailSecurity.choices, required=False)
    imap_login = serializers.CharField(required=False, allow_blank=True, max_length=200)
    imap_password = serializers.CharField(required=False, allow_blank=True, write_only=True, max_length=500,
                                          help_text="Omit to keep the stored one; empty clears it.")
    imap_folder = serializers.CharField(required=False, max_length=200)
    reading_enabled = serializers.BooleanField(required=False)
