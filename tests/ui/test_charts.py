"""The charts' figures (json_script data drawn by static/js/charts.js): the downtime page's
availability per month and outage timeline, a target's hourly response times and uptime strip, the
breach history's breaches per promise and month. Each is checked on a small known dataset, scoped
to the tenant, and read with a number of queries that does not grow with the rows."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from incidents.choices import Cause, OutageKind, OutageSource
from incidents.models import Outage
from incidents.selectors import availability_chart
from monitoring.models import ProbeHourly
from monitoring.probes import ProbeResult
from monitoring.selectors import target_hours
from monitoring.services import probe_results_record, target_save
from sla.breaches import breach_chart
from sla.services import clocks_sweep
from tests import factories as f
from tests.ui.conftest import login, start_clock

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
LATER = datetime(2026, 6, 1, tzinfo=TZ)


def json_block(html: str, block_id: str) -> Any:
    m = re.search(rf'<script id="{re.escape(block_id)}" type="application/json">(.*?)</script>', html, re.S)
    assert m, f"no json_script block {block_id}"
    return json.loads(m.group(1))


def outage(service: Any, start: datetime, minutes: int, *, cause: str = Cause.PROVIDER,
           kind: str = OutageKind.NETWORK, target: Any = None) -> Outage:
    return Outage.objects.create(service=service, kind=kind, source=OutageSource.MANUAL, started_at=start,
                                 ended_at=start + timedelta(minutes=minutes), cause=cause, created_at=start,
                                 reported_at=start, target=target)


@pytest.fixture
def service_a(customer_a: Any) -> Any:
    # ContractFactory: signed and started 2026-01-05.
    return f.ServiceFactory(contract=f.ContractFactory(customer=customer_a))


# --- Availability per month -----------------------------------------------------------------------

def test_a_104_minute_outage_is_a_red_bar_below_the_promised_level(service_a: Any) -> None:
    outage(service_a, datetime(2026, 3, 10, 9, 0, tzinfo=TZ), 104)
    with translation.override("zh-hans"):
        chart = availability_chart(service=service_a, year=2026, month=3, now=LATER)
    d = chart["data"]
    assert chart["policy"] == "C1"
    assert d["labels"][0] == "2025-04" and d["labels"][-1] == "2026-03" and len(d["labels"]) == 12
    # Before the contract started there is nothing to show.
    assert d["values"][:9] == [None] * 9 and d["bad"][:9] == [None] * 9
    # 6240 s of a 31-day month: 100 − 0.23297 % = 99.7670 % (rounded down), against C1's
    # "< 44 min" = 99.9014 % of that month; January and February were whole.
    assert d["values"][9:] == [100.0, 100.0, 99.767]
    assert d["targets"][9:] == [99.9014, 99.8908, 99.9014]
    assert d["bad"][9:] == [False, False, True]
    assert "1 小时 44 分钟" in d["titles"][-1]
    assert chart["rows"][-1]["value_text"] == "99.7670 %"


def test_the_promised_level_follows_the_contract_override(service_a: Any) -> None:
    from sla.models import ContractPolicy, SlaPolicy

    ContractPolicy.objects.create(contract=service_a.contract, policy=SlaPolicy.objects.get(code="C1"),
                                  threshold=120)
    outage(service_a, datetime(2026, 3, 10, 9, 0, tzinfo=TZ), 104)
    d = availability_chart(service=service_a, year=2026, month=3, now=LATER)["data"]
    assert d["targets"][-1] == 99.7311  # 120 min of 44,640
    assert d["bad"][-1] is False


def test_downtime_page_renders_both_charts_with_the_timeline_segment(alice: Any, service_a: Any) -> None:
    start = datetime(2026, 3, 10, 9, 0, tzinfo=TZ)
    outage(service_a, start, 104)
    outage(service_a, datetime(2026, 3, 20, 2, 0, tzinfo=TZ), 30, cause=Cause.AGREED_MAINTENANCE)
    outage(service_a, datetime(2026, 3, 21, 2, 0, tzinfo=TZ), 10, kind=OutageKind.POWER,
           cause=Cause.CUSTOMER_EQUIPMENT)
    with translation.override("zh-hans"):
        html = login(alice).get(f"/incidents/services/{service_a.pk}/downtime/?month=2026-03").content.decode()
    assert 'data-chart="availability"' in html and 'data-chart="timeline"' in html
    assert "js/charts.js" in html and "cdn" not in html.lower()
    bars = json_block(html, "availability-data")
    assert bars["values"][-1] == 99.767 and bars["bad"][-1] is True
    tl = json_block(html, "timeline-data")
    assert tl["start"] == int(datetime(2026, 3, 1, tzinfo=TZ).timestamp())
    assert tl["end"] == int(datetime(2026, 4, 1, tzinfo=TZ).timestamp())
    first, planned, power = tl["segments"]
    assert (first["s"], first["e"]) == (int(start.timestamp()), int((start + timedelta(minutes=104)).timestamp()))
    assert first["cls"] == "counted" and first["lane"] == 0
    assert "2026-03-10 09:00" in first["title"] and "1 小时 44 分钟" in first["title"]
    assert planned["cls"] == "planned"
    assert power["cls"] == "excluded" and power["lane"] == 1
    # The figures are also a table (the chart's text fallback).
    assert "99.7670 %" in html


def test_another_customers_service_is_404(charlie: Any, service_a: Any) -> None:
    assert login(charlie).get(f"/incidents/services/{service_a.pk}/downtime/").status_code == 404


def test_downtime_page_queries_do_not_grow_with_outages_or_months(alice: Any, service_a: Any) -> None:
    c = login(alice)
    url = f"/incidents/services/{service_a.pk}/downtime/?month=2026-05"
    outage(service_a, datetime(2026, 5, 2, 9, 0, tzinfo=TZ), 10)
    c.get(url)
    with CaptureQueriesContext(connection) as few:
        assert c.get(url).status_code == 200
    for month in (1, 2, 3, 4, 5):
        for day in (3, 4, 5):
            outage(service_a, datetime(2026, month, day, 9, 0, tzinfo=TZ), 20)
    with CaptureQueriesContext(connection) as many:
        assert c.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"][:100] for q in many.captured_queries]


# --- A target's response times and hourly uptime --------------------------------------------------

@pytest.fixture
def target(customer_a: Any, engineer: Any, service_a: Any) -> Any:
    with time_machine.travel(datetime(2026, 3, 1, tzinfo=TZ), tick=False):
        return target_save(service=service_a, data={"kind": "device", "host": "10.0.0.1", "port": 22},
                           actor=engineer)


NOW = datetime(2026, 3, 10, 12, 30, tzinfo=TZ)


def test_hourly_cells_carry_latency_and_uptime(target: Any) -> None:
    h = NOW.replace(minute=0)
    ProbeHourly.objects.create(target=target, hour=h - timedelta(hours=2), ok_count=12, fail_count=0,
                               ok_total_ms=12 * 40, ok_max_ms=90)
    ProbeHourly.objects.create(target=target, hour=h - timedelta(hours=1), ok_count=10, fail_count=2,
                               ok_total_ms=10 * 55, ok_max_ms=300)
    outage(target.service, h - timedelta(hours=1, minutes=-30), 15, target=target)  # 11:30–11:45
    cells = target_hours(target=target, hours=24, now=NOW)
    assert len(cells) == 24 and cells[-1].start == h and cells[0].start == h - timedelta(hours=23)
    two, one, current = cells[-3:]
    assert (two.avg_ms, two.max_ms, two.uptime, two.level) == (40, 90, 100, "full")
    # 10 of 12 probes (83.33 %) is lower than the outage's 45 of 60 minutes (75 %): 75 % shown.
    assert (one.avg_ms, one.max_ms, one.outage_seconds, str(one.uptime), one.level) == (55, 300, 900, "75.00", "bad")
    assert current.uptime is None and current.level == "nodata" and current.avg_ms is None


def test_probe_results_are_rolled_up_per_hour(target: Any) -> None:
    t0 = datetime(2026, 3, 10, 12, 5, tzinfo=TZ)
    probe_results_record(results=[ProbeResult(id=target.pk, ok=True, method="tcp", detail="", latency_ms=30)], now=t0)
    probe_results_record(results=[ProbeResult(id=target.pk, ok=True, method="tcp", detail="", latency_ms=50)],
                         now=t0 + timedelta(minutes=5))
    probe_results_record(results=[ProbeResult(id=target.pk, ok=False, method="tcp", detail="", latency_ms=10000)],
                         now=t0 + timedelta(minutes=10))
    row = ProbeHourly.objects.get(target=target)
    assert row.hour == datetime(2026, 3, 10, 12, tzinfo=TZ)
    assert (row.ok_count, row.fail_count, row.ok_total_ms, row.ok_max_ms) == (2, 1, 80, 50)
    # Rows older than the 7-day chart (and a day's margin) are dropped by the rollup.
    ProbeHourly.objects.create(target=target, hour=datetime(2026, 3, 1, tzinfo=TZ), ok_count=1)
    probe_results_record(results=[ProbeResult(id=target.pk, ok=True, method="tcp", detail="", latency_ms=30)],
                         now=t0 + timedelta(minutes=15))
    assert list(ProbeHourly.objects.values_list("hour", flat=True)) == [datetime(2026, 3, 10, 12, tzinfo=TZ)]


def test_target_page_has_the_chart_data_and_the_strip(alice: Any, charlie: Any, target: Any) -> None:
    h = NOW.replace(minute=0)
    ProbeHourly.objects.create(target=target, hour=h, ok_count=6, fail_count=0, ok_total_ms=6 * 42, ok_max_ms=60)
    c = login(alice)
    with time_machine.travel(NOW, tick=False):
        html = c.get(f"/monitoring/{target.pk}/").content.decode()
        week = c.get(f"/monitoring/{target.pk}/?range=7d").content.decode()
        bad = c.get(f"/monitoring/{target.pk}/?range=year")
    d = json_block(html, "latency-data")
    assert len(d["t"]) == 24 and d["t"][-1] == int(h.timestamp())
    assert d["avg"][-1] == 42 and d["max"][-1] == 60 and d["avg"][0] is None
    assert html.count('class="u-') >= 24 and 'id="uptime-hours"' in html
    assert "vendor/uplot/uPlot.iife.min.js" in html and "js/charts.js" in html
    assert len(json_block(week, "latency-data")["t"]) == 24 * 7
    # An unknown range is ignored with a message, never an error.
    assert bad.status_code == 200 and len(json_block(bad.content.decode(), "latency-data")["t"]) == 24
    assert login(charlie).get(f"/monitoring/{target.pk}/").status_code == 404


def test_target_page_queries_do_not_grow_with_hours_or_outages(engineer: Any, target: Any) -> None:
    c = login(engineer)
    url = f"/monitoring/{target.pk}/?range=7d"
    with time_machine.travel(NOW, tick=False):
        c.get(url)
        with CaptureQueriesContext(connection) as few:
            assert c.get(url).status_code == 200
        h = NOW.replace(minute=0)
        ProbeHourly.objects.bulk_create([ProbeHourly(target=target, hour=h - timedelta(hours=i), ok_count=1,
                                                     ok_total_ms=20, ok_max_ms=20) for i in range(100)])
        for i in range(5):
            outage(target.service, h - timedelta(hours=10 * i + 3), 15, target=target)
        with CaptureQueriesContext(connection) as many:
            assert c.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"][:100] for q in many.captured_queries]


# --- Breaches per promise and month ---------------------------------------------------------------

def test_breaches_per_promise_and_month(manager: Any, customer_a: Any, charlie: Any) -> None:
    contract = f.ContractFactory(customer=customer_a)
    other = f.ContractFactory(customer=f.CustomerFactory())
    for hours in (30, 40):
        start_clock(contract=contract, hours_ago=hours)        # C8, 24 h: breached
    start_clock(contract=other, hours_ago=30, policy="C5")     # 30 min: breached
    start_clock(contract=contract, hours_ago=1)                # on track
    clocks_sweep()
    with translation.override("zh-hans"):
        d = breach_chart(user=manager)
    assert len(d["labels"]) == 12
    by_code = {s["code"]: s for s in d["series"]}
    assert set(by_code) == {"C5", "C8"}
    assert sum(by_code["C8"]["values"]) == 2 and sum(by_code["C5"]["values"]) == 1
    assert d["totals"][-1] + d["totals"][-2] == 3  # breached within the last two days
    assert by_code["C8"]["name"].startswith("C8 ")
    only_a = breach_chart(user=manager, customer_id=customer_a.pk)
    assert [s["code"] for s in only_a["series"]] == ["C8"]
    html = login(manager).get("/sla/breaches/").content.decode()
    assert 'data-chart="breaches"' in html
    assert {s["code"] for s in json_block(html, "breach-chart-data")["series"]} == {"C5", "C8"}
    # The breach history is a staff page.
    assert login(charlie).get("/sla/breaches/").status_code == 403
