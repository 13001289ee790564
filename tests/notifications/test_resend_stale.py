"""A send task lost to a broker outage does not lose the notification."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications import tasks
from notifications.choices import Status
from notifications.models import Notification
from notifications.services import Message, notifications_enqueue, notifications_resend_stale


def _msg(key: str) -> Message:
    return Message(channel="email", address="ops@example.test", kind="test", subject="主题",
                   body="正文", idempotency_key=key)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_broker_down_at_commit_keeps_the_change_and_the_row_is_sent_later(monkeypatch, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    def broker_down(*args, **kwargs):
        raise ConnectionRefusedError("broker unreachable")

    monkeypatch.setattr(tasks.send_batch, "delay", broker_down)
    with transaction.atomic():
        notifications_enqueue(messages=[_msg("k-1")])
    # The commit went through despite the broker: the row exists, still pending, nothing sent.
    n = Notification.objects.get(idempotency_key="k-1")
    assert n.status == Status.PENDING and mail.outbox == []

    # Too fresh to be called lost: its task may still be on its way.
    assert notifications_resend_stale(now=n.created_at + timedelta(seconds=10)) == []
    assert notifications_resend_stale(now=n.created_at + timedelta(seconds=61)) == [n.pk]
    assert Notification.objects.get(pk=n.pk).status == Status.SENT
    assert len(mail.outbox) == 1
    # Run again (or the original task arrives late): nothing is sent twice.
    assert notifications_resend_stale(now=timezone.now() + timedelta(hours=1)) == []
    from notifications.services import notification_send

    assert notification_send(notification_id=n.pk) is None
    assert len(mail.outbox) == 1
