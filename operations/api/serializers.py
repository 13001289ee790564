"""Input and output shapes of the operations API. Inputs only parse; the rules live in the
model and the services, so pages and API refuse the same things with the same messages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers import selectors as customer_selectors
from customers.choices import Role
from customers.selectors import user_is_staff
from operations import selectors
from operations.choices import Urgency
from operations.models import (
    Authorization,
    OperationMessage,
    OperationRequest,
    OperationStep,
    PhoneAttempt,
)
from reports.models import WrittenReport
from slaportal.api import ScopedPrimaryKeyRelatedField

# A person's name, or null when nobody (yet) did it.
NULLABLE_NAME = {"type": "string", "nullable": True}


def _name(user: Any) -> str | None:
    return (user.get_full_name() or user.username) if user else None


class AuthorizationOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    file_url = serializers.SerializerMethodField()
    received_by = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = Authorization
        fields = ["id", "method", "status", "contact", "contact_name", "signed_on", "original_name",
                  "content_type", "size", "sha256", "file_url", "phone_attempt", "corrects", "note",
                  "received_at", "received_by", "decided_at", "decided_by", "decision_reason"]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri-reference", "nullable": True})
    def get_file_url(self, obj: Authorization) -> str | None:
        if not obj.stored_name:
            return None
        return reverse("api-operation-authorization-file", args=[obj.operation_id, obj.pk])

    @extend_schema_field(NULLABLE_NAME)
    def get_received_by(self, obj: Authorization) -> str | None:
        return _name(obj.received_by)

    @extend_schema_field(NULLABLE_NAME)
    def get_decided_by(self, obj: Authorization) -> str | None:
        return _name(obj.decided_by)


class PhoneAttemptOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    contact_name = serializers.CharField(source="contact.name", read_only=True)
    engineer_name = serializers.SerializerMethodField()

    class Meta:
        model = PhoneAttempt
        fields = ["id", "operation", "contact", "contact_name", "caller_name", "caller_phone",
                  "mrtg_username_given", "result", "engineer", "engineer_name", "at"]
        read_only_fields = fields

    @extend_schema_field(NULLABLE_NAME)
    def get_engineer_name(self, obj: PhoneAttempt) -> str | None:
        return _name(obj.engineer)


class PhoneAttemptRefusedOutputSerializer(PhoneAttemptOutputSerializer):
    """A refused phone authorization (403 非法授权, 423 locked): the logged attempt, with the
    error body's message and code."""

    detail = serializers.CharField(read_only=True)
    code = serializers.CharField(read_only=True)

    class Meta(PhoneAttemptOutputSerializer.Meta):
        fields = [*PhoneAttemptOutputSerializer.Meta.fields, "detail", "code"]
        read_only_fields = fields


class OperationStepOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = OperationStep
        fields = ["id", "done_at", "description", "recorded_by", "recorded_at"]
        read_only_fields = fields


class OperationMessageOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    sent_by_name = serializers.SerializerMethodField()

    class Meta:
        model = OperationMessage
        fields = ["id", "body", "sent_at", "sent_by_name", "first"]
        read_only_fields = fields

    @extend_schema_field(NULLABLE_NAME)
    def get_sent_by_name(self, obj: OperationMessage) -> str | None:
        return _name(obj.sent_by)


class OperationReportOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = WrittenReport
        fields = ["id", "number", "sequence", "version", "supersedes", "language", "sha256", "size",
                  "issued_at", "pdf_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI_REF)
    def get_pdf_url(self, obj: WrittenReport) -> str:
        return reverse("api-operation-report-pdf", args=[obj.object_id, obj.pk])


class OperationOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    requested_by_name = serializers.CharField(source="requested_by.name", read_only=True)

    class Meta:
        model = OperationRequest
        fields = ["id", "number", "customer", "customer_name", "service", "requested_by",
                  "requested_by_name", "title", "description", "urgency", "engineer", "raised_by",
                  "state", "requested_at", "authorized_at", "started_at", "finished_at",
                  "reported_at", "closed_at", "ended_at", "result", "end_reason"]
        read_only_fields = fields


class OperationDetailOutputSerializer(OperationOutputSerializer):
    authorizations = serializers.SerializerMethodField()
    phone_attempts = serializers.SerializerMethodField()
    steps = OperationStepOutputSerializer(many=True, read_only=True)
    messages = OperationMessageOutputSerializer(many=True, read_only=True)
    reports = serializers.SerializerMethodField()

    class Meta(OperationOutputSerializer.Meta):
        fields = [*OperationOutputSerializer.Meta.fields, "authorizations", "phone_attempts",
                  "steps", "messages", "reports"]
        read_only_fields = fields

    def _user(self) -> Any:
        request = self.context.get("request")
        return getattr(request, "user", None)

    @extend_schema_field(AuthorizationOutputSerializer(many=True))
    def get_authorizations(self, obj: OperationRequest) -> Any:
        qs = selectors.authorization_list(user=self._user(), operation=obj)
        return AuthorizationOutputSerializer(qs, many=True).data

    @extend_schema_field(PhoneAttemptOutputSerializer(many=True))
    def get_phone_attempts(self, obj: OperationRequest) -> Any:
        """Staff only; empty for the customer."""
        if not user_is_staff(self._user()):
            return []
        return PhoneAttemptOutputSerializer(
            selectors.phone_attempt_list(user=self._user(), operation=obj), many=True).data

    @extend_schema_field(OperationReportOutputSerializer(many=True))
    def get_reports(self, obj: OperationRequest) -> Any:
        return OperationReportOutputSerializer(selectors.operation_reports(user=self._user(), operation=obj),
                                      many=True).data


def _engineers() -> Any:
    return get_user_model().objects.filter(groups__name=Role.ENGINEER, is_active=True).distinct()


class OperationCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    service = ScopedPrimaryKeyRelatedField(selector=customer_selectors.service_list)
    requested_by = ScopedPrimaryKeyRelatedField(selector=customer_selectors.contact_list)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, default=Urgency.NORMAL)
    engineer = serializers.PrimaryKeyRelatedField(queryset=_engineers(), required=False,
                                                  allow_null=True, default=None,
                                                  help_text="Staff only; default: the service's engineer.")


class WrittenAuthorizationInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    file = serializers.FileField(help_text="The signed scan or PDF (PDF, PNG or JPEG).")
    contact = ScopedPrimaryKeyRelatedField(selector=customer_selectors.contact_list,
                                           help_text="The authorized contact who signed it.")
    signed_on = serializers.DateField(required=False, allow_null=True, default=None)
    corrects = serializers.IntegerField(required=False, allow_null=True, default=None,
                                        help_text="An earlier authorization of this operation "
                                                  "that this one corrects.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class PhoneAuthorizationInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    contact = ScopedPrimaryKeyRelatedField(selector=customer_selectors.contact_list,
                                           help_text="The authorized contact who is calling.")
    caller_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    caller_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)
    mrtg_username = serializers.CharField(max_length=120, trim_whitespace=False)
    mrtg_password = serializers.CharField(max_length=256, trim_whitespace=False,
                                          style={"input_type": "password"}, write_only=True)


class OperationStepInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    description = serializers.CharField()
    done_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class OperationFeedbackInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    body = serializers.CharField()


class OperationFinishInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    result = serializers.CharField()


class OperationReportInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    remarks = serializers.CharField(required=False, allow_blank=True, default="")
    corrects = serializers.IntegerField(required=False, allow_null=True, default=None,
                                        help_text="The report this one corrects (a new version).")
