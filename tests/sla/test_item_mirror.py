"""The clock fields kept on an item (sla.mirrors) equal its current clock after every change the
clock engine makes — start, warn, breach, meet, pause, resume, extend, cancel, exempt, a late
completion, a new clock — also when sweeps run at once and when a workflow holds the item row
while the sweep breaches its clock; the back-fill migration derives them from existing clocks;
and ?overdue=true over the stored fields selects exactly what the old per-row definition did,
including a clock running past its deadline that no sweep has breached yet and one exactly at it."""

from __future__ import annotations

import importlib
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.test import Client
from rest_framework.test import APIClient

from complaints.models import Complaint
from sla.choices import ClockState
from sla.models import Clock
from sla.services import (
    clock_cancel,
    clock_exempt,
    clock_extend,
    clock_meet,
    clock_meet_for,
    clock_pause,
    clock_resume,
    clock_start,
    clocks_sweep,
)
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
H = timedelta(hours=1)


def _complaint(customer, i: int = 0) -> Complaint:  # type: ignore[no-untyped-def]
    return Complaint.objects.create(
        customer=customer, complainant_name=f"投诉人 {i}", channel="email", subject="network",
        title=f"投诉 {i}", description="网络中断。", received_at=T0 - timedelta(minutes=i))


def _start(c: Complaint, at: datetime = T0) -> Clock:
    return clock_start(subject=c, policy_code="C8", customer=c.customer, started_at=at, now=at)


def expected(pk: int) -> tuple[datetime | None, str, bool]:
    """What the item must keep, computed from its clocks."""
    clocks = Clock.objects.filter(content_type=ContentType.objects.get_for_model(Complaint),
                                  object_id=pk, policy__code="C8")
    latest = clocks.order_by("-started_at", "-id").first()
    overdue = clocks.filter(state=ClockState.BREACHED, completed_at__isnull=True).exists()
    return (latest.due_at if latest else None, latest.state if latest else "", overdue)


def stored(pk: int) -> tuple[datetime | None, str, bool]:
    return Complaint.objects.values_list("sla_due_at", "sla_state", "sla_overdue").get(pk=pk)


def check(pk: int, state: str | None = None, overdue: bool | None = None) -> None:
    assert stored(pk) == expected(pk)
    if state is not None:
        assert stored(pk)[1] == state
    if overdue is not None:
        assert stored(pk)[2] is overdue


@pytest.mark.django_db
def test_fields_follow_every_transition(customer_a):
    c = _complaint(customer_a)
    check(c.pk, state="", overdue=False)  # no clock yet
    clock = _start(c)
    check(c.pk, state=ClockState.RUNNING, overdue=False)
    assert stored(c.pk)[0] == T0 + 24 * H

    clocks_sweep(now=T0 + 20 * H)  # warn: nothing the item keeps changes, and it still matches
    assert Clock.objects.get(pk=clock.pk).warned_at is not None
    check(c.pk, state=ClockState.RUNNING, overdue=False)

    clock_pause(clock_id=clock.pk, now=T0 + 21 * H)
    check(c.pk, state=ClockState.PAUSED, overdue=False)
    clock_resume(clock_id=clock.pk, now=T0 + 23 * H)
    check(c.pk, state=ClockState.RUNNING)
    assert stored(c.pk)[0] == T0 + 26 * H
    clock_extend(clock_id=clock.pk, seconds=3600, reason="不可抗力", now=T0 + 23 * H)
    check(c.pk)
    assert stored(c.pk)[0] == T0 + 27 * H

    clocks_sweep(now=T0 + 27 * H)  # breach, exactly at due_at
    check(c.pk, state=ClockState.BREACHED, overdue=True)
    clock_meet(clock_id=clock.pk, now=T0 + 28 * H)  # a late report: still breached, no longer owed
    check(c.pk, state=ClockState.BREACHED, overdue=False)

    second = _start(c, T0 + 30 * H)  # a new clock is the current one
    check(c.pk, state=ClockState.RUNNING, overdue=False)
    assert stored(c.pk)[0] == T0 + 54 * H
    clock_cancel(clock_id=second.pk, now=T0 + 31 * H)
    check(c.pk, state=ClockState.CANCELLED, overdue=False)

    third = _start(c, T0 + 40 * H)
    clock_meet(clock_id=third.pk, now=T0 + 41 * H)
    check(c.pk, state=ClockState.MET, overdue=False)


@pytest.mark.django_db
def test_late_event_on_a_running_clock_meet_in_time_and_exempt(customer_a):
    a, b, d = (_complaint(customer_a, i) for i in range(3))
    ca, cb, cd = _start(a), _start(b), _start(d)
    # Running, the fulfilling event learnt at/after due_at: breached at due_at, completed late.
    clock_meet(clock_id=ca.pk, now=T0 + 24 * H)
    check(a.pk, state=ClockState.BREACHED, overdue=False)
    # Breached by the sweep, the event came before due_at: met, recorded late.
    clocks_sweep(now=T0 + 25 * H)
    check(b.pk, state=ClockState.BREACHED, overdue=True)
    clock_meet(clock_id=cb.pk, now=T0 + 23 * H)
    check(b.pk, state=ClockState.MET, overdue=False)
    # Breached, then exempted (force majeure).
    check(d.pk, state=ClockState.BREACHED, overdue=True)
    clock_exempt(clock_id=cd.pk, reason="不可抗力", now=T0 + 26 * H)
    check(d.pk, state=ClockState.CANCELLED, overdue=False)


@pytest.mark.django_db
def test_the_complaint_workflow_keeps_them(service_a, specialist):  # type: ignore[no-untyped-def]
    from complaints.services import complaint_accept, complaint_create, complaint_withdraw

    c = complaint_create(customer=service_a.customer, actor=specialist, channel="email", subject="network",
                         title="t", description="d", complainant_name="p", received_at=T0, now=T0)
    complaint_accept(complaint_id=c.pk, actor=specialist, now=T0)
    check(c.pk, state=ClockState.RUNNING)
    complaint_withdraw(complaint_id=c.pk, actor=specialist, reason="客户撤回", now=T0 + H)
    check(c.pk, state=ClockState.CANCELLED, overdue=False)


@pytest.fixture
def service_a(customer_a, specialist):  # type: ignore[no-untyped-def]
    return f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), specialist=specialist)


@pytest.mark.django_db
def test_backfill_migration_derives_the_fields_from_existing_clocks(customer_a):
    rows = [_complaint(customer_a, i) for i in range(4)]
    clocks = [_start(c) for c in rows[:3]]
    clocks_sweep(now=T0 + 24 * H)
    clock_meet(clock_id=clocks[1].pk, now=T0 + 25 * H)
    clock_pause(clock_id=_start(rows[3], T0 + 30 * H).pk, now=T0 + 31 * H)
    Complaint.objects.update(sla_due_at=None, sla_state="", sla_overdue=False)
    migration = importlib.import_module("complaints.migrations.0002_clock_fields_on_item")
    migration.backfill(apps, None)
    for c in rows:
        check(c.pk)
    assert [stored(c.pk)[1:] for c in rows] == [
        (ClockState.BREACHED, True), (ClockState.BREACHED, False), (ClockState.BREACHED, True),
        (ClockState.PAUSED, False)]


# --- ?overdue=true: the stored fields select what the per-row definition did ---------------

def _old_overdue(now: datetime) -> set[int]:
    """The definition complaints.selectors used before the fields were kept (Exists per row)."""
    late = Clock.objects.filter(
        content_type=ContentType.objects.get_for_model(Complaint), object_id=OuterRef("pk"),
        policy__code="C8").filter(
        Q(state=ClockState.BREACHED, completed_at__isnull=True) | Q(state=ClockState.RUNNING, due_at__lte=now))
    return set(Complaint.objects.filter(Exists(late)).values_list("pk", flat=True))


@pytest.mark.django_db
def test_overdue_filter_matches_the_old_definition(customer_a, alice, manager):
    now = T0 + 48 * H
    made: dict[str, Complaint] = {}

    def mk(name: str, start: datetime | None = None) -> Clock | None:
        made[name] = _complaint(customer_a, len(made))
        return _start(made[name], start) if start else None

    mk("no clock")
    mk("running, not due", now - 2 * H)
    mk("running, exactly at the deadline", now - 24 * H)      # due_at == now: late (boundary)
    mk("running, a second before", now - 24 * H + timedelta(seconds=1))
    mk("running past due, not swept", now - 30 * H)
    swept = mk("breached by the sweep", T0)
    late_done = mk("breached, completed late", T0 + H)
    met = mk("met in time", T0)
    paused = mk("paused past its deadline", T0)
    cancelled = mk("cancelled", T0)
    exempted = mk("exempted", T0)
    assert swept and late_done and met and paused and cancelled and exempted
    clock_meet(clock_id=met.pk, now=T0 + H)
    clock_pause(clock_id=paused.pk, now=T0 + H)
    clock_cancel(clock_id=cancelled.pk, now=T0 + H)
    clocks_sweep(now=T0 + 25 * H + timedelta(minutes=1))
    clock_meet(clock_id=late_done.pk, now=T0 + 26 * H)
    clock_exempt(clock_id=exempted.pk, reason="不可抗力", now=T0 + 26 * H)

    old = _old_overdue(now)
    names = {c.pk: n for n, c in made.items()}
    assert {names[pk] for pk in old} == {
        "running, exactly at the deadline", "running past due, not swept", "breached by the sweep"}
    everything = {c.pk for c in made.values()}
    api = APIClient()
    api.force_login(manager)
    page = Client()
    page.force_login(manager)
    cust = APIClient()
    cust.force_login(alice)
    with time_machine.travel(now, tick=False):
        for flag, want in (("true", old), ("false", everything - old)):
            r = api.get(f"/api/complaints/?overdue={flag}")
            assert {x["id"] for x in r.json()["results"]} == want, flag
            r = cust.get(f"/api/complaints/?overdue={flag}")
            assert {x["id"] for x in r.json()["results"]} == want, flag
            r = page.get(f"/complaints/?overdue={flag}")
            assert r.status_code == 200
            assert {c.pk for c in r.context["page"].object_list} == want, flag


# --- Sweeps at once ------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_at_once_keep_every_item_equal_to_its_clock(monkeypatch):
    import sla.services

    monkeypatch.setattr(sla.services, "SWEEP_BATCH", 7)  # many small batches, interleaved
    customer = f.CustomerFactory()
    rows = [_complaint(customer, i) for i in range(60)]
    for i, c in enumerate(rows):
        # Two thirds past their deadline at the sweep, a third only past the warning time.
        _start(c, T0 - (30 * H if i % 3 else 20 * H))
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def sweep() -> None:
        try:
            barrier.wait()
            clocks_sweep(now=T0)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    for i, c in enumerate(rows):
        check(c.pk, state=ClockState.BREACHED if i % 3 else ClockState.RUNNING, overdue=bool(i % 3))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sweep_while_a_workflow_holds_the_item_and_meets_the_clock():
    """A workflow locks its complaint, then meets the C8 clock (as issuing a report does) while
    the sweep has claimed that clock and wants to write the complaint: no deadlock, no error, and
    the complaint ends equal to its clock (the sweep re-derives it after commit)."""
    customer = f.CustomerFactory()
    rows = [_complaint(customer, i) for i in range(5)]
    for c in rows:
        _start(c, T0 - 30 * H)
    held = rows[2]
    errors: list[BaseException] = []
    locked = threading.Event()

    def workflow() -> None:
        try:
            with transaction.atomic():
                Complaint.objects.select_for_update().get(pk=held.pk)
                locked.set()
                time.sleep(0.5)  # the sweep claims the clock meanwhile
                clock_meet_for(subject=held, policy_code="C8", now=T0 - 7 * H)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            connection.close()

    def sweep() -> None:
        try:
            locked.wait(5)
            clocks_sweep(now=T0)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=workflow), threading.Thread(target=sweep)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    for c in rows:
        if c.pk != held.pk:
            check(c.pk, state=ClockState.BREACHED, overdue=True)
    # The sweep breached it first; the report written before the deadline then withdrew the
    # breach ("met, recorded late"), and the complaint shows that, not the sweep's older picture.
    check(held.pk, state=ClockState.MET, overdue=False)
