"""Month close: each period promise (C1, C2, E1–E3, E6) judged per service and calendar month,
and the customer's monthly SLA statement (月度服务品质报告)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from slaportal.models import FastChoiceDisplay

from .choices import CloseTrigger, Verdict


class MonthClose(FastChoiceDisplay, models.Model):
    """A calendar month (Asia/Shanghai) that has been closed. Its row is the lock that serialises
    every close and re-judgement of that month, so two closers never propose a remedy twice."""

    month = models.DateField(_("month"), unique=True, help_text=_("First day of the month."))
    closed_at = models.DateTimeField(_("closed at"))
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name=_("closed by"))
    trigger = models.CharField(_("closed by"), max_length=12, choices=CloseTrigger.choices)
    last_judged_at = models.DateTimeField(_("last judged at"))
    services = models.PositiveIntegerField(_("services judged"), default=0)
    breaches = models.PositiveIntegerField(_("breaches"), default=0)

    class Meta:
        verbose_name = _("closed month")
        verbose_name_plural = _("closed months")
        ordering = ["-month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class Judgement(FastChoiceDisplay, models.Model):
    """One period promise judged for one service and month: the measured value against the
    threshold, met or breached, the outages counted and excluded (with causes), when computed.
    Never edited: a re-judgement after a late change is a new version that supersedes it."""

    service = models.ForeignKey("customers.Service", on_delete=models.PROTECT,
                                related_name="judgements", verbose_name=_("service"))
    contract = models.ForeignKey("customers.Contract", on_delete=models.PROTECT,
                                 related_name="judgements", verbose_name=_("contract"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="judgements", verbose_name=_("customer"))
    policy = models.ForeignKey("sla.SlaPolicy", on_delete=models.PROTECT,
                               related_name="judgements", verbose_name=_("promise"))
    month = models.DateField(_("month"))
    value = models.DecimalField(_("measured value"), max_digits=16, decimal_places=6)
    comparison = models.CharField(_("comparison"), max_length=2)
    threshold = models.DecimalField(_("target"), max_digits=12, decimal_places=4)
    unit = models.CharField(_("unit"), max_length=16)
    verdict = models.CharField(_("verdict"), max_length=16, choices=Verdict.choices, db_index=True)
    counted_seconds = models.PositiveIntegerField(_("counted seconds"), default=0)
    # [{id, started_at, ended_at, cause, kind}] and [{id, started_at, ended_at, cause, reason}]
    counted = models.JSONField(_("outages counted"), default=list)
    excluded = models.JSONField(_("outages excluded"), default=list)
    computed_at = models.DateTimeField(_("computed at"))
    # For a breach: the end of the month (the moment the promise was finally broken), so the
    # breach history can sort monthly breaches among clock breaches.
    breached_at = models.DateTimeField(_("breached at"), null=True, blank=True)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    current = models.BooleanField(_("current"), default=True)
    supersedes = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                      related_name="superseded_by", verbose_name=_("re-judges"))
    reason = models.CharField(_("why judged"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("monthly judgement")
        verbose_name_plural = _("monthly judgements")
        ordering = ["-month", "service_id", "policy_id", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["service", "policy", "month"], condition=models.Q(current=True),
                                    name="judgement_one_current"),
            models.UniqueConstraint(fields=["service", "policy", "month", "version"],
                                    name="judgement_version_unique"),
        ]
        indexes = [
            models.Index(fields=["month", "verdict"], name="judgement_month_verdict",
                         condition=models.Q(current=True)),
            models.Index(fields=["customer", "month"], name="judgement_customer_month"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.policy.code} {self.service}"

    @property
    def breached(self) -> bool:
        return self.verdict == Verdict.BREACHED


class MonthlyStatement(FastChoiceDisplay, models.Model):
    """The customer's monthly SLA statement (月度服务品质报告) for one month: the subject of its
    written reports (reports.WrittenReport). Re-judging the month issues a new version."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="statements", verbose_name=_("customer"))
    month = models.DateField(_("month"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("monthly SLA statement")
        verbose_name_plural = _("monthly SLA statements")
        ordering = ["-month", "customer__name"]
        constraints = [models.UniqueConstraint(fields=["customer", "month"], name="statement_unique")]

    def __str__(self) -> str:
        return f"{self.customer} {self.month:%Y-%m}"
