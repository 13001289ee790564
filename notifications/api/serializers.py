"""Output shape of the notification log (read-only: rows are written by the services)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework import serializers

from notifications.choices import Channel, Status
from notifications.models import InboxItem, Notification
from notifications.templatetags.notification_ui import related_page


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
        ct = obj.content_type  # joined by selectors.notification_list: no query per row
        if ct is None:
            return None
        return f"{ct.app_label}.{ct.model}"


class InboxItemOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """One item of the signed-in user's notification centre."""

    unread = serializers.SerializerMethodField()
    related_type = serializers.SerializerMethodField()
    related_id = serializers.IntegerField(source="object_id", read_only=True, allow_null=True)
    related_label = serializers.SerializerMethodField()
    related_url = serializers.SerializerMethodField()
    open_url = serializers.SerializerMethodField()

    class Meta:
        model = InboxItem
        fields = ["id", "kind", "title", "summary", "created_at", "read_at", "unread", "related_type",
                  "related_id", "related_label", "related_url", "open_url"]
        read_only_fields = fields

    def get_unread(self, obj: InboxItem) -> bool:
        return obj.read_at is None

    def get_related_type(self, obj: InboxItem) -> str | None:
        if not obj.content_type_id:
            return None
        ct = ContentType.objects.get_for_id(obj.content_type_id)
        return f"{ct.app_label}.{ct.model}"

    def _page(self, obj: InboxItem) -> dict[str, str] | None:
        cache: dict[int, dict[str, str] | None] = self.__dict__.setdefault("_related_pages", {})
        if obj.pk not in cache:
            cache[obj.pk] = related_page(obj)
        return cache[obj.pk]

    def get_related_label(self, obj: InboxItem) -> str | None:
        """What the item is about, e.g. "投诉 TS-2026-0001" (null when it has no page)."""
        page = self._page(obj)
        return page["label"] if page else None

    def get_related_url(self, obj: InboxItem) -> str | None:
        """The portal page of what the item is about (null when it has none)."""
        page = self._page(obj)
        return page["url"] if page else None

    def get_open_url(self, obj: InboxItem) -> str:
        """The portal link that marks the item read and goes to what it is about."""
        return reverse("notifications:inbox_open", args=[obj.pk])


class InboxUnreadCountOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    unread = serializers.IntegerField(help_text="How many of your notifications are unread.")


class InboxReadAllOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    marked = serializers.IntegerField(help_text="How many unread notifications were marked read.")
    unread = serializers.IntegerField(help_text="How many are unread now (0).")
