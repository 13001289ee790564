"""Read-only admin views: every change goes through the services (audited), never the admin."""

from django.contrib import admin

from audit.admin_mixins import ReadOnlyModelAdmin

from .models import AbuseDesk, BlacklistListing, IscPublication, SpamCase


@admin.register(SpamCase)
class SpamCaseAdmin(ReadOnlyModelAdmin):
    list_display = ("number", "kind", "source", "state", "customer", "opened_at")
    list_filter = ("kind", "source", "state")
    search_fields = ("number", "title", "message_id", "mail_from")


@admin.register(IscPublication)
class IscPublicationAdmin(ReadOnlyModelAdmin):
    list_display = ("reference", "published_at", "state", "processed_at")


@admin.register(BlacklistListing)
class BlacklistListingAdmin(ReadOnlyModelAdmin):
    list_display = ("organisation", "listed_item", "listed_at", "reported_at")


@admin.register(AbuseDesk)
class AbuseDeskAdmin(ReadOnlyModelAdmin):
    list_display = ("email", "contact_name", "phone", "reading_enabled", "last_read_at")
    exclude = ("imap_password_sealed",)
