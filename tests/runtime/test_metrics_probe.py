"""The prober records its cycle as the "probe" loop heartbeat (at most one write per second per
process), and /metrics shows the cycle's duration."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from monitoring import tasks
from monitoring.models import Target
from monitoring.services import target_save
from runtime.models import LoopHeartbeat
from tests import factories as f
from tests.monitoring.servers import BannerServer


@pytest.fixture
def fresh_process(monkeypatch):
    """The task's per-process counters as in a worker process that has just started."""
    monkeypatch.setattr(tasks, "_cycles", 0)
    monkeypatch.setattr(tasks, "_last_beat", None)


@pytest.fixture
def banner():
    s = BannerServer().start()
    yield s
    s.stop()


def _due_targets(engineer, port: int, n: int) -> None:  # type: ignore[no-untyped-def]
    service = f.ServiceFactory(engineer=engineer)
    for i in range(n):
        target_save(service=service, actor=engineer, data={
            "kind": "smtp", "name": f"banner {i}", "host": "127.0.0.1", "port": port, "timeout_seconds": 2.0})
    Target.objects.update(next_due_at=timezone.now() - timedelta(seconds=1))


@pytest.mark.django_db
def test_each_cycle_beats_at_most_once_a_second(engineer, banner, fresh_process):
    _due_targets(engineer, banner.port, 2)
    before = timezone.now()
    assert tasks.probe_due()["probed"] == 2
    hb = LoopHeartbeat.objects.get(name="probe")
    assert hb.detail == {"targets": 2}
    assert hb.iterations == 1
    assert 0 < hb.last_duration_ms < 10_000
    assert hb.beat_at >= before

    # The next cycle within the second: counted, not written.
    assert tasks.probe_due() == {}
    again = LoopHeartbeat.objects.get(name="probe")
    assert (again.beat_at, again.iterations, again.detail) == (hb.beat_at, 1, {"targets": 2})

    time.sleep(1.05)
    assert tasks.probe_due() == {}
    hb = LoopHeartbeat.objects.get(name="probe")
    assert hb.iterations == 3 and hb.detail == {"targets": 0} and hb.beat_at > again.beat_at


@pytest.mark.django_db
def test_metrics_show_the_probe_cycle(client, engineer, banner, fresh_process):
    _due_targets(engineer, banner.port, 1)
    tasks.probe_due()
    hb = LoopHeartbeat.objects.get(name="probe")
    text = client.get("/metrics").content.decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for fam in text_string_to_metric_families(text) for s in fam.samples}
    assert samples[("slaportal_loop_last_duration_seconds", (("loop", "probe"),))] == pytest.approx(
        hb.last_duration_ms / 1000)
    assert samples[("slaportal_loop_last_iteration", (("figure", "targets"), ("loop", "probe")))] == 1
    assert 0 <= samples[("slaportal_loop_lag_seconds", (("loop", "probe"),))] < 60
