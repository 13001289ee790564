"""Incidents (紧急情况), their outages with causes, the attempts to notify the customer (C4), and
the external monitors that may report outages by webhook."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from customers.choices import ContactChannel
from slaportal.models import FastChoiceDisplay

from .choices import (
    COUNTED_CAUSES,
    FORCE_MAJEURE_CAUSES,
    Cause,
    FacilityEventKind,
    FacilityScope,
    IncidentSource,
    IncidentState,
    NoticeExemption,
    NoticeOutcome,
    OutageKind,
    OutageSource,
    ReliefAction,
    ReportChannel,
    WebhookFormat,
)

S = IncidentState


class Incident(FastChoiceDisplay, ConcurrentTransitionMixin, models.Model):
    """Something went wrong with a customer's service: detected → emergency declared (C4 starts)
    → contact notified → acknowledged → resolved → cause classified → closed."""

    number = models.CharField(_("incident number"), max_length=30, unique=True, null=True,
                              editable=False)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="incidents", verbose_name=_("customer"))
    service = models.ForeignKey("customers.Service", on_delete=models.PROTECT,
                                related_name="incidents", verbose_name=_("service"))
    target = models.ForeignKey("monitoring.Target", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="incidents", verbose_name=_("monitored target"))
    source = models.CharField(_("detected by"), max_length=10, choices=IncidentSource.choices)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    engineer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name=_("engineer"))
    state = FSMField(_("state"), default=S.DETECTED, choices=S.choices, protected=True)
    detected_at = models.DateTimeField(_("detected at"))
    declared_at = models.DateTimeField(_("emergency declared at"), null=True, blank=True)
    notified_at = models.DateTimeField(_("contact notified at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.CharField(_("acknowledged by"), max_length=200, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    classified_at = models.DateTimeField(_("classified at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The customer's own report (5-day clause): the earliest of portal, complaint line, ack.
    reported_at = models.DateTimeField(_("reported by the customer at"), null=True, blank=True)
    reported_via = models.CharField(_("reported via"), max_length=20, choices=ReportChannel.choices,
                                    blank=True)
    notice_missed_at = models.DateTimeField(_("notice missed at"), null=True, blank=True)
    notice_exemption = models.CharField(_("notice exemption"), max_length=20,
                                        choices=NoticeExemption.choices, blank=True)
    notice_exemption_note = models.TextField(_("exemption justification"), blank=True)
    notice_exempted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                           null=True, blank=True, related_name="+",
                                           verbose_name=_("exemption recorded by"))
    notice_exempted_at = models.DateTimeField(_("exemption recorded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-detected_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "state"], name="incident_customer_state"),
            models.Index(fields=["target", "state"], name="incident_target_state"),
            models.Index(fields=["-detected_at", "-id"], name="incident_recent"),
        ]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"

    def clean(self) -> None:
        if self.service_id and self.customer_id and self.service.customer_id != self.customer_id:
            raise ValidationError({"service": _("The service belongs to another customer.")})

    # --- transitions: fields only; services lock, audit, start and meet clocks.
    @transition(field=state, source=S.DETECTED, target=S.DECLARED)
    def declare(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.declared_at = at

    @transition(field=state, source=[S.NOTIFIED, S.ACKNOWLEDGED], target=S.DECLARED)
    def redeclare(self, *, at) -> None:  # type: ignore[no-untyped-def]
        """The reused incident's target failed again: a new emergency, a new notice."""
        self.declared_at = at

    @transition(field=state, source=S.DECLARED, target=S.NOTIFIED)
    def notify(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.notified_at = at

    @transition(field=state, source=[S.DETECTED, S.DECLARED, S.NOTIFIED], target=S.ACKNOWLEDGED)
    def acknowledge(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.acknowledged_at = at

    @transition(field=state, source=[S.DETECTED, S.DECLARED, S.NOTIFIED, S.ACKNOWLEDGED],
                target=S.RESOLVED)
    def resolve(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.resolved_at = at

    @transition(field=state, source=S.RESOLVED, target=S.CLASSIFIED)
    def classify(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.classified_at = at

    @transition(field=state, source=S.CLASSIFIED, target=S.CLOSED)
    def close(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.closed_at = at

    @property
    def is_open(self) -> bool:
        return self.state in (S.DETECTED, S.DECLARED, S.NOTIFIED, S.ACKNOWLEDGED)


class FacilityEvent(FastChoiceDisplay, models.Model):
    """An event of the data centre that hits many customers at once (a power cut in a room, an
    upstream carrier fault on an uplink, an agreed maintenance window): recorded once with its
    scopes, it makes one outage per affected active service, all with the event's cause."""

    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=FacilityEventKind.choices)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    evidence = models.TextField(_("evidence"), blank=True)
    cause = models.CharField(_("cause"), max_length=24, choices=Cause.choices, blank=True)
    cause_note = models.TextField(_("justification"), blank=True)
    cause_set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+", verbose_name=_("cause set by"))
    cause_set_at = models.DateTimeField(_("cause set at"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("facility event")
        verbose_name_plural = _("facility events")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ended_at__isnull=True)
                                   | models.Q(ended_at__gte=models.F("started_at")),
                                   name="facilityevent_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.title}"

    @property
    def is_ongoing(self) -> bool:
        return self.ended_at is None

    @property
    def is_force_majeure(self) -> bool:
        return self.cause in FORCE_MAJEURE_CAUSES


class FacilityEventScope(FastChoiceDisplay, models.Model):
    """One place a facility event hit: a room, a rack row or an uplink, named exactly as on the
    services (Service.room / rack_row / uplink)."""

    event = models.ForeignKey(FacilityEvent, on_delete=models.CASCADE, related_name="scopes")
    scope = models.CharField(_("scope"), max_length=10, choices=FacilityScope.choices)
    value = models.CharField(_("location"), max_length=80)

    class Meta:
        verbose_name = _("facility event scope")
        verbose_name_plural = _("facility event scopes")
        constraints = [models.UniqueConstraint(fields=["event", "scope", "value"],
                                               name="facilityeventscope_unique")]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.value}"


class FacilityEventClock(FastChoiceDisplay, models.Model):
    """What a force-majeure facility event did to one SLA clock (paused, resumed, deadline
    extended, breach exempted): the record the event's page shows and its end reads."""

    event = models.ForeignKey(FacilityEvent, on_delete=models.PROTECT, related_name="clock_reliefs")
    clock = models.ForeignKey("sla.Clock", on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=10, choices=ReliefAction.choices)
    seconds = models.PositiveIntegerField(_("seconds"), default=0)
    at = models.DateTimeField(_("at"))

    class Meta:
        verbose_name = _("force-majeure relief")
        verbose_name_plural = _("force-majeure reliefs")
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["event", "clock", "action"],
                                               name="facilityeventclock_once")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.clock_id} {self.action}"


class Outage(FastChoiceDisplay, models.Model):
    """One interval during which a service could not be obtained (network) or had neither mains
    nor UPS power (power), with its cause. Counted toward C1/C2 only if the cause is the
    provider's fault (or not yet classified) and the 5-day clause does not exclude it."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="outages", verbose_name=_("customer"), editable=False)
    service = models.ForeignKey("customers.Service", on_delete=models.PROTECT, related_name="outages",
                                verbose_name=_("service"))
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="outages", verbose_name=_("incident"))
    target = models.ForeignKey("monitoring.Target", on_delete=models.PROTECT, null=True, blank=True,
                               related_name="outages", verbose_name=_("monitored target"))
    kind = models.CharField(_("kind"), max_length=10, choices=OutageKind.choices,
                            default=OutageKind.NETWORK)
    source = models.CharField(_("source"), max_length=10, choices=OutageSource.choices)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    evidence = models.TextField(_("evidence"), blank=True)
    cause = models.CharField(_("cause"), max_length=24, choices=Cause.choices, blank=True)
    cause_note = models.TextField(_("justification"), blank=True)
    cause_set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+", verbose_name=_("cause set by"))
    cause_set_at = models.DateTimeField(_("cause set at"), null=True, blank=True)
    reported_at = models.DateTimeField(_("reported by the customer at"), null=True, blank=True)
    # source-id:fingerprint:startsAt for webhook outages: a replay finds the row it made.
    external_key = models.CharField(max_length=300, unique=True, null=True, blank=True,
                                    editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("entered by"))
    created_at = models.DateTimeField(_("created at"))
    # The facility event whose fan-out made this outage (one per service per event).
    facility_event = models.ForeignKey(FacilityEvent, on_delete=models.PROTECT, null=True, blank=True,
                                       related_name="outages", verbose_name=_("facility event"))

    class Meta:
        verbose_name = _("outage")
        verbose_name_plural = _("outages")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["service", "kind", "started_at"], name="outage_service_kind_start"),
            models.Index(fields=["target", "ended_at"], name="outage_target_open"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(ended_at__isnull=True)
                                   | models.Q(ended_at__gte=models.F("started_at")),
                                   name="outage_end_after_start"),
            models.UniqueConstraint(fields=["facility_event", "service"],
                                    condition=models.Q(facility_event__isnull=False),
                                    name="outage_one_per_service_per_event"),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.customer_id = self.service.customer_id
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.ended_at and self.started_at and self.ended_at < self.started_at:
            raise ValidationError({"ended_at": _("The end must not be before the start.")})

    @property
    def is_counted_cause(self) -> bool:
        """An unclassified outage counts until staff justify an exclusion."""
        return not self.cause or self.cause in COUNTED_CAUSES

    @property
    def duration_seconds(self) -> int | None:
        if self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds())


class NoticeAttempt(FastChoiceDisplay, models.Model):
    """One attempt to tell one authorized contact about an emergency over one channel. E-mail,
    SMS, pager and fax go through a Notification row; a phone call is made by the engineer, who
    records whether the contact was reached."""

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="notice_attempts")
    clock = models.ForeignKey("sla.Clock", on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+")
    seq = models.PositiveSmallIntegerField(_("attempt"))
    contact = models.ForeignKey("customers.AuthorizedContact", on_delete=models.PROTECT,
                                related_name="notice_attempts", verbose_name=_("contact"))
    channel = models.CharField(_("channel"), max_length=20, choices=ContactChannel.choices)
    address = models.CharField(_("address"), max_length=254)
    notification = models.OneToOneField("notifications.Notification", on_delete=models.PROTECT,
                                        null=True, blank=True, related_name="notice_attempt")
    outcome = models.CharField(_("outcome"), max_length=16, choices=NoticeOutcome.choices,
                               default=NoticeOutcome.PENDING, db_index=True)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("recorded by"))

    class Meta:
        verbose_name = _("notice attempt")
        verbose_name_plural = _("notice attempts")
        ordering = ["incident", "seq"]
        constraints = [models.UniqueConstraint(fields=["clock", "seq"], name="noticeattempt_clock_seq")]

    def __str__(self) -> str:
        return f"{self.incident} #{self.seq} {self.channel} {self.address}"


def hash_token(raw: str) -> str:
    """Webhook tokens are random and long; a SHA-256 is enough and allows lookup by hash."""
    return hashlib.sha256(raw.encode()).hexdigest()


class WebhookSource(FastChoiceDisplay, models.Model):
    """An external monitor allowed to report outages. Its token is stored hashed; the raw token
    is shown once when it is generated."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    format = models.CharField(_("payload format"), max_length=16, choices=WebhookFormat.choices)
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, null=True,
                                 blank=True, related_name="+", verbose_name=_("limited to customer"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(_("token starts with"), max_length=8, editable=False)
    active = models.BooleanField(_("active"), default=True)
    last_received_at = models.DateTimeField(_("last delivery at"), null=True, blank=True,
                                            editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook source")
        verbose_name_plural = _("webhook sources")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def set_token(self, raw: str) -> None:
        self.token_hash = hash_token(raw)
        self.token_prefix = raw[:8]
