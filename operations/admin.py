"""Read-only admin: operations change only through their services, and authorization records,
phone attempts and locks are evidence that nobody edits or deletes (a correction is a new
record pointing at the old one, made through the pages or the API)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from .models import (
    Authorization,
    OperationMessage,
    OperationRequest,
    OperationStep,
    PhoneAttempt,
    PhoneAuthLock,
)


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(OperationRequest)
class OperationRequestAdmin(ReadOnlyAdmin):
    list_display = ["number", "customer", "title", "state", "requested_at"]
    list_filter = ["state", "urgency"]
    search_fields = ["number", "title"]


@admin.register(Authorization)
class AuthorizationAdmin(ReadOnlyAdmin):
    list_display = ["id", "operation", "method", "status", "contact", "received_at", "decided_at"]
    list_filter = ["method", "status"]


@admin.register(PhoneAttempt)
class PhoneAttemptAdmin(ReadOnlyAdmin):
    list_display = ["at", "customer", "operation", "contact", "result", "engineer"]
    list_filter = ["result"]


@admin.register(PhoneAuthLock)
class PhoneAuthLockAdmin(ReadOnlyAdmin):
    list_display = ["customer", "locked_at", "locked_until", "failures"]


admin.site.register(OperationStep, ReadOnlyAdmin)
admin.site.register(OperationMessage, ReadOnlyAdmin)
