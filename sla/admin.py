"""Admin for the SLA engine: policies, overrides and working-day facts are editable through the
SLA services (validated like the API, audited with old and new values); clocks are evidence and
read-only; transitions happen only through the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from audit.admin_mixins import ServiceModelAdmin

from . import services
from .calendars import missing_years
from .models import Clock, ContractPolicy, SlaPolicy, WorkdayOverride

WORKDAY_FIELDS = ("date", "is_working_day", "note")


def _data(form: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: form.cleaned_data[f] for f in fields if f in form.cleaned_data}


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ServiceModelAdmin):
    list_display = ("code", "name_zh", "kind", "comparison", "threshold", "unit", "calendar",
                    "warning_percent", "remedy", "clause", "active")
    list_filter = ("kind", "calendar", "remedy", "active")
    search_fields = ("code", "name_zh", "name_en", "clause")
    fields = services.POLICY_FIELDS

    def service_save(self, request: HttpRequest, *, original: Any, form: Any) -> Any:
        return services.policy_save(data=_data(form, services.POLICY_FIELDS), policy=original,
                                    actor=request.user)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # clocks and credits point at policies; switch one off with `active`


@admin.register(ContractPolicy)
class ContractPolicyAdmin(ServiceModelAdmin):
    list_display = ("contract", "policy", "threshold", "warning_percent", "active", "note")
    list_filter = ("policy", "active")
    search_fields = ("contract__number", "contract__customer__name")
    fields = ("contract", "policy", *services.CONTRACT_POLICY_FIELDS)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # An override is of one policy for one contract; another pair is another override.
        return ("contract", "policy") if obj is not None else ()

    def service_save(self, request: HttpRequest, *, original: Any, form: Any) -> Any:
        data = _data(form, ("contract", "policy", *services.CONTRACT_POLICY_FIELDS))
        return services.contract_policy_save(data=data, override=original, actor=request.user)

    # Deleting an override (the contract falls back to the policy's own target) is audited with
    # the override's values by the generic audited delete.


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(ServiceModelAdmin):
    list_display = ("date", "is_working_day", "note")
    list_filter = ("is_working_day",)
    date_hierarchy = "date"
    fields = WORKDAY_FIELDS

    def service_save(self, request: HttpRequest, *, original: Any, form: Any) -> Any:
        return services.workday_override_save(data=_data(form, WORKDAY_FIELDS), override=original,
                                              actor=request.user)

    # Deleting a working-day fact is audited with its values (clocks already started keep their
    # deadlines; the change affects deadlines computed from now on).

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
