"""Input and output shapes of the service-request API. Inputs only parse; the rules live in
servicedesk.services, so the pages and the API refuse the same things."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from customers import selectors as customer_selectors
from customers.api.serializers import UserRefSerializer
from sla.choices import ClockState
from slaportal.api import IdField, ScopedPrimaryKeyRelatedField

from ..choices import CHANGEABLE_SERVICE_FIELDS, RequestChannel, RequestKind, RequestState
from ..models import RequestAttachment, RequestEntry, ServiceChange, ServiceRequest


class RequestFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters of the request list."""

    state = serializers.ChoiceField(choices=RequestState.choices, required=False)
    kind = serializers.ChoiceField(choices=RequestKind.choices, required=False)
    customer = IdField(required=False, help_text="Customer id (staff).")
    assignee = IdField(required=False, help_text="Staff user id (staff).")
    unassigned = serializers.BooleanField(required=False, default=False)

    def to_selector_kwargs(self) -> dict[str, Any]:
        d = self.validated_data
        return {"state": d.get("state"), "kind": d.get("kind"), "customer_id": d.get("customer"),
                "assignee_id": d.get("assignee"), "unassigned": d.get("unassigned", False)}


class RequestOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A request as the list shows it, with both clocks' deadlines annotated by the selector."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    assignee = UserRefSerializer(read_only=True, allow_null=True)
    first_response_due_at = serializers.DateTimeField(source="first_due_at", read_only=True, allow_null=True)
    first_response_clock_state = serializers.ChoiceField(source="first_state", choices=ClockState.choices,
                                                         read_only=True, allow_null=True)
    resolution_due_at = serializers.DateTimeField(source="resolve_due_at", read_only=True, allow_null=True)
    resolution_clock_state = serializers.ChoiceField(source="resolve_state", choices=ClockState.choices,
                                                     read_only=True, allow_null=True)

    class Meta:
        model = ServiceRequest
        fields = ["id", "number", "customer", "customer_name", "service", "contract", "installation_order",
                  "kind", "channel", "title", "description", "contact", "requester_name",
                  "requester_email", "assignee", "state", "opened_at", "first_response_at",
                  "resolved_at", "closed_at", "cancelled_at", "first_response_due_at",
                  "first_response_clock_state", "resolution_due_at", "resolution_clock_state"]
        read_only_fields = fields


class ServiceRequestAttachmentOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = RequestAttachment
        fields = ["id", "original_name", "content_type", "size", "sha256", "uploaded_at"]
        read_only_fields = fields


class EntryOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """A reply or (staff only) an internal note."""

    author = serializers.CharField(source="author_display", read_only=True)
    attachments = ServiceRequestAttachmentOutputSerializer(many=True, read_only=True)

    class Meta:
        model = RequestEntry
        fields = ["id", "kind", "by_staff", "author", "channel", "body", "created_at", "attachments"]
        read_only_fields = fields


class ChangeOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = ServiceChange
        fields = ["id", "service", "changes", "previous", "note", "needs_operation", "operation", "state",
                  "agreed_at", "applied_at"]
        read_only_fields = fields


class RequestCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Staff name the customer and the channel (phone, e-mail); a customer user's request is
    always their own organisation's and arrives by the portal."""

    customer = ScopedPrimaryKeyRelatedField(selector=customer_selectors.customer_list, required=False)
    channel = serializers.ChoiceField(choices=[RequestChannel.PHONE, RequestChannel.EMAIL, RequestChannel.PORTAL],
                                      required=False)
    kind = serializers.ChoiceField(choices=RequestKind.choices)
    service = ScopedPrimaryKeyRelatedField(selector=customer_selectors.service_list, required=False,
                                           allow_null=True, default=None)
    contact = ScopedPrimaryKeyRelatedField(selector=customer_selectors.contact_list, required=False,
                                           allow_null=True, default=None)
    requester_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    requester_email = serializers.EmailField(required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=200)
    description = serializers.CharField()


class ReplyInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    body = serializers.CharField()
    wait_for_customer = serializers.BooleanField(required=False, default=False,
                                                 help_text="Staff: wait for the customer's answer.")


class ServiceRequestNoteInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    body = serializers.CharField()


class ChangeInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """An agreed change: the service fields that change and, for equipment work, the operation."""

    changes = serializers.DictField(help_text=f"Fields of the service: {', '.join(CHANGEABLE_SERVICE_FIELDS)}.")
    note = serializers.CharField(required=False, allow_blank=True, default="")
    needs_operation = serializers.BooleanField(required=False, default=False)
    operation = IdField(required=False, allow_null=True, default=None,
                        help_text="An existing operation request of the same service.")
    operation_contact = ScopedPrimaryKeyRelatedField(selector=customer_selectors.contact_list, required=False,
                                                     allow_null=True, default=None)
