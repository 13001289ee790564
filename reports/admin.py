from django.contrib import admin

from .models import WrittenReport


@admin.register(WrittenReport)
class WrittenReportAdmin(admin.ModelAdmin):
    """Read-only: an issued report is evidence."""

    list_display = ("number", "kind", "customer", "sequence", "version", "issued_at", "issued_by", "sha256")
    list_filter = ("kind",)
    search_fields = ("number", "sha256")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
