"""Credits in the admin are read-only: approving, rejecting and applying happen on the credit
page or the API, through the services that check the role and audit the decision."""

from django.contrib import admin

from .models import Credit


@admin.register(Credit)
class CreditAdmin(admin.ModelAdmin):
    list_display = ("id", "customer", "contract", "policy", "kind", "amount", "days", "period",
                    "state", "proposed_at", "decided_by")
    list_filter = ("state", "kind", "policy")
    search_fields = ("customer__name", "contract__number", "note")
    list_select_related = ("customer", "contract", "policy", "decided_by")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
