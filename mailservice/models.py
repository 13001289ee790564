"""E-mail measurement (seed 002 §1–§3): the provider's mail platforms and the customers' mail
domains on them, per-message latency kept only as hourly aggregates per domain, the delivery logs
being read, the platforms' faults and adjustments, and the billing figures entered each month."""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from slaportal.models import FastChoiceDisplay

from .choices import (
    AccountLockKind,
    BackupKind,
    BackupStatus,
    Direction,
    LatencySource,
    PlatformEventKind,
    ReportOrigin,
)

# Upper bounds (inclusive, milliseconds) of the latency histogram's buckets; the last bucket is
# everything over 1 hour, the count seed 002 §2 limits to two a month.
BUCKET_EDGES_MS = (1_000, 5_000, 10_000, 30_000, 60_000, 300_000, 900_000, 3_600_000)
BUCKET_FIELDS = ("le_1s", "le_5s", "le_10s", "le_30s", "le_1m", "le_5m", "le_15m", "le_1h", "gt_1h")
BUCKET_LABELS = (_("≤ 1 s"), _("≤ 5 s"), _("≤ 10 s"), _("≤ 30 s"), _("≤ 1 min"), _("≤ 5 min"),
                 _("≤ 15 min"), _("≤ 1 h"), _("> 1 h"))


class MailPlatform(FastChoiceDisplay, models.Model):
    """One mail system (邮件系统) of the provider. Its faults and adjustments apply to every e-mail
    customer whose domains it hosts (E3)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    # Seed 002 §5 and §7 are judged from these days on (Asia/Shanghai): set by the first report
    # (or by staff), so a platform is never judged for days before its backups or its scanner
    # were known to the portal.
    backup_checks_from = models.DateField(_("backups checked from"), null=True, blank=True)
    av_checks_from = models.DateField(_("virus signatures checked from"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("mail platform")
        verbose_name_plural = _("mail platforms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class MailDomain(FastChoiceDisplay, models.Model):
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


class LatencyHourly(FastChoiceDisplay, models.Model):
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


class DeliveryLogSource(FastChoiceDisplay, models.Model):
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


class PlatformEvent(FastChoiceDisplay, models.Model):
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


class BillingErrorFigure(FastChoiceDisplay, models.Model):
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


# --- Backups, virus signatures and locked accounts (seed 002 §5, §7) ----------------------------

def hash_reporter_token(raw: str) -> str:
    """Reporter tokens are random and long; a SHA-256 is enough and allows lookup by hash."""
    return hashlib.sha256(raw.encode()).hexdigest()


class ReporterToken(FastChoiceDisplay, models.Model):
    """A machine of one mail platform allowed to report its backup runs and virus-signature
    updates (the backup system's post-run hook, ClamAV freshclam's OnUpdateExecute). The token is
    stored hashed; the raw token is shown once when it is made (admin or the staff page)."""

    platform = models.ForeignKey(MailPlatform, on_delete=models.PROTECT, related_name="reporters",
                                 verbose_name=_("platform"))
    name = models.CharField(_("name"), max_length=120, help_text=_("For example backup01 restic."))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(_("token starts with"), max_length=8, editable=False)
    active = models.BooleanField(_("active"), default=True)
    last_used_at = models.DateTimeField(_("last report at"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("reporter token")
        verbose_name_plural = _("reporter tokens")
        ordering = ["platform__name", "name"]
        constraints = [models.UniqueConstraint(fields=["platform", "name"], name="reporter_name_unique")]

    def __str__(self) -> str:
        return f"{self.platform} · {self.name}"

    def set_token(self, raw: str) -> None:
        self.token_hash = hash_reporter_token(raw)
        self.token_prefix = raw[:8]


class BackupRun(FastChoiceDisplay, models.Model):
    """One backup run of a mail platform's data (seed 002 §7), as its backup system reported it or
    staff entered it. `run_id` is the backup system's own id (a restic snapshot id, a Borg
    archive name): the same run reported twice is one row."""

    platform = models.ForeignKey(MailPlatform, on_delete=models.PROTECT, related_name="backup_runs",
                                 verbose_name=_("platform"))
    run_id = models.CharField(_("run id"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=BackupKind.choices)
    status = models.CharField(_("status"), max_length=8, choices=BackupStatus.choices)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"))
    size_bytes = models.BigIntegerField(_("size (bytes)"), null=True, blank=True)
    kept_until = models.DateTimeField(_("kept until"),
                                      help_text=_("When the backup system will delete this backup."))
    oldest_kept_at = models.DateTimeField(_("oldest backup kept"), null=True, blank=True,
                                          help_text=_("The start of the oldest backup still kept after this run."))
    tool = models.CharField(_("backup tool"), max_length=40, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    origin = models.CharField(_("recorded by"), max_length=10, choices=ReportOrigin.choices)
    reporter = models.ForeignKey(ReporterToken, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("reporter"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("entered by"))
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("backup run")
        verbose_name_plural = _("backup runs")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "run_id"], name="backuprun_unique_run"),
            models.CheckConstraint(condition=models.Q(ended_at__gte=models.F("started_at")),
                                   name="backuprun_ends_after_start"),
        ]
        indexes = [models.Index(fields=["platform", "started_at"], name="backuprun_scan")]

    def __str__(self) -> str:
        return f"{self.platform} {self.run_id}"


class BackupDay(FastChoiceDisplay, models.Model):
    """The daily check of one platform on one Asia/Shanghai day (seed 002 §7): the facts
    (days since an ok backup, since an ok full backup, age of the oldest backup kept) and the
    verdicts against the policy rows. Recomputed whenever a report reaches the day, so it is
    idempotent; the month close reads the same computation (mailservice.backups)."""

    platform = models.ForeignKey(MailPlatform, on_delete=models.CASCADE, related_name="backup_days",
                                 verbose_name=_("platform"))
    day = models.DateField(_("day"))
    runs_ok = models.PositiveIntegerField(_("runs succeeded"), default=0)
    runs_failed = models.PositiveIntegerField(_("runs failed"), default=0)
    # 0: an ok backup (incremental or full) started that day; n: the last one n days before.
    days_since_backup = models.PositiveIntegerField(_("days since a backup"))
    days_since_full = models.PositiveIntegerField(_("days since a full backup"))
    # Whole days between the oldest backup still kept and the end of the day; None: none kept.
    oldest_kept_days = models.IntegerField(_("oldest backup kept (days)"), null=True, blank=True)
    # The retention is judged once the platform has been checked as long as it must keep backups.
    keep_judged = models.BooleanField(_("retention judged"), default=True)
    incremental_breached = models.BooleanField(_("daily backup missed"), default=False)
    full_breached = models.BooleanField(_("full backup overdue"), default=False)
    keep_breached = models.BooleanField(_("retention too short"), default=False)
    breached = models.BooleanField(_("breached"), default=False)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("daily backup check")
        verbose_name_plural = _("daily backup checks")
        ordering = ["-day", "platform_id"]
        constraints = [models.UniqueConstraint(fields=["platform", "day"], name="backupday_unique")]

    def __str__(self) -> str:
        return f"{self.platform_id} {self.day}"


class SignatureUpdate(FastChoiceDisplay, models.Model):
    """One virus-signature update of a platform's mail scanner (seed 002 §5: at least once a
    week), posted by the scanner's update hook or entered by staff. The same scanner version
    reported twice is one row."""

    platform = models.ForeignKey(MailPlatform, on_delete=models.PROTECT, related_name="signature_updates",
                                 verbose_name=_("platform"))
    scanner = models.CharField(_("scanner"), max_length=60)
    version = models.CharField(_("signature version"), max_length=120)
    updated_at = models.DateTimeField(_("updated at"))
    origin = models.CharField(_("recorded by"), max_length=10, choices=ReportOrigin.choices)
    reporter = models.ForeignKey(ReporterToken, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+", verbose_name=_("reporter"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("entered by"))
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        verbose_name = _("virus signature update")
        verbose_name_plural = _("virus signature updates")
        ordering = ["-updated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["platform", "scanner", "version"],
                                               name="sigupdate_unique_version")]
        indexes = [models.Index(fields=["platform", "updated_at"], name="sigupdate_scan")]

    def __str__(self) -> str:
        return f"{self.platform} {self.scanner} {self.version}"


class LockedAccount(FastChoiceDisplay, models.Model):
    """A mail account of an e-mail service that was locked or terminated (seed 002 §7): its data
    (mail and operation logs) must be kept 90 days (E6-LOCKED). A deletion is recorded only from
    `locked_at` + the retention; an earlier loss can only be recorded as such, and breaks the
    promise for that month."""

    service = models.ForeignKey("customers.Service", on_delete=models.PROTECT, related_name="locked_accounts",
                                verbose_name=_("service"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+",
                                 verbose_name=_("customer"), editable=False)
    address = models.CharField(_("account address"), max_length=254)
    kind = models.CharField(_("kind"), max_length=12, choices=AccountLockKind.choices)
    locked_at = models.DateTimeField(_("locked or terminated at"))
    reason = models.CharField(_("reason"), max_length=300)
    # The retention in force when it was recorded (the policy row with the contract's override),
    # so the date shown and the date enforced never drift apart.
    retention_days = models.PositiveIntegerField(_("data kept (days)"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                    blank=True, related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"))
    deleted_at = models.DateTimeField(_("data deleted at"), null=True, blank=True)
    deletion_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True,
                                             blank=True, related_name="+", verbose_name=_("deletion recorded by"))
    deletion_recorded_at = models.DateTimeField(_("deletion recorded at"), null=True, blank=True)
    deletion_note = models.CharField(_("deletion note"), max_length=300, blank=True)
    # True: the data was lost or deleted before the date (recorded by a manager, with the reason).
    early = models.BooleanField(_("deleted before the date"), default=False)

    class Meta:
        verbose_name = _("locked or terminated account")
        verbose_name_plural = _("locked or terminated accounts")
        ordering = ["locked_at", "id"]
        constraints = [models.UniqueConstraint(fields=["service", "address", "locked_at"],
                                               name="lockedaccount_unique")]
        indexes = [models.Index(fields=["deleted_at", "locked_at"], name="lockedaccount_open")]

    def __str__(self) -> str:
        return f"{self.address} {self.locked_at:%Y-%m-%d}"

    @property
    def deletable_from(self) -> Any:
        """The first instant the data may be deleted: locked_at + retention_days × 24 h exactly
        (a deletion at that instant has kept the data the full period; one second earlier has not)."""
        from datetime import timedelta

        return self.locked_at + timedelta(days=self.retention_days)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.address = (self.address or "").strip().lower()
        self.customer_id = self.service.customer_id
        super().save(*args, **kwargs)
