"""Output shape of the notification log (read-only: rows are written by the services)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from rest_framework import serializers

from notifications.choices import Channel, Status
from notifications.models import Notification


class NotificationOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)
    status = serializers.ChoiceField(choices=Status.choices, read_only=True)
    recipient_username = serializers.CharField(source="recipient.username", read_only=True,
                                               allow_null=True, default=None)
    related_type = serializers.SerializerMethodField()
    related_id = serializers.IntegerField(source="object_id", read_only=True, allow_null=True)

    class Meta:
        model = Notification
        fields = ["id", "channel", "address", "recipient", "recipient_username", "kind", "subject",
                  "body", "status", "detail", "related_type", "related_id", "idempotency_key",
                  "created_at", "attempted_at", "finished_at"]
        read_only_fields = fields

    def get_related_type(self, obj: Notification) -> str | None:
        if not obj.content_type_id:
            return None
        ct = ContentType.objects.get_for_id(obj.content_type_id)
        return f"{ct.app_label}.{ct.model}"
