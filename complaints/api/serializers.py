"""Input and output shapes of the complaints API. Inputs only parse and type-check; the rules
(a complainant is named, spam complaints need an e-mail service, which transitions are legal)
live in the model and complaints.services, so the pages and the API refuse the same things."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers import selectors as customer_selectors
from customers.api.serializers import UserRefSerializer
from customers.choices import Language, Role
from reports.models import WrittenReport
from sla.choices import ClockState
from slaportal.api import FastRows, IdField, ScopedPrimaryKeyRelatedField

from ..choices import ComplaintChannel, ComplaintState, ComplaintSubject, ComplaintTarget
from ..models import Complaint, ComplaintAttachment


class ComplaintFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters of the complaint list."""

    state = serializers.ChoiceField(choices=ComplaintState.choices, required=False)
    customer = IdField(required=False, help_text="Customer id.")
    subject = serializers.ChoiceField(choices=ComplaintSubject.choices, required=False)
    overdue = serializers.BooleanField(
        required=False, allow_null=True, default=None,
        help_text="true: the first written report (C8) is late; false: it is not.")

    def to_selector_kwargs(self) -> dict[str, Any]:
        d = self.validated_data
        return {"state": d.get("state"), "customer_id": d.get("customer"),
                "subject": d.get("subject"), "overdue": d.get("overdue")}


class ComplaintOutputSerializer(FastRows, serializers.ModelSerializer):  # type: ignore[type-arg]
    """A complaint as the list shows it: facts, state and the C8 deadline (annotated by the
    selector, so a page of them costs no extra query per row)."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    complainant = serializers.CharField(source="complainant_display", read_only=True)
    specialist = UserRefSerializer(read_only=True, allow_null=True)
    first_report_due_at = serializers.DateTimeField(source="c8_due_at", read_only=True, allow_null=True,
                                                    help_text="Deadline of the first written report (C8).")
    first_report_clock_state = serializers.ChoiceField(
        source="c8_state", choices=ClockState.choices, read_only=True, allow_null=True)

    class Meta:
        model = Complaint
        fields = ["id", "number", "customer", "customer_name", "complainant", "complainant_contact",
                  "complainant_name", "complainant_email", "complainant_phone", "complainant_language",
                  "channel", "subject", "target", "target_employee", "title", "description",
                  "specialist", "state", "received_at", "accepted_at", "first_report_at",
                  "resolved_at", "closed_at", "withdrawn_at", "first_report_due_at",
                  "first_report_clock_state"]
        read_only_fields = fields


class AttachmentOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ComplaintAttachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "uploaded_at", "download_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI_REF)
    def get_download_url(self, obj: ComplaintAttachment) -> str:
        return reverse("api-complaint-attachment-download", args=[obj.complaint_id, obj.pk])


class ReportOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """An issued report: immutable, with its hash; a correction points at what it corrects."""

    issued_by = UserRefSerializer(read_only=True, allow_null=True)
    corrects = serializers.PrimaryKeyRelatedField(source="supersedes", read_only=True, allow_null=True)
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = WrittenReport
        fields = ["id", "number", "sequence", "version", "corrects", "language", "content", "sha256",
                  "size", "issued_at", "issued_by", "pdf_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI_REF)
    def get_pdf_url(self, obj: WrittenReport) -> str:
        return reverse("api-complaint-report-pdf", args=[obj.object_id, obj.pk])


class ComplaintDetailOutputSerializer(ComplaintOutputSerializer):
    """One complaint with its attachments and reports."""

    attachments = AttachmentOutputSerializer(many=True, read_only=True)
    reports = serializers.SerializerMethodField()

    class Meta(ComplaintOutputSerializer.Meta):
        fields = [*ComplaintOutputSerializer.Meta.fields, "attachments", "reports"]
        read_only_fields = fields

    @extend_schema_field(ReportOutputSerializer(many=True))
    def get_reports(self, obj: Complaint) -> Any:
        from ..services import complaint_reports

        return ReportOutputSerializer(complaint_reports(obj), many=True).data


class ComplaintCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Staff name the customer and the channel; a customer user's complaint is always their own
    organisation's and always arrives by the portal (both fields may be left out)."""

    customer = ScopedPrimaryKeyRelatedField(selector=customer_selectors.customer_list, required=False)
    channel = serializers.ChoiceField(choices=ComplaintChannel.choices, required=False)
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    complainant_contact = ScopedPrimaryKeyRelatedField(selector=customer_selectors.contact_list,
                                                       required=False, allow_null=True, default=None)
    complainant_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    complainant_email = serializers.EmailField(required=False, allow_blank=True, default="")
    complainant_phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    complainant_language = serializers.ChoiceField(choices=Language.choices, required=False,
                                                   allow_null=True, default=None)
    subject = serializers.ChoiceField(choices=ComplaintSubject.choices)
    target = serializers.ChoiceField(choices=ComplaintTarget.choices, required=False,
                                     default=ComplaintTarget.PROVIDER)
    target_employee = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    specialist = serializers.PrimaryKeyRelatedField(
        queryset=customer_selectors.staff_users_with_role(Role.SPECIALIST), required=False,
        allow_null=True, default=None)


class ReportInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A written report; with `corrects` (the id of an issued report of this complaint) it is a
    new version of that report instead of a new report."""

    findings = serializers.CharField()
    actions_taken = serializers.CharField()
    next_steps = serializers.CharField(required=False, allow_blank=True, default="")
    expected_resolution = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    corrects = serializers.IntegerField(required=False, allow_null=True, default=None)


class AttachmentInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    file = serializers.FileField(help_text="PDF, PNG or JPEG (checked by content), up to 10 MB.")
