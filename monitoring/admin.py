from django.contrib import admin

from .models import StateChange, Target


@admin.register(Target)
class TargetAdmin(admin.ModelAdmin):
    list_display = ("__str__", "customer", "service", "kind", "state", "interval_seconds",
                    "last_probe_at", "last_method", "active")
    list_filter = ("kind", "state", "active")
    search_fields = ("name", "host", "url", "customer__name")
    readonly_fields = ("customer", "state", "next_due_at", "last_probe_at", "last_ok_at",
                       "last_method", "last_detail")


@admin.register(StateChange)
class StateChangeAdmin(admin.ModelAdmin):
    list_display = ("at", "target", "from_state", "to_state", "method", "detail")
    list_filter = ("to_state", "method")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
