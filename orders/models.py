"""Installation orders (promise C3, seed 000 §3 初装保证): one per hosting service, with the
checklist of installation work its kind needs and the C3 clock that runs on it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from sla.choices import ClockState
from sla.mirrors import KeepsClockFields
from slaportal.models import FastChoiceDisplay

from .choices import (
    PROVISIONING_OPEN_STATES,
    ChecklistCode,
    OrderState,
    PauseReason,
    ProvisioningItemCode,
    ProvisioningState,
)

S = OrderState


class InstallationOrder(FastChoiceDisplay, ConcurrentTransitionMixin, KeepsClockFields, models.Model):
    """The initial installation of one service (rental, colocation or rack rental). Created when
    the service is; completed when every checklist item is done and the engineer confirms."""

    service = models.OneToOneField("customers.Service", on_delete=models.PROTECT,
                                   related_name="installation_order", verbose_name=_("service"))
    contract = models.ForeignKey("customers.Contract", on_delete=models.PROTECT,
                                 related_name="installation_orders", verbose_name=_("contract"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="installation_orders", verbose_name=_("customer"))
    state = FSMField(_("state"), default=S.OPEN, choices=S.choices, protected=True, db_index=True)
    created_at = models.DateTimeField(_("created at"))
    # Set while the C3 deadline cannot be computed because the working-day calendar of this year
    # is not known yet; orders.tasks.start_pending_clocks starts the clock once it is entered.
    deadline_pending_year = models.PositiveSmallIntegerField(
        _("deadline pending: calendar year missing"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    pause_reason = models.CharField(_("pause reason"), max_length=32, choices=PauseReason.choices,
                                    blank=True)
    pause_note = models.TextField(_("pause note"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+", verbose_name=_("completed by"))
    completion_note = models.TextField(_("confirmation note"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # The current C3 clock, kept by the clock engine (sla.mirrors) in the transaction of each
    # clock change; sla_overdue: some C3 clock breached (the list's overdue definition).
    sla_due_at = models.DateTimeField(_("installation due at"), null=True, blank=True, editable=False)
    sla_state = models.CharField(_("installation clock state"), max_length=10, choices=ClockState.choices,
                              blank=True, default="", editable=False)
    sla_overdue = models.BooleanField(_("installation overdue"), default=False, editable=False)

    class Meta:
        verbose_name = _("installation order")
        verbose_name_plural = _("installation orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "state"], name="order_customer_state"),
            models.Index(fields=["-created_at", "-id"], name="order_recent"),
            # ?overdue=true: an open order whose C3 is breached or running (due_at <= now is
            # checked on the few rows); walked newest first.
            models.Index(fields=["-created_at", "-id"], name="order_c3_late_or_open",
                         condition=models.Q(state__in=["open", "paused"])
                         & (models.Q(sla_overdue=True) | models.Q(sla_state="running"))),
        ]

    def __str__(self) -> str:
        return f"IO-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in (S.OPEN, S.PAUSED)

    # --- transitions: fields and timestamps only; services lock, audit and move the clock.
    @transition(field=state, source=S.OPEN, target=S.PAUSED)
    def pause(self, *, at, reason: str, note: str) -> None:  # type: ignore[no-untyped-def]
        self.paused_at = at
        self.pause_reason = reason
        self.pause_note = note

    @transition(field=state, source=S.PAUSED, target=S.OPEN)
    def resume(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.paused_at = None
        self.pause_reason = ""
        self.pause_note = ""

    @transition(field=state, source=[S.OPEN, S.PAUSED], target=S.COMPLETED)
    def complete(self, *, at, by, note: str) -> None:  # type: ignore[no-untyped-def]
        self.completed_at = at
        self.completed_by = by
        self.completion_note = note
        self.paused_at = None

    @transition(field=state, source=[S.OPEN, S.PAUSED], target=S.CANCELLED)
    def cancel(self, *, at) -> None:  # type: ignore[no-untyped-def]
        self.cancelled_at = at
        self.paused_at = None


class ChecklistItem(FastChoiceDisplay, models.Model):
    """One piece of installation work (server hardware, system software, power, network)."""

    order = models.ForeignKey(InstallationOrder, on_delete=models.PROTECT, related_name="items",
                              verbose_name=_("installation order"))
    code = models.CharField(_("item"), max_length=20, choices=ChecklistCode.choices)
    position = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+", verbose_name=_("done by"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["order", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["order", "code"], name="checklist_item_unique")]

    def __str__(self) -> str:
        return str(self.get_code_display())

    @property
    def done(self) -> bool:
        return self.done_at is not None


P = ProvisioningState


class ProvisioningOrder(FastChoiceDisplay, ConcurrentTransitionMixin, KeepsClockFields, models.Model):
    """The opening of an enterprise e-mail service for one domain (promise E5, seed 002 §8):
    opened with the service (or by staff), its E5 clock started when the payment is confirmed
    (24 h for a domain the customer has, 48 h for one to register), completed when the checklist
    is done and the customer's contacts are told."""

    service = models.ForeignKey("customers.Service", on_delete=models.PROTECT,
                                related_name="provisioning_orders", verbose_name=_("service"))
    contract = models.ForeignKey("customers.Contract", on_delete=models.PROTECT,
                                 related_name="provisioning_orders", verbose_name=_("contract"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="provisioning_orders", verbose_name=_("customer"))
    # Blank while an order opened with a new service waits for staff to enter it; required to
    # complete (what would be opened otherwise?).
    domain = models.CharField(_("domain name"), max_length=253, blank=True)
    new_domain = models.BooleanField(
        _("new domain to be registered"), default=False,
        help_text=_("Off: the customer already has the domain (24 hours). On: a new domain must "
                    "be registered first (48 hours)."))
    state = FSMField(_("state"), default=P.AWAITING_PAYMENT, choices=P.choices, protected=True,
                     db_index=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("created by"))
    # When the provider received the money: the E5 clock counts from here, not from when it was
    # recorded (seed 002 §8.1: 乙方确认收到甲方支付的费用).
    payment_confirmed_at = models.DateTimeField(_("payment confirmed at"), null=True, blank=True)
    payment_confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                             null=True, blank=True, related_name="+",
                                             verbose_name=_("payment confirmed by"))
    payment_reference = models.CharField(_("payment reference"), max_length=200, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+", verbose_name=_("completed by"))
    completion_note = models.TextField(_("completion note"), blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancel_reason = models.TextField(_("cancellation reason"), blank=True)
    # The current E5 clock (E5-EXIST or E5-NEW), kept by the clock engine (sla.mirrors).
    sla_due_at = models.DateTimeField(_("provisioning due at"), null=True, blank=True, editable=False)
    sla_state = models.CharField(_("provisioning clock state"), max_length=10, choices=ClockState.choices,
                              blank=True, default="", editable=False)
    sla_overdue = models.BooleanField(_("provisioning overdue"), default=False, editable=False)
    sla_started_at = models.DateTimeField(_("provisioning clock started at"), null=True, blank=True,
                                         editable=False)
    sla_policy = models.CharField(_("provisioning promise"), max_length=20, blank=True, default="",
                                     editable=False)

    class Meta:
        verbose_name = _("e-mail provisioning order")
        verbose_name_plural = _("e-mail provisioning orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "state"], name="prov_customer_state"),
            models.Index(fields=["-created_at", "-id"], name="prov_recent"),
            models.Index(fields=["-created_at", "-id"], name="prov_e5_late_or_open",
                         condition=models.Q(state__in=["awaiting_payment", "in_progress"])
                         & (models.Q(sla_overdue=True) | models.Q(sla_state="running"))),
        ]
        constraints = [
            # One live order per domain of a service; a cancelled one may be opened again.
            models.UniqueConstraint(fields=["service", "domain"], name="prov_service_domain_unique",
                                    condition=~models.Q(state="cancelled") & ~models.Q(domain="")),
        ]

    def __str__(self) -> str:
        return f"EP-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.state in PROVISIONING_OPEN_STATES

    # --- transitions: fields and timestamps only; services lock, audit and move the clock.
    @transition(field=state, source=P.AWAITING_PAYMENT, target=P.IN_PROGRESS)
    def confirm_payment(self, *, at, by, reference: str) -> None:  # type: ignore[no-untyped-def]
        self.payment_confirmed_at = at
        self.payment_confirmed_by = by
        self.payment_reference = reference

    @transition(field=state, source=P.IN_PROGRESS, target=P.COMPLETED)
    def complete(self, *, at, by, note: str) -> None:  # type: ignore[no-untyped-def]
        self.completed_at = at
        self.completed_by = by
        self.completion_note = note

    @transition(field=state, source=[P.AWAITING_PAYMENT, P.IN_PROGRESS], target=P.CANCELLED)
    def cancel(self, *, at, reason: str) -> None:  # type: ignore[no-untyped-def]
        self.cancelled_at = at
        self.cancel_reason = reason


class ProvisioningItem(FastChoiceDisplay, models.Model):
    """One piece of the provisioning work (domain registration, DNS records, mailboxes, the
    administrator account, telling the customer), ticked with who and when."""

    order = models.ForeignKey(ProvisioningOrder, on_delete=models.CASCADE, related_name="items",
                              verbose_name=_("e-mail provisioning order"))
    code = models.CharField(_("item"), max_length=24, choices=ProvisioningItemCode.choices)
    position = models.PositiveSmallIntegerField(default=0)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+", verbose_name=_("done by"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("provisioning checklist item")
        verbose_name_plural = _("provisioning checklist items")
        ordering = ["order", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["order", "code"], name="prov_item_unique")]

    def __str__(self) -> str:
        return str(self.get_code_display())

    @property
    def done(self) -> bool:
        return self.done_at is not None
