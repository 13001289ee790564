"""Complaints (投诉): from the complaint line, e-mail, letter or the portal to the 24-hour first
written report (C8) and on to resolution."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from customers.choices import Language
from sla.choices import ClockState
from sla.mirrors import KeepsClockFields
from slaportal.models import FastChoiceDisplay

from .choices import ComplaintChannel, ComplaintState, ComplaintSubject, ComplaintTarget

S = ComplaintState


class Complaint(FastChoiceDisplay, ConcurrentTransitionMixin, KeepsClockFields, models.Model):
    """One complaint about network, customer-service or technical-support quality (or spam and
    viruses for e-mail customers), against the provider or a named employee."""

    number = models.CharField(_("complaint number"), max_length=30, unique=True, null=True,
                              editable=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="complaints", verbose_name=_("customer"))
    complainant_contact = models.ForeignKey(
        "customers.AuthorizedContact", on_delete=models.PROTECT, null=True, blank=True,
        related_name="complaints", verbose_name=_("complainant (authorized contact)"))
    complainant_name = models.CharField(_("complainant"), max_length=120, blank=True)
    complainant_email = models.EmailField(_("complainant e-mail"), blank=True)
    complainant_phone = models.CharField(_("complainant phone"), max_length=40, blank=True)
    complainant_language = models.CharField(_("complainant language"), max_length=8,
                                            choices=Language.choices, default=Language.ZH)
    channel = models.CharField(_("received by"), max_length=20, choices=ComplaintChannel.choices)
    subject = models.CharField(_("subject"), max_length=20, choices=ComplaintSubject.choices)
    target = models.CharField(_("complaint against"), max_length=10, choices=ComplaintTarget.choices,
                              default=ComplaintTarget.PROVIDER)
    target_employee = models.CharField(_("employee named"), max_length=120, blank=True)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"))
    specialist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="complaints_handled",
                                   verbose_name=_("handling specialist"))
    state = FSMField(_("state"), default=S.RECEIVED, choices=S.choices, protected=True)
    received_at = models.DateTimeField(_("received at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    first_report_at = models.DateTimeField(_("first report at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("logged by"))
    # The current C8 clock, kept here by the clock engine (sla.mirrors) in the transaction of each
    # clock change, so the list sorts and filters on indexed columns, not a subquery per row.
    sla_due_at = models.DateTimeField(_("first report due at"), null=True, blank=True, editable=False)
    sla_state = models.CharField(_("first report clock state"), max_length=10, choices=ClockState.choices,
                                 blank=True, default="", editable=False)
    sla_overdue = models.BooleanField(_("first report overdue"), default=False, editable=False)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "state"], name="complaint_customer_state"),
            models.Index(fields=["state", "received_at"], name="complaint_state_received"),
            models.Index(fields=["-received_at", "-id"], name="complaint_recent"),
            # ?overdue=true: sla_overdue, or running at/past its deadline; walked newest first.
            models.Index(fields=["-received_at", "-id"], name="complaint_c8_late_or_open",
                         condition=models.Q(sla_overdue=True) | models.Q(sla_state="running")),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if not self.complainant_contact_id and not self.complainant_name.strip():
            errors["complainant_name"] = _("Name the complainant or choose an authorized contact.")
        contact = self.complainant_contact if self.complainant_contact_id else None
        if contact is not None and self.customer_id and contact.customer_id != self.customer_id:
            errors["complainant_contact"] = _("This contact belongs to another customer.")
        if self.target == ComplaintTarget.EMPLOYEE and not self.target_employee.strip():
            errors["target_employee"] = _("Name the employee the complaint is about.")
        if errors:
            raise ValidationError(errors)

    @property
    def complainant_display(self) -> str:
        contact = self.complainant_contact if self.complainant_contact_id else None
        return contact.name if contact is not None else self.complainant_name

    @property
    def reply_address(self) -> str:
        if self.complainant_email:
            return self.complainant_email
        contact = self.complainant_contact if self.complainant_contact_id else None
        return contact.email if contact is not None else ""

    # --- transitions: fields and timestamps only; services lock, audit, start clocks, notify.
    @transition(field=state, source=S.RECEIVED, target=S.ACCEPTED)
    def accept(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.accepted_at = at

    @transition(field=state, source=S.ACCEPTED, target=S.INVESTIGATING)
    def investigate(self, *, at) -> None:  # type: ignore[no-untyped-def]
        pass

    @transition(field=state, source=[S.ACCEPTED, S.INVESTIGATING], target=S.REPORT_ISSUED)
    def issue_report(self, *, at) -> None:  # type: ignore[no-untyped-def]
        if self.first_report_at is None:
            self.first_report_at = at

    @transition(field=state, source=S.REPORT_ISSUED, target=S.RESOLVED)
    def resolve(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.resolved_at = at

    @transition(field=state, source=S.RESOLVED, target=S.CLOSED)
    def close(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.closed_at = at

    @transition(field=state, source=[S.RESOLVED, S.CLOSED], target=S.INVESTIGATING)
    def reopen(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.resolved_at = None
        self.closed_at = None

    @transition(field=state, source=[S.RECEIVED, S.ACCEPTED, S.INVESTIGATING, S.REPORT_ISSUED],
                target=S.WITHDRAWN)
    def withdraw(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.withdrawn_at = at


def attachment_path(instance: ComplaintAttachment, filename: str) -> str:
    # Server-generated name only; the original name is kept in a field, never on disk.
    return f"complaints/{instance.complaint_id}/{instance.stored_name}"


class ComplaintAttachment(FastChoiceDisplay, models.Model):
    """A file the complainant or the specialist attached (checked by content, stored under a
    generated name, downloaded as an attachment)."""

    complaint = models.ForeignKey(Complaint, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200)
    stored_name = models.CharField(max_length=80, editable=False)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+")

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name
