"""Targets are created and changed through monitoring.services.target_save (role check,
validation, next probe slot, audit with old and new values). A target with probe history is
evidence (its state changes and daily roll-ups would go with it): switch it off with `active`.
State changes are read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext as _

from audit.admin_mixins import ReadOnlyModelAdmin, ServiceModelAdmin

from . import services
from .models import StateChange, Target


@admin.register(Target)
class TargetAdmin(ServiceModelAdmin):
    list_display = ("__str__", "customer", "service", "kind", "state", "interval_seconds",
                    "last_probe_at", "last_method", "active")
    list_filter = ("kind", "state", "active")
    search_fields = ("name", "host", "url", "customer__name")
    fields = ("service", *services.TARGET_FIELDS, "customer", "state", "next_due_at", "last_probe_at",
              "last_ok_at", "last_method", "last_detail")
    readonly_fields = ("customer", "state", "next_due_at", "last_probe_at", "last_ok_at",
                       "last_method", "last_detail")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A target checks one service; another service's check is another target.
        return (*self.readonly_fields, "service") if obj is not None else self.readonly_fields

    def service_save(self, request: HttpRequest, *, original: Any, form: Any) -> Any:
        data = {f: form.cleaned_data[f] for f in services.TARGET_FIELDS if f in form.cleaned_data}
        service = original.service if original is not None else form.cleaned_data["service"]
        return services.target_save(service=service, data=data, target=original, actor=request.user)

    def delete_refusal(self, obj: Any) -> str | None:
        if obj.state_changes.exists() or obj.daily.exists():
            return _("It has probe history, which is evidence; switch it off with “active” instead.")
        return None


@admin.register(StateChange)
class StateChangeAdmin(ReadOnlyModelAdmin):
    list_display = ("at", "target", "from_state", "to_state", "method", "detail")
    list_filter = ("to_state", "method")
