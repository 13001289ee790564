"""Admin: webhook sources (the token is generated here and shown once), and read-mostly views of
incidents and outages for support."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import admin, messages
from django.utils.translation import gettext as _

from .models import Incident, NoticeAttempt, Outage, WebhookSource


@admin.register(WebhookSource)
class WebhookSourceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["name", "format", "customer", "token_prefix", "active", "last_received_at"]
    readonly_fields = ["token_prefix", "last_received_at", "created_at"]
    actions = ["rotate_token"]

    def save_model(self, request: Any, obj: WebhookSource, form: Any, change: bool) -> None:
        if not change:
            self._new_token(request, obj)
        super().save_model(request, obj, form, change)

    def _new_token(self, request: Any, obj: WebhookSource) -> None:
        raw = secrets.token_urlsafe(32)
        obj.set_token(raw)
        messages.warning(request, _("Token for %(name)s (shown once, copy it now): %(token)s")
                         % {"name": obj.name, "token": raw})

    @admin.action(description=_("Generate a new token"))
    def rotate_token(self, request: Any, queryset: Any) -> None:
        for obj in queryset:
            self._new_token(request, obj)
            obj.save(update_fields=["token_hash", "token_prefix"])


class NoticeAttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = NoticeAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["seq", "contact", "channel", "address", "outcome", "detail", "started_at", "finished_at"]
    fields = readonly_fields


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["number", "customer", "service", "state", "detected_at", "notice_missed_at"]
    list_filter = ["state", "source"]
    readonly_fields = [f.name for f in Incident._meta.fields]
    inlines = [NoticeAttemptInline]


@admin.register(Outage)
class OutageAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["service", "kind", "source", "started_at", "ended_at", "cause"]
    list_filter = ["kind", "source", "cause"]
    readonly_fields = [f.name for f in Outage._meta.fields]
