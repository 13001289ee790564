"""Writes of the monitoring engine: targets, claiming the due ones, and recording probe results
as state changes, emergencies and outage ends.

Claiming is a conditional UPDATE of next_due_at (a lease), so two workers never probe the same
target twice in a cycle; the exact next slot (interval + the target's stable phase) is written
when the result is recorded. A worker that dies mid-probe leaves the lease to expire."""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from customers.choices import Role
from customers.models import Service
from customers.selectors import user_has_role
from slaportal.errors import DomainError, ForbiddenError

from .choices import TargetState
from .models import ProbeDaily, StateChange, Target
from .probes import ProbeResult, ProbeSpec, probe_many

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=90)
FAILURES_TO_DECLARE = 2
TARGET_FIELDS = ("kind", "name", "host", "port", "url", "expected_status", "interval_seconds",
                 "timeout_seconds", "active")


def next_slot(*, now: datetime, interval: int, phase: int) -> datetime:
    """The first instant after `now` at phase `phase` of an `interval`-second grid (epoch-based,
    so the slot is the same whichever worker computes it)."""
    t = now.timestamp()
    k = math.floor((t - phase) / interval) + 1
    return datetime.fromtimestamp(k * interval + phase, tz=now.tzinfo or timezone.get_current_timezone())


def target_save(*, service: Service, data: dict[str, Any], actor: Any, target: Target | None = None,
                now: datetime | None = None) -> Target:
    """Create or change a monitored target (engineers and managers). A new or re-activated target
    is first probed at its next phase slot."""
    if not user_has_role(actor, Role.ENGINEER, Role.MANAGER):
        raise ForbiddenError(_("Your role does not allow this."))
    now = now or timezone.now()
    creating = target is None
    target = target or Target(service=service)
    before = {f: str(getattr(target, f)) for f in TARGET_FIELDS} if not creating else {}
    for f in TARGET_FIELDS:
        if f in data:
            setattr(target, f, data[f])
    try:
        target.full_clean(exclude=["customer"])
    except ValidationError as e:
        raise DomainError(_("Please correct the errors below."), field_errors=e.message_dict) from None
    after = {f: str(getattr(target, f)) for f in TARGET_FIELDS}
    with transaction.atomic():
        target.save()
        if creating or before.get("interval_seconds") != after["interval_seconds"] or target.next_due_at is None:
            target.next_due_at = next_slot(now=now, interval=target.interval_seconds, phase=target.phase_seconds)
            target.save(update_fields=["next_due_at"])
        audit_record(obj=target, action="create" if creating else "change", actor=actor, now=now,
                     data={"changed": {f: [before.get(f), after[f]] for f in TARGET_FIELDS
                                       if creating or before[f] != after[f]}})
    return target


def targets_claim(*, now: datetime, limit: int = 2000) -> list[ProbeSpec]:
    """Claim up to `limit` due targets: move their next_due_at forward by a lease in one
    conditional UPDATE ... RETURNING. Of two workers racing, only one gets each row."""
    table = Target._meta.db_table
    ts = connection.ops.adapt_datetimefield_value(now)
    lease = connection.ops.adapt_datetimefield_value(now + LEASE)
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = (f"UPDATE {table} SET next_due_at = %s WHERE next_due_at <= %s AND active = %s AND id IN "
           f"(SELECT id FROM {table} WHERE active = %s AND next_due_at <= %s ORDER BY next_due_at "
           f"LIMIT %s{lock}) RETURNING id, kind, host, port, url, expected_status, timeout_seconds")
    with connection.cursor() as cur:
        cur.execute(sql, [lease, ts, True, True, ts, limit])
        rows = cur.fetchall()
    return [ProbeSpec(id=r[0], kind=r[1], host=r[2], port=r[3], url=r[4], expected_status=r[5],
                      timeout=float(r[6])) for r in rows]


def _declare(target: Target, *, now: datetime) -> None:
    from incidents.choices import IncidentSource
    from incidents.services import emergency_declare

    with translation.override("zh-hans"):
        title = _("%(check)s of %(service)s is not responding") % {
            "check": target.get_kind_display(), "service": target.service.name}
    emergency_declare(service=target.service, target=target, source=IncidentSource.MONITOR, title=title,
                      outage_started_at=target.first_failure_at or now,
                      evidence=f"{target.last_method}: {target.last_detail}", now=now)


def probe_results_record(*, results: list[ProbeResult], now: datetime) -> dict[str, int]:
    """Apply a batch of results: state changes, an emergency after the second consecutive failure
    (outage from the first failed probe), the end of the outage at the first success, the next
    slot, and the daily counts. Counts of what happened are returned."""
    if not results:
        return {}
    targets = Target.objects.select_related("service", "service__contract", "service__customer",
                                            "service__engineer").in_bulk([r.id for r in results])
    changes: list[StateChange] = []
    to_declare: list[Target] = []
    to_recover: list[Target] = []
    stats: dict[str, int] = defaultdict(int)
    day = timezone.localtime(now).date()
    for r in results:
        t = targets.get(r.id)
        if t is None:
            continue
        before = t.state
        t.last_probe_at, t.last_method, t.last_detail = now, r.method, r.detail[:300]
        if r.ok:
            stats["ok"] += 1
            if before in (TargetState.DOWN, TargetState.FAILING):
                to_recover.append(t)
            t.state, t.consecutive_failures, t.first_failure_at, t.last_ok_at = TargetState.UP, 0, None, now
        else:
            stats["failed"] += 1
            t.consecutive_failures += 1
            if t.consecutive_failures == 1 or t.first_failure_at is None:
                t.first_failure_at = t.first_failure_at or now
            if t.consecutive_failures >= FAILURES_TO_DECLARE and before != TargetState.DOWN:
                t.state = TargetState.DOWN
                to_declare.append(t)
            elif before != TargetState.DOWN:
                t.state = TargetState.FAILING
        if t.state != before:
            changes.append(StateChange(target=t, at=now, from_state=before, to_state=t.state,
                                       method=r.method, detail=r.detail[:300]))
        t.next_due_at = next_slot(now=now, interval=t.interval_seconds, phase=t.phase_seconds)
    with transaction.atomic():
        Target.objects.bulk_update(list(targets.values()), [
            "state", "last_probe_at", "last_ok_at", "last_method", "last_detail",
            "consecutive_failures", "first_failure_at", "next_due_at"])
        StateChange.objects.bulk_create(changes)
        _rollup(results, day=day)
    for t in to_declare:
        try:
            _declare(t, now=now)
            stats["declared"] += 1
        except Exception:  # one target's failure to declare must not lose the others'
            logger.exception("declaring the emergency of target %s failed", t.pk)
    if to_recover:
        from incidents.services import outages_end_for_target

        for t in to_recover:
            stats["recovered"] += len(outages_end_for_target(target_id=t.pk, ended_at=now, now=now))
    return dict(stats)


def _rollup(results: list[ProbeResult], *, day: Any) -> None:
    agg: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in results:
        a = agg[r.id]
        a[0 if r.ok else 1] += 1
        a[2] += r.latency_ms
    table = ProbeDaily._meta.db_table
    values = []
    params: list[Any] = []
    for tid, (ok, fail, ms) in agg.items():
        values.append("(%s, %s, %s, %s, %s)")
        params += [tid, day, ok, fail, ms]
    sql = (f"INSERT INTO {table} (target_id, day, ok_count, fail_count, total_ms) VALUES {', '.join(values)} "
           f"ON CONFLICT (target_id, day) DO UPDATE SET ok_count = {table}.ok_count + excluded.ok_count, "
           f"fail_count = {table}.fail_count + excluded.fail_count, "
           f"total_ms = {table}.total_ms + excluded.total_ms")
    with connection.cursor() as cur:
        cur.execute(sql, params)


def probe_due(*, now: datetime | None = None, batch: int = 2000, concurrency: int = 500,
              budget_seconds: float = 50.0) -> dict[str, int]:
    """Claim and probe every due target, batch by batch, within a time budget (the next beat
    tick picks up the rest)."""
    started = time.monotonic()
    totals: dict[str, int] = defaultdict(int)
    while time.monotonic() - started < budget_seconds:
        at = now or timezone.now()
        specs = targets_claim(now=at, limit=batch)
        if not specs:
            break
        results = asyncio.run(probe_many(specs, concurrency=concurrency))
        for k, v in probe_results_record(results=results, now=at).items():
            totals[k] += v
        totals["probed"] += len(specs)
        if len(specs) < batch or now is not None:
            break
    return dict(totals)
