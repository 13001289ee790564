from django.contrib import admin

from .models import BillingErrorFigure, DeliveryLogSource, MailDomain, MailPlatform, PlatformEvent


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
