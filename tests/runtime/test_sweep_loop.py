"""The sweep loop's iteration and its wake-up: it sleeps until the next deadline, acts only when
something is due, records a breach before writing its escalations, and a sweep that died between
the two leaves the escalations to the next one, written once."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from notifications.models import Notification
from runtime.loops import CLOCKS, Waker, wake
from sla.choices import ClockState
from sla.management.commands.run_sweep import sweep_iteration
from sla.models import Clock
from sla.services import clock_start, clocks_escalate_pending
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
DUE = T0 + timedelta(hours=24)  # C8


@pytest.fixture
def clock(db):
    f.StaffFactory(role="manager", username="mia")
    contract = f.ContractFactory()
    return clock_start(subject=contract, policy_code="C8", contract=contract,
                       assignee=f.StaffFactory(role="specialist", username="sam"), now=T0)


def test_iteration_says_when_the_next_event_is_and_writes_nothing_before(clock, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):  # two look-ups of the next event, two of pending escalations
        it = sweep_iteration(now=T0 + timedelta(hours=1))
    assert not it.swept and it.next_at == clock.warn_at
    assert Clock.objects.get(pk=clock.pk).warned_at is None


def test_breach_at_the_deadline_exactly_and_one_escalation_per_recipient(clock):
    it = sweep_iteration(now=DUE - timedelta(microseconds=1))
    assert it.swept and it.result.warned == [clock.pk] and it.result.breached == []
    assert it.next_at == DUE
    it = sweep_iteration(now=DUE)
    assert it.result.breached == [clock.pk] and it.next_at is None
    c = Clock.objects.get(pk=clock.pk)
    assert c.state == ClockState.BREACHED and c.breached_at == DUE and c.breach_escalated_at == DUE
    assert Notification.objects.filter(kind="clock_breach").count() == 2
    assert not sweep_iteration(now=DUE + timedelta(minutes=1)).swept


def test_a_sweep_that_died_after_recording_the_breach_leaves_the_escalation_to_the_next(clock, monkeypatch):
    import sla.services

    def crash(**kwargs):  # the process dies between the two steps
        raise RuntimeError("killed")

    real = sla.services.clocks_escalate
    monkeypatch.setattr(sla.services, "clocks_escalate", crash)
    with pytest.raises(RuntimeError):
        sweep_iteration(now=DUE)
    c = Clock.objects.get(pk=clock.pk)
    assert c.state == ClockState.BREACHED and c.breach_escalated_at is None  # recorded, committed
    assert not Notification.objects.exists()
    assert clocks_escalate_pending()
    monkeypatch.setattr(sla.services, "clocks_escalate", real)
    it = sweep_iteration(now=DUE + timedelta(seconds=1))  # nothing due, but escalations pending
    # Straight to breached (its warning time passed unseen): the breach escalation only, × 2 recipients.
    assert it.swept and it.result.breached == [] and it.result.notifications == 2
    assert Notification.objects.filter(kind="clock_breach").count() == 2
    assert not clocks_escalate_pending()
    sweep_iteration(now=DUE + timedelta(seconds=2))
    assert Notification.objects.filter(kind="clock_breach").count() == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_commit_wakes_the_sleeping_loop_on_postgresql():
    assert connection.vendor == "postgresql", "the tests run on PostgreSQL (LISTEN/NOTIFY)"
    waker = Waker([CLOCKS])
    assert waker.wait(0.05) is False  # connects and listens; nothing yet
    woke: list[float] = []

    def sleeper() -> None:
        t = time.monotonic()
        if waker.wait(10):
            woke.append(time.monotonic() - t)

    th = threading.Thread(target=sleeper)
    th.start()
    time.sleep(0.3)
    with transaction.atomic():
        wake(CLOCKS)
        time.sleep(0.3)  # not before the commit
        assert woke == []
    th.join(5)
    waker.close()
    assert woke and 0.3 < woke[0] < 2
