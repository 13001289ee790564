"""Real probes against servers the test starts on 127.0.0.1: two consecutive failures declare the
emergency (outage from the first failed probe, C4 from the declaration), one does not, and the
first success ends the outage."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from incidents.models import Incident, Outage
from monitoring.choices import TargetState
from monitoring.models import ProbeDaily, StateChange, Target
from monitoring.probes import icmp_allowed
from monitoring.services import next_slot, probe_due, target_save, targets_claim
from sla.models import Clock
from slaportal.errors import DomainError, ForbiddenError
from tests import factories as f

from .servers import BannerServer, HttpServer, free_port

TZ = ZoneInfo("Asia/Shanghai")
T = datetime(2026, 3, 10, 14, 0, tzinfo=TZ)
STEP = timedelta(minutes=5)


@pytest.fixture
def service(db, engineer):
    contract = f.ContractFactory(monthly_fee=Decimal("3100.00"))
    f.AuthorizedContactFactory(customer=contract.customer, channels=["email"])
    return f.ServiceFactory(contract=contract, engineer=engineer)


@pytest.fixture
def smtp():
    s = BannerServer().start()
    yield s
    s.stop()


def make(service, engineer, **data):  # type: ignore[no-untyped-def]
    t = target_save(service=service, data={"timeout_seconds": 2.0, **data}, actor=engineer, now=T - STEP)
    Target.objects.filter(pk=t.pk).update(next_due_at=T)
    return t


def run(at):  # type: ignore[no-untyped-def]
    # Every target is due at `at` (the engine would have put it on its own phase slot).
    Target.objects.update(next_due_at=at)
    return probe_due(now=at)


def test_two_failures_declare_and_recovery_closes_the_outage(service, engineer, smtp):
    t = make(service, engineer, kind="smtp", host="127.0.0.1", port=smtp.port)
    assert run(T)["ok"] == 1
    t.refresh_from_db()
    assert t.state == TargetState.UP and t.last_method == "smtp" and t.last_detail.startswith("220")

    smtp.stop()
    run(T + STEP)                       # first failure: nothing declared yet
    t.refresh_from_db()
    assert t.state == TargetState.FAILING and not Incident.objects.exists()

    assert run(T + 2 * STEP)["declared"] == 1  # second consecutive failure: emergency
    inc = Incident.objects.get()
    [outage] = inc.outages.all()
    assert outage.started_at == T + STEP and outage.ended_at is None and outage.target == t
    clock = Clock.objects.get(policy__code="C4", object_id=inc.pk)
    assert clock.started_at == T + 2 * STEP and inc.declared_at == T + 2 * STEP

    run(T + 3 * STEP)                   # still down: nothing new
    assert Incident.objects.count() == 1 and Outage.objects.count() == 1

    smtp.start()                        # same port again
    assert run(T + 4 * STEP)["recovered"] == 1
    outage.refresh_from_db()
    assert (outage.started_at, outage.ended_at) == (T + STEP, T + 4 * STEP)
    t.refresh_from_db()
    assert t.state == TargetState.UP
    assert list(StateChange.objects.filter(target=t).order_by("at").values_list("to_state", flat=True)) == [
        "up", "failing", "down", "up"]
    day = ProbeDaily.objects.get(target=t)
    assert (day.ok_count, day.fail_count) == (2, 3)


def test_one_failure_does_not_declare(service, engineer):
    http = HttpServer(200).start()
    try:
        make(service, engineer, kind="www", url=f"http://127.0.0.1:{http.port}/health", host="")
        run(T)
        http.status = 503               # wrong status is a failure
        run(T + STEP)
        t = Target.objects.get()
        assert t.state == TargetState.FAILING and "503" in t.last_detail and t.last_method == "http"
        http.status = 200
        run(T + 2 * STEP)
    finally:
        http.stop()
    assert Target.objects.get().state == TargetState.UP
    assert not Incident.objects.exists() and not Outage.objects.exists()


def test_ftp_banner_must_be_220(service, engineer):
    bad = BannerServer(b"421 too many connections\r\n").start()
    try:
        make(service, engineer, kind="ftp", host="127.0.0.1", port=bad.port)
        run(T)
        run(T + STEP)
    finally:
        bad.stop()
    t = Target.objects.get()
    assert t.state == TargetState.DOWN and t.last_detail.startswith("421")
    assert Outage.objects.get().started_at == T


def test_device_falls_back_to_tcp_when_icmp_is_not_permitted_and_records_it(service, engineer, smtp):
    make(service, engineer, kind="device", host="127.0.0.1", port=smtp.port)
    run(T)
    t = Target.objects.get()
    assert t.state == TargetState.UP
    assert t.last_method == ("icmp" if icmp_allowed() else "tcp")
    port = free_port()                  # nothing listens there
    Target.objects.filter(pk=t.pk).update(port=port)
    if not icmp_allowed():
        run(T + STEP)
        assert Target.objects.get().state == TargetState.FAILING


def test_a_due_target_is_claimed_once(service, engineer, smtp):
    make(service, engineer, kind="smtp", host="127.0.0.1", port=smtp.port)
    assert len(targets_claim(now=T)) == 1
    assert targets_claim(now=T) == []   # leased: another worker gets nothing
    assert len(targets_claim(now=T + timedelta(minutes=2))) == 1  # lease expired (worker died)


def test_next_slot_keeps_a_stable_phase():
    a = next_slot(now=T, interval=300, phase=17)
    assert a > T and (a.timestamp() - 17) % 300 == 0
    assert next_slot(now=a, interval=300, phase=17) == a + timedelta(seconds=300)


def test_target_validation_and_roles(service, engineer, alice):
    with pytest.raises(DomainError) as e:
        target_save(service=service, data={"kind": "www", "url": "ftp://x"}, actor=engineer)
    assert "url" in e.value.field_errors
    with pytest.raises(DomainError) as e:
        target_save(service=service, data={"kind": "device", "host": "10.0.0.1"}, actor=engineer)
    assert "port" in e.value.field_errors
    with pytest.raises(ForbiddenError):
        target_save(service=service, data={"kind": "device", "host": "10.0.0.1", "port": 22}, actor=alice)


def test_flapping_fail_ok_fail_does_not_declare_and_a_new_run_starts_at_its_own_first_failure(
        service, engineer):
    from monitoring.probes import ProbeResult
    from monitoring.services import probe_results_record

    t = make(service, engineer, kind="device", host="127.0.0.1", port=1)

    def rec(at, ok):  # type: ignore[no-untyped-def]
        return probe_results_record(results=[ProbeResult(t.pk, ok, "tcp", "x", 1)], now=at)

    rec(T, False)
    rec(T + STEP, True)
    rec(T + 2 * STEP, False)
    assert not Incident.objects.exists() and Target.objects.get().state == TargetState.FAILING
    assert rec(T + 3 * STEP, False)["declared"] == 1
    o = Outage.objects.get()
    assert o.started_at == T + 2 * STEP and o.ended_at is None
    rec(T + 4 * STEP, False)  # still down: nothing new
    assert Outage.objects.count() == 1 and Incident.objects.count() == 1
    rec(T + 5 * STEP, True)
    o.refresh_from_db()
    assert o.ended_at == T + 5 * STEP
    # The next failure run reuses the open incident with a new outage.
    rec(T + 6 * STEP, False)
    rec(T + 7 * STEP, False)
    assert Incident.objects.count() == 1 and Outage.objects.count() == 2
    assert Outage.objects.order_by("started_at").last().started_at == T + 6 * STEP
