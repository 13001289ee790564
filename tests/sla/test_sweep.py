"""The sweep: rows are the truth. It claims warnings and breaches with a conditional UPDATE, writes
one audit row and one escalation per recipient (managers + assignee) exactly once however often it
runs, leaves paused clocks alone, and costs a constant number of queries per batch."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEntry
from audit.services import audit_for
from customers.models import Customer
from notifications.choices import Status
from notifications.models import Notification
from notifications.services import notification_send
from sla.choices import ClockState
from sla.models import Clock, SlaPolicy
from sla.services import clock_meet, clock_pause, clock_resume, clock_start, clocks_sweep
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
DUE = T0 + timedelta(hours=24)  # C8
WARN = T0 + timedelta(hours=24) * 80 / 100


@pytest.fixture
def managers(db):
    return [f.StaffFactory(role="manager", username="mia"), f.StaffFactory(role="manager", username="max")]


@pytest.fixture
def contract(db):
    return f.ContractFactory()


def _keys(kind: str) -> list[tuple[int, str]]:
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient_id", "address"))


def test_warning_then_breach_each_once_per_recipient(contract, managers, engineer):
    clock = clock_start(subject=contract, policy_code="C8", contract=contract, assignee=engineer, now=T0)
    assert clocks_sweep(now=WARN - timedelta(seconds=1)).warned == []
    r = clocks_sweep(now=WARN)
    assert (r.warned, r.breached, r.notifications) == ([clock.pk], [], 3)
    assert clocks_sweep(now=WARN + timedelta(minutes=5)).warned == []
    clock.refresh_from_db()
    assert clock.state == ClockState.RUNNING and clock.warned_at == WARN

    assert clocks_sweep(now=DUE - timedelta(seconds=1)).breached == []
    r = clocks_sweep(now=DUE)
    assert (r.breached, r.warned, r.notifications) == ([clock.pk], [], 3)
    for _ in range(3):
        r = clocks_sweep(now=DUE + timedelta(hours=1))
        assert (r.breached, r.warned, r.notifications) == ([], [], 0)
    clock.refresh_from_db()
    assert clock.state == ClockState.BREACHED and clock.breached_at == DUE

    expected = sorted([(u.pk, u.email) for u in [*managers, engineer]])
    assert _keys("clock_warning") == expected
    assert _keys("clock_breach") == expected
    n = Notification.objects.filter(kind="clock_breach").first()
    assert n.related == clock and n.status == Status.PENDING and n.channel == "email"
    assert n.idempotency_key == f"clock:{clock.pk}:breach:user:{n.recipient_id}:email"
    assert contract.number in n.subject or str(contract) in n.subject

    rows = list(audit_for(clock).order_by("at", "id"))
    assert [(r.action, r.from_state, r.to_state, r.at) for r in rows] == [
        ("start", "", "running", T0), ("warn", "running", "running", WARN),
        ("breach", "running", "breached", DUE)]


def test_assignee_who_is_a_manager_gets_one_message(contract, managers):
    clock_start(subject=contract, policy_code="C8", contract=contract, assignee=managers[0], now=T0)
    clocks_sweep(now=DUE)
    assert _keys("clock_breach") == sorted((u.pk, u.email) for u in managers)


def test_no_managers_no_assignee_still_breaches(contract):
    clock = clock_start(subject=contract, policy_code="C8", contract=contract, now=T0)
    r = clocks_sweep(now=DUE)
    assert r.breached == [clock.pk] and r.notifications == 0


def test_inactive_manager_is_not_told(contract, managers):
    managers[1].is_active = False
    managers[1].save()
    clock_start(subject=contract, policy_code="C8", contract=contract, now=T0)
    clocks_sweep(now=DUE)
    assert _keys("clock_breach") == [(managers[0].pk, managers[0].email)]


def test_past_warning_and_deadline_at_once_is_a_breach_only(contract, managers):
    clock = clock_start(subject=contract, policy_code="C8", contract=contract, now=T0)
    r = clocks_sweep(now=DUE + timedelta(minutes=1))
    assert r.breached == [clock.pk] and r.warned == []
    assert not Notification.objects.filter(kind="clock_warning").exists()


def test_paused_clock_does_not_warn_or_breach_then_resumes(contract, managers):
    clock = clock_start(subject=contract, policy_code="C8", contract=contract, now=T0)
    clock_pause(clock_id=clock.pk, now=T0 + timedelta(hours=1))
    r = clocks_sweep(now=DUE + timedelta(hours=10))
    assert r.breached == [] and r.warned == []
    clock.refresh_from_db()
    assert clock.state == ClockState.PAUSED and clock.breached_at is None
    assert not Notification.objects.exists()
    clock_resume(clock_id=clock.pk, now=T0 + timedelta(hours=11))  # paused 10 h
    assert clocks_sweep(now=DUE + timedelta(hours=10) - timedelta(seconds=1)).breached == []
    assert clocks_sweep(now=DUE + timedelta(hours=10)).breached == [clock.pk]


def test_met_and_cancelled_clocks_are_never_claimed(contract, managers):
    met = clock_start(subject=contract, policy_code="C8", contract=contract, now=T0)
    clock_meet(clock_id=met.pk, now=T0 + timedelta(hours=1))
    r = clocks_sweep(now=DUE + timedelta(days=1))
    assert r.breached == [] and not Notification.objects.exists()


def test_retried_send_task_sends_each_escalation_once(contract, managers, engineer, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    clock_start(subject=contract, policy_code="C8", contract=contract, assignee=engineer, now=T0)
    clocks_sweep(now=DUE)
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert len(ids) == 3
    from notifications.tasks import send_batch

    send_batch.run(ids)
    send_batch.run(ids)  # the broker redelivered the task
    for nid in ids:
        notification_send(notification_id=nid)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(u.email for u in [*managers, engineer])
    assert set(Notification.objects.values_list("status", flat=True)) == {Status.SENT}


def _bulk_due_clocks(n: int, *, assignee, start_pk: int) -> None:  # type: ignore[no-untyped-def]
    """n running clocks already due, on distinct subjects (bulk: the shape of a busy minute)."""
    ct = ContentType.objects.get_for_model(Customer)
    policy = SlaPolicy.objects.get(code="C4")
    cust = f.CustomerFactory()
    Clock.objects.bulk_create([
        Clock(content_type=ct, object_id=start_pk + i, label=f"incident {start_pk + i}", policy=policy,
              customer=cust, assignee=assignee, target=15, unit="minutes", calendar="24x7",
              started_at=T0, due_at=T0 + timedelta(minutes=15), warn_at=T0 + timedelta(minutes=10),
              warned_at=T0 + timedelta(minutes=10), warn_escalated_at=T0 + timedelta(minutes=10))
        for i in range(n)])


def test_queries_per_sweep_do_not_grow_with_the_number_of_clocks(managers, engineer):
    counts = {}
    # A warm-up sweep: the first in a process fills Django's ContentType cache (a one-off cost).
    _bulk_due_clocks(1, assignee=engineer, start_pk=5000)
    clocks_sweep(now=T0 + timedelta(minutes=20))
    for n, start in ((10, 1), (200, 1000)):
        _bulk_due_clocks(n, assignee=engineer, start_pk=start)
        with CaptureQueriesContext(connection) as q:
            r = clocks_sweep(now=T0 + timedelta(minutes=20))
        assert len(r.breached) == n and r.notifications == 3 * n
        sql = [c["sql"] for c in q.captured_queries]
        counts[n] = (len(sql), len([x for x in sql if not x.startswith("INSERT")]))
    # Reads and claims never depend on the number of clocks. PostgreSQL takes each bulk INSERT in
    # one statement, so there the total is constant too; SQLite's variable limit makes Django
    # split the INSERTs of notification rows.
    assert counts[10][1] == counts[200][1], counts
    if connection.vendor == "postgresql":
        assert counts[10][0] == counts[200][0], counts
    assert counts[10][0] <= 15, counts
    assert Notification.objects.filter(kind="clock_breach").count() == 3 * 211  # with the warm-up
    ct = ContentType.objects.get_for_model(Clock)
    assert AuditEntry.objects.filter(content_type=ct, action="breach").count() == 211


def test_a_sweep_larger_than_one_batch_claims_everything_once(managers, monkeypatch):
    import sla.services

    monkeypatch.setattr(sla.services, "SWEEP_BATCH", 7)
    _bulk_due_clocks(30, assignee=None, start_pk=1)
    r = clocks_sweep(now=T0 + timedelta(minutes=20))
    assert sorted(r.breached) == sorted(Clock.objects.values_list("pk", flat=True))
    assert len(set(r.breached)) == 30
    assert Notification.objects.filter(kind="clock_breach").count() == 60
    assert clocks_sweep(now=T0 + timedelta(minutes=21)).breached == []
