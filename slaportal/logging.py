"""Log lines: one format and one clock in every process (gunicorn and the app in it, the Celery
worker and beat, management commands).

    time=2026-03-02T10:00:00.123+08:00 level=WARNING logger=django.request msg=Forbidden: /sla/

- The time is ISO-8601 with its offset, always in the project's zone (Asia/Shanghai, TIME_ZONE),
  whatever the machine's TZ is, so lines from different processes sort and compare.
- A record is one line: line breaks inside the message are escaped (`\\n`), so a value someone
  typed cannot forge a log line. Only a server error's traceback spans lines.
- A 4xx is one line: Django attaches the exception (and so a traceback) to "Forbidden
  (Permission denied)" and "Bad request" records; `ClientErrorsOneLine` drops it.
- Secrets in URLs (`?token=`, `password=`, `secret=`) are masked, e.g. in gunicorn's access
  line for the alert webhook.
- Bodies are never logged: `SummaryEmailBackend` (for development, instead of Django's console
  backend) logs one line per e-mail with its addressees, subject and attachment names and sizes.

This module must stay importable without Django set up: gunicorn's config file uses it.
"""

from __future__ import annotations

import logging
import logging.config
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.core.mail.backends.base import BaseEmailBackend

# The project's TIME_ZONE (settings.py); a test checks the two agree.
DEFAULT_TIME_ZONE = "Asia/Shanghai"
LINE_FORMAT = "time=%(asctime)s level=%(levelname)s logger=%(name)s msg=%(message)s"
# gunicorn's access line: no %(t)s (gunicorn's own clock format); the line's time is asctime.
ACCESS_LOG_FORMAT = 'remote=%(h)s request="%(r)s" status=%(s)s bytes=%(B)s duration_ms=%(M)s agent="%(a)s"'

_SECRET_PARAM = re.compile(r"(?i)\b(token|password|passwd|secret|signature)=([^&\s\"']+)")


class IsoTimeFormatter(logging.Formatter):
    """LINE_FORMAT with `asctime` as ISO-8601 with offset in one zone, and one line per record."""

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, style: Any = "%",
                 validate: bool = True, *, tz: str = DEFAULT_TIME_ZONE, **kwargs: Any) -> None:
        super().__init__(fmt or LINE_FORMAT, datefmt, style, validate, **kwargs)
        self.tz = ZoneInfo(tz)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        return datetime.fromtimestamp(record.created, self.tz).isoformat(timespec="milliseconds")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802
        record.message = record.message.replace("\r", "\\r").replace("\n", "\\n")
        return super().formatMessage(record)


class ClientErrorsOneLine(logging.Filter):
    """A record about a response with a 4xx status carries no traceback: a refused request is
    not a fault of the server. (Django logs PermissionDenied and SuspiciousOperation with the
    exception attached; 5xx keep theirs.)"""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True


def redact(text: str) -> str:
    return _SECRET_PARAM.sub(lambda m: f"{m.group(1)}=***", text)


class RedactSecrets(logging.Filter):
    """Masks `token=…`, `password=…`, `secret=…` (and the like) in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the formatter to report
            return True
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def logging_config(*, level: str = "INFO", time_zone: str = DEFAULT_TIME_ZONE,
                   quiet: Sequence[str] = ("django.db.backends", "weasyprint", "fontTools", "mail.log"),
                   ) -> dict[str, Any]:
    """The dictConfig of every process: settings.LOGGING, gunicorn's logconfig_dict and the
    Celery worker and beat (through setup_logging below) all use it."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "client_errors_one_line": {"()": "slaportal.logging.ClientErrorsOneLine"},
            "redact_secrets": {"()": "slaportal.logging.RedactSecrets"},
        },
        "formatters": {
            "kv": {"()": "slaportal.logging.IsoTimeFormatter", "tz": time_zone},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "kv",
                "filters": ["client_errors_one_line", "redact_secrets"],
                "stream": "ext://sys.stderr",
            },
            # gunicorn writes its access lines to stdout; the same format and clock.
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "kv",
                "filters": ["redact_secrets"],
                "stream": "ext://sys.stdout",
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # WeasyPrint logs every layout step at INFO and fontTools every subset; the SQL of
            # every query is DEBUG; aiosmtpd (the mail catcher, "mail.log") every SMTP command at
            # INFO and, at DEBUG, every line of every message it receives.
            **{name: {"level": "WARNING"} for name in quiet},
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }


def setup_celery_logging(**kwargs: Any) -> None:
    """Receiver of Celery's `setup_logging` signal (connected in slaportal/celery.py): with a
    receiver Celery configures no logging of its own (its formats carry the machine's local time
    without an offset), and the worker and beat log through settings.LOGGING like the web."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)


class SummaryEmailBackend(BaseEmailBackend):
    """A development e-mail backend (the default when no EMAIL_HOST is set): one log line per
    message, with sender, addressees, subject and each attachment's name, type and size, never
    a body or an attachment's content (Django's console backend prints both, base64 and all,
    into the worker's log)."""

    logger = logging.getLogger("slaportal.mail")

    @staticmethod
    def _attachments(message: Any) -> str:
        out = []
        for att in getattr(message, "attachments", []) or []:
            if isinstance(att, tuple):
                name, content, mime = (list(att) + [None, None, None])[:3]
            else:  # a MIMEBase part
                name = att.get_filename()
                content = att.get_payload(decode=True)
                mime = att.get_content_type()
            size = len(content) if isinstance(content, (bytes, str)) else 0
            out.append(f"{name or '-'}({mime or '-'},{size}B)")
        return ",".join(out) or "-"

    def send_messages(self, email_messages: Sequence[Any]) -> int:
        for m in email_messages:
            self.logger.info("logged, not delivered (development backend) from=%s to=%s cc=%s subject=%r "
                             "body_chars=%d attachments=%s",
                             m.from_email, ",".join(m.to or []), ",".join(m.cc or []), m.subject,
                             len(m.body or ""), self._attachments(m))
        return len(email_messages)
