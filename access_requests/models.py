"""Machine-room visits (机房开放, agreement article 9): the customer books a visit ahead, staff
approve it and assign an escort, security checks the provider-issued pass and the ID document of
each visitor at the door, and entry and exit are logged per visitor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from slaportal.models import FastChoiceDisplay

from .choices import Activity, IdDocumentType, VisitState

S = VisitState


def mask_id_number(raw: str) -> str:
    """The form of an ID number everyone but security at the door sees, and the only form kept
    after the retention time: the first two and last two characters, the rest starred (a
    resident ID 110101199001011234 becomes 11**************34). Short numbers show less."""
    raw = (raw or "").strip()
    n = len(raw)
    if n == 0:
        return ""
    if n <= 4:
        return "*" * n
    keep = 2 if n >= 8 else 1
    return raw[:keep] + "*" * (n - 2 * keep) + raw[-keep:]


def normalize_id_number(raw: str) -> str:
    return "".join((raw or "").split()).upper()


class DataCentre(FastChoiceDisplay, models.Model):
    """A data centre of the provider (managed in the admin)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    code = models.SlugField(_("code"), max_length=20, unique=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("data centre")
        verbose_name_plural = _("data centres")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Room(FastChoiceDisplay, models.Model):
    """A machine room inside a data centre (managed in the admin)."""

    data_centre = models.ForeignKey(DataCentre, on_delete=models.PROTECT, related_name="rooms",
                                    verbose_name=_("data centre"))
    name = models.CharField(_("name"), max_length=120)
    code = models.SlugField(_("code"), max_length=20)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("machine room")
        verbose_name_plural = _("machine rooms")
        ordering = ["data_centre__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["data_centre", "code"], name="room_code_unique_per_dc"),
        ]

    def __str__(self) -> str:
        return f"{self.data_centre.name} · {self.name}"


class Visit(FastChoiceDisplay, ConcurrentTransitionMixin, models.Model):
    """One booked visit to a machine room: who comes, why, what they will do, when, what help
    they need, who escorts them; and what happened at the door."""

    number = models.CharField(_("booking number"), max_length=30, unique=True, null=True,
                              editable=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="visits", verbose_name=_("customer"))
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="visits",
                             verbose_name=_("machine room"))
    reason = models.TextField(_("reason for entry"))
    activity = models.CharField(_("activity"), max_length=20, choices=Activity.choices)
    activity_other = models.CharField(_("other activity"), max_length=200, blank=True)
    expected_entry_at = models.DateTimeField(_("expected entry"))
    expected_exit_at = models.DateTimeField(_("expected exit"))
    # 所需协同作业: each kind of help with its own free text.
    needs_tools = models.BooleanField(_("tools needed"), default=False)
    tools_detail = models.CharField(_("tools"), max_length=500, blank=True)
    needs_software = models.BooleanField(_("software needed"), default=False)
    software_detail = models.CharField(_("software"), max_length=500, blank=True)
    needs_lodging = models.BooleanField(_("meals and lodging needed"), default=False)
    lodging_detail = models.CharField(_("meals and lodging"), max_length=500, blank=True)
    other_help = models.CharField(_("other help needed"), max_length=500, blank=True)
    emergency = models.BooleanField(_("emergency"), default=False)
    emergency_reason = models.TextField(_("why it is an emergency"), blank=True)
    contact_name = models.CharField(_("contact person"), max_length=120)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_email = models.EmailField(_("contact e-mail"))
    escort = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                               blank=True, related_name="visits_escorted", verbose_name=_("escort"))
    state = FSMField(_("state"), default=S.REQUESTED, choices=S.choices, protected=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    cancel_reason = models.TextField(_("reason for cancelling"), blank=True)
    work_done = models.TextField(_("work done"), blank=True)
    requested_at = models.DateTimeField(_("requested at"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+", verbose_name=_("requested by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("decided by"))
    checked_in_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    no_show_at = models.DateTimeField(_("no-show recorded at"), null=True, blank=True)
    # Flags raised by the periodic checks, for staff.
    overstay_flagged_at = models.DateTimeField(_("overstay flagged at"), null=True, blank=True)
    open_at_day_end_flagged_at = models.DateTimeField(_("not checked out at day end"), null=True,
                                                      blank=True)
    # The calendar invitation: one UID per visit; every message after the first has a higher SEQUENCE.
    ics_sequence = models.PositiveIntegerField(default=0, editable=False)
    ics_sent_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["expected_entry_at", "id"]
        indexes = [
            models.Index(fields=["customer", "state"], name="visit_customer_state"),
            models.Index(fields=["room", "expected_entry_at"], name="visit_room_entry"),
            models.Index(fields=["state", "expected_entry_at"], name="visit_state_entry"),
            models.Index(fields=["escort", "expected_entry_at"], name="visit_escort_entry"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(expected_exit_at__gt=models.F("expected_entry_at")),
                                   name="visit_exit_after_entry"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.expected_entry_at and self.expected_exit_at and self.expected_exit_at <= self.expected_entry_at:
            errors["expected_exit_at"] = _("The expected exit must be after the expected entry.")
        if self.activity == Activity.OTHER and not self.activity_other.strip():
            errors["activity_other"] = _("Say what the activity is.")
        if self.emergency and not self.emergency_reason.strip():
            errors["emergency_reason"] = _("Say why the visit is an emergency.")
        for flag, detail in (("needs_tools", "tools_detail"), ("needs_software", "software_detail"),
                             ("needs_lodging", "lodging_detail")):
            if getattr(self, flag) and not getattr(self, detail).strip():
                errors[detail] = _("Describe what is needed.")
        if errors:
            raise ValidationError(errors)

    @property
    def activity_display(self) -> str:
        if self.activity == Activity.OTHER and self.activity_other:
            return f"{self.get_activity_display()}: {self.activity_other}"
        return str(self.get_activity_display())

    @property
    def help_needed(self) -> list[tuple[str, str]]:
        out = []
        if self.needs_tools:
            out.append((str(_("Tools")), self.tools_detail))
        if self.needs_software:
            out.append((str(_("Software")), self.software_detail))
        if self.needs_lodging:
            out.append((str(_("Meals and lodging")), self.lodging_detail))
        if self.other_help:
            out.append((str(_("Other")), self.other_help))
        return out

    def ended_at(self) -> datetime:
        return self.checked_out_at or self.expected_exit_at

    # --- transitions: fields and timestamps only; services lock, audit and notify.
    @transition(field=state, source=S.REQUESTED, target=S.APPROVED)
    def approve(self, *, at: datetime, by: object, escort: object, why: str = "") -> None:
        self.escort = escort  # type: ignore[assignment]
        self.decided_at = at
        self.decided_by = by  # type: ignore[assignment]
        self.decision_reason = why

    @transition(field=state, source=S.REQUESTED, target=S.DECLINED)
    def decline(self, *, at: datetime, by: object, why: str) -> None:
        self.decided_at = at
        self.decided_by = by  # type: ignore[assignment]
        self.decision_reason = why

    @transition(field=state, source=S.APPROVED, target=S.CHECKED_IN)
    def check_in(self, *, at: datetime) -> None:
        self.checked_in_at = at

    @transition(field=state, source=S.CHECKED_IN, target=S.CHECKED_OUT)
    def check_out(self, *, at: datetime) -> None:
        self.checked_out_at = at

    @transition(field=state, source=S.CHECKED_OUT, target=S.CLOSED)
    def close(self, *, at: datetime, work_done: str = "") -> None:
        self.closed_at = at
        if work_done:
            self.work_done = work_done

    @transition(field=state, source=[S.REQUESTED, S.APPROVED], target=S.CANCELLED)
    def cancel(self, *, at: datetime, why: str = "") -> None:
        self.cancelled_at = at
        self.cancel_reason = why

    @transition(field=state, source=S.APPROVED, target=S.NO_SHOW)
    def mark_no_show(self, *, at: datetime) -> None:
        self.no_show_at = at


class Visitor(FastChoiceDisplay, models.Model):
    """One person on a booking. The full ID number is kept only until the retention time after
    the visit; the masked form stays with the visit log."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="visitors",
                              verbose_name=_("visit"))
    name = models.CharField(_("name"), max_length=120)
    id_type = models.CharField(_("ID document type"), max_length=20, choices=IdDocumentType.choices,
                               default=IdDocumentType.RESIDENT_ID)
    id_number = models.CharField(_("ID number"), max_length=40, blank=True)
    id_number_masked = models.CharField(_("ID number (masked)"), max_length=40, editable=False)
    id_erased_at = models.DateTimeField(_("ID number erased at"), null=True, blank=True, editable=False)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    pass_number = models.CharField(_("pass number"), max_length=40, blank=True)
    id_checked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="+", verbose_name=_("ID checked by"))
    entered_at = models.DateTimeField(_("entered at"), null=True, blank=True)
    exited_at = models.DateTimeField(_("exited at"), null=True, blank=True)

    class Meta:
        verbose_name = _("visitor")
        verbose_name_plural = _("visitors")
        ordering = ["visit", "id"]
        indexes = [models.Index(fields=["name"], name="visitor_name")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # The masked form is written once from the full number and survives its erasure.
        if self.id_number:
            self.id_number = normalize_id_number(self.id_number)
            self.id_number_masked = mask_id_number(self.id_number)
        super().save(*args, **kwargs)

    @property
    def inside(self) -> bool:
        return self.entered_at is not None and self.exited_at is None
