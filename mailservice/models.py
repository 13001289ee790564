"""E-mail measurement (seed 002 §1–§3): the provider's mail platforms and the customers' mail
domains on them, per-message latency kept only as hourly aggregates per domain, the delivery logs
being read, the platforms' faults and adjustments, and the billing figures entered each month."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import Direction, LatencySource, PlatformEventKind

# Upper bounds (inclusive, milliseconds) of the latency histogram's buckets; the last bucket is
# everything over 1 hour, the count seed 002 §2 limits to two a month.
BUCKET_EDGES_MS = (1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000)
BUCKET_FIELDS = ("le_1s", "le_5s", "le_10s", "le_30s", "le_1m", "le_5m", "le_15m", "le_1h", "gt_1h")
BUCKET_LABELS = (_("≤ 1 s"), _("≤ 5 s"), _("≤ 10 s"), _("≤ 30 s"), _("≤ 1 min"), _("≤ 5 min"),
                 _("≤ 15 min"), _("≤ 1 h"), _("> 1 h"))


class MailPlatform(models.Model):
    """One mail system (邮件系统) of the provider. Its faults and adjustments apply to every e-mail
    customer whose domains it hosts (E3)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("mail platform")
        verbose_name_plural = _("mail platforms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MailDomain(models.Model):
    """A customer's mail domain, hosted on a platform for one e-mail service: delivery-log lines
    and probe results are attributed to the service through it."""

    domain = models.CharField(_("domain"), max_length=253, unique=True)
    service = models.ForeignKey("customers.Service", on_delete=models.PROTECT, related_name="mail_domains",
                                verbose_name=_("service"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="mail_domains",
                                 verbose_name=_("customer"), editable=False)
    platform = models.ForeignKey(MailPlatform, on_delete=models.PROTECT, related_name="domains",
                                 verbose_name=_("platform"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("mail domain")
        verbose_name_plural = _("mail domains")
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    def clean(self) -> None:
        from customers.choices import ServiceKind

        self.domain = (self.domain or "").strip().lower().rstrip(".")
        if self.service_id and self.service.kind != ServiceKind.EMAIL:
            raise ValidationError({"service": _("Only an e-mail service has mail domains.")})

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.domain = (self.domain or "").strip().lower().rstrip(".")
        self.customer_id = self.service.customer_id
        super().save(*args, **kwargs)


class LatencyHourly(models.Model):
    """Mail latency of one domain, direction and source in one hour (UTC hour start; the
    Asia/Shanghai month boundaries fall on whole hours): count, sum, maximum and histogram. A
    message excluded by the agreement (delayed by another provider's system) only counts in
    `excluded`. Never one row per message: a provider runs thousands of domains."""

    domain = models.ForeignKey(MailDomain, on_delete=models.CASCADE, related_name="latency",
                               verbose_name=_("domain"))
    hour = models.DateTimeField(_("hour"))
    direction = models.CharField(_("direction"), max_length=8, choices=Direction.choices)
    source = models.CharField(_("source"), max_length=8, choices=LatencySource.choices)
    count = models.PositiveIntegerField(_("messages"), default=0)
    total_ms = models.BigIntegerField(_("total latency (ms)"), default=0)
    max_ms = models.BigIntegerField(_("maximum latency (ms)"), default=0)
    excluded = models.PositiveIntegerField(_("messages excluded"), default=0)
    le_1s = models.PositiveIntegerField(default=0)
    le_5s = models.PositiveIntegerField(default=0)
    le_10s = models.PositiveIntegerField(default=0)
    le_30s = models.PositiveIntegerField(default=0)
    le_1m = models.PositiveIntegerField(default=0)
    le_5m = models.PositiveIntegerField(default=0)
    le_15m = models.PositiveIntegerField(default=0)
    le_1h = models.PositiveIntegerField(default=0)
    gt_1h = models.PositiveIntegerField(_("messages over 1 hour"), default=0)

    class Meta:
        verbose_name = _("hourly mail latency")
        verbose_name_plural = _("hourly mail latency")
        ordering = ["-hour"]
        constraints = [models.UniqueConstraint(fields=["domain", "hour", "direction", "source"],
                                               name="latency_hour_unique")]
        indexes = [models.Index(fields=["hour"], name="latency_hour")]

    def __str__(self) -> str:
        return f"{self.domain_id} {self.hour:%Y-%m-%d %H}h {self.direction}/{self.source}"


class DeliveryLogSource(models.Model):
    """One delivery log being read (a mail host's Postfix log): how many lines were consumed and
    the in-flight messages (queue ID → sender) carried between batches, so that a replay of lines
    already read adds nothing twice and a message split across two batches is still attributed."""

    name = models.CharField(_("name"), max_length=200, unique=True,
                            help_text=_("For example mx1:/var/log/mail.log"))
    platform = models.ForeignKey(MailPlatform, on_delete=models.PROTECT, null=True, blank=True,
                                 related_name="log_sources", verbose_name=_("platform"))
    fingerprint = models.CharField(_("file fingerprint"), max_length=64, blank=True)
    next_line = models.BigIntegerField(_("lines consumed"), default=0)
    state = models.JSONField(_("messages in flight"), default=dict, blank=True)
    lines_total = models.BigIntegerField(_("lines read"), default=0)
    messages_total = models.BigIntegerField(_("messages measured"), default=0)
    updated_at = models.DateTimeField(_("last read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery log")
        verbose_name_plural = _("delivery logs")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PlatformEvent(models.Model):
    """A fault or an adjustment (maintenance) of a mail platform, entered by staff: E3's monthly
    fault and adjustment totals, the availability and the fault-free days of the year."""

    platform = models.ForeignKey(MailPlatform, on_delete=models.PROTECT, related_name="events",
                                 verbose_name=_("platform"))
    kind = models.CharField(_("kind"), max_length=12, choices=PlatformEventKind.choices)
    title = models.CharField(_("title"), max_length=200)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True,
                                    help_text=_("Empty while it lasts."))
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        verbose_name = _("platform fault or adjustment")
        verbose_name_plural = _("platform faults and adjustments")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["platform", "kind", "started_at"], name="platformevent_scan")]
        constraints = [models.CheckConstraint(
            condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gt=models.F("started_at")),
            name="platformevent_ends_after_start")]

    def __str__(self) -> str:
        return f"{self.platform} {self.get_kind_display()} {self.started_at:%Y-%m-%d %H:%M}"


class BillingErrorFigure(models.Model):
    """Seed 002 §3 billing error rate: the customers billed in a month and those billed wrongly,
    entered by billing staff (the rate must not exceed 3×10⁻⁵)."""

    month = models.DateField(_("month"), unique=True, help_text=_("First day of the month."))
    customers_billed = models.PositiveIntegerField(_("customers billed"))
    customers_with_error = models.PositiveIntegerField(_("customers with a billing error"))
    note = models.TextField(_("note"), blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                   blank=True, related_name="+", verbose_name=_("entered by"))
    entered_at = models.DateTimeField(_("entered at"))

    class Meta:
        verbose_name = _("monthly billing figures")
        verbose_name_plural = _("monthly billing figures")
        ordering = ["-month"]
        constraints = [models.CheckConstraint(
            condition=models.Q(customers_with_error__lte=models.F("customers_billed")),
            name="billing_errors_le_billed")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"
