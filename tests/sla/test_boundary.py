"""One boundary rule for every clock (SPEC "Calendars and time"): "within N" is met by an event
strictly before due_at; at due_at exactly the clock is breached. The event's own time decides,
whichever of the sweep and the meeting service got there first."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from audit.services import audit_for
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clock_exempt, clock_extend, clock_meet, clock_pause, clock_start, clocks_sweep
from sla.signals import clock_breach_withdrawn, clocks_breached
from slaportal.errors import ConflictError
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 14, 45, tzinfo=TZ)  # C4: due 15:00:00


@pytest.fixture
def clock(db):
    contract = f.ContractFactory()
    return clock_start(subject=contract, policy_code="C4", contract=contract, now=T0)


@pytest.fixture
def heard():
    """What the SLA app told other apps (after commit)."""
    got: dict[str, list] = {"breached": [], "withdrawn": []}

    def on_breached(sender, clock_ids, **kw):  # type: ignore[no-untyped-def]
        got["breached"] += clock_ids

    def on_withdrawn(sender, clock_id, reason, **kw):  # type: ignore[no-untyped-def]
        got["withdrawn"].append((clock_id, reason, kw.get("to_state")))

    clocks_breached.connect(on_breached, dispatch_uid="test.breached")
    clock_breach_withdrawn.connect(on_withdrawn, dispatch_uid="test.withdrawn")
    yield got
    clocks_breached.disconnect(dispatch_uid="test.breached")
    clock_breach_withdrawn.disconnect(dispatch_uid="test.withdrawn")


def test_due_is_15_00(clock):
    assert clock.due_at == datetime(2026, 3, 2, 15, 0, tzinfo=TZ)


def test_met_one_second_before_due_through_clock_meet(clock, heard, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        clock_meet(clock_id=clock.pk, now=clock.due_at - timedelta(seconds=1))
    c = Clock.objects.get(pk=clock.pk)
    assert c.state == ClockState.MET and c.breached_at is None and not c.breach_withdrawn
    assert heard == {"breached": [], "withdrawn": []}


def test_event_at_due_through_clock_meet_is_a_breach_with_its_consequences(
        clock, heard, manager, django_capture_on_commit_callbacks):
    due = clock.due_at
    with django_capture_on_commit_callbacks(execute=True):
        clock_meet(clock_id=clock.pk, reason="contact reached", now=due)
    c = Clock.objects.get(pk=clock.pk)
    assert (c.state, c.breached_at, c.completed_at, c.met_at) == (ClockState.BREACHED, due, due, None)
    assert heard["breached"] == [c.pk]
    breach = audit_for(c).get(action="breach")
    assert (breach.from_state, breach.to_state, breach.at) == ("running", "breached", due)
    assert audit_for(c).filter(action="complete_late").count() == 1
    # The sweep neither breaches it again nor forgets its escalation.
    with django_capture_on_commit_callbacks(execute=True):
        r = clocks_sweep(now=due + timedelta(seconds=1))
    assert r.breached == [] and r.notifications >= 1
    c.refresh_from_db()
    assert c.breach_escalated_at is not None and c.breached_at == due
    assert audit_for(c).filter(action="breach").count() == 1


def test_sweep_one_second_before_due_does_nothing_at_due_breaches(clock):
    assert clocks_sweep(now=clock.due_at - timedelta(seconds=1)).breached == []
    assert clocks_sweep(now=clock.due_at).breached == [clock.pk]


def test_through_the_sweep_an_event_one_second_before_due_is_met_recorded_late(
        clock, heard, django_capture_on_commit_callbacks):
    clocks_sweep(now=clock.due_at)
    kept = clock.due_at - timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        clock_meet(clock_id=clock.pk, reason="contact reached", now=kept)
    c = Clock.objects.get(pk=clock.pk)
    assert c.state == ClockState.MET and c.met_at == kept and c.breach_withdrawn
    assert c.breached_at == clock.due_at  # history stays
    assert [(pk, to) for pk, _r, to in heard["withdrawn"]] == [(c.pk, "met")]
    assert "14:59:59" in heard["withdrawn"][0][1]
    assert audit_for(c).filter(action="meet_in_time").exists()


def test_through_the_sweep_an_event_at_due_stays_breached(clock, heard, django_capture_on_commit_callbacks):
    clocks_sweep(now=clock.due_at)
    with django_capture_on_commit_callbacks(execute=True):
        clock_meet(clock_id=clock.pk, now=clock.due_at)
    c = Clock.objects.get(pk=clock.pk)
    assert (c.state, c.completed_at) == (ClockState.BREACHED, clock.due_at)
    assert not c.breach_withdrawn and heard["withdrawn"] == []


def test_a_paused_clock_is_met_whenever_the_event_comes(clock):
    clock_pause(clock_id=clock.pk, now=T0 + timedelta(minutes=5))
    c = clock_meet(clock_id=clock.pk, now=clock.due_at + timedelta(minutes=30))
    assert c.state == ClockState.MET


def test_extend_moves_due_and_warn_audited(clock):
    c = clock_extend(clock_id=clock.pk, seconds=600, reason="不可抗力：停电", now=T0)
    assert c.due_at == clock.due_at + timedelta(minutes=10)
    assert c.warn_at == clock.warn_at + timedelta(minutes=10)
    e = audit_for(c).get(action="extend")
    assert e.reason == "不可抗力：停电" and e.data["seconds"] == 600
    clocks_sweep(now=clock.due_at + timedelta(minutes=5))
    assert Clock.objects.get(pk=clock.pk).state == ClockState.RUNNING


def test_extend_refuses_a_closed_clock(clock):
    clocks_sweep(now=clock.due_at)
    with pytest.raises(ConflictError):
        clock_extend(clock_id=clock.pk, seconds=60, reason="x")


def test_exempt_turns_a_breach_into_cancelled_and_withdraws_it(clock, heard,
                                                               django_capture_on_commit_callbacks):
    clocks_sweep(now=clock.due_at)
    with django_capture_on_commit_callbacks(execute=True):
        c = clock_exempt(clock_id=clock.pk, reason="不可抗力：停电", now=clock.due_at + timedelta(hours=1))
        clock_exempt(clock_id=clock.pk, reason="不可抗力：停电")  # again: nothing more
    assert c.state == ClockState.CANCELLED and c.breach_withdrawn
    assert heard["withdrawn"] == [(c.pk, "不可抗力：停电", "cancelled")]
    assert audit_for(c).get(action="exempt").reason == "不可抗力：停电"


def test_exempt_refuses_a_running_clock(clock):
    with pytest.raises(ConflictError):
        clock_exempt(clock_id=clock.pk, reason="x")
    assert Clock.objects.get(pk=clock.pk).state == ClockState.RUNNING
