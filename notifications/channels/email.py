"""E-mail through Django's mail backend (real SMTP when EMAIL_HOST is configured). Delivered
means the SMTP server accepted the message."""

from __future__ import annotations

import smtplib
from email.mime.text import MIMEText
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage

from .base import ChannelBackend, DeliveryResult


class EmailBackend(ChannelBackend):
    def send(self, notification):  # type: ignore[no-untyped-def]
        if not notification.address:
            return DeliveryResult(False, "no e-mail address")
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
        try:
            sent = msg.send(fail_silently=False)
        except (smtplib.SMTPException, OSError) as e:
            return DeliveryResult(False, f"{type(e).__name__}: {e}")
        return DeliveryResult(bool(sent), "accepted by the mail server" if sent else "not accepted")
