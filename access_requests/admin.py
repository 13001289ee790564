"""Data centres and machine rooms are managed here, every change and deletion audited with old
and new values (a room with visits cannot be deleted: switch it off with `active`); visits are
read-only in the admin (every change goes through the services, which audit it), and ID numbers
show masked only."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from audit.admin_mixins import ServiceInlineMixin, ServiceModelAdmin

from .models import DataCentre, Room, Visit, Visitor


class RoomInline(ServiceInlineMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = Room
    extra = 1


@admin.register(DataCentre)
class DataCentreAdmin(ServiceModelAdmin):
    list_display = ["name", "code", "active"]
    inlines = [RoomInline]


@admin.register(Room)
class RoomAdmin(ServiceModelAdmin):
    list_display = ["name", "code", "data_centre", "active"]
    list_filter = ["data_centre", "active"]


class VisitorInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Visitor
    fields = ["name", "id_type", "id_number_masked", "phone", "pass_number", "entered_at", "exited_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["number", "customer", "room", "expected_entry_at", "expected_exit_at", "state",
                    "emergency", "escort"]
    list_filter = ["state", "emergency", "room"]
    search_fields = ["number", "customer__name", "visitors__name"]
    inlines = [VisitorInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
