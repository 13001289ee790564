"""Reads of monitored targets, scoped by tenant, and the customer's live status board."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_lazy, pgettext

from customers.selectors import scope_for_user

from .choices import TargetState
from .models import Mailbox, ProbeDaily, Target


def target_list(*, user: Any, service_id: int | None = None, state: str | None = None) -> models.QuerySet[Target]:
    qs = scope_for_user(Target.objects.select_related("service", "customer"), user)
    if service_id:
        qs = qs.filter(service_id=service_id)
    if state:
        qs = qs.filter(state=state)
    return qs


def mailbox_list(*, user: Any, service_id: int | None = None) -> models.QuerySet[Mailbox]:
    """Probe mailboxes the user may see, with their service and checks (tenant-scoped)."""
    qs = scope_for_user(Mailbox.objects.select_related("service", "customer")
                        .prefetch_related("targets"), user)
    if service_id:
        qs = qs.filter(service_id=service_id)
    return qs


# --- The customer's live status page (issue 13) ---------------------------------------------------
# Reads only. One board per request: the targets in the user's scope with their state now, the
# last STATUS_DAYS Asia/Shanghai days of each as uptime cells, the open incidents and the planned
# maintenance that touches the customer's services. Every part is read in bulk (one query for all
# targets' daily counts, one for all their outages), so 200 targets cost what 2 do.

STATUS_DAYS = 90
TZ = ZoneInfo("Asia/Shanghai")  # the day of a cell, as ProbeDaily's day and the agreement count it
_HUNDRED = Decimal(100)
_CENT = Decimal("0.01")


@dataclass(frozen=True)
class UptimeDay:
    """One cell of a target's uptime bar: the probe counts and outage seconds of one local day.
    `uptime` is None when there is nothing to judge the day by (no probe and no outage)."""

    day: date
    ok: int
    fail: int
    outage_seconds: int
    uptime: Decimal | None

    @property
    def outage_minutes(self) -> int:
        # Rounded up: a 20-second outage is still shown as an outage, never as "0 minutes".
        return math.ceil(self.outage_seconds / 60)

    @property
    def level(self) -> str:
        """A colour class for the bar (CSS in static/css/status.css)."""
        if self.uptime is None:
            return "nodata"
        if self.uptime >= _HUNDRED:
            return "full"
        if self.uptime >= Decimal("99.9"):
            return "minor"
        if self.uptime >= Decimal("99"):
            return "major"
        return "bad"


@dataclass
class TargetStatus:
    """A target on the status page with its uptime bar and its uptime over the whole window."""

    target: Target
    days: list[UptimeDay] = field(default_factory=list)
    uptime: Decimal | None = None

    @property
    def last_probe_ok(self) -> bool | None:
        t = self.target
        if t.last_probe_at is None:
            return None
        return t.last_ok_at is not None and t.last_ok_at >= t.last_probe_at


@dataclass(frozen=True)
class MaintenanceItem:
    """Planned or ongoing maintenance that touches the customer's services. `source` says where it
    was read from: a data-centre maintenance window (incidents.FacilityEvent of kind maintenance)
    or an adjustment of a mail platform (mailservice.PlatformEvent)."""

    source: str
    title: str
    starts_at: datetime
    ends_at: datetime | None
    services: tuple[str, ...]
    ongoing: bool


@dataclass
class StatusBoard:
    """Everything the status page and /api/status/ show for one scope at one instant."""

    generated_at: datetime
    days: list[date]
    targets: list[TargetStatus]
    incidents: list[Any]
    maintenance: list[MaintenanceItem]


def _pct(part: Decimal) -> Decimal:
    # Rounded down: 99.996 % is shown as 99.99 %, never as a perfect 100.00 % it was not.
    return (part * _HUNDRED).quantize(_CENT, rounding=ROUND_DOWN)


def _uptime(*, ok: int, fail: int, outage_seconds: int, span_seconds: int) -> Decimal | None:
    """The day's (or window's) uptime: the lower of the share of successful probes and the share
    of the time not covered by an outage. Probes catch short failures that never became an
    outage; outages carry the duration (and the time before monitoring noticed), so the stricter
    of the two is what the customer sees."""
    shares: list[Decimal] = []
    if ok + fail:
        shares.append(Decimal(ok) / Decimal(ok + fail))
    if outage_seconds and span_seconds > 0:
        shares.append(max(Decimal(0), Decimal(span_seconds - min(outage_seconds, span_seconds))
                          / Decimal(span_seconds)))
    return _pct(min(shares)) if shares else None


def status_targets(*, user: Any, customer_id: int | None = None,
                   state: str | None = None) -> models.QuerySet[Target]:
    """The active targets of the status page, in the user's scope (a customer user: their own)."""
    qs = target_list(user=user, state=state).filter(active=True)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return qs.order_by("customer__name", "service__name", "kind", "name", "id")


def status_uptime(*, targets: list[Target], now: datetime, days: int = STATUS_DAYS) -> list[TargetStatus]:
    """The uptime bars of `targets`: the last `days` local days ending today, from the daily probe
    counts (one query) and the outages of each target or of its whole service (one query)."""
    from incidents.downtime import merge_intervals
    from incidents.models import Outage

    today = timezone.localtime(now, TZ).date()
    day_list = [today - timedelta(days=i) for i in range(days - 1, -1, -1)]
    start = datetime.combine(day_list[0], time.min, tzinfo=TZ)
    ids = [t.pk for t in targets]
    counts: dict[tuple[int, date], tuple[int, int]] = {}
    for tid, day, ok, fail in (ProbeDaily.objects.filter(target_id__in=ids, day__gte=day_list[0], day__lte=today)
                               .values_list("target_id", "day", "ok_count", "fail_count")):
        counts[(tid, day)] = (ok, fail)
    # An outage recorded on the service without a target (a facility event's fan-out, one
    # entered by staff) took every check of that service down with it.
    by_target: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    by_service: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    service_ids = {t.service_id for t in targets}
    for tid, sid, s, e in (Outage.objects.filter(Q(target_id__in=ids) | Q(target__isnull=True,
                                                                          service_id__in=service_ids))
                           .filter(started_at__lt=now).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
                           .values_list("target_id", "service_id", "started_at", "ended_at")):
        interval = (max(s, start), min(e or now, now))
        if tid is not None:
            by_target[tid].append(interval)
        else:
            by_service[sid].append(interval)
    bounds = [(d, datetime.combine(d, time.min, tzinfo=TZ)) for d in day_list]
    out: list[TargetStatus] = []
    for t in targets:
        # Before the target existed nothing was monitored: an older outage of its service does not
        # make those days (or the 90-day figure) of a new target.
        since = max(start, t.created_at) if t.created_at else start
        merged = merge_intervals((max(s, since), e) for s, e in by_target.get(t.pk, []) + by_service.get(t.service_id, [])
                                 if e > since)
        cells: list[UptimeDay] = []
        sum_ok = sum_fail = sum_out = sum_span = 0
        for d, d_start in bounds:
            d_end = min(d_start + timedelta(days=1), now)
            span = max(0, int((d_end - d_start).total_seconds()))
            out_s = 0
            for s, e in merged:
                if s < d_end and e > d_start:
                    out_s += int((min(e, d_end) - max(s, d_start)).total_seconds())
            ok, fail = counts.get((t.pk, d), (0, 0))
            up = _uptime(ok=ok, fail=fail, outage_seconds=out_s, span_seconds=span)
            cells.append(UptimeDay(day=d, ok=ok, fail=fail, outage_seconds=out_s, uptime=up))
            if up is not None:
                sum_ok, sum_fail, sum_out, sum_span = sum_ok + ok, sum_fail + fail, sum_out + out_s, sum_span + span
        out.append(TargetStatus(target=t, days=cells,
                                uptime=_uptime(ok=sum_ok, fail=sum_fail, outage_seconds=sum_out,
                                               span_seconds=sum_span)))
    return out


def status_incidents(*, user: Any, customer_id: int | None = None) -> list[Any]:
    """The open incidents (detected, declared, notified, acknowledged) in the user's scope."""
    from incidents.choices import OPEN_INCIDENT_STATES
    from incidents.models import Incident

    qs = scope_for_user(Incident.objects.select_related("service", "customer", "target"), user).filter(
        state__in=OPEN_INCIDENT_STATES)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    return list(qs.order_by("-detected_at", "-id")[:100])


def status_maintenance(*, user: Any, customer_id: int | None = None, now: datetime) -> list[MaintenanceItem]:
    """Maintenance that has not ended, touching the services in scope: the data centre's agreed
    maintenance windows whose room, rack row or uplink is one of the services' (incidents.
    FacilityEvent of kind maintenance), and the adjustments of the mail platforms hosting the
    customer's e-mail domains (mailservice.PlatformEvent of kind adjustment). Operation requests
    carry no scheduled time, so they are not shown here. Only the title and the window are shown:
    a facility event's evidence and cause stay with the staff."""
    from customers.models import Service
    from incidents.choices import FacilityEventKind
    from incidents.models import FacilityEvent
    from mailservice.choices import PlatformEventKind
    from mailservice.models import MailDomain, PlatformEvent

    services = scope_for_user(Service.objects.all(), user)
    if customer_id:
        services = services.filter(customer_id=customer_id)
    svc = list(services.values_list("id", "name", "room", "rack_row", "uplink"))
    if not svc:
        return []
    items: list[MaintenanceItem] = []
    not_ended = Q(ended_at__isnull=True) | Q(ended_at__gt=now)
    for ev in (FacilityEvent.objects.filter(not_ended, kind=FacilityEventKind.MAINTENANCE)
               .prefetch_related("scopes").order_by("started_at", "id")[:200]):
        places = {(sc.scope, sc.value) for sc in ev.scopes.all()}
        hit = tuple(name for _sid, name, room, row, uplink in svc
                    if ("room", room) in places or ("rack_row", row) in places or ("uplink", uplink) in places)
        if hit:
            items.append(MaintenanceItem(source="facility", title=ev.title, starts_at=ev.started_at,
                                         ends_at=ev.ended_at, services=hit, ongoing=ev.started_at <= now))
    names = {sid: name for sid, name, *_rest in svc}
    platforms: dict[int, set[str]] = defaultdict(set)
    for pid, sid in MailDomain.objects.filter(service_id__in=names).values_list("platform_id", "service_id"):
        platforms[pid].add(names[sid])
    if platforms:
        for pe in (PlatformEvent.objects.filter(not_ended, kind=PlatformEventKind.ADJUSTMENT,
                                                platform_id__in=platforms).order_by("started_at", "id")[:200]):
            items.append(MaintenanceItem(source="mail_platform", title=pe.title, starts_at=pe.started_at,
                                         ends_at=pe.ended_at, services=tuple(sorted(platforms[pe.platform_id])),
                                         ongoing=pe.started_at <= now))
    items.sort(key=lambda i: (i.starts_at, i.title))
    return items


def status_board(*, user: Any, customer_id: int | None = None, state: str | None = None,
                 targets: list[Target] | None = None, now: datetime | None = None,
                 with_history: bool = True) -> StatusBoard:
    """The whole status page for the user's scope (narrowed to one customer for staff). `targets`
    may be given (a page of them) so the bars are computed for what is shown only."""
    now = now or timezone.now()
    if targets is None:
        targets = list(status_targets(user=user, customer_id=customer_id, state=state))
    today = timezone.localtime(now, TZ).date()
    if with_history:
        rows = status_uptime(targets=targets, now=now)
    else:
        rows = [TargetStatus(target=t) for t in targets]
    return StatusBoard(
        generated_at=now, days=[today - timedelta(days=i) for i in range(STATUS_DAYS - 1, -1, -1)],
        targets=rows, incidents=status_incidents(user=user, customer_id=customer_id),
        maintenance=status_maintenance(user=user, customer_id=customer_id, now=now))


# How a probe's raw detail (written by monitoring.probes in English, or translated by the mail
# probes when they ran) is told to the customer: the known shapes are translated, anything else
# becomes a plain "succeeded"/"failed" so no untranslated text reaches a page in Chinese.
_ERRORS = {
    "ConnectionRefusedError": gettext_lazy("connection refused"),
    "ConnectionResetError": gettext_lazy("connection reset by the other side"),
    "ConnectionAbortedError": gettext_lazy("connection reset by the other side"),
    "TimeoutError": gettext_lazy("no answer in time"),
    "timeout": gettext_lazy("no answer in time"),
    "gaierror": gettext_lazy("the name could not be resolved"),
    "herror": gettext_lazy("the name could not be resolved"),
    "SSLError": gettext_lazy("TLS error"),
    "SSLCertVerificationError": gettext_lazy("the TLS certificate could not be verified"),
}


def _detail_text(ok: bool, detail: str) -> str:
    d = detail.strip()
    if d == "echo reply":
        return gettext("echo reply received")
    if d == "no echo reply":
        return gettext("no echo reply")
    if d == "no banner":
        return gettext("no greeting from the server")
    if d == "not an HTTP response":
        return gettext("the answer was not an HTTP response")
    if m := re.fullmatch(r"connected to port (\d+)", d):
        return gettext("connected to port %(port)s") % {"port": m[1]}
    if m := re.fullmatch(r"HTTP (\d{3})(?: \(expected (\d{3})\))?(?:, \d+ B)?", d):
        if m[2]:
            return gettext("HTTP status %(status)s (%(expected)s expected)") % {"status": m[1], "expected": m[2]}
        return gettext("HTTP status %(status)s") % {"status": m[1]}
    if m := re.fullmatch(r"timed out after ([\d.]+)s", d):
        return gettext("no answer within %(seconds)s s") % {"seconds": m[1]}
    if m := re.match(r"([1-5]\d\d)[ -]", d):
        if ok:
            return gettext("server greeting received (code %(code)s)") % {"code": m[1]}
        return gettext("the server answered with code %(code)s") % {"code": m[1]}
    if m := re.match(r"(\w+): ", d):
        if m[1] in _ERRORS:
            return str(_ERRORS[m[1]])
        if m[1].endswith(("Error", "Exception")):
            return gettext("network error")
    # The mail probes translate their own details when they run: shown as written when they hold
    # no Latin words (a Chinese detail on the Chinese page).
    if d and not re.search(r"[A-Za-z]{2,}", d) and (get_language() or "").startswith("zh"):
        return d
    return pgettext("probe result", "probe succeeded") if ok else pgettext("probe result", "probe failed")


def last_result_text(target: Target) -> str:
    """The target's last probe result for the customer, translated: the check used and what it
    found. Empty before the first probe."""
    if target.last_probe_at is None:
        return ""
    ok = target.last_ok_at is not None and target.last_ok_at >= target.last_probe_at
    text = _detail_text(ok, target.last_detail or "")
    if target.last_method:
        return gettext("%(method)s: %(result)s") % {"method": target.get_last_method_display(), "result": text}
    return text


def status_counts(*, user: Any, customer_id: int | None = None) -> dict[str, int]:
    """How many active targets of the scope are in each state (every state present, 0 if none)."""
    counts = dict.fromkeys(TargetState.values, 0)
    for st, n in (status_targets(user=user, customer_id=customer_id).order_by()
                  .values_list("state").annotate(n=models.Count("id"))):
        counts[st] = n
    return counts


# --- The charts of a target's page: response times and an hourly uptime strip -------------------
# Two queries whatever the range: the hourly rollup of the target (ProbeHourly) and the outages
# of the target or of its whole service that touch the range.

CHART_RANGES = {"24h": 24, "7d": 24 * 7}


@dataclass(frozen=True)
class HourCell:
    """One hour of the target's uptime strip (same colour levels as the status page's days)."""

    start: datetime
    ok: int
    fail: int
    avg_ms: int | None
    max_ms: int | None
    outage_seconds: int
    uptime: Decimal | None

    @property
    def level(self) -> str:
        return UptimeDay(day=self.start.date(), ok=self.ok, fail=self.fail, outage_seconds=self.outage_seconds,
                         uptime=self.uptime).level


def target_hours(*, target: Target, hours: int, now: datetime | None = None) -> list[HourCell]:
    """The last `hours` clock hours of `target` (the current, unfinished hour last), oldest first."""
    from incidents.downtime import merge_intervals
    from incidents.models import Outage

    from .models import ProbeHourly

    now = now or timezone.now()
    current = now.replace(minute=0, second=0, microsecond=0)
    starts = [current - timedelta(hours=i) for i in range(hours - 1, -1, -1)]
    first = starts[0]
    rows = {h: (ok, fail, ok_ms, mx) for h, ok, fail, ok_ms, mx in ProbeHourly.objects.filter(
        target_id=target.pk, hour__gte=first, hour__lte=current).values_list(
        "hour", "ok_count", "fail_count", "ok_total_ms", "ok_max_ms")}
    since = max(first, target.created_at) if target.created_at else first
    intervals = merge_intervals(
        (max(s, since), min(e or now, now)) for s, e in Outage.objects.filter(
            Q(target_id=target.pk) | Q(target__isnull=True, service_id=target.service_id))
        .filter(started_at__lt=now).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=since))
        .values_list("started_at", "ended_at"))
    cells: list[HourCell] = []
    for h in starts:
        h_end = min(h + timedelta(hours=1), now)
        span = max(0, int((h_end - h).total_seconds()))
        out_s = sum(int((min(e, h_end) - max(s, h)).total_seconds()) for s, e in intervals if s < h_end and e > h)
        ok, fail, ok_ms, mx = rows.get(h, (0, 0, 0, 0))
        cells.append(HourCell(start=h, ok=ok, fail=fail, avg_ms=round(ok_ms / ok) if ok else None,
                              max_ms=mx if ok else None, outage_seconds=out_s,
                              uptime=_uptime(ok=ok, fail=fail, outage_seconds=out_s, span_seconds=span)))
    return cells


def target_chart_data(*, cells: list[HourCell]) -> dict[str, Any]:
    """What static/js/charts.js draws as the response-time line (json_script on the page): epoch
    seconds of each hour's start, the average and the slowest successful probe (ms, null: none)."""
    return {"t": [int(c.start.timestamp()) for c in cells], "avg": [c.avg_ms for c in cells],
            "max": [c.max_ms for c in cells]}
