from django.contrib import admin

from .models import InboxItem, Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Read-only: every attempt is a record of what was (or was not) sent."""

    list_display = ("created_at", "channel", "address", "kind", "status", "detail", "finished_at")
    list_filter = ("status", "channel", "kind")
    search_fields = ("address", "subject", "idempotency_key")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(InboxItem)
class InboxItemAdmin(admin.ModelAdmin):
    """What each user was told in the portal; read-only (items are written with the notifications)."""

    list_display = ("created_at", "user", "kind", "title", "read_at")
    list_filter = ("kind",)
    search_fields = ("title", "event_key", "user__username")
    raw_id_fields = ("user", "notification")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
