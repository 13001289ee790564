from django.db import models
from django.utils.translation import gettext_lazy as _


class Direction(models.TextChoices):
    """Seed 002 §2: the sending delay (received from the customer's client → delivery to the
    destination starts) and the receiving delay (received from the source → in the mailbox)."""

    SEND = "send", _("sending delay")
    RECEIVE = "receive", _("receiving delay")


class LatencySource(models.TextChoices):
    """Where a latency sample came from: the mail platform's delivery log, or the mail loop probe."""

    LOG = "log", _("delivery log")
    PROBE = "probe", _("mail loop probe")


class PlatformEventKind(models.TextChoices):
    """Seed 002 §3: a fault (故障) counts against the monthly fault total, the availability and the
    fault-free days; an adjustment (调整, maintenance) against the monthly adjustment total."""

    FAULT = "fault", _("fault")
    ADJUSTMENT = "adjustment", _("adjustment (maintenance)")


class BackupKind(models.TextChoices):
    """Seed 002 §7: an incremental backup every day, a full backup every 3 days."""

    INCREMENTAL = "incremental", _("incremental backup")
    FULL = "full", _("full backup")


class BackupStatus(models.TextChoices):
    """How a backup run ended, as the backup system reported it."""

    OK = "ok", _("succeeded")
    FAILED = "failed", _("failed")


class ReportOrigin(models.TextChoices):
    """Who recorded a backup run or a signature update: the machine's reporter token, or staff."""

    REPORTER = "reporter", _("reported by the system")
    STAFF = "staff", _("entered by staff")


class AccountLockKind(models.TextChoices):
    """Seed 002 §7: an account locked, or terminated, whose data must then be kept 90 days."""

    LOCKED = "locked", _("locked")
    TERMINATED = "terminated", _("terminated")
