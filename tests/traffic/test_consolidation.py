"""MRTG-style consolidation: a fixed number of rows per port however long the poller runs,
and the coarser rings hold the average and maximum of their buckets."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests import factories as f
from traffic.choices import RINGS, ROWS_PER_PORT
from traffic.models import SwitchPort, TrafficDay, TrafficSlot
from traffic.services import RETAIN_DAYS, Sample, days_prune, samples_store

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 1, 1, 0, 0, tzinfo=TZ)


def _port() -> SwitchPort:
    service = f.ServiceFactory()
    return SwitchPort.objects.create(service=service, device_address="192.0.2.1", interface="1")


@pytest.mark.django_db
def test_rows_per_port_stay_bounded_however_long_it_runs():
    port, other = _port(), _port()
    at = T0
    counts = []
    # 3 days of 5-minute samples, then 2-hourly for 70 days, then daily for 800 days: every
    # ring goes round at least once.
    for step, n in ((timedelta(minutes=5), 3 * 288), (timedelta(hours=2), 70 * 12), (timedelta(days=1), 800)):
        for _ in range(n):
            at += step
            samples_store(samples=[Sample(port_id=port.pk, at=at, in_bps=1e6, out_bps=2e6),
                                   Sample(port_id=other.pk, at=at, in_bps=1.0, out_bps=1.0)])
        days_prune(now=at)
        counts.append(TrafficSlot.objects.filter(port=port).count())
    for res, n in RINGS:
        assert TrafficSlot.objects.filter(port=port, resolution=res).count() <= n
    assert TrafficSlot.objects.filter(port=port, resolution=300).count() == 576  # a full ring
    assert counts[-1] <= ROWS_PER_PORT
    assert TrafficDay.objects.filter(port=port).count() <= RETAIN_DAYS + 1
    # The newest data is there (slots overwritten in place, not lost).
    newest = TrafficSlot.objects.filter(port=port, resolution=86400).order_by("-start_at").first()
    assert newest is not None and newest.start_at.date() >= (at - timedelta(days=1)).date()


@pytest.mark.django_db
def test_a_30_minute_slot_holds_the_average_and_maximum_of_its_samples():
    port = _port()
    values = [1e6, 2e6, 3e6, 4e6, 5e6, 9e6]
    for n, v in enumerate(values):
        samples_store(samples=[Sample(port_id=port.pk, at=T0 + timedelta(minutes=5 * n), in_bps=v, out_bps=v / 2)])
    row = TrafficSlot.objects.get(port=port, resolution=1800, start_at=T0)
    assert row.samples == 6
    assert row.in_avg == pytest.approx(sum(values) / 6)
    assert row.in_max == pytest.approx(9e6) and row.out_max == pytest.approx(4.5e6)
