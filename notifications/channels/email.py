"""E-mail through Django's mail backend (real SMTP when EMAIL_HOST is configured). Delivered
means the SMTP server accepted the message."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.mime.text import MIMEText
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from .base import NOT_DELIVERED_NO_GATEWAY, ChannelBackend, DeliveryResult

# Stored on the row, Chinese first (what staff read), the English after it (the logs, the API).
ACCEPTED = "已被邮件服务器接收 (accepted by the mail server)"
NOT_ACCEPTED = "邮件服务器未接收 (not accepted)"
NO_ADDRESS = "无电子邮件地址 (no e-mail address)"

# Django mail backends that hand the message to nobody: printing it, writing it to a file or
# dropping it is not delivery.
NON_DELIVERING_MAIL_BACKENDS = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


def mail_backend_delivers() -> bool:
    return settings.EMAIL_BACKEND not in NON_DELIVERING_MAIL_BACKENDS


_session = threading.local()


@contextmanager
def email_session() -> Iterator[None]:
    """Within it, this thread's e-mails share one connection to the mail server (opened at the
    first message, reopened after an error, closed at the end) instead of one per message."""
    if getattr(_session, "connection", None) is not None:
        yield
        return
    _session.connection = get_connection(fail_silently=False)
    try:
        yield
    finally:
        conn, _session.connection = _session.connection, None
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - closing a broken connection
            pass


def _connection() -> Any:
    conn = getattr(_session, "connection", None)
    if conn is not None:
        conn.open()  # no-op when already open
    return conn


class EmailBackend(ChannelBackend):
    @property
    def delivers(self) -> bool:  # type: ignore[override]
        return mail_backend_delivers()

    def send(self, notification):  # type: ignore[no-untyped-def]
        if not notification.address:
            return DeliveryResult(False, NO_ADDRESS)
        if not mail_backend_delivers():
            return DeliveryResult(False, NOT_DELIVERED_NO_GATEWAY)
        msg = EmailMessage(subject=notification.subject, body=notification.body,
                           from_email=settings.DEFAULT_FROM_EMAIL, to=[notification.address],
                           headers={"X-SLA-Idempotency-Key": notification.idempotency_key})
        for att in notification.attachments or []:
            path = Path(settings.MEDIA_ROOT) / att["path"]
            if att.get("ical_method"):
                # A calendar invitation: text/calendar with its iTIP method, which calendar
                # programs need to offer accept / update / cancel.
                part = MIMEText(path.read_bytes().decode("utf-8"), "calendar", "utf-8")
                part.set_param("method", att["ical_method"])
                part.add_header("Content-Disposition", "attachment", filename=att["name"])
                msg.attach(part)
                continue
            msg.attach(att["name"], path.read_bytes(), att.get("mimetype", "application/octet-stream"))
        conn = None
        try:
            conn = _connection()
            msg.connection = conn
            try:
                sent = msg.send(fail_silently=False)
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                if conn is None:
                    raise
                # The shared connection went stale (the server closed it): once more, afresh.
                conn.close()
                conn.open()
                sent = msg.send(fail_silently=False)
        except (smtplib.SMTPException, OSError) as e:
            if conn is not None:  # start afresh with the next message
                try:
                    conn.close()
                except Exception:  # noqa: BLE001
                    pass
            return DeliveryResult(False, f"{type(e).__name__}: {e}", retry=_transient(e))
        return DeliveryResult(bool(sent), ACCEPTED if sent else NOT_ACCEPTED)


def _transient(e: BaseException) -> bool:
    """Worth trying again later: the server could not be reached or said 4xx ("try again").
    A 5xx refusal (unknown mailbox, message rejected) is final."""
    if isinstance(e, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _msg in e.recipients.values())
    if isinstance(e, smtplib.SMTPResponseException):
        return 400 <= e.smtp_code < 500
    return isinstance(e, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | OSError)
