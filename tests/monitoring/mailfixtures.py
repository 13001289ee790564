"""Constants and helpers of the mail-probe tests (their fixtures are in conftest.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from monitoring.models import Target
from monitoring.services import probe_due
from tests.mailservers import MailServers

TZ = ZoneInfo("Asia/Shanghai")
T = datetime(2026, 3, 10, 14, 0, tzinfo=TZ)
STEP = timedelta(minutes=5)
ADDRESS = "probe@alpha-mail.test"
PASSWORD = "Pr0be-s3cret-!x"


def mailbox_data(servers: MailServers, **over):  # type: ignore[no-untyped-def]
    data = {"address": ADDRESS, "password": PASSWORD,
            "smtp_host": "127.0.0.1", "smtp_port": servers.smtp_port, "smtp_security": "none",
            "imap_host": "127.0.0.1", "imap_port": servers.imap_port, "imap_security": "none",
            "pop3_host": "127.0.0.1", "pop3_port": servers.pop3_port, "pop3_security": "none",
            "interval_seconds": 300, "timeout_seconds": 5.0, "active": True}
    data.update(over)
    return data


def run(at, **filters):  # type: ignore[no-untyped-def]
    """Make the chosen targets due at `at` (others not) and run one probe cycle."""
    Target.objects.update(next_due_at=at + timedelta(days=1))
    Target.objects.filter(**filters).update(next_due_at=at)
    return probe_due(now=at)
