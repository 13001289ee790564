"""Input and output shapes of the visits API. Inputs only parse; the rules live in the model and
the services, so the pages and the API refuse the same things with the same messages. Outputs
carry the masked ID number only; the door serializer (security, at check-in) is the one
exception."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers import selectors as customer_selectors
from customers.api.serializers import UserRefSerializer
from slaportal.api import IdField, QueryDateField, ScopedPrimaryKeyRelatedField, check_date_range

from ..choices import Activity, IdDocumentType, VisitState
from ..models import Room, Visit, Visitor
from ..selectors import escort_candidates, room_list


class RoomOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    data_centre_name = serializers.CharField(source="data_centre.name", read_only=True)

    class Meta:
        model = Room
        fields = ["id", "name", "code", "data_centre", "data_centre_name"]
        read_only_fields = fields


class VisitorOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    id_number = serializers.CharField(source="id_number_masked", read_only=True,
                                      help_text="Masked; the full number is never returned here.")
    id_erased = serializers.SerializerMethodField()

    class Meta:
        model = Visitor
        fields = ["id", "name", "id_type", "id_number", "id_erased", "phone", "pass_number",
                  "entered_at", "exited_at"]
        read_only_fields = fields

    def get_id_erased(self, obj: Visitor) -> bool:
        return obj.id_erased_at is not None


class DoorVisitorOutputSerializer(VisitorOutputSerializer):
    """For security at the door only, while the visit can be checked in: the full ID number to
    compare with the document (empty once erased)."""

    id_number = serializers.CharField(read_only=True)
    id_number_masked = serializers.CharField(read_only=True)

    class Meta(VisitorOutputSerializer.Meta):
        fields = [*VisitorOutputSerializer.Meta.fields, "id_number_masked"]
        read_only_fields = fields


class VisitOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    room = RoomOutputSerializer(read_only=True)
    escort = UserRefSerializer(read_only=True, allow_null=True)
    visitors = VisitorOutputSerializer(many=True, read_only=True)
    overstay = serializers.SerializerMethodField()
    not_checked_out_at_day_end = serializers.SerializerMethodField()

    class Meta:
        model = Visit
        fields = ["id", "number", "customer", "customer_name", "room", "reason", "activity",
                  "activity_other", "expected_entry_at", "expected_exit_at", "needs_tools", "tools_detail",
                  "needs_software", "software_detail", "needs_lodging", "lodging_detail", "other_help",
                  "emergency", "emergency_reason", "contact_name", "contact_phone", "contact_email",
                  "escort", "state", "decision_reason", "cancel_reason", "work_done", "requested_at",
                  "decided_at", "checked_in_at", "checked_out_at", "closed_at", "cancelled_at",
                  "no_show_at", "overstay", "not_checked_out_at_day_end", "visitors"]
        read_only_fields = fields

    def get_overstay(self, obj: Visit) -> bool:
        return obj.overstay_flagged_at is not None

    def get_not_checked_out_at_day_end(self, obj: Visit) -> bool:
        return obj.open_at_day_end_flagged_at is not None


class DoorVisitOutputSerializer(VisitOutputSerializer):
    visitors = DoorVisitorOutputSerializer(many=True, read_only=True)


class VisitorInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(max_length=120)
    id_type = serializers.ChoiceField(choices=IdDocumentType.choices)
    id_number = serializers.CharField(max_length=40, write_only=True)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")


@extend_schema_field({"type": "integer"})
class RoomField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    def get_queryset(self) -> Any:
        return room_list()


@extend_schema_field({"type": "integer"})
class EscortField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    def get_queryset(self) -> Any:
        return escort_candidates()


class VisitCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    customer = ScopedPrimaryKeyRelatedField(selector=customer_selectors.customer_list, required=False,
                                            allow_null=True, default=None,
                                            help_text="Staff book for a customer; a customer user leaves it out.")
    room = RoomField()
    reason = serializers.CharField(max_length=4000)
    activity = serializers.ChoiceField(choices=Activity.choices)
    activity_other = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    expected_entry_at = serializers.DateTimeField()
    expected_exit_at = serializers.DateTimeField()
    needs_tools = serializers.BooleanField(required=False, default=False)
    tools_detail = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    needs_software = serializers.BooleanField(required=False, default=False)
    software_detail = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    needs_lodging = serializers.BooleanField(required=False, default=False)
    lodging_detail = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    other_help = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    contact_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    contact_email = serializers.EmailField(required=False, allow_blank=True, default="")
    emergency = serializers.BooleanField(required=False, default=False)
    emergency_reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    visitors = VisitorInputSerializer(many=True)


class VisitChangeInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    room = RoomField(required=False)
    expected_entry_at = serializers.DateTimeField(required=False)
    expected_exit_at = serializers.DateTimeField(required=False)
    escort = EscortField(required=False)
    allow_escort_overlap = serializers.BooleanField(required=False, default=False)


class ApproveInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    escort = EscortField()
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    allow_escort_overlap = serializers.BooleanField(
        required=False, default=False,
        help_text="Assign the escort even though they escort another visit at an overlapping time.")


class EscortInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    escort = EscortField()
    allow_escort_overlap = serializers.BooleanField(required=False, default=False)


class DeclineInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(max_length=2000)


class CloseInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    work_done = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)


class CheckInInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    visitor = serializers.IntegerField(help_text="A visitor id of this visit; anyone else is refused.")
    pass_number = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    id_document_confirmed = serializers.BooleanField(required=False, default=False)
    override_reason = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="",
        help_text="Required when the check-in is outside the booked time plus or minus "
                  "SLAPORTAL_CHECKIN_WINDOW_MINUTES: why the visitor is let in anyway (audited).")


class CheckOutInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    visitor = serializers.IntegerField(required=False, allow_null=True, default=None,
                                       help_text="Leave out to check out everyone still inside.")


class VisitFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    state = serializers.ChoiceField(choices=VisitState.choices, required=False)
    room = IdField(required=False)
    customer = IdField(required=False)
    date_from = QueryDateField(required=False)
    date_to = QueryDateField(required=False)
    q = serializers.CharField(required=False, max_length=120, help_text="Booking number or visitor name.")
    flagged = serializers.BooleanField(required=False, allow_null=True, default=None)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return check_date_range(attrs)

    def to_selector_kwargs(self) -> dict[str, Any]:
        d = self.validated_data
        return {"state": d.get("state"), "room_id": d.get("room"), "customer_id": d.get("customer"),
                "date_from": d.get("date_from"), "date_to": d.get("date_to"), "q": d.get("q"),
                "flagged": d.get("flagged")}


class LogFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    date_from = QueryDateField(required=False)
    date_to = QueryDateField(required=False)
    room = IdField(required=False)
    customer = IdField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        return check_date_range(attrs)


class DoorLookupSerializer(serializers.Serializer):  # type: ignore[type-arg]
    q = serializers.CharField(max_length=120, help_text="Booking number or visitor name.")
