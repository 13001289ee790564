"""/metrics: the portal's figures in the Prometheus text format, read from the database when
Prometheus scrapes. A fresh CollectorRegistry holds one PortalCollector per request, so nothing is
kept between requests or shared between gunicorn workers: every worker answers with the same
numbers, because they all come from the rows.

Four aggregate queries per scrape, whatever the number of rows (tests/runtime/test_metrics.py
asserts it): clocks by policy and state, breached clocks by policy, notifications by channel and
status, and the loop heartbeats.

Series (all gauges unless noted):

- slaportal_up                                  1 when the database answered the queries below
- slaportal_build_info{django,python,database}  constant 1
- slaportal_scrape_collect_seconds              time spent collecting this scrape
- slaportal_sla_clocks{policy,state}            clocks per policy code and state (every state of every
                                                deadline policy, 0 included)
- slaportal_sla_breaches_total{policy}          counter: clocks that ever breached (breached_at set)
- slaportal_loop_lag_seconds{loop}              now − the loop's last completed iteration; +Inf for a
                                                loop (sweep, sender, probe) that never reported
- slaportal_loop_last_duration_seconds{loop}    how long the last iteration took (for the prober: the
                                                probe cycle duration)
- slaportal_loop_last_beat_timestamp_seconds{loop}
- slaportal_loop_iterations{loop}               iterations counted by the process that beat last
- slaportal_loop_last_iteration{loop,figure}    the numbers the last iteration reported (e.g. the
                                                sweep's breached/warned, the prober's targets)
- slaportal_notifications{channel,status}       notification rows (every channel × status, 0 included)
- slaportal_notifications_oldest_pending_age_seconds   age of the oldest pending row, 0 when none
"""

from __future__ import annotations

import logging
import math
import platform
import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import django
from django.db import connection
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.registry import CollectorRegistry

logger = logging.getLogger(__name__)

# Loops that must be running in every deployment: without a heartbeat their lag is +Inf, so the
# one alert rule (`slaportal_loop_lag_seconds > N`) also fires for a loop that never started.
KNOWN_LOOPS = ("sweep", "sender", "probe")
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
_FIGURE_RE = re.compile(r"[^a-zA-Z0-9_]")
_MAX_FIGURES = 20  # per loop: the detail JSON is free-form, the label set must stay small


class PortalCollector:
    """Reads the figures from the database at collect() time (see the module docstring)."""

    def __init__(self, *, now: datetime | None = None) -> None:
        self._now = now

    def collect(self) -> Iterator[Metric]:
        started = time.monotonic()
        now = self._now or timezone.now()
        yield InfoMetricFamily("slaportal_build", "Versions the portal runs on.", value={
            "django": django.get_version(), "python": platform.python_version(),
            "database": connection.vendor})
        try:
            families = [*self._clocks(), *self._loops(now), *self._notifications(now)]
            up = 1.0
        except Exception:  # a scrape must still say that the database is the problem
            logger.exception("collecting /metrics from the database failed")
            families, up = [], 0.0
        yield from families
        yield GaugeMetricFamily("slaportal_up", "1 when the database answered the metrics queries.",
                                value=up)
        yield GaugeMetricFamily("slaportal_scrape_collect_seconds",
                                "Time spent collecting this scrape.", value=time.monotonic() - started)

    def _clocks(self) -> list[Metric]:
        from sla.choices import ClockState, PolicyKind
        from sla.models import Clock, SlaPolicy

        policies = list(SlaPolicy.objects.order_by("code").values("code", "kind").annotate(
            breached=Count("clocks", filter=Q(clocks__breached_at__isnull=False))))
        counts: dict[tuple[str, str], int] = {
            (code, state): 0 for code in (p["code"] for p in policies if p["kind"] == PolicyKind.DEADLINE)
            for state in ClockState.values}
        for row in Clock.objects.order_by().values("policy__code", "state").annotate(n=Count("id")):
            counts[(row["policy__code"], row["state"])] = row["n"]
        clocks = GaugeMetricFamily("slaportal_sla_clocks", "SLA clocks by policy code and state.",
                                   labels=["policy", "state"])
        for (code, state), n in sorted(counts.items()):
            clocks.add_metric([code, state], n)
        breaches = CounterMetricFamily(
            "slaportal_sla_breaches", "SLA clocks that breached (breached_at set), by policy code.",
            labels=["policy"])
        for p in policies:
            breaches.add_metric([p["code"]], p["breached"])
        return [clocks, breaches]

    def _loops(self, now: datetime) -> list[Metric]:
        from runtime.selectors import heartbeat_lags

        lags = heartbeat_lags(now=now)
        lag = GaugeMetricFamily("slaportal_loop_lag_seconds",
                                "Seconds since the loop last completed an iteration (+Inf: never).",
                                labels=["loop"])
        duration = GaugeMetricFamily("slaportal_loop_last_duration_seconds",
                                     "Duration of the loop's last iteration.", labels=["loop"])
        beat = GaugeMetricFamily("slaportal_loop_last_beat_timestamp_seconds",
                                 "When the loop last completed an iteration (Unix time).", labels=["loop"])
        iterations = GaugeMetricFamily("slaportal_loop_iterations",
                                       "Iterations counted by the process that reported last.",
                                       labels=["loop"])
        figures = GaugeMetricFamily("slaportal_loop_last_iteration",
                                    "Figures the loop's last iteration reported.", labels=["loop", "figure"])
        for name in sorted(set(KNOWN_LOOPS) | set(lags)):
            if name not in lags:
                lag.add_metric([name], math.inf)
                continue
            hb, seconds = lags[name]
            lag.add_metric([name], seconds)
            duration.add_metric([name], hb.last_duration_ms / 1000.0)
            beat.add_metric([name], hb.beat_at.timestamp())
            iterations.add_metric([name], hb.iterations)
            for key, value in _numeric_figures(hb.detail):
                figures.add_metric([name, key], value)
        return [lag, duration, beat, iterations, figures]

    def _notifications(self, now: datetime) -> list[Metric]:
        from notifications.choices import Channel, Status
        from notifications.models import Notification

        counts = {(c, s): 0 for c in Channel.values for s in Status.values}
        oldest_pending: datetime | None = None
        rows = (Notification.objects.order_by().values("channel", "status")
                .annotate(n=Count("id"), oldest=Min("created_at")))
        for row in rows:
            counts[(row["channel"], row["status"])] = row["n"]
            if row["status"] == Status.PENDING and row["oldest"] is not None:
                if oldest_pending is None or row["oldest"] < oldest_pending:
                    oldest_pending = row["oldest"]
        family = GaugeMetricFamily("slaportal_notifications", "Notification rows by channel and status.",
                                   labels=["channel", "status"])
        for (channel, status), n in sorted(counts.items()):
            family.add_metric([channel, status], n)
        age = 0.0 if oldest_pending is None else max(0.0, (now - oldest_pending).total_seconds())
        return [family, GaugeMetricFamily(
            "slaportal_notifications_oldest_pending_age_seconds",
            "Age of the oldest notification still pending (0 when none is).", value=age)]


def _numeric_figures(detail: Any) -> list[tuple[str, float]]:
    if not isinstance(detail, dict):
        return []
    out: dict[str, float] = {}
    for key, value in detail.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        # Two keys that sanitise alike would be a duplicate series, which fails the whole scrape.
        out.setdefault(_FIGURE_RE.sub("_", str(key))[:60], float(value))
    return sorted(out.items())[:_MAX_FIGURES]


def metrics_render(*, now: datetime | None = None) -> bytes:
    """The text exposition of a fresh registry holding one PortalCollector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PortalCollector(now=now))
    return generate_latest(registry)
