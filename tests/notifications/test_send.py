"""Notifications: every attempt is a row written before sending; e-mail goes through a real SMTP
server, gateway channels through the webhook or logging backend; a retried send sends once."""

from __future__ import annotations

import logging
from datetime import datetime
from email.header import decode_header, make_header
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import override_settings

from notifications.choices import Status
from notifications.models import Notification
from notifications.services import Message, as_attachment, notification_send, notifications_enqueue
from tests import factories as f

from .servers import HttpServer, SmtpServer, free_port

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
SMTP = "django.core.mail.backends.smtp.EmailBackend"


def _message(**kw) -> Message:  # type: ignore[no-untyped-def]
    base = dict(channel="email", address="ops@customer.test", kind="test", subject="SLA 测试 subject",
                body="正文 body", idempotency_key="test:1:email")
    base.update(kw)
    return Message(**base)  # type: ignore[arg-type]


def _enqueue(msg: Message) -> Notification:
    [nid] = notifications_enqueue(messages=[msg], now=NOW)
    return Notification.objects.get(pk=nid)


def _subject(m) -> str:  # type: ignore[no-untyped-def]
    return str(make_header(decode_header(m["Subject"])))


@pytest.mark.django_db
def test_the_row_exists_pending_before_anything_is_sent():
    with SmtpServer() as smtp, override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="127.0.0.1",
                                                 EMAIL_PORT=smtp.port):
        n = _enqueue(_message())
        assert n.status == Status.PENDING and n.attempted_at is None and n.created_at == NOW
        assert smtp.sink.snapshot() == []
        notification_send(notification_id=n.pk)
    n.refresh_from_db()
    assert n.status == Status.SENT


@pytest.mark.django_db
def test_email_delivered_through_a_real_smtp_server():
    with SmtpServer() as smtp, override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="127.0.0.1",
                                                 EMAIL_PORT=smtp.port):
        n = _enqueue(_message())
        notification_send(notification_id=n.pk)
        got = smtp.sink.snapshot()
    n.refresh_from_db()
    assert n.status == Status.SENT
    assert n.detail == "已被邮件服务器接收 (accepted by the mail server)"
    assert n.attempted_at is not None and n.finished_at is not None
    assert len(got) == 1
    rcpts, m = got[0]
    assert rcpts == ["ops@customer.test"]
    assert _subject(m) == "SLA 测试 subject"
    assert m["X-SLA-Idempotency-Key"] == "test:1:email"


@pytest.mark.django_db
def test_email_server_down_is_a_failed_attempt_with_the_reason():
    with override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="127.0.0.1", EMAIL_PORT=free_port(),
                           NOTIFICATION_MAX_ATTEMPTS=1):  # no second try: the final outcome at once
        n = _enqueue(_message())
        notification_send(notification_id=n.pk)
    n.refresh_from_db()
    assert n.status == Status.FAILED
    assert "Connection refused" in n.detail or "ConnectionRefused" in n.detail
    assert n.finished_at is not None


@pytest.mark.django_db
def test_email_attachment_arrives(tmp_path):
    (tmp_path / "reports").mkdir()
    pdf = b"%PDF-1.7 fake report \xe6\x8a\xa5\xe5\x91\x8a"
    (tmp_path / "reports" / "r-0001.pdf").write_bytes(pdf)
    with SmtpServer() as smtp, override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="127.0.0.1",
                                                 EMAIL_PORT=smtp.port, MEDIA_ROOT=tmp_path):
        n = _enqueue(_message(attachments=[as_attachment(name="报告-0001.pdf", path="reports/r-0001.pdf",
                                                         mimetype="application/pdf")]))
        notification_send(notification_id=n.pk)
        [(_, m)] = smtp.sink.snapshot()
    parts = [p for p in m.walk() if p.get_content_disposition() == "attachment"]
    assert len(parts) == 1
    assert parts[0].get_filename() == "报告-0001.pdf"
    assert parts[0].get_content_type() == "application/pdf"
    assert parts[0].get_payload(decode=True) == pdf


@pytest.mark.django_db
def test_email_without_address_fails_without_trying():
    n = _enqueue(_message(address=""))
    notification_send(notification_id=n.pk)
    n.refresh_from_db()
    assert n.status == Status.FAILED and n.detail == "无电子邮件地址 (no e-mail address)"
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_retried_send_sends_once():
    n = _enqueue(_message())
    first = notification_send(notification_id=n.pk)
    second = notification_send(notification_id=n.pk)
    assert first is not None and first.status == Status.SENT
    assert second is None
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_enqueue_twice_with_the_same_key_writes_one_row():
    a = notifications_enqueue(messages=[_message()], now=NOW)
    b = notifications_enqueue(messages=[_message(), _message()], now=NOW)
    assert len(a) == 1 and b == []
    assert Notification.objects.count() == 1


WEBHOOK = "notifications.channels.webhook.WebhookBackend"


@pytest.mark.django_db
def test_webhook_gateway_gets_json_and_idempotency_key():
    user = f.UserFactory()
    with HttpServer(status=200) as http, override_settings(
            NOTIFICATION_BACKENDS={"sms": WEBHOOK}, NOTIFICATION_WEBHOOK_URL=http.url,
            NOTIFICATION_WEBHOOK_TOKEN="tok-123"):
        n = _enqueue(_message(channel="sms", address="13800000000", idempotency_key="k:sms:1",
                              recipient_id=user.pk))
        notification_send(notification_id=n.pk)
    n.refresh_from_db()
    assert n.status == Status.SENT and n.detail == "HTTP 200"
    [req] = http.capture.requests
    assert req["path"] == "/notify"
    assert req["headers"]["Idempotency-Key"] == "k:sms:1"
    assert req["headers"]["Content-Type"] == "application/json"
    assert req["headers"]["Authorization"] == "Bearer tok-123"
    assert req["json"] == {"channel": "sms", "to": "13800000000", "subject": "SLA 测试 subject",
                           "body": "正文 body", "idempotency_key": "k:sms:1"}


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "retried"), [(500, True), (400, False)])
def test_webhook_gateway_error_is_a_failed_attempt(status, retried):
    """A 5xx is the gateway struggling: tried again later; a 4xx is a final refusal."""
    with HttpServer(status=status) as http, override_settings(
            NOTIFICATION_BACKENDS={"pager": WEBHOOK}, NOTIFICATION_WEBHOOK_URL=http.url):
        n = _enqueue(_message(channel="pager", address="95000-123", idempotency_key="k:pager:1"))
        notification_send(notification_id=n.pk)
    n.refresh_from_db()
    if retried:
        assert n.status == Status.SENDING and n.detail.endswith(f"HTTP {status}") and n.claimed_by == ""
    else:
        assert n.status == Status.FAILED and n.detail == f"HTTP {status}"
    assert len(http.capture.requests) == 1


@pytest.mark.django_db
def test_webhook_gateway_unreachable_is_tried_again_then_failed():
    from datetime import timedelta

    from django.utils import timezone

    with override_settings(NOTIFICATION_BACKENDS={"fax": WEBHOOK}, NOTIFICATION_RETRY_SECONDS=10,
                           NOTIFICATION_WEBHOOK_URL=f"http://127.0.0.1:{free_port()}/x"):
        n = _enqueue(_message(channel="fax", address="010-1234", idempotency_key="k:fax:1"))
        notification_send(notification_id=n.pk)
        n.refresh_from_db()
        assert n.status == Status.SENDING and n.attempts == 1 and "unreachable" in n.detail
        assert n.claimed_by == "" and 9 < (n.lease_expires_at - timezone.now()).total_seconds() <= 10
        # Not before the back-off has passed.
        assert notification_send(notification_id=n.pk, now=timezone.now() + timedelta(seconds=5)) is None
        notification_send(notification_id=n.pk, now=timezone.now() + timedelta(seconds=11))
        n.refresh_from_db()
        assert n.status == Status.SENDING and n.attempts == 2  # next try in 30 s
        notification_send(notification_id=n.pk, now=timezone.now() + timedelta(seconds=60))
    n.refresh_from_db()
    assert n.status == Status.FAILED and n.attempts == 3 and "unreachable" in n.detail
    assert "3" in n.detail and "interrupted" not in n.detail and "中断" not in n.detail


@pytest.mark.django_db
def test_mail_server_down_is_temporary_and_a_550_is_final():
    class Refuse:
        async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
            return "550 5.1.1 No such mailbox"

    with override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="127.0.0.1", EMAIL_PORT=free_port()):
        n = _enqueue(_message(idempotency_key="k:down"))
        notification_send(notification_id=n.pk)
    n.refresh_from_db()
    assert n.status == Status.SENDING and "ConnectionRefusedError" in n.detail

    from aiosmtpd.controller import Controller

    port = free_port()
    ctl = Controller(Refuse(), hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        with override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="127.0.0.1", EMAIL_PORT=port):
            m = _enqueue(_message(idempotency_key="k:550"))
            notification_send(notification_id=m.pk)
    finally:
        ctl.stop()
    m.refresh_from_db()
    assert m.status == Status.FAILED and "550" in m.detail and m.attempts == 1


@pytest.mark.django_db
@pytest.mark.parametrize("channel", ["sms", "phone", "pager", "fax"])
def test_a_channel_without_a_gateway_is_not_delivered_and_says_so(channel, settings):
    """Nobody configured an SMS gateway: the notice was not given, and the row must not say it was."""
    settings.NOTIFICATION_BACKENDS = {"sms": "", "phone": "", "pager": "", "fax": ""}
    n = _enqueue(_message(channel=channel, address="13800000000", idempotency_key=f"k:{channel}"))
    notification_send(notification_id=n.pk)
    n.refresh_from_db()
    assert n.status == Status.FAILED
    assert n.detail.startswith("未送达：未配置发送网关") and "no gateway configured" in n.detail


@pytest.mark.django_db
def test_the_logging_gateway_logs_but_counts_as_not_delivered(caplog):
    caplog.set_level(logging.INFO, logger="notifications.gateway")
    with override_settings(NOTIFICATION_BACKENDS={"sms": "notifications.channels.logging.LoggingBackend"}):
        n = _enqueue(_message(channel="sms", address="13800000000", idempotency_key="k:log"))
        notification_send(notification_id=n.pk)
    n.refresh_from_db()
    assert n.status == Status.FAILED and "no gateway configured" in n.detail
    assert "channel=sms address=13800000000" in caplog.text and "key=k:log" in caplog.text


@pytest.mark.django_db
@pytest.mark.parametrize("backend", ["console", "dummy"])
def test_console_or_dummy_mail_is_not_delivery(backend, capsys):
    with override_settings(EMAIL_BACKEND=f"django.core.mail.backends.{backend}.EmailBackend"):
        n = _enqueue(_message(idempotency_key=f"k:{backend}"))
        notification_send(notification_id=n.pk)
    n.refresh_from_db()
    assert n.status == Status.FAILED and "no gateway configured" in n.detail
    assert capsys.readouterr().out == ""  # and nothing (no base64 PDF) is printed


@pytest.mark.django_db
def test_system_check_warns_about_non_delivering_backends_with_debug_off(settings):
    from runtime.checks import notification_channels_without_gateway, notification_gateways

    settings.DEBUG = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    settings.NOTIFICATION_BACKENDS = {"sms": "notifications.channels.logging.LoggingBackend",
                                      "phone": WEBHOOK, "pager": "", "fax": ""}
    ids = {m.id for m in notification_gateways() + notification_channels_without_gateway()}
    assert ids == {"notifications.W001", "notifications.W002", "notifications.I001"}
    settings.EMAIL_BACKEND = SMTP
    settings.NOTIFICATION_BACKENDS = {"sms": WEBHOOK, "phone": WEBHOOK, "pager": WEBHOOK, "fax": WEBHOOK}
    assert notification_gateways() == notification_channels_without_gateway() == []
    settings.DEBUG = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    assert notification_gateways() == []
