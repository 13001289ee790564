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

from .choices import MAIL_KINDS, CheckKind, TargetState
from .models import HOURLY_KEEP_DAYS, Mailbox, ProbeDaily, ProbeHourly, StateChange, Target
from .probes import ProbeResult, ProbeSpec, probe_many
from .signals import mail_loop_measured

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=90)
FAILURES_TO_DECLARE = 2
TARGET_FIELDS = ("kind", "name", "host", "port", "url", "expected_status", "interval_seconds",
                 "timeout_seconds", "active")
MAILBOX_FIELDS = ("address", "username", "smtp_host", "smtp_port", "smtp_security", "imap_host", "imap_port",
                  "imap_security", "pop3_host", "pop3_port", "pop3_security", "webmail_url",
                  "webmail_expected_status", "interval_seconds", "timeout_seconds", "active")
# Tokens of loop messages sent but not yet found that a mailbox remembers: a day of 5-minute loops
# and more. A message found after its token was dropped is deleted without being measured.
LOOP_PENDING_MAX = 500


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
           f"LIMIT %s{lock}) RETURNING id, kind, host, port, url, expected_status, timeout_seconds, mailbox_id")
    with connection.cursor() as cur:
        cur.execute(sql, [lease, ts, True, True, ts, limit])
        rows = cur.fetchall()
    # Mail checks run with their probe mailbox's credentials, unsealed here for this probe only.
    mail_specs: dict[int, Any] = {}
    mailbox_ids = {r[7] for r in rows if r[7] is not None and r[1] in MAIL_KINDS}
    if mailbox_ids:
        from .mailprobes import mail_spec_for

        mail_specs = {mb.pk: mail_spec_for(mb) for mb in Mailbox.objects.filter(pk__in=mailbox_ids)}
    return [ProbeSpec(id=r[0], kind=r[1], host=r[2], port=r[3], url=r[4], expected_status=r[5],
                      timeout=float(r[6]), mail=mail_specs.get(r[7]) if r[7] is not None else None)
            for r in rows]


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
        _rollup_hourly(results, now=now)
        _loop_record(results, targets)
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
    agg: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in results:
        a = agg[r.id]
        a[0 if r.ok else 1] += 1
        a[2] += r.latency_ms
        if r.ok:
            a[3] += r.latency_ms
    table = ProbeDaily._meta.db_table
    values = []
    params: list[Any] = []
    for tid, (ok, fail, ms, ok_ms) in agg.items():
        values.append("(%s, %s, %s, %s, %s, %s)")
        params += [tid, day, ok, fail, ms, ok_ms]
    sql = (f"INSERT INTO {table} (target_id, day, ok_count, fail_count, total_ms, ok_total_ms) VALUES "
           f"{', '.join(values)} "
           f"ON CONFLICT (target_id, day) DO UPDATE SET ok_count = {table}.ok_count + excluded.ok_count, "
           f"fail_count = {table}.fail_count + excluded.fail_count, "
           f"total_ms = {table}.total_ms + excluded.total_ms, "
           f"ok_total_ms = {table}.ok_total_ms + excluded.ok_total_ms")
    with connection.cursor() as cur:
        cur.execute(sql, params)


def _rollup_hourly(results: list[ProbeResult], *, now: datetime) -> None:
    """The hour's counts and latency per target (the target page's charts), and the rows past
    HOURLY_KEEP_DAYS dropped (an index range on `hour`: nothing to find costs nothing)."""
    hour = now.replace(minute=0, second=0, microsecond=0)
    agg: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for r in results:
        a = agg[r.id]
        a[0 if r.ok else 1] += 1
        if r.ok:
            a[2] += r.latency_ms
            a[3] = max(a[3], r.latency_ms)
    if not agg:
        return
    table = ProbeHourly._meta.db_table
    values: list[str] = []
    params: list[Any] = []
    for tid, (ok, fail, ok_ms, ok_max) in agg.items():
        values.append("(%s, %s, %s, %s, %s, %s)")
        params += [tid, hour, ok, fail, ok_ms, ok_max]
    # GREATEST on PostgreSQL; SQLite (make run's default) spells it as the two-argument max().
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
    sql = (f"INSERT INTO {table} (target_id, hour, ok_count, fail_count, ok_total_ms, ok_max_ms) VALUES "
           f"{', '.join(values)} "
           f"ON CONFLICT (target_id, hour) DO UPDATE SET ok_count = {table}.ok_count + excluded.ok_count, "
           f"fail_count = {table}.fail_count + excluded.fail_count, "
           f"ok_total_ms = {table}.ok_total_ms + excluded.ok_total_ms, "
           f"ok_max_ms = {greatest}({table}.ok_max_ms, excluded.ok_max_ms)")
    with connection.cursor() as cur:
        cur.execute(sql, params)
    ProbeHourly.objects.filter(hour__lt=hour - timedelta(days=HOURLY_KEEP_DAYS)).delete()


def _loop_record(results: list[ProbeResult], targets: dict[int, Target]) -> None:
    """Mail-loop bookkeeping, inside the results' transaction: which samples are new (a loop's
    own message once: its send time is after the last one measured; a message found late only
    while its token is pending), the tokens still pending, and the signal of each new sample,
    sent after commit. A replayed batch of results measures nothing twice."""
    from .mailprobes import token_sent_ms

    loops = [(r, targets[r.id]) for r in results
             if r.loop is not None and r.id in targets and targets[r.id].mailbox_id is not None]
    if not loops:
        return
    boxes = Mailbox.objects.select_for_update().in_bulk({t.mailbox_id for _r, t in loops})
    payloads: list[dict[str, Any]] = []
    for r, t in loops:
        mb = boxes.get(t.mailbox_id)  # type: ignore[arg-type]
        if mb is None or r.loop is None:
            continue
        state = mb.loop_state or {}
        last = int(state.get("last", 0))
        pending: list[str] = list(state.get("pending", []))
        for sample in r.loop.samples:
            if sample.late:
                if sample.token not in pending:
                    continue  # measured already, or dropped from the pending list
                pending.remove(sample.token)
            else:
                sent = token_sent_ms(sample.token)
                if sent <= last:
                    continue
                last = sent
            payloads.append({"service_id": mb.service_id, "address": mb.address,
                             "delivered_at": sample.delivered_at, "latency_ms": sample.latency_ms,
                             "token": sample.token, "late": sample.late})
        removed = set(r.loop.removed)
        pending = [p for p in pending if p not in removed]
        sent_token = r.loop.sent_token
        if sent_token and sent_token not in pending and token_sent_ms(sent_token) > last:
            pending.append(sent_token)
        mb.loop_state = {"last": last, "pending": pending[-LOOP_PENDING_MAX:]}
    Mailbox.objects.bulk_update(list(boxes.values()), ["loop_state"])
    if payloads:
        transaction.on_commit(lambda: _loop_signal(payloads))


def _loop_signal(payloads: list[dict[str, Any]]) -> None:
    for p in payloads:
        for receiver, err in mail_loop_measured.send_robust(sender=Mailbox, **p):
            if isinstance(err, Exception):
                logger.error("mail_loop_measured receiver %r failed: %s", receiver, err)


def mailbox_save(*, service: Service, data: dict[str, Any], actor: Any, mailbox: Mailbox | None = None,
                 now: datetime | None = None) -> Mailbox:
    """Create or change a probe mailbox of an e-mail service (engineers and managers) and keep its
    checks in step: one active Target per configured check (submission, IMAP, POP3, webmail, mail
    loop), switched off when the check is no longer configured or the mailbox is. `data["password"]`
    is sealed; blank keeps the stored one. The audit row says the password changed, never what to."""
    if not user_has_role(actor, Role.ENGINEER, Role.MANAGER):
        raise ForbiddenError(_("Your role does not allow this."))
    from .sealing import seal

    now = now or timezone.now()
    creating = mailbox is None
    if mailbox is not None and mailbox.service_id != service.pk:
        raise DomainError(_("A probe mailbox stays on its service; add a new one to another service."))
    mailbox = mailbox or Mailbox(service=service)
    before = {f: str(getattr(mailbox, f)) for f in MAILBOX_FIELDS} if not creating else {}
    for f in MAILBOX_FIELDS:
        if f in data:
            setattr(mailbox, f, data[f] if data[f] is not None else getattr(mailbox, f))
    mailbox.address = (mailbox.address or "").strip()
    password = data.get("password") or ""
    errors: dict[str, list[str]] = {}
    try:
        mailbox.full_clean(exclude=["customer", "password_sealed"])
    except ValidationError as e:
        errors.update(e.message_dict)
    if not password and not mailbox.password_sealed and (mailbox.imap_host or mailbox.pop3_host):
        errors["password"] = [_("IMAP, POP3 and the mail loop log in: enter the mailbox's password.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    if password:
        mailbox.password_sealed = seal(password)
    after = {f: str(getattr(mailbox, f)) for f in MAILBOX_FIELDS}
    with transaction.atomic():
        mailbox.save()
        checks = _mailbox_targets_sync(mailbox, actor=actor, now=now)
        audit_record(obj=mailbox, action="create" if creating else "change", actor=actor, now=now,
                     data={"changed": {f: [before.get(f), after[f]] for f in MAILBOX_FIELDS
                                       if creating or before[f] != after[f]},
                           "password": "changed" if password else "unchanged", "checks": checks})
    return mailbox


def _mailbox_targets_sync(mailbox: Mailbox, *, actor: Any, now: datetime) -> dict[str, str]:
    existing = {t.kind: t for t in mailbox.targets.all()}
    wanted = mailbox.wanted_checks() if mailbox.active else {}
    done: dict[str, str] = {}
    for kind in (CheckKind.SUBMISSION, CheckKind.IMAP, CheckKind.POP3, CheckKind.WEBMAIL, CheckKind.MAIL_LOOP):
        t = existing.get(kind)
        if kind in wanted:
            fields = wanted[kind]
            creating = t is None
            t = t or Target(service=mailbox.service, mailbox=mailbox, kind=kind)
            reslot = creating or not t.active or t.next_due_at is None \
                or t.interval_seconds != fields["interval_seconds"]
            before = {f: str(getattr(t, f)) for f in TARGET_FIELDS}
            for k, v in fields.items():
                setattr(t, k, v)
            t.name, t.active = mailbox.address, True
            t.full_clean(exclude=["customer"])
            after = {f: str(getattr(t, f)) for f in TARGET_FIELDS}
            if not creating and before == after and not reslot:
                continue
            t.save()
            if reslot:
                t.next_due_at = next_slot(now=now, interval=t.interval_seconds, phase=t.phase_seconds)
                t.save(update_fields=["next_due_at"])
            done[kind] = "created" if creating else "changed"
            audit_record(obj=t, action="create" if creating else "change", actor=actor, now=now,
                         data={"mailbox": mailbox.pk, "changed": {f: [before[f], after[f]] for f in TARGET_FIELDS
                                                                  if creating or before[f] != after[f]}})
        elif t is not None and t.active:
            t.active = False
            t.save(update_fields=["active"])
            done[kind] = "switched off"
            audit_record(obj=t, action="change", actor=actor, now=now,
                         data={"mailbox": mailbox.pk, "changed": {"active": ["True", "False"]}})
    return done


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
