"""Latency samples become hourly aggregates: sums, maximum, histogram, exclusions; a second flush
adds to the same rows."""

from datetime import UTC, datetime

import pytest

from mailservice.aggregates import LatencyAccumulator, bucket_index
from mailservice.models import LatencyHourly
from tests.factories import MailDomainFactory

pytestmark = pytest.mark.django_db


def test_bucket_edges_are_inclusive_and_over_an_hour_is_the_last() -> None:
    assert bucket_index(0) == 0
    assert bucket_index(1_000) == 0
    assert bucket_index(1_001) == 1
    assert bucket_index(60_000) == 4
    assert bucket_index(3_600_000) == 7
    assert bucket_index(3_600_001) == 8


def test_flush_sums_per_hour_and_adds_on_the_next_flush() -> None:
    d = MailDomainFactory()
    t = datetime(2026, 11, 3, 10, 15, tzinfo=UTC).timestamp()
    acc = LatencyAccumulator()
    acc.add(domain_id=d.pk, at=t, direction="send", source="log", latency_ms=500)
    acc.add(domain_id=d.pk, at=t + 60, direction="send", source="log", latency_ms=4_000_000)
    acc.add(domain_id=d.pk, at=t + 120, direction="send", source="log", latency_ms=9, excluded=True)
    acc.add(domain_id=d.pk, at=t + 3600, direction="send", source="log", latency_ms=2_000)
    assert acc.flush() == 2
    assert len(acc) == 0
    acc.add(domain_id=d.pk, at=t, direction="send", source="log", latency_ms=70_000)
    acc.flush()
    first = LatencyHourly.objects.get(domain=d, hour=datetime(2026, 11, 3, 10, tzinfo=UTC))
    assert (first.count, first.total_ms, first.max_ms, first.excluded) == (3, 4_070_500, 4_000_000, 1)
    assert (first.le_1s, first.le_5m, first.gt_1h) == (1, 1, 1)
    second = LatencyHourly.objects.get(domain=d, hour=datetime(2026, 11, 3, 11, tzinfo=UTC))
    assert (second.count, second.max_ms, second.le_5s) == (1, 2_000, 1)
