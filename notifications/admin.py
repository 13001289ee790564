from django.contrib import admin

from .models import Notification


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
