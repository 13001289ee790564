"""SLA policies (the agreement's promises as data), working-day overrides, and clocks."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from slaportal.models import FastChoiceDisplay

from .choices import CalendarCode, ClockState, Comparison, PolicyKind, Remedy, Unit

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise

DEADLINE_UNITS = {
    CalendarCode.H24: {Unit.MINUTES, Unit.HOURS, Unit.DAYS},
    CalendarCode.CN_WORKDAYS: {Unit.WORKING_DAYS},
}


class SlaPolicy(FastChoiceDisplay, models.Model):
    """One promise of the agreement: metric, comparison, threshold, unit, calendar, remedy and
    the clause it comes from. Seeded by a data migration; every number lives here, not in code."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=PolicyKind.choices)
    metric = models.CharField(_("metric"), max_length=200)
    starts_on = models.CharField(_("clock starts on"), max_length=200, blank=True)
    comparison = models.CharField(_("comparison"), max_length=2, choices=Comparison.choices)
    threshold = models.DecimalField(_("target"), max_digits=12, decimal_places=4,
                                    validators=[MinValueValidator(Decimal("0"))])
    unit = models.CharField(_("unit"), max_length=16, choices=Unit.choices)
    calendar = models.CharField(_("calendar"), max_length=16, choices=CalendarCode.choices)
    warning_percent = models.PositiveSmallIntegerField(
        _("warn when this share of the time has passed (%)"), default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99)])
    remedy = models.CharField(_("remedy"), max_length=24, choices=Remedy.choices)
    clause = models.CharField(_("clause reference"), max_length=200)
    # Which kinds of service the promise is made for (customers.choices.ServiceKind values); empty:
    # every kind. The hosting agreement's promises are not the e-mail guarantee's and vice versa.
    service_kinds = models.JSONField(_("applies to service kinds"), default=list, blank=True,
                                     help_text=_("Empty: every kind of service."))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def name(self) -> str:
        lang = translation.get_language() or "zh-hans"
        return self.name_en if lang.startswith("en") else self.name_zh

    def clean(self) -> None:
        validate_target(kind=self.kind, threshold=self.threshold, unit=self.unit,
                        calendar=self.calendar)
        from customers.choices import ServiceKind

        kinds = self.service_kinds or []
        if not isinstance(kinds, list) or any(k not in ServiceKind.values for k in kinds):
            raise ValidationError({"service_kinds": _("Unknown kind of service.")})

    def applies_to_kind(self, kind: str | None) -> bool:
        """Whether the promise is made for a service of this kind (None: not about a service)."""
        return not self.service_kinds or kind is None or kind in self.service_kinds


def validate_target(*, kind: str, threshold: Decimal | None, unit: str, calendar: str) -> None:
    """A deadline needs a positive target in a unit its calendar can count."""
    errors: dict[str, StrOrPromise] = {}
    if threshold is None:
        errors["threshold"] = _("A policy needs a target.")
    elif kind == PolicyKind.DEADLINE and threshold <= 0:
        errors["threshold"] = _("A deadline target must be greater than zero.")
    if kind == PolicyKind.DEADLINE:
        allowed = DEADLINE_UNITS.get(CalendarCode(calendar)) if calendar in CalendarCode.values else None
        if not allowed:
            errors["calendar"] = _("A deadline runs on the 24x7 or the cn-workdays calendar.")
        elif unit not in allowed:
            errors["unit"] = _("This unit cannot be counted on that calendar.")
        elif (unit == Unit.WORKING_DAYS and threshold is not None and "threshold" not in errors
              and threshold != threshold.to_integral_value()):
            # compute_due counts whole working days; refuse here rather than at every clock start.
            errors["threshold"] = _("Working days are counted whole.")
    if errors:
        raise ValidationError(errors)


class ContractPolicy(FastChoiceDisplay, models.Model):
    """A per-contract override of a policy's target (or switching a promise off for a contract)."""

    contract = models.ForeignKey("customers.Contract", on_delete=models.CASCADE,
                                 related_name="policy_overrides", verbose_name=_("contract"))
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="overrides",
                               verbose_name=_("policy"))
    threshold = models.DecimalField(_("target"), max_digits=12, decimal_places=4, null=True,
                                    blank=True, validators=[MinValueValidator(Decimal("0"))])
    warning_percent = models.PositiveSmallIntegerField(
        _("warning (%)"), null=True, blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(99)])
    active = models.BooleanField(_("promise applies"), default=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("contract policy override")
        verbose_name_plural = _("contract policy overrides")
        constraints = [models.UniqueConstraint(fields=["contract", "policy"],
                                               name="contractpolicy_unique")]

    def __str__(self) -> str:
        return f"{self.contract} / {self.policy.code}"

    def clean(self) -> None:
        if self.threshold is not None and self.policy_id:
            validate_target(kind=self.policy.kind, threshold=self.threshold,
                            unit=self.policy.unit, calendar=self.policy.calendar)


class WorkdayOverride(FastChoiceDisplay, models.Model):
    """An admin-entered fact about one date of the cn-workdays calendar. It wins over the
    holidays library, and a year with at least one row counts as covered."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("working-day override")
        verbose_name_plural = _("working-day overrides")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {'✓' if self.is_working_day else '✗'}"


# Clocks that still ask for work: running or paused, or breached with the obligation not yet
# fulfilled (a late report is still owed).
OPEN_WORK = models.Q(state__in=["running", "paused"]) | models.Q(state="breached", completed_at__isnull=True)


class Clock(FastChoiceDisplay, ConcurrentTransitionMixin, models.Model):
    """A running promise: started by an event, due at a time computed on the policy's calendar,
    warned before and escalated at breach. Every workflow uses this one clock."""

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    label = models.CharField(_("subject"), max_length=200)
    policy = models.ForeignKey(SlaPolicy, on_delete=models.PROTECT, related_name="clocks",
                               verbose_name=_("policy"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="clocks", verbose_name=_("customer"))
    contract = models.ForeignKey("customers.Contract", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="clocks", verbose_name=_("contract"))
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="sla_clocks", verbose_name=_("assignee"))
    # The target as resolved when the clock started (policy + contract override), for the record.
    target = models.DecimalField(_("target"), max_digits=12, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=16)
    calendar = models.CharField(_("calendar"), max_length=16)
    state = FSMField(_("state"), default=ClockState.RUNNING, choices=ClockState.choices,
                     protected=True, db_index=True)
    started_at = models.DateTimeField(_("started at"))
    due_at = models.DateTimeField(_("due at"))
    warn_at = models.DateTimeField(_("warn at"))
    warned_at = models.DateTimeField(_("warned at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(_("paused for (s)"), default=0)
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached at"), null=True, blank=True)
    # When the warning / breach escalations were written. The sweep records a breach first and
    # commits it (a storm of 10,000 breaches is visible within a second), then writes the
    # escalations of breaches not yet escalated; a crash in between leaves the breach marked
    # and the next sweep escalates it. Nothing is escalated twice: these are claimed like the rest.
    warn_escalated_at = models.DateTimeField(_("warning escalated at"), null=True, blank=True)
    breach_escalated_at = models.DateTimeField(_("breach escalated at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # When the obligation was finally fulfilled, even after a breach (a late report).
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("SLA clock")
        verbose_name_plural = _("SLA clocks")
        ordering = ["due_at"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="clock_state_due"),
            models.Index(fields=["state", "warn_at"], name="clock_state_warn"),
            # The sweep loop's "when is the next warning?": only running clocks not yet warned.
            models.Index(fields=["warn_at"], name="clock_warn_pending",
                         condition=models.Q(state="running", warned_at__isnull=True)),
            models.Index(fields=["breached_at"], name="clock_breach_unescalated",
                         condition=models.Q(breached_at__isnull=False, breach_escalated_at__isnull=True)),
            models.Index(fields=["warned_at"], name="clock_warn_unescalated",
                         condition=models.Q(warned_at__isnull=False, warn_escalated_at__isnull=True)),
            models.Index(fields=["content_type", "object_id"], name="clock_subject"),
            # The work queues (sla.selectors.my_work_queue): a person's open work, and the
            # unassigned open work of a customer, by deadline; only the clocks still asking for
            # work, with what the grouping reads, so the ranking never visits the table.
            # Every clock list's order (due_at, id: keyset pages), and the overdue review's,
            # which reads only the open ones.
            models.Index(fields=["due_at", "id"], name="clock_due_id"),
            models.Index(fields=["due_at", "id"], name="clock_open_due", condition=OPEN_WORK),
            models.Index(fields=["assignee", "due_at", "id"], name="clock_open_assignee_due",
                         include=["warn_at", "state", "completed_at"], condition=OPEN_WORK),
            models.Index(fields=["customer", "due_at", "id"], name="clock_open_unassigned_due",
                         include=["warn_at", "state", "completed_at"],
                         condition=OPEN_WORK & models.Q(assignee__isnull=True)),
        ]
        constraints = [
            # One open clock per promise and subject: starting it twice is a bug, not a second clock.
            models.UniqueConstraint(
                fields=["content_type", "object_id", "policy"],
                condition=models.Q(state__in=["running", "paused"]),
                name="clock_one_open_per_subject_policy",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy.code} · {self.label}"

    @property
    def is_open(self) -> bool:
        return self.state in (ClockState.RUNNING, ClockState.PAUSED)

    # Transitions change fields only; services lock the row, audit and notify.
    @transition(field=state, source=ClockState.RUNNING, target=ClockState.PAUSED)
    def pause(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.paused_at = at

    @transition(field=state, source=ClockState.PAUSED, target=ClockState.RUNNING)
    def resume(self, *, at) -> None:  # type: ignore[no-untyped-def]
        assert self.paused_at is not None
        span = at - self.paused_at
        self.due_at += span
        self.warn_at += span
        self.paused_seconds += int(span.total_seconds())
        self.paused_at = None

    @transition(field=state, source=[ClockState.RUNNING, ClockState.PAUSED], target=ClockState.MET)
    def meet(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.met_at = at
        self.completed_at = at
        self.paused_at = None

    @transition(field=state, source=ClockState.RUNNING, target=ClockState.BREACHED)
    def breach(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.breached_at = at

    # The sweep breached the clock at due_at, but the promise had been kept before it and the
    # fact reached us a moment later (an SMTP acceptance read by the next task run). The
    # fulfilment time decides, not the time we learnt of it; breached_at stays as history.
    @transition(field=state, source=ClockState.BREACHED, target=ClockState.MET)
    def meet_in_time(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.met_at = at
        self.completed_at = at

    @transition(field=state, source=[ClockState.RUNNING, ClockState.PAUSED],
                target=ClockState.CANCELLED)
    def cancel(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.cancelled_at = at
        self.paused_at = None

    # A breach that does not count (force majeure, seed 第十条): the promise did not apply when it
    # ran out. The clock ends cancelled; breached_at stays as history, and the audit row
    # ("exempt") carries the reason.
    @transition(field=state, source=ClockState.BREACHED, target=ClockState.CANCELLED)
    def exempt(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.cancelled_at = at

    @property
    def breach_withdrawn(self) -> bool:
        """Breached once, but the breach no longer stands: met, recorded late (the event came
        before due_at and was learnt after the sweep), or exempted."""
        return self.breached_at is not None and self.state in (ClockState.MET, ClockState.CANCELLED)
