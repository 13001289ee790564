"""Admin for the SLA engine: policies and overrides are editable (validated like the API);
clocks are evidence and read-only; transitions happen only through the services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext as _

from .calendars import missing_years
from .models import Clock, ContractPolicy, SlaPolicy, WorkdayOverride


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ("code", "name_zh", "kind", "comparison", "threshold", "unit", "calendar",
                    "warning_percent", "remedy", "clause", "active")
    list_filter = ("kind", "calendar", "remedy", "active")
    search_fields = ("code", "name_zh", "name_en", "clause")

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # clocks and credits point at policies; switch one off with `active`


@admin.register(ContractPolicy)
class ContractPolicyAdmin(admin.ModelAdmin):
    list_display = ("contract", "policy", "threshold", "warning_percent", "active", "note")
    list_filter = ("policy", "active")
    search_fields = ("contract__number", "contract__customer__name")


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "is_working_day", "note")
    list_filter = ("is_working_day",)
    date_hierarchy = "date"

    def changelist_view(self, request, extra_context=None):  # type: ignore[no-untyped-def]
        for year in missing_years():
            messages.warning(request, _(
                "The working-day calendar for %(year)s is not known yet: enter its holidays and "
                "make-up working days here, or deadlines in %(year)s cannot be computed.") % {"year": year})
        return super().changelist_view(request, extra_context)


@admin.register(Clock)
class ClockAdmin(admin.ModelAdmin):
    list_display = ("id", "policy", "label", "customer", "assignee", "state", "started_at", "due_at",
                    "breached_at", "met_at")
    list_filter = ("state", "policy")
    search_fields = ("label", "customer__name")
    list_select_related = ("policy", "customer", "assignee")
    date_hierarchy = "due_at"

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
