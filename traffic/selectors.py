"""Reads of switch ports and their traffic, scoped by tenant: a customer sees the ports of its
own services, staff see all, anything else is a 404. The graph data reads one ring (at most a
few hundred rows) and the month's day series, so a year's graph stays far under 50 ms."""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from customers.selectors import scope_for_user

from .choices import GRAPH_RINGS
from .models import SAMPLE, SwitchPort, TrafficDay, TrafficSlot


def switchport_list(*, user: Any, service_id: int | None = None) -> models.QuerySet[SwitchPort]:
    qs = scope_for_user(SwitchPort.objects.select_related("service", "customer"), user)
    if service_id:
        qs = qs.filter(service_id=service_id)
    return qs


def switchport_list_for_customer(*, customer_id: int) -> models.QuerySet[SwitchPort]:
    """The MRTG view's scope: one customer's ports, whoever signed in with its MRTG secret."""
    return SwitchPort.objects.select_related("service", "customer").filter(customer_id=customer_id)


def percentile95(values: list[float]) -> float | None:
    """The burstable-billing 95th percentile: sort the samples, discard the top 5 % (the
    floor of 5 % of their count), take the highest remaining. None without samples."""
    if not values:
        return None
    ordered = sorted(values)
    drop = len(ordered) * 5 // 100
    return ordered[len(ordered) - drop - 1]


def day_series_read(*, port_id: int, first: date, last: date) -> list[tuple[float, float]]:
    """The (in, out) 5-minute samples of a port between two local days, one per slot (a slot
    written twice keeps its last value)."""
    out: list[tuple[float, float]] = []
    for data in TrafficDay.objects.filter(port_id=port_id, day__gte=first, day__lte=last) \
            .order_by("day").values_list("data", flat=True):
        per_slot: dict[int, tuple[float, float]] = {}
        for slot, i, o in SAMPLE.iter_unpack(bytes(data)):
            per_slot[slot] = (i, o)
        out.extend(per_slot.values())
    return out


def month_p95(*, port_id: int, year: int, month: int) -> dict[str, Any]:
    """The 95th percentile of in and of out over one local calendar month's 5-minute samples."""
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    series = day_series_read(port_id=port_id, first=first, last=last)
    p_in = percentile95([i for i, _o in series])
    p_out = percentile95([o for _i, o in series])
    return {"month": f"{year:04d}-{month:02d}", "samples": len(series), "in": p_in, "out": p_out,
            "billable": max(p_in or 0.0, p_out or 0.0) if series else None}


def traffic_graph(*, port: SwitchPort, graph: str, now: datetime | None = None) -> dict[str, Any]:
    """One graph's data: time (epoch seconds), average and maximum in/out bit/s per slot of the
    ring for that range, and the figures shown under it (max, average, current, the month's
    95th percentile)."""
    now = now or timezone.now()
    res, span = GRAPH_RINGS[graph]
    rows = list(TrafficSlot.objects.filter(port_id=port.pk, resolution=res,
                                           start_at__gt=now - timedelta(seconds=span), start_at__lte=now)
                .order_by("start_at").values_list("start_at", "samples", "in_avg", "out_avg", "in_max", "out_max"))
    t = [int(r[0].timestamp()) for r in rows]
    n = sum(r[1] for r in rows)
    local = timezone.localtime(now)
    current_fresh = port.last_sample_at is not None and now - port.last_sample_at <= timedelta(minutes=15)
    return {
        "port": port.pk, "range": graph, "resolution": res,
        "t": t, "in_avg": [r[2] for r in rows], "out_avg": [r[3] for r in rows],
        "in_max": [r[4] for r in rows], "out_max": [r[5] for r in rows],
        "summary": {
            "in_max": max((r[4] for r in rows), default=None),
            "out_max": max((r[5] for r in rows), default=None),
            "in_avg": sum(r[2] * r[1] for r in rows) / n if n else None,
            "out_avg": sum(r[3] * r[1] for r in rows) / n if n else None,
            "in_current": port.last_in_bps if current_fresh else None,
            "out_current": port.last_out_bps if current_fresh else None,
            "p95": month_p95(port_id=port.pk, year=local.year, month=local.month),
        },
    }
