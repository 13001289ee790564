"""/metrics: what Prometheus reads after clocks, notifications and loop heartbeats exist; who may
read it (a token, else loopback clients only); a constant number of queries per scrape."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from prometheus_client.parser import text_string_to_metric_families

from notifications.choices import Channel, Status
from notifications.models import Notification
from runtime.metrics import PortalCollector
from runtime.models import LoopHeartbeat
from runtime.services import heartbeat_beat
from runtime.views import metrics
from sla.choices import ClockState, PolicyKind
from sla.models import SlaPolicy
from sla.services import clock_meet, clock_pause, clock_start, clocks_sweep
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
SCRAPE_AT = T0 + timedelta(minutes=10)


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in out, f"duplicate series {key}"  # Prometheus rejects the whole scrape
            out[key] = s.value
    return out


def _v(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def _scrape(client, **extra) -> str:  # type: ignore[no-untyped-def]
    resp = client.get("/metrics", **extra)
    assert resp.status_code == 200, resp.content
    assert resp["Content-Type"].startswith("text/plain; version=0.0.4")
    return resp.content.decode()


def _notification(channel: str, status: str, created_at: datetime, n: int) -> None:
    Notification.objects.create(channel=channel, status=status, address="x@example.test", kind="test",
                                subject="s", body="b", idempotency_key=f"metrics-test:{n}",
                                created_at=created_at)


@pytest.fixture
def world(db):
    """Clocks in every interesting state, notification rows, and the three loops' heartbeats."""
    services = [f.ServiceFactory() for _ in range(4)]
    contract = services[0].contract
    # C8 (24 h): one started two days ago breaches at the sweep, one stays running.
    late = clock_start(subject=services[0], policy_code="C8", contract=contract, now=T0 - timedelta(days=2))
    clock_start(subject=services[1], policy_code="C8", contract=contract, now=T0)
    paused = clock_start(subject=services[2], policy_code="C8", contract=contract, now=T0)
    clock_pause(clock_id=paused.pk, now=T0 + timedelta(minutes=1))
    met = clock_start(subject=services[3], policy_code="C5", contract=contract, now=T0)
    clock_meet(clock_id=met.pk, now=T0 + timedelta(minutes=2))
    assert clocks_sweep(now=T0 + timedelta(minutes=3)).breached == [late.pk]
    # Kept in time but learnt of after the sweep: met after all, and still counted as a breach
    # (breached_at stays as history; a counter never goes down).
    kept = clock_start(subject=services[3], policy_code="C8", contract=contract, now=T0 - timedelta(days=3))
    assert clocks_sweep(now=T0 + timedelta(minutes=4)).breached == [kept.pk]
    kept.refresh_from_db()
    assert clock_meet(clock_id=kept.pk, now=kept.due_at - timedelta(minutes=1)).state == ClockState.MET

    Notification.objects.all().delete()  # whatever the sweep queued: the figures below are exact
    _notification(Channel.EMAIL, Status.PENDING, SCRAPE_AT - timedelta(seconds=300), 1)
    _notification(Channel.EMAIL, Status.PENDING, SCRAPE_AT - timedelta(seconds=60), 2)
    _notification(Channel.SMS, Status.PENDING, SCRAPE_AT - timedelta(seconds=120), 3)
    _notification(Channel.EMAIL, Status.SENT, SCRAPE_AT - timedelta(hours=5), 4)
    _notification(Channel.FAX, Status.FAILED, SCRAPE_AT - timedelta(hours=6), 5)

    heartbeat_beat(name="sweep", duration_ms=12.5, iterations=40, detail={"breached": 2, "warned": 1},
                   now=SCRAPE_AT - timedelta(seconds=3))
    heartbeat_beat(name="sender", duration_ms=250.0, iterations=7, detail={}, now=SCRAPE_AT - timedelta(seconds=1.5))
    heartbeat_beat(name="probe", duration_ms=1800.0, iterations=3, detail={"targets": 5, "note": "x"},
                   now=SCRAPE_AT - timedelta(seconds=20))


@pytest.mark.django_db
def test_scrape_reports_clocks_breaches_notifications_and_loops(client, world):
    with time_machine.travel(SCRAPE_AT, tick=False):
        s = _samples(_scrape(client))

    assert _v(s, "slaportal_up") == 1
    assert ("slaportal_build_info", frozenset({("django", __import__("django").get_version()),
            ("python", __import__("platform").python_version()),
            ("database", connection.vendor)})) in s

    assert _v(s, "slaportal_sla_clocks", policy="C8", state=ClockState.RUNNING) == 1
    assert _v(s, "slaportal_sla_clocks", policy="C8", state=ClockState.PAUSED) == 1
    assert _v(s, "slaportal_sla_clocks", policy="C8", state=ClockState.BREACHED) == 1
    assert _v(s, "slaportal_sla_clocks", policy="C8", state=ClockState.MET) == 1
    assert _v(s, "slaportal_sla_clocks", policy="C5", state=ClockState.MET) == 1
    assert _v(s, "slaportal_sla_clocks", policy="C5", state=ClockState.RUNNING) == 0
    assert _v(s, "slaportal_sla_breaches_total", policy="C8") == 2
    assert _v(s, "slaportal_sla_breaches_total", policy="C5") == 0
    # Every policy has a breach series (rate() needs it to exist before the first breach); a
    # policy measured over a period has no clocks, so no clock series.
    codes = set(SlaPolicy.objects.values_list("code", flat=True))
    assert {dict(k[1])["policy"] for k in s if k[0] == "slaportal_sla_breaches_total"} == codes
    measured = SlaPolicy.objects.filter(kind=PolicyKind.MEASURE).values_list("code", flat=True)
    assert measured
    assert not [k for k in s if k[0] == "slaportal_sla_clocks" and dict(k[1])["policy"] in measured]

    assert _v(s, "slaportal_notifications", channel="email", status="pending") == 2
    assert _v(s, "slaportal_notifications", channel="sms", status="pending") == 1
    assert _v(s, "slaportal_notifications", channel="email", status="sent") == 1
    assert _v(s, "slaportal_notifications", channel="fax", status="failed") == 1
    assert _v(s, "slaportal_notifications", channel="pager", status="sent") == 0
    assert _v(s, "slaportal_notifications_oldest_pending_age_seconds") == 300

    assert _v(s, "slaportal_loop_lag_seconds", loop="sweep") == 3
    assert _v(s, "slaportal_loop_last_duration_seconds", loop="sweep") == 0.0125
    assert _v(s, "slaportal_loop_iterations", loop="sweep") == 40
    assert _v(s, "slaportal_loop_last_iteration", loop="sweep", figure="breached") == 2
    assert _v(s, "slaportal_loop_last_iteration", loop="sweep", figure="warned") == 1
    assert _v(s, "slaportal_loop_lag_seconds", loop="sender") == 1.5
    assert _v(s, "slaportal_loop_last_duration_seconds", loop="sender") == 0.25
    assert _v(s, "slaportal_loop_lag_seconds", loop="probe") == 20
    assert _v(s, "slaportal_loop_last_duration_seconds", loop="probe") == 1.8
    assert _v(s, "slaportal_loop_last_iteration", loop="probe", figure="targets") == 5
    assert ("slaportal_loop_last_iteration", frozenset({("loop", "probe"), ("figure", "note")})) not in s
    assert _v(s, "slaportal_loop_last_beat_timestamp_seconds", loop="probe") == (
        SCRAPE_AT - timedelta(seconds=20)).timestamp()


@pytest.mark.django_db
def test_a_loop_that_never_reported_is_infinitely_late_and_nothing_pending_is_age_zero(client):
    with time_machine.travel(SCRAPE_AT, tick=False):
        heartbeat_beat(name="sweep", duration_ms=1.0, now=SCRAPE_AT)
        s = _samples(_scrape(client))
    assert _v(s, "slaportal_loop_lag_seconds", loop="sweep") == 0
    assert math.isinf(_v(s, "slaportal_loop_lag_seconds", loop="sender"))
    assert math.isinf(_v(s, "slaportal_loop_lag_seconds", loop="probe"))
    assert ("slaportal_loop_last_duration_seconds", frozenset({("loop", "probe")})) not in s
    assert _v(s, "slaportal_notifications_oldest_pending_age_seconds") == 0
    assert _v(s, "slaportal_notifications", channel="email", status="pending") == 0


def _count_queries(fn) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_query_count_is_constant(client, world):
    def collect() -> None:
        list(PortalCollector().collect())

    assert _count_queries(collect) == 4  # policies+breaches, clocks, heartbeats, notifications
    small = _count_queries(lambda: _scrape(client))
    contract = f.ContractFactory()
    for _ in range(5):
        clock_start(subject=f.ServiceFactory(contract=contract), policy_code="C5", contract=contract, now=T0)
    for n in range(100, 130):
        _notification(Channel.SMS if n % 2 else Channel.PAGER, Status.SENT, T0, n)
    heartbeat_beat(name="another-loop", duration_ms=1.0, now=T0)
    assert _count_queries(collect) == 4
    assert _count_queries(lambda: _scrape(client)) == small


@pytest.mark.django_db
def test_a_database_failure_is_reported_as_up_zero(client):
    # A real failure, no mock: the heartbeat table is gone (renamed inside the test's transaction,
    # which is rolled back afterwards).
    table = LoopHeartbeat._meta.db_table
    with connection.cursor() as cur:
        cur.execute(f"ALTER TABLE {table} RENAME TO {table}_gone")
    s = _samples(_scrape(client))
    assert _v(s, "slaportal_up") == 0
    assert not [k for k in s if k[0].startswith(("slaportal_sla_", "slaportal_loop_", "slaportal_notif"))]
    assert ("slaportal_scrape_collect_seconds", frozenset()) in s


# --- access ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("addr", ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"])
def test_loopback_clients_may_read_without_a_token(addr):
    resp = metrics(RequestFactory().get("/metrics", REMOTE_ADDR=addr))
    assert resp.status_code == 200
    assert b"slaportal_up 1.0" in resp.content


@pytest.mark.django_db
@pytest.mark.parametrize("addr", ["10.0.0.5", "192.168.1.20", "2001:db8::1", "::ffff:10.0.0.5", "", "junk"])
def test_other_clients_are_refused_without_a_token(addr):
    resp = metrics(RequestFactory().get("/metrics", REMOTE_ADDR=addr))
    assert resp.status_code == 403
    assert b"slaportal_" not in resp.content


@pytest.mark.django_db
def test_a_request_relayed_by_a_local_proxy_is_not_a_local_client():
    req = RequestFactory().get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert metrics(req).status_code == 403


@pytest.mark.django_db
@override_settings(METRICS_TOKEN="s3cret-token")
def test_with_a_token_every_client_must_send_it(client):
    rf = RequestFactory()
    ok = metrics(rf.get("/metrics", REMOTE_ADDR="10.0.0.5", HTTP_AUTHORIZATION="Bearer s3cret-token"))
    assert ok.status_code == 200 and b"slaportal_up 1.0" in ok.content
    assert metrics(rf.get("/metrics", REMOTE_ADDR="10.0.0.5",
                          HTTP_AUTHORIZATION="bearer s3cret-token")).status_code == 200
    for header in [None, "Bearer wrong", "Bearer s3cret-token-longer", "Basic s3cret-token", "s3cret-token"]:
        extra = {"HTTP_AUTHORIZATION": header} if header else {}
        for addr in ("10.0.0.5", "127.0.0.1"):  # loopback is no exemption once a token is set
            resp = metrics(rf.get("/metrics", REMOTE_ADDR=addr, **extra))
            assert resp.status_code == 401, (header, addr)
            assert resp["WWW-Authenticate"].startswith("Bearer")
            assert b"slaportal_" not in resp.content
    # Through the whole stack too (URL, middleware): the test client is 127.0.0.1.
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-token").status_code == 200


@pytest.mark.django_db
def test_only_get_and_head(client):
    assert client.post("/metrics").status_code == 405
    assert client.head("/metrics").status_code == 200
    resp = client.get("/metrics")
    assert "no-cache" in resp["Cache-Control"] or "no-store" in resp["Cache-Control"]
