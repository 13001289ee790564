from typing import Any

from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from audit.services import audit_record

from .models import Complaint, ComplaintAttachment


class ComplaintAttachmentInline(admin.TabularInline):  # type: ignore[type-arg]
    model = ComplaintAttachment
    extra = 0
    can_delete = False
    fields = ("original_name", "content_type", "size", "sha256", "uploaded_at", "uploaded_by")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Complaint)
class ComplaintAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-mostly. Complaints are logged and moved through their states in the portal (which
    numbers them, starts clock C8 and audits every move); here only the handling specialist can
    be reassigned, and that change is audited too. The state is never editable."""

    list_display = ("number", "customer", "subject", "channel", "state", "received_at", "specialist")
    list_filter = ("state", "subject", "channel", "target")
    search_fields = ("number", "title", "complainant_name", "customer__name")
    date_hierarchy = "received_at"
    list_select_related = ("customer", "specialist")
    raw_id_fields = ("specialist",)
    inlines = [ComplaintAttachmentInline]
    fields = ("number", "customer", "state", "channel", "subject", "target", "target_employee",
              "title", "description", "complainant_contact", "complainant_name", "complainant_email",
              "complainant_phone", "complainant_language", "specialist", "received_at", "accepted_at",
              "first_report_at", "resolved_at", "closed_at", "withdrawn_at", "created_by")
    readonly_fields = tuple(f for f in fields if f != "specialist")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Complaint, form: Any, change: bool) -> None:
        if not (change and "specialist" in form.changed_data):
            return
        with transaction.atomic():
            before = (Complaint.objects.select_for_update().filter(pk=obj.pk)
                      .values_list("specialist_id", flat=True).get())
            if before == obj.specialist_id:
                return
            # Only the specialist column: the protected state field is never written from here.
            Complaint.objects.filter(pk=obj.pk).update(specialist=obj.specialist)
            audit_record(obj=obj, action="change", actor=request.user, reason="reassigned in admin",
                         data={"changed": {"specialist": [before, obj.specialist_id]}})

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        # Attachments are evidence: the inline is read-only, nothing of it is ever saved here.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
