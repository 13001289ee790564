from typing import Any

from django.contrib import admin, messages
from django.utils.translation import gettext as _

from audit.admin_mixins import ReadOnlyModelAdmin, ServiceModelAdmin
from audit.services import audited_save

from .models import (
    BackupDay,
    BackupRun,
    BillingErrorFigure,
    DeliveryLogSource,
    LockedAccount,
    MailDomain,
    MailPlatform,
    PlatformEvent,
    ReporterToken,
    SignatureUpdate,
)


@admin.register(MailPlatform)
class MailPlatformAdmin(admin.ModelAdmin):
    list_display = ("name", "created_at")


@admin.register(MailDomain)
class MailDomainAdmin(admin.ModelAdmin):
    list_display = ("domain", "service", "customer", "platform")
    list_select_related = ("service", "customer", "platform")
    search_fields = ("domain",)
    raw_id_fields = ("service",)


@admin.register(DeliveryLogSource)
class DeliveryLogSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "platform", "next_line", "messages_total", "updated_at")
    readonly_fields = ("fingerprint", "next_line", "lines_total", "messages_total", "updated_at")
    exclude = ("state",)


@admin.register(PlatformEvent)
class PlatformEventAdmin(admin.ModelAdmin):
    list_display = ("platform", "kind", "title", "started_at", "ended_at")
    list_filter = ("kind", "platform")


@admin.register(BillingErrorFigure)
class BillingErrorFigureAdmin(admin.ModelAdmin):
    list_display = ("month", "customers_billed", "customers_with_error", "entered_at")


# --- Backups, anti-virus, locked accounts (seed 002 §5, §7) -------------------------------------

REPORTER_FIELDS = ("platform", "name", "active")


@admin.register(ReporterToken)
class ReporterTokenAdmin(ServiceModelAdmin):
    """A reporter token is made here (or on the staff page) and shown once; only its hash is kept."""

    list_display = ["name", "platform", "token_prefix", "active", "last_used_at"]
    fields = [*REPORTER_FIELDS, "token_prefix", "last_used_at", "created_at"]
    readonly_fields = ["token_prefix", "last_used_at", "created_at"]

    def service_save(self, request: Any, *, original: Any, form: Any) -> Any:
        import secrets

        data = {f: form.cleaned_data[f] for f in REPORTER_FIELDS if f in form.cleaned_data}
        if original is not None:
            audited_save(obj=original, fields=REPORTER_FIELDS, data=data, actor=request.user)
            return original
        obj = ReporterToken()
        raw = secrets.token_urlsafe(32)
        obj.set_token(raw)
        audited_save(obj=obj, fields=(*REPORTER_FIELDS, "token_hash", "token_prefix"), actor=request.user,
                     data=data | {"token_hash": obj.token_hash, "token_prefix": obj.token_prefix})
        messages.warning(request, _("Token for %(name)s (shown once, copy it now): %(token)s")
                         % {"name": obj.name, "token": raw})
        return obj


@admin.register(BackupRun)
class BackupRunAdmin(ReadOnlyModelAdmin):
    list_display = ["platform", "run_id", "kind", "status", "started_at", "kept_until", "origin"]
    list_filter = ["platform", "kind", "status"]
    readonly_fields = [f.name for f in BackupRun._meta.fields]


@admin.register(BackupDay)
class BackupDayAdmin(ReadOnlyModelAdmin):
    list_display = ["platform", "day", "days_since_backup", "days_since_full", "oldest_kept_days", "breached"]
    list_filter = ["platform", "breached"]
    readonly_fields = [f.name for f in BackupDay._meta.fields]


@admin.register(SignatureUpdate)
class SignatureUpdateAdmin(ReadOnlyModelAdmin):
    list_display = ["platform", "scanner", "version", "updated_at", "origin"]
    list_filter = ["platform"]
    readonly_fields = [f.name for f in SignatureUpdate._meta.fields]


@admin.register(LockedAccount)
class LockedAccountAdmin(ReadOnlyModelAdmin):
    """Recorded and deleted through the pages and the API (the 90-day refusal lives there)."""

    list_display = ["address", "service", "kind", "locked_at", "deleted_at", "early"]
    list_filter = ["kind", "early"]
    readonly_fields = [f.name for f in LockedAccount._meta.fields]
