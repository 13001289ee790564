"""Delivery needs only the database: rows written while the broker is unreachable go out, a
sender that died mid-send loses nothing, and nothing is sent twice."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from notifications.choices import Status
from notifications.models import Notification
from notifications.services import (
    Message,
    notification_send,
    notifications_claim,
    notifications_deliver_due,
    notifications_enqueue,
    notifications_release_dead,
)


def _msg(key: str) -> Message:
    return Message(channel="email", address="ops@example.test", kind="test", subject="主题",
                   body="正文", idempotency_key=key)


@pytest.fixture(autouse=True)
def _locmem(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_enqueue_never_touches_the_broker(settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    t0 = timezone.now()
    with transaction.atomic():
        notifications_enqueue(messages=[_msg("k-1")])
    assert (timezone.now() - t0).total_seconds() < 1
    n = Notification.objects.get(idempotency_key="k-1")
    assert n.status == Status.PENDING and mail.outbox == []
    assert notifications_deliver_due(worker="host:1") == 1
    n.refresh_from_db()
    assert n.status == Status.SENT and n.attempts == 1 and n.lease_expires_at is None
    assert len(mail.outbox) == 1
    # Again, or a late Celery task for the same row: nothing is sent twice.
    assert notifications_deliver_due(worker="host:2") == 0
    assert notification_send(notification_id=n.pk) is None
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_lease_that_ran_out_is_taken_up_again_and_the_row_says_so(settings):
    settings.NOTIFICATION_LEASE_SECONDS = 30
    notifications_enqueue(messages=[_msg("k-2")])
    t0 = timezone.now()
    (nid,) = notifications_claim(worker="other-host:4242", now=t0)  # then that sender died
    # Leased: nobody else may take it while the lease runs.
    assert notifications_claim(worker="host:1", now=t0 + timedelta(seconds=29)) == []
    assert notifications_deliver_due(worker="host:1", now=t0 + timedelta(seconds=29)) == 0
    assert mail.outbox == []
    # The lease ran out: taken up again, sent once, and the row tells the story.
    assert notifications_deliver_due(worker="host:1", now=t0 + timedelta(seconds=30)) == 1
    n = Notification.objects.get(pk=nid)
    assert n.status == Status.SENT and n.attempts == 2
    assert "2" in n.detail and n.claimed_by == "host:1"
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_rows_leased_by_a_dead_process_of_this_host_are_freed_at_once():
    import socket
    import subprocess

    notifications_enqueue(messages=[_msg("k-3")])
    p = subprocess.Popen(["true"])
    p.wait()  # a pid that no longer exists
    (nid,) = notifications_claim(worker=f"{socket.gethostname()}:{p.pid}")
    assert notifications_release_dead() == 1
    assert notifications_deliver_due(worker="me:1") == 1
    assert Notification.objects.get(pk=nid).status == Status.SENT


@pytest.mark.django_db
def test_a_row_interrupted_too_often_ends_failed_saying_why(settings):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    notifications_enqueue(messages=[_msg("k-4")])
    t = timezone.now()
    for i in range(2):
        notifications_claim(worker=f"x:{i}", now=t + timedelta(minutes=i))
    (nid,) = notifications_claim(worker="x:9", now=t + timedelta(minutes=5))
    from notifications.services import notification_deliver

    n = notification_deliver(notification_id=nid, worker="x:9")
    assert n is not None and n.status == Status.FAILED and n.attempts == 3
    assert "2" in n.detail and mail.outbox == []
    assert Notification.objects.get(pk=nid).status == Status.FAILED


CALLS: list[str] = []


def _follow_up() -> None:
    CALLS.append("ran")


def _broken_follow_up() -> None:
    raise RuntimeError("boom")


@pytest.mark.django_db
def test_the_sender_runs_the_follow_ups_itself_and_survives_a_broken_one(settings):
    """The emergency notice moving on to its next channel must not wait for the broker either."""
    from django.core.management import call_command

    assert settings.SENDER_FOLLOW_UPS == ["incidents.services.notices_advance"]
    settings.SENDER_FOLLOW_UPS = [f"{__name__}._broken_follow_up", f"{__name__}._follow_up"]
    notifications_enqueue(messages=[_msg("k-5")])
    CALLS.clear()
    call_command("send_notifications", "--once")
    assert CALLS == ["ran"]
    assert Notification.objects.get(idempotency_key="k-5").status == Status.SENT
