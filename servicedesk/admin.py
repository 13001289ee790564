from django.contrib import admin

from .models import InboundMail, RenewalReminder, ServiceRequest


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: requests are opened, replied to and moved in the portal (which numbers them,
    runs their clocks and audits every move)."""

    list_display = ("number", "customer", "kind", "channel", "state", "assignee", "opened_at")
    list_filter = ("state", "kind", "channel")
    search_fields = ("number", "title", "customer__name")
    list_select_related = ("customer", "assignee")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(InboundMail)
class InboundMailAdmin(ServiceRequestAdmin):
    list_display = ("message_id", "from_address", "subject", "outcome", "received_at")
    list_filter = ("outcome",)
    search_fields = ("message_id", "from_address", "subject")
    list_select_related = ()


@admin.register(RenewalReminder)
class RenewalReminderAdmin(ServiceRequestAdmin):
    list_display = ("contract", "ends_on", "threshold", "request", "created_at")
    list_filter = ("threshold",)
    search_fields = ("contract__number",)
    list_select_related = ("contract", "request")
