"""Monitored targets (one check of one customer service), their state changes and a daily rollup
of probe results. Raw results are not kept: a year of 10,000 targets probed every 5 minutes
would be a billion rows, and the state changes plus the outages carry everything the SLA needs."""

from __future__ import annotations

import zlib
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from slaportal.models import FastChoiceDisplay

from .choices import MAIL_KINDS, CheckKind, MailSecurity, ProbeMethod, TargetState

DEFAULT_INTERVAL = 300


class Mailbox(FastChoiceDisplay, models.Model):
    """A probe mailbox on a customer's e-mail service (E1 mailbox connectivity, seed 002 §1): its
    credentials and the servers a client of that mailbox uses. Saving it (monitoring.services.
    mailbox_save) keeps one Target per configured check: SMTP submission, IMAP and POP3 login,
    the webmail page and the mail loop (submission → the mailbox itself → fetched back by IMAP).
    The password is sealed (monitoring.sealing) and never shown again after saving."""

    service = models.ForeignKey("customers.Service", on_delete=models.PROTECT, related_name="probe_mailboxes",
                                verbose_name=_("service"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="probe_mailboxes", verbose_name=_("customer"), editable=False)
    address = models.EmailField(_("mailbox address"), max_length=254)
    username = models.CharField(_("login name"), max_length=254, blank=True,
                                help_text=_("Empty: the mailbox address."))
    password_sealed = models.TextField(editable=False, blank=True)
    smtp_host = models.CharField(_("SMTP submission host"), max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(
        _("SMTP submission port"), default=587, validators=[MinValueValidator(1), MaxValueValidator(65535)])
    smtp_security = models.CharField(_("SMTP encryption"), max_length=8, choices=MailSecurity.choices,
                                     default=MailSecurity.STARTTLS)
    imap_host = models.CharField(_("IMAP host"), max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(
        _("IMAP port"), default=993, validators=[MinValueValidator(1), MaxValueValidator(65535)])
    imap_security = models.CharField(_("IMAP encryption"), max_length=8, choices=MailSecurity.choices,
                                     default=MailSecurity.TLS)
    pop3_host = models.CharField(_("POP3 host"), max_length=255, blank=True,
                                 help_text=_("Empty: POP3 is not checked."))
    pop3_port = models.PositiveIntegerField(
        _("POP3 port"), default=995, validators=[MinValueValidator(1), MaxValueValidator(65535)])
    pop3_security = models.CharField(_("POP3 encryption"), max_length=8, choices=MailSecurity.choices,
                                     default=MailSecurity.TLS)
    webmail_url = models.URLField(_("webmail URL"), max_length=500, blank=True,
                                  help_text=_("Empty: the webmail page is not checked."))
    webmail_expected_status = models.PositiveSmallIntegerField(
        _("expected webmail HTTP status"), default=200,
        validators=[MinValueValidator(100), MaxValueValidator(599)])
    interval_seconds = models.PositiveIntegerField(
        _("probe interval (s)"), default=DEFAULT_INTERVAL,
        validators=[MinValueValidator(30), MaxValueValidator(86400)])
    # At most 60 s: the engine's claim lease is 90 s, and the promise itself is "within 1 minute".
    timeout_seconds = models.FloatField(
        _("probe timeout (s)"), default=60.0, validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("The mail loop fails when its message is not in the mailbox within this time."))
    active = models.BooleanField(_("active"), default=True)
    # Engine state of the mail loop (written by probe_results_record only): the send time (ms) of
    # the last loop message measured on time, and the tokens of messages sent whose loop timed
    # out, so a message found late is measured once and only once.
    loop_state = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("probe mailbox")
        verbose_name_plural = _("probe mailboxes")
        ordering = ["customer__name", "address", "id"]
        constraints = [models.UniqueConstraint(fields=["service", "address"], name="mailbox_service_address")]

    def __str__(self) -> str:
        return self.address

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.customer_id = self.service.customer_id
        super().save(*args, **kwargs)

    @property
    def login(self) -> str:
        return self.username or self.address

    @property
    def password_set(self) -> bool:
        return bool(self.password_sealed)

    def clean(self) -> None:
        from customers.choices import ServiceKind

        errors: dict[str, Any] = {}
        if self.service_id and self.service.kind != ServiceKind.EMAIL:
            errors["service"] = _("Probe mailboxes belong to an e-mail service.")
        if not (self.smtp_host or self.imap_host or self.pop3_host or self.webmail_url):
            errors["smtp_host"] = _("Configure at least one of SMTP, IMAP, POP3 or webmail.")
        if self.webmail_url and not self.webmail_url.lower().startswith(("http://", "https://")):
            errors["webmail_url"] = _("Only http:// and https:// URLs can be checked.")
        if errors:
            raise ValidationError(errors)

    def wanted_checks(self) -> dict[str, dict[str, Any]]:
        """The checks this mailbox's configuration asks for, with the target fields of each."""
        base = {"interval_seconds": self.interval_seconds, "timeout_seconds": self.timeout_seconds}
        checks: dict[str, dict[str, Any]] = {}
        if self.smtp_host:
            checks[CheckKind.SUBMISSION] = {**base, "host": self.smtp_host, "port": self.smtp_port, "url": ""}
        if self.imap_host:
            checks[CheckKind.IMAP] = {**base, "host": self.imap_host, "port": self.imap_port, "url": ""}
        if self.pop3_host:
            checks[CheckKind.POP3] = {**base, "host": self.pop3_host, "port": self.pop3_port, "url": ""}
        if self.webmail_url:
            checks[CheckKind.WEBMAIL] = {**base, "host": "", "port": None, "url": self.webmail_url,
                                         "expected_status": self.webmail_expected_status}
        if self.smtp_host and self.imap_host:
            checks[CheckKind.MAIL_LOOP] = {**base, "host": self.imap_host, "port": self.imap_port, "url": ""}
        return checks


class Target(FastChoiceDisplay, models.Model):
    """One check of one customer service: the device address (ICMP, TCP fallback), or its www,
    SMTP or FTP application. Probed every `interval_seconds`, at a stable per-target phase so
    10,000 targets do not all fire in the same second."""

    service = models.ForeignKey("customers.Service", on_delete=models.PROTECT, related_name="targets",
                                verbose_name=_("service"))
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT,
                                 related_name="targets", verbose_name=_("customer"), editable=False)
    kind = models.CharField(_("check"), max_length=10, choices=CheckKind.choices)
    # Mail checks (E1) are run with this probe mailbox's credentials; other kinds have none.
    mailbox = models.ForeignKey(Mailbox, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="targets", verbose_name=_("probe mailbox"), editable=False)
    name = models.CharField(_("name"), max_length=120, blank=True)
    host = models.CharField(_("host or address"), max_length=255, blank=True)
    port = models.PositiveIntegerField(
        _("port"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(65535)],
        help_text=_("Device: the TCP port used when ICMP is not permitted. SMTP/FTP: the banner port."))
    url = models.URLField(_("URL"), max_length=500, blank=True)
    expected_status = models.PositiveSmallIntegerField(
        _("expected HTTP status"), default=200, validators=[MinValueValidator(100), MaxValueValidator(599)])
    interval_seconds = models.PositiveIntegerField(
        _("probe interval (s)"), default=DEFAULT_INTERVAL,
        validators=[MinValueValidator(10), MaxValueValidator(86400)])
    timeout_seconds = models.FloatField(_("probe timeout (s)"), default=10.0,
                                        validators=[MinValueValidator(0.1), MaxValueValidator(60)])
    active = models.BooleanField(_("active"), default=True)
    # Engine state: written by the probe loop only.
    state = models.CharField(_("state"), max_length=10, choices=TargetState.choices,
                             default=TargetState.UNKNOWN, editable=False)
    next_due_at = models.DateTimeField(_("next probe at"), null=True, blank=True, editable=False)
    last_probe_at = models.DateTimeField(_("last probe at"), null=True, blank=True, editable=False)
    last_ok_at = models.DateTimeField(_("last success at"), null=True, blank=True, editable=False)
    last_method = models.CharField(_("check used"), max_length=8, choices=ProbeMethod.choices,
                                   blank=True, editable=False)
    last_detail = models.CharField(_("last result"), max_length=300, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    first_failure_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("monitored target")
        verbose_name_plural = _("monitored targets")
        ordering = ["customer__name", "service__name", "kind", "id"]
        indexes = [models.Index(fields=["active", "next_due_at"], name="target_due")]

    def __str__(self) -> str:
        return self.name or f"{self.get_kind_display()} {self.host or self.url}"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.customer_id = self.service.customer_id
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        if self.kind in MAIL_KINDS and self.mailbox_id is None:
            errors["kind"] = _("Mail checks are set up on a probe mailbox.")
        if self.kind in (CheckKind.WWW, CheckKind.WEBMAIL):
            if not self.url:
                errors["url"] = _("A www check needs a URL.")
            elif not self.url.lower().startswith(("http://", "https://")):
                errors["url"] = _("Only http:// and https:// URLs can be checked.")
        elif not self.host:
            errors["host"] = _("This check needs a host.")
        if self.kind in (CheckKind.SMTP, CheckKind.FTP, CheckKind.DEVICE, CheckKind.SUBMISSION, CheckKind.IMAP,
                         CheckKind.POP3, CheckKind.MAIL_LOOP) and not self.port:
            # A device needs the fallback port because ICMP may not be permitted to this process.
            errors["port"] = _("This check needs a port.")
        if errors:
            raise ValidationError(errors)

    @property
    def phase_seconds(self) -> int:
        """A stable offset inside the interval, derived from the id (same after a restart)."""
        return zlib.crc32(f"target:{self.pk}".encode()) % max(1, self.interval_seconds)


class StateChange(FastChoiceDisplay, models.Model):
    """A target moved between unknown / up / failing / down; the check used and the detail of
    the probe that moved it. This, with the outages, is the probe history kept for a year."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="state_changes")
    at = models.DateTimeField(_("at"))
    from_state = models.CharField(_("from"), max_length=10, choices=TargetState.choices)
    to_state = models.CharField(_("to"), max_length=10, choices=TargetState.choices)
    method = models.CharField(_("check used"), max_length=8, choices=ProbeMethod.choices)
    detail = models.CharField(_("detail"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("state change")
        verbose_name_plural = _("state changes")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target", "-at"], name="statechange_target_at")]

    def __str__(self) -> str:
        return f"{self.target_id} {self.from_state}→{self.to_state} @ {self.at:%Y-%m-%d %H:%M:%S}"


class ProbeDaily(FastChoiceDisplay, models.Model):
    """Counts of probe results per target and local (Asia/Shanghai) day."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="daily")
    day = models.DateField(_("day"))
    ok_count = models.PositiveIntegerField(_("successful probes"), default=0)
    fail_count = models.PositiveIntegerField(_("failed probes"), default=0)
    total_ms = models.BigIntegerField(_("total latency (ms)"), default=0)
    # Latency of the successful probes only: the average page open time of a webmail target
    # (E3) and the average round trip of a mail loop are ok_total_ms / ok_count.
    ok_total_ms = models.BigIntegerField(_("total latency of successful probes (ms)"), default=0)

    class Meta:
        verbose_name = _("daily probe counts")
        verbose_name_plural = _("daily probe counts")
        ordering = ["-day"]
        constraints = [models.UniqueConstraint(fields=["target", "day"], name="probedaily_target_day")]


# The hourly rollup feeds the 24-hour / 7-day charts of a target's page only; the SLA figures read
# the outages and ProbeDaily. Rows older than this are dropped by the probe loop's rollup.
HOURLY_KEEP_DAYS = 8


class ProbeHourly(FastChoiceDisplay, models.Model):
    """Counts and latency of probe results per target and clock hour (kept HOURLY_KEEP_DAYS days):
    the response-time line and the hourly uptime strip of the target page."""

    target = models.ForeignKey(Target, on_delete=models.CASCADE, related_name="hourly")
    hour = models.DateTimeField(_("hour"))
    ok_count = models.PositiveIntegerField(_("successful probes"), default=0)
    fail_count = models.PositiveIntegerField(_("failed probes"), default=0)
    ok_total_ms = models.BigIntegerField(_("total latency of successful probes (ms)"), default=0)
    ok_max_ms = models.PositiveIntegerField(_("slowest successful probe (ms)"), default=0)

    class Meta:
        verbose_name = _("hourly probe counts")
        verbose_name_plural = _("hourly probe counts")
        ordering = ["-hour"]
        constraints = [models.UniqueConstraint(fields=["target", "hour"], name="probehourly_target_hour")]
        indexes = [models.Index(fields=["hour"], name="probehourly_hour")]
