"""Admin: webhook sources (the token is generated here and shown once; every change, rotation and
deletion is audited, the token never), and read-only views of incidents and outages for support:
they change only through the services, and are evidence nobody deletes."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import admin, messages
from django.db import transaction
from django.utils.translation import gettext as _

from audit.admin_mixins import ReadOnlyModelAdmin, ServiceModelAdmin, locked_row
from audit.services import audited_save

from .models import FacilityEvent, FacilityEventScope, Incident, NoticeAttempt, Outage, WebhookSource

SOURCE_FIELDS = ("name", "format", "customer", "active")


@admin.register(WebhookSource)
class WebhookSourceAdmin(ServiceModelAdmin):
    list_display = ["name", "format", "customer", "token_prefix", "active", "last_received_at"]
    fields = [*SOURCE_FIELDS, "token_prefix", "last_received_at", "created_at"]
    readonly_fields = ["token_prefix", "last_received_at", "created_at"]
    actions = ["rotate_token"]

    def service_save(self, request: Any, *, original: Any, form: Any) -> Any:
        data = {f: form.cleaned_data[f] for f in SOURCE_FIELDS if f in form.cleaned_data}
        if original is not None:
            audited_save(obj=original, fields=SOURCE_FIELDS, data=data, actor=request.user)
            return original
        obj = WebhookSource()
        raw = secrets.token_urlsafe(32)
        obj.set_token(raw)
        audited_save(obj=obj, fields=(*SOURCE_FIELDS, "token_hash", "token_prefix"), actor=request.user,
                     data=data | {"token_hash": obj.token_hash, "token_prefix": obj.token_prefix})
        self._show_token(request, obj, raw)
        return obj

    def _show_token(self, request: Any, obj: WebhookSource, raw: str) -> None:
        messages.warning(request, _("Token for %(name)s (shown once, copy it now): %(token)s")
                         % {"name": obj.name, "token": raw})

    @admin.action(description=_("Generate a new token"))
    def rotate_token(self, request: Any, queryset: Any) -> None:
        with transaction.atomic():
            for pk in list(queryset.values_list("pk", flat=True)):
                obj: Any = locked_row(WebhookSource(pk=pk))
                raw = secrets.token_urlsafe(32)
                probe = WebhookSource()
                probe.set_token(raw)
                audited_save(obj=obj, fields=("token_hash", "token_prefix"), actor=request.user,
                             reason="token rotated in admin",
                             data={"token_hash": probe.token_hash, "token_prefix": probe.token_prefix})
                self._show_token(request, obj, raw)


class NoticeAttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = NoticeAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["seq", "contact", "channel", "address", "outcome", "detail", "started_at", "finished_at"]
    fields = readonly_fields


@admin.register(Incident)
class IncidentAdmin(ReadOnlyModelAdmin):
    list_display = ["number", "customer", "service", "state", "detected_at", "notice_missed_at"]
    list_filter = ["state", "source"]
    readonly_fields = [f.name for f in Incident._meta.fields]
    inlines = [NoticeAttemptInline]


@admin.register(Outage)
class OutageAdmin(ReadOnlyModelAdmin):
    list_display = ["service", "kind", "source", "started_at", "ended_at", "cause"]
    list_filter = ["kind", "source", "cause"]
    readonly_fields = [f.name for f in Outage._meta.fields]


class FacilityEventScopeInline(admin.TabularInline):  # type: ignore[type-arg]
    model = FacilityEventScope
    extra = 0
    can_delete = False
    readonly_fields = ["scope", "value"]
    fields = readonly_fields


@admin.register(FacilityEvent)
class FacilityEventAdmin(ReadOnlyModelAdmin):
    """Recorded, classified and ended through the incidents pages and API (one outage per
    affected service, force-majeure relief), never edited here."""

    list_display = ["title", "kind", "started_at", "ended_at", "cause", "recorded_by"]
    list_filter = ["kind", "cause"]
    readonly_fields = [f.name for f in FacilityEvent._meta.fields]
    inlines = [FacilityEventScopeInline]
