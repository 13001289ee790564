from django.contrib import admin

from .models import MrtgLoginAttempt, SwitchPort


@admin.register(SwitchPort)
class SwitchPortAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only in the admin: ports are changed through the staff form (sealed secrets, audit)."""

    list_display = ["__str__", "customer", "service", "device_address", "if_index", "active", "last_polled_at"]
    exclude = ["community_sealed", "v3_auth_key_sealed", "v3_priv_key_sealed"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(MrtgLoginAttempt)
class MrtgLoginAttemptAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["at", "customer", "username_given", "ok", "locked", "client_ip"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
