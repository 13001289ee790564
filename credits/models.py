"""The service-credit ledger: what a broken promise owes the customer, proposed by a workflow,
decided by a manager."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

from slaportal.models import FastChoiceDisplay

from .choices import CreditKind, CreditState

MONEY_KINDS = {CreditKind.WAIVE_MONTH_RENT, CreditKind.REFUND_INSTALLATION, CreditKind.DEDUCT_DAY_RENT}


class Credit(FastChoiceDisplay, ConcurrentTransitionMixin, models.Model):
    """One ledger row: customer, contract, the promise broken, the remedy (an amount in CNY or
    days of service), the evidence, and its state proposed → approved → applied | rejected."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="credits", verbose_name=_("customer"))
    contract = models.ForeignKey("customers.Contract", on_delete=models.PROTECT,
                                 related_name="credits", verbose_name=_("contract"))
    policy = models.ForeignKey("sla.SlaPolicy", on_delete=models.PROTECT, related_name="credits",
                               verbose_name=_("promise"))
    kind = models.CharField(_("kind"), max_length=24, choices=CreditKind.choices)
    amount = models.DecimalField(_("amount (CNY)"), max_digits=12, decimal_places=2, null=True,
                                 blank=True, validators=[MinValueValidator(Decimal("0.01"))])
    days = models.PositiveIntegerField(_("days of service"), null=True, blank=True,
                                       validators=[MinValueValidator(1)])
    period = models.DateField(_("period (first day of month or the day)"))
    evidence_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True)
    evidence_id = models.PositiveBigIntegerField(null=True, blank=True)
    evidence = GenericForeignKey("evidence_type", "evidence_id")
    note = models.TextField(_("note"), blank=True)
    # Makes "at most one such deduction per calendar day" (and other once-only rules) a constraint.
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True, editable=False)
    state = FSMField(_("state"), default=CreditState.PROPOSED, choices=CreditState.choices,
                     protected=True, db_index=True)
    proposed_at = models.DateTimeField(_("proposed at"))
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("proposed by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("decided by"))
    decision_reason = models.TextField(_("reason"), blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    # An applied credit is never edited: when what caused it turns out not to hold, the correction
    # is a new ledger entry that reverses it (billing subtracts it), proposed and approved like any.
    reverses = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="reversed_by", verbose_name=_("reverses"))

    class Meta:
        verbose_name = _("credit")
        verbose_name_plural = _("credits")
        ordering = ["-proposed_at", "-id"]
        permissions = [("approve_credit", _("Can approve, reject and apply credits"))]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(amount__isnull=False, days__isnull=True, amount__gt=0)
                           | models.Q(amount__isnull=True, days__isnull=False, days__gt=0)),
                name="credit_amount_xor_days",
            ),
        ]

    def __str__(self) -> str:
        what = f"¥{self.signed_amount}" if self.amount is not None else f"{self.signed_days}d"
        return f"{self.customer} {self.policy.code} {what}"

    def clean(self) -> None:
        if self.kind in MONEY_KINDS:
            if self.amount is None:
                raise ValidationError({"amount": _("This remedy is an amount of money.")})
            if self.days is not None:
                raise ValidationError({"days": _("A money remedy has no days.")})
        elif self.kind == CreditKind.EXTEND_SERVICE:
            if not self.days:
                raise ValidationError({"days": _("A service-time extension needs a number of days.")})
            if self.amount is not None:
                raise ValidationError({"amount": _("A service-time extension has no amount.")})
        if self.contract_id and self.customer_id and self.contract.customer_id != self.customer_id:
            raise ValidationError({"contract": _("The contract belongs to another customer.")})

    @transition(field=state, source=CreditState.PROPOSED, target=CreditState.APPROVED)
    def approve(self, *, at, by) -> None:  # type: ignore[no-untyped-def]
        self.decided_at, self.decided_by = at, by

    @transition(field=state, source=CreditState.PROPOSED, target=CreditState.REJECTED)
    def reject(self, *, at, by) -> None:  # type: ignore[no-untyped-def]
        self.decided_at, self.decided_by = at, by

    @transition(field=state, source=[CreditState.PROPOSED, CreditState.APPROVED],
                target=CreditState.WITHDRAWN)
    def withdraw(self, *, at, by) -> None:  # type: ignore[no-untyped-def]
        self.withdrawn_at = at

    @property
    def signed_amount(self) -> Decimal | None:
        """The amount as billing reads it: a reversal subtracts."""
        if self.amount is None:
            return None
        return -self.amount if self.reverses_id else self.amount

    @property
    def signed_days(self) -> int | None:
        """Days of service as billing reads them: a reversal takes them back."""
        if self.days is None:
            return None
        return -self.days if self.reverses_id else self.days

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None

    @property
    def reversal(self) -> Credit | None:
        """The entry that reverses this one, if any (the one-to-one's reverse side, or None)."""
        try:
            return self.reversed_by  # type: ignore[no-any-return]
        except Credit.DoesNotExist:
            return None

    @transition(field=state, source=CreditState.APPROVED, target=CreditState.APPLIED)
    def apply(self, *, at, by) -> None:  # type: ignore[no-untyped-def]
        self.applied_at = at
