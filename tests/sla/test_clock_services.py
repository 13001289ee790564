"""The clock engine's services: start (deadline on the policy's calendar, contract overrides),
pause/resume, meet, cancel; every transition audited; wrong-state moves refused unchanged."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from audit.services import audit_for
from customers.services import contract_create
from sla.choices import ClockState
from sla.models import Clock, ContractPolicy, SlaPolicy
from sla.services import (
    clock_cancel,
    clock_meet,
    clock_pause,
    clock_resume,
    clock_start,
    clocks_sweep,
)
from slaportal.errors import ConflictError, DomainError
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)


@pytest.fixture
def contract(db):
    return f.ContractFactory()


def _start(contract, code="C8", **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("now", T0)
    return clock_start(subject=contract, policy_code=code, contract=contract, **kw)


def test_24x7_deadline_and_warning(contract, engineer):
    c = _start(contract, assignee=engineer, actor=engineer, reason="complaint accepted")
    assert (c.state, c.started_at, c.due_at) == (ClockState.RUNNING, T0, T0 + timedelta(hours=24))
    assert c.warn_at == T0 + timedelta(hours=24) * 80 / 100  # C8 warns at 80 %
    assert c.target == Decimal("24") and c.unit == "hours" and c.calendar == "24x7"
    assert c.customer_id == contract.customer_id
    [a] = audit_for(c)
    assert (a.action, a.from_state, a.to_state, a.actor, a.at, a.reason) == (
        "start", "", "running", engineer, T0, "complaint accepted")


def test_minutes_policy_counts_minutes(contract):
    c = _start(contract, code="C4")
    assert c.due_at == T0 + timedelta(minutes=15)


def test_started_at_in_the_past_counts_from_the_event(contract):
    c = _start(contract, started_at=T0 - timedelta(hours=2))
    assert c.due_at == T0 + timedelta(hours=22)


def test_c3_from_a_contract_signed_before_national_day_2025(db, django_capture_on_commit_callbacks):
    from customers.services import service_create

    cust = f.CustomerFactory()
    signed = datetime(2025, 9, 30, 16, 30, tzinfo=TZ)
    contract = contract_create(customer=cust, number="HT-2025-0930", signed_at=signed,
                               monthly_fee=Decimal("3100.00"), installation_fee=Decimal("800.00"))
    # C3 runs on the installation order the contract's hosting service opens (orders app).
    with django_capture_on_commit_callbacks(execute=True):
        service_create(contract=contract, kind="colocation", name="托管 0930", now=signed)
    c = Clock.objects.get(policy__code="C3", contract=contract)
    # 3rd working day strictly after 09-30 is the make-up Saturday 10-11; due by its 24:00.
    assert c.due_at == datetime(2025, 10, 12, 0, 0, tzinfo=TZ)
    assert c.started_at == signed and c.calendar == "cn-workdays"
    assert c.contract == contract and c.customer == cust


def test_c3_after_spring_festival_eve_2026(contract):
    c = _start(contract, code="C3", started_at=datetime(2026, 2, 13, 9, 0, tzinfo=TZ))
    assert c.due_at == datetime(2026, 2, 26, 0, 0, tzinfo=TZ)


def test_contract_override_of_the_threshold_applies(contract):
    ContractPolicy.objects.create(contract=contract, policy=SlaPolicy.objects.get(code="C8"),
                                  threshold=Decimal("12"), warning_percent=50)
    c = _start(contract)
    assert c.due_at == T0 + timedelta(hours=12)
    assert c.warn_at == T0 + timedelta(hours=6)
    assert c.target == Decimal("12")
    # Another contract keeps the policy's own target.
    other = f.ContractFactory()
    assert _start(other).due_at == T0 + timedelta(hours=24)


def test_policy_edit_changes_new_clocks_only(contract):
    old = _start(contract)
    SlaPolicy.objects.filter(code="C8").update(threshold=Decimal("48"))
    new = _start(f.ContractFactory())
    old.refresh_from_db()
    assert old.due_at == T0 + timedelta(hours=24)
    assert new.due_at == T0 + timedelta(hours=48)


def test_inactive_override_refuses_to_start(contract):
    ContractPolicy.objects.create(contract=contract, policy=SlaPolicy.objects.get(code="C8"),
                                  active=False)
    with pytest.raises(DomainError):
        _start(contract)
    assert not Clock.objects.exists()


def test_inactive_policy_refuses_to_start(contract):
    SlaPolicy.objects.filter(code="C8").update(active=False)
    with pytest.raises(DomainError):
        _start(contract)
    assert not Clock.objects.exists()


def test_measure_policy_cannot_start_a_clock(contract):
    with pytest.raises(DomainError) as e:
        _start(contract, code="C1")
    assert not isinstance(e.value, ConflictError)
    assert not Clock.objects.exists()


def test_unknown_policy_code(contract):
    with pytest.raises(DomainError):
        _start(contract, code="NOPE")


def test_starting_the_same_promise_twice_conflicts(contract):
    first = _start(contract)
    with pytest.raises(ConflictError):
        _start(contract, now=T0 + timedelta(minutes=1))
    assert Clock.objects.count() == 1
    assert audit_for(first).count() == 1
    # Another promise on the same subject, or the same promise once the first is closed, is fine.
    _start(contract, code="C6")
    clock_meet(clock_id=first.pk, now=T0 + timedelta(hours=1))
    again = _start(contract, now=T0 + timedelta(hours=2))
    assert again.pk != first.pk


def test_pause_and_resume_move_due_and_warn_by_the_paused_span(contract, specialist):
    c = _start(contract)
    due, warn = c.due_at, c.warn_at
    c = clock_pause(clock_id=c.pk, actor=specialist, reason="waiting on customer",
                    now=T0 + timedelta(hours=1))
    assert c.state == ClockState.PAUSED and c.paused_at == T0 + timedelta(hours=1)
    c = clock_resume(clock_id=c.pk, actor=specialist, reason="customer answered",
                     now=T0 + timedelta(hours=3, minutes=30))
    assert c.state == ClockState.RUNNING and c.paused_at is None
    assert c.due_at == due + timedelta(hours=2, minutes=30)
    assert c.warn_at == warn + timedelta(hours=2, minutes=30)
    assert c.paused_seconds == 9000
    # A second pause adds up.
    clock_pause(clock_id=c.pk, now=T0 + timedelta(hours=4))
    c = clock_resume(clock_id=c.pk, now=T0 + timedelta(hours=5))
    assert c.due_at == due + timedelta(hours=3, minutes=30) and c.paused_seconds == 12600
    c.refresh_from_db()
    assert c.due_at == due + timedelta(hours=3, minutes=30)
    rows = list(audit_for(c).order_by("at", "id"))
    assert [(r.action, r.from_state, r.to_state) for r in rows] == [
        ("start", "", "running"), ("pause", "running", "paused"), ("resume", "paused", "running"),
        ("pause", "running", "paused"), ("resume", "paused", "running")]
    assert (rows[1].actor, rows[1].at, rows[1].reason) == (specialist, T0 + timedelta(hours=1),
                                                           "waiting on customer")


def test_meet_records_met_and_completed(contract, engineer):
    c = _start(contract)
    c = clock_meet(clock_id=c.pk, actor=engineer, reason="report issued", now=T0 + timedelta(hours=5))
    assert c.state == ClockState.MET
    assert c.met_at == c.completed_at == T0 + timedelta(hours=5)
    a = audit_for(c).get(action="meet")
    assert (a.from_state, a.to_state, a.actor, a.reason) == ("running", "met", engineer, "report issued")


def test_meet_while_paused(contract):
    c = _start(contract)
    clock_pause(clock_id=c.pk, now=T0 + timedelta(hours=1))
    c = clock_meet(clock_id=c.pk, now=T0 + timedelta(hours=2))
    assert c.state == ClockState.MET and c.paused_at is None


def test_cancel(contract, manager):
    c = _start(contract)
    c = clock_cancel(clock_id=c.pk, actor=manager, reason="complaint withdrawn",
                     now=T0 + timedelta(hours=2))
    assert c.state == ClockState.CANCELLED and c.cancelled_at == T0 + timedelta(hours=2)
    assert audit_for(c).filter(action="cancel", from_state="running", to_state="cancelled",
                               actor=manager, reason="complaint withdrawn").count() == 1


def test_meet_after_breach_records_completion_and_stays_breached(contract, manager):
    c = _start(contract)
    clocks_sweep(now=T0 + timedelta(hours=25))
    late = T0 + timedelta(hours=30)
    c = clock_meet(clock_id=c.pk, actor=manager, reason="report finally issued", now=late)
    c.refresh_from_db()
    assert c.state == ClockState.BREACHED and c.completed_at == late and c.met_at is None
    assert c.breached_at == T0 + timedelta(hours=25)
    a = audit_for(c).get(action="complete_late")
    assert (a.from_state, a.to_state, a.actor, a.at) == ("breached", "breached", manager, late)
    # Meeting it again changes nothing.
    clock_meet(clock_id=c.pk, now=late + timedelta(hours=1))
    c.refresh_from_db()
    assert c.completed_at == late
    assert audit_for(c).filter(action="complete_late").count() == 1




@pytest.mark.parametrize("setup, move", [
    ([], "resume"),
    (["pause"], "pause"),
    (["meet"], "pause"), (["meet"], "resume"), (["meet"], "meet"), (["meet"], "cancel"),
    (["cancel"], "pause"), (["cancel"], "resume"), (["cancel"], "meet"), (["cancel"], "cancel"),
    (["breach"], "pause"), (["breach"], "resume"), (["breach"], "cancel"),
])
def test_wrong_state_moves_conflict_and_change_nothing(contract, setup, move):
    fns = {"pause": clock_pause, "resume": clock_resume, "meet": clock_meet, "cancel": clock_cancel}
    c = _start(contract)
    t = T0
    for s in setup:
        t += timedelta(minutes=10)
        if s == "breach":
            clocks_sweep(now=T0 + timedelta(days=2))
        else:
            fns[s](clock_id=c.pk, now=t)
    c.refresh_from_db()
    fields = ("state", "due_at", "warn_at", "paused_at", "paused_seconds", "met_at", "breached_at",
              "cancelled_at", "completed_at")
    before = {k: getattr(c, k) for k in fields}
    audits = audit_for(c).count()
    with pytest.raises(ConflictError):
        fns[move](clock_id=c.pk, now=T0 + timedelta(days=3))
    c.refresh_from_db()
    assert {k: getattr(c, k) for k in fields} == before
    assert audit_for(c).count() == audits


def test_no_such_clock(db):
    with pytest.raises(DomainError):
        clock_pause(clock_id=999999)


@pytest.mark.django_db
def test_kept_before_due_but_learnt_after_the_sweep_becomes_met():
    """An e-mail notice accepted by the SMTP server at 14:59 that the notices task only sees at
    15:01, after the sweep breached the clock at 15:00: the promise was kept."""
    from audit.models import AuditEntry
    from sla.choices import ClockState
    from sla.models import Clock
    from sla.services import clock_meet, clock_start, clocks_sweep
    from tests import factories as f

    contract = f.ContractFactory()
    t0 = datetime(2026, 3, 2, 14, 45, tzinfo=TZ)
    clock = clock_start(subject=contract, policy_code="C4", contract=contract, now=t0)
    assert clocks_sweep(now=clock.due_at).breached == [clock.pk]
    kept_at = clock.due_at - timedelta(seconds=1)
    clock_meet(clock_id=clock.pk, reason="contact reached", now=kept_at)
    clock = Clock.objects.get(pk=clock.pk)
    assert clock.state == ClockState.MET and clock.met_at == kept_at
    assert clock.breached_at is not None  # history stays
    assert AuditEntry.objects.filter(object_id=clock.pk, action="meet_in_time").exists()


@pytest.mark.django_db
def test_kept_after_due_stays_breached_with_the_late_completion():
    from sla.choices import ClockState
    from sla.models import Clock
    from sla.services import clock_meet, clock_start, clocks_sweep
    from tests import factories as f

    contract = f.ContractFactory()
    clock = clock_start(subject=contract, policy_code="C4", contract=contract,
                        now=datetime(2026, 3, 2, 14, 45, tzinfo=TZ))
    clocks_sweep(now=clock.due_at)
    clock_meet(clock_id=clock.pk, now=clock.due_at + timedelta(seconds=1))
    clock = Clock.objects.get(pk=clock.pk)
    assert clock.state == ClockState.BREACHED and clock.completed_at == clock.due_at + timedelta(seconds=1)
