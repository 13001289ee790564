"""Reads of the e-mail measurement app: the monthly figures of the e-mail guarantee (seed 002 §1–§3:
E1 connectivity, E2 latency, E3 operations) per e-mail service with their verdicts against the
policy rows, and the scoped lists behind the pages and the API.

`mail_month_figures` is the one place the figures are computed: the month close (through
mailservice.measures), the pages, the statement and the API all read it, so what a customer is
shown is what was judged. It reads in bulk: a handful of queries for any number of services."""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.db import models
from django.db.models import Max, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from customers.choices import ServiceKind
from customers.models import Service
from customers.selectors import scope_for_user, service_list, user_is_staff
from incidents.downtime import TZ, compare, merge_intervals, month_bounds
from settlement.measures import Measurement
from sla.choices import Unit
from sla.models import ContractPolicy, SlaPolicy

from .choices import Direction, LatencySource, PlatformEventKind
from .models import BUCKET_FIELDS, BillingErrorFigure, LatencyHourly, MailDomain, MailPlatform, PlatformEvent

# The promises this app measures (E1 is measured by the downtime engine; it is here so one call
# gives a page every verdict of the e-mail guarantee's figures).
E2_CODES = ("E2-AVG", "E2-SLOW")
E3_CODES = ("E3-FAULT", "E3-ADJUST", "E3-AVAIL", "E3-DAYS", "E3-BILL", "E3-WEB")
MEASURED_CODES = (*E2_CODES, *E3_CODES)
FIGURE_CODES = ("E1", *MEASURED_CODES)

# The monitoring check of the webmail page (monitoring.choices.CheckKind.WEBMAIL): its successful
# probes' time is the page open time of E3-WEB.
WEBMAIL_CHECK = "webmail"

_SECONDS_PER = {Unit.MINUTES: Decimal(60), Unit.HOURS: Decimal(3600), Unit.DAYS: Decimal(86400)}


@dataclass
class DirectionFigures:
    """One direction's latency in the month from the chosen source (seed 002 §2)."""

    direction: str
    messages: int = 0
    # Messages the agreement excludes (delayed by another provider's system): never counted.
    excluded: int = 0
    average_seconds: Decimal | None = None
    max_seconds: Decimal | None = None
    over_hour: int = 0
    histogram: list[int] = field(default_factory=lambda: [0] * len(BUCKET_FIELDS))
    # Exact total (ms), so that the month's average is not computed from a rounded one.
    total_ms: int = 0


class DailyLatency(NamedTuple):
    """One Asia/Shanghai day of the chosen source, both directions together."""

    day: date
    messages: int
    average_seconds: Decimal | None
    over_hour: int


@dataclass
class MailMonthFigures:
    """Everything the e-mail guarantee measures for one service and month, with verdicts: True
    kept, False broken, None not measured (no samples, no figure) or not applicable."""

    service_id: int
    year: int
    month: int
    latency_source: str | None
    send: DirectionFigures
    receive: DirectionFigures
    average_minutes: Decimal | None
    over_hour: int
    daily: list[DailyLatency]
    connectivity_minutes: Decimal
    fault_minutes: Decimal
    adjustment_minutes: Decimal
    availability_percent: Decimal
    fault_days_year: int
    fault_free_days_year: int
    days_in_year: int
    billing_error_rate_percent: Decimal | None
    webmail_average_seconds: Decimal | None
    verdicts: dict[str, bool | None]
    # The judged values per policy code (value, comparison, threshold, unit, counted rows): what
    # the month close stores, so a page can show the target next to each figure.
    measurements: dict[str, Measurement] = field(default_factory=dict)
    platform_ids: list[int] = field(default_factory=list)
    # E3-DAYS: the month of this year in which the fault-free days first fell below the target.
    days_broken_in: date | None = None
    # Counted platform events of the month (clipped to it), newest first, for the pages.
    events: list[dict[str, Any]] = field(default_factory=list)


# --- Scoped lists ---------------------------------------------------------------------------

def email_services_visible(*, user: Any) -> models.QuerySet[Service]:
    """The e-mail services a user may see: a customer user their own, staff all."""
    return service_list(user=user).filter(kind=ServiceKind.EMAIL)


def mail_domains_visible(*, user: Any) -> models.QuerySet[MailDomain]:
    """Mail domains: a customer user sees their own, staff all."""
    return scope_for_user(MailDomain.objects.select_related("service", "customer", "platform"), user)


def mail_platforms(*, user: Any = None) -> models.QuerySet[MailPlatform]:
    """The provider's mail platforms (staff only: a platform is the provider's, not a customer's)."""
    if user is not None and not user_is_staff(user):
        return MailPlatform.objects.none()
    return MailPlatform.objects.all()


def platform_events(*, platform_id: int | None = None, year: int | None = None, month: int | None = None,
                    kind: str | None = None) -> models.QuerySet[PlatformEvent]:
    """Faults and adjustments, newest first; with year (and month) only those reaching that
    Asia/Shanghai year (month). Staff data: callers check the role."""
    qs = PlatformEvent.objects.select_related("platform", "recorded_by")
    if platform_id is not None:
        qs = qs.filter(platform_id=platform_id)
    if kind:
        qs = qs.filter(kind=kind)
    if year is not None:
        if month is not None:
            start, end = month_bounds(year, month)
        else:
            start, end = datetime(year, 1, 1, tzinfo=TZ), datetime(year + 1, 1, 1, tzinfo=TZ)
        qs = qs.filter(started_at__lt=end).filter(Q(ended_at__isnull=True) | Q(ended_at__gt=start))
    return qs.order_by("-started_at", "-id")


def billing_figures() -> models.QuerySet[BillingErrorFigure]:
    """Monthly billing figures, newest first (staff data)."""
    return BillingErrorFigure.objects.select_related("entered_by").order_by("-month")


# --- Judging ------------------------------------------------------------------------------

def _policies(contract_ids: Iterable[int]) -> tuple[dict[str, SlaPolicy], dict[tuple[int, int], ContractPolicy]]:
    policies = {p.code: p for p in SlaPolicy.objects.filter(code__in=FIGURE_CODES)}
    overrides = {(o.contract_id, o.policy_id): o for o in ContractPolicy.objects.filter(
        contract_id__in=set(contract_ids), policy__in=list(policies.values()))}
    return policies, overrides


def _in_unit(seconds: Decimal, unit: str) -> Decimal:
    """A duration in the policy's unit (E2's average is promised in minutes, E3-WEB in seconds)."""
    return seconds / _SECONDS_PER[Unit(unit)] if unit in _SECONDS_PER else seconds


def _judge(policy: SlaPolicy | None, override: ContractPolicy | None, value: Decimal,
           counted: list[dict[str, Any]] | None = None, *, counted_seconds: int = 0) -> Measurement | None:
    """The same rule as incidents.downtime.judge: the contract's override wins, a promise switched
    off (policy or override inactive) is not applicable."""
    if policy is None:
        return None
    threshold = override.threshold if override and override.threshold is not None else policy.threshold
    active = policy.active and (override.active if override else True)
    return Measurement(value=value, comparison=policy.comparison, threshold=threshold, unit=policy.unit,
                       kept=compare(value, policy.comparison, threshold) if active else None,
                       counted_seconds=counted_seconds, counted=counted or [])


def _dec(value: Decimal | None, places: str = "0.001") -> str | None:
    return None if value is None else str(value.quantize(Decimal(places)))


# --- Latency (E2) ---------------------------------------------------------------------------

def _latency(domain_service: dict[int, int], start: datetime, end: datetime
             ) -> tuple[dict[tuple[int, str, str], DirectionFigures], dict[tuple[int, str], dict[date, list[int]]]]:
    """Per (service, source, direction) figures and per (service, source) daily rows."""
    per: dict[tuple[int, str, str], DirectionFigures] = {}
    daily: dict[tuple[int, str], dict[date, list[int]]] = defaultdict(dict)
    if not domain_service:
        return per, daily
    base = LatencyHourly.objects.filter(domain_id__in=list(domain_service), hour__gte=start, hour__lt=end)
    sums = {f: Sum(f) for f in ("count", "total_ms", "excluded", *BUCKET_FIELDS)}
    # Rows typed Any: django-stubs types values() rows as TypedDicts of the literal keys only.
    totals: Any = (base.values("domain__service_id", "source", "direction")
                   .annotate(max_all=Max("max_ms"), **{f"s_{k}": v for k, v in sums.items()}))
    for row in totals:
        d = DirectionFigures(direction=row["direction"])
        d.messages, d.total_ms, d.excluded = row["s_count"] or 0, row["s_total_ms"] or 0, row["s_excluded"] or 0
        d.histogram = [row[f"s_{b}"] or 0 for b in BUCKET_FIELDS]
        d.over_hour = d.histogram[-1]
        if d.messages:
            d.average_seconds = (Decimal(d.total_ms) / d.messages / 1000).quantize(Decimal("0.001"))
            d.max_seconds = Decimal(row["max_all"] or 0) / 1000
        per[(row["domain__service_id"], row["source"], row["direction"])] = d
    days: Any = (base.annotate(day=TruncDate("hour", tzinfo=TZ))
                 .values("domain__service_id", "source", "day")
                 .annotate(n=Sum("count"), ms=Sum("total_ms"), slow=Sum("gt_1h"), ex=Sum("excluded")))
    for row in days:
        daily[(row["domain__service_id"], row["source"])][row["day"]] = [
            row["n"] or 0, row["ms"] or 0, row["slow"] or 0, row["ex"] or 0]
    return per, daily


def _source_for(sid: int, per: dict[tuple[int, str, str], DirectionFigures]) -> str | None:
    """The delivery log when it has samples of the month (it sees every message), else the mail
    loop probe (it sees only its own), else nothing to judge."""
    for source in (LatencySource.LOG, LatencySource.PROBE):
        if any((sid, source, d) in per and (per[(sid, source, d)].messages or per[(sid, source, d)].excluded)
               for d in Direction.values):
            return str(source)
    return None


def _daily_rows(rows: dict[date, list[int]], first: date, days: int) -> list[DailyLatency]:
    out = []
    for i in range(days):
        day = first + timedelta(days=i)
        n, ms, slow, _ex = rows.get(day, [0, 0, 0, 0])
        avg = (Decimal(ms) / n / 1000).quantize(Decimal("0.001")) if n else None
        out.append(DailyLatency(day, n, avg, slow))
    return out


def _direction_row(d: DirectionFigures, source: str) -> dict[str, Any]:
    return {"id": d.direction, "direction": d.direction, "source": source, "messages": d.messages,
            "excluded": d.excluded, "average_seconds": _dec(d.average_seconds),
            "max_seconds": _dec(d.max_seconds), "over_hour": d.over_hour}


# --- Platform events (E3) -------------------------------------------------------------------

def _clip(rows: list[dict[str, Any]], start: datetime, horizon: datetime) -> list[tuple[datetime, datetime, dict[str, Any]]]:
    """Events clipped to [start, horizon): an open event lasts up to the horizon (now, or the end
    of the period); a planned adjustment that has not begun yet counts nothing."""
    out = []
    for r in rows:
        s = max(r["started_at"], start)
        e = min(r["ended_at"] if r["ended_at"] is not None else horizon, horizon)
        if e > s:
            out.append((s, e, r))
    return out


def _seconds(intervals: list[tuple[datetime, datetime]]) -> int:
    # Sum first, truncate once (as the downtime engine does).
    return int(sum((e - s for s, e in merge_intervals(intervals)), timedelta()).total_seconds())


def _days_marked(intervals: list[tuple[datetime, datetime]]) -> set[date]:
    """The Asia/Shanghai natural days an interval touches: one crossing midnight marks both days;
    one ending exactly at midnight does not mark the next day (intervals are half-open)."""
    days: set[date] = set()
    for s, e in merge_intervals(intervals):
        d, last = s.astimezone(TZ).date(), (e - timedelta(microseconds=1)).astimezone(TZ).date()
        while d <= last:
            days.add(d)
            d += timedelta(days=1)
    return days


def _event_row(r: dict[str, Any], s: datetime, e: datetime) -> dict[str, Any]:
    return {"id": r["id"], "kind": r["kind"], "title": r["title"], "platform": r["platform_id"],
            "platform_name": r["platform__name"], "started_at": r["started_at"].isoformat(),
            "ended_at": r["ended_at"].isoformat() if r["ended_at"] else None,
            "counted_seconds": int((e - s).total_seconds())}


# --- The figures ------------------------------------------------------------------------------

def mail_month_figures(*, services: list[Service], year: int, month: int,
                       now: datetime | None = None) -> dict[int, MailMonthFigures]:
    """The e-mail guarantee's figures of `services` for one Asia/Shanghai month, judged against
    the policy rows (with each contract's override). A fixed number of queries whatever the
    number of services."""
    from incidents.downtime import services_month_downtime

    now = now or timezone.now()
    services = list(services)
    if not services:
        return {}
    start, end = month_bounds(year, month)
    first = date(year, month, 1)
    month_days = calendar.monthrange(year, month)[1]
    horizon = min(end, max(now, start))
    year_start = datetime(year, 1, 1, tzinfo=TZ)
    days_in_year = 366 if calendar.isleap(year) else 365
    ids = [s.pk for s in services]

    domains = list(MailDomain.objects.filter(service_id__in=ids).values_list("pk", "service_id", "platform_id"))
    domain_service = {pk: sid for pk, sid, _p in domains}
    platforms_of: dict[int, set[int]] = defaultdict(set)
    for _pk, sid, platform_id in domains:
        platforms_of[sid].add(platform_id)

    per, daily = _latency(domain_service, start, end)
    downtime = services_month_downtime(services=services, year=year, month=month, now=now)
    policies, overrides = _policies(s.contract_id for s in services)

    all_platforms = {p for ps in platforms_of.values() for p in ps}
    events: list[Any] = list(PlatformEvent.objects.filter(platform_id__in=all_platforms, started_at__lt=end)
                  .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=year_start))
                  .values("id", "platform_id", "platform__name", "kind", "title", "started_at", "ended_at")
                  .order_by("started_at", "id")) if all_platforms else []
    events_by_platform: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for ev in events:
        events_by_platform[ev["platform_id"]].append(ev)

    billing = BillingErrorFigure.objects.filter(month=first).first()
    billing_rate = (Decimal(billing.customers_with_error) * 100 / Decimal(billing.customers_billed)
                    if billing is not None and billing.customers_billed else None)
    webmail = _webmail(ids, first, first + timedelta(days=month_days - 1))

    out: dict[int, MailMonthFigures] = {}
    for s in services:
        sid = s.pk

        def judge(code: str, value: Decimal, counted: list[dict[str, Any]] | None = None,
                  counted_seconds: int = 0, contract_id: int = s.contract_id) -> Measurement | None:
            policy = policies.get(code)
            override = overrides.get((contract_id, policy.pk)) if policy else None
            return _judge(policy, override, value, counted, counted_seconds=counted_seconds)

        measured: dict[str, Measurement | None] = {}

        # E2: the chosen source's two directions.
        source = _source_for(sid, per)
        send = per.get((sid, source or "", Direction.SEND)) or DirectionFigures(direction=Direction.SEND)
        receive = per.get((sid, source or "", Direction.RECEIVE)) or DirectionFigures(direction=Direction.RECEIVE)
        directions = [d for d in (send, receive) if d.messages]
        average_minutes: Decimal | None = None
        over_hour = send.over_hour + receive.over_hour
        if source and directions:
            rows = [_direction_row(d, source) for d in (send, receive)]
            worst_seconds = max(Decimal(d.total_ms) / d.messages / 1000 for d in directions)
            average_minutes = worst_seconds / 60
            avg_policy = policies.get("E2-AVG")
            measured["E2-AVG"] = judge("E2-AVG", _in_unit(worst_seconds, avg_policy.unit if avg_policy else ""),
                                       rows)
            measured["E2-SLOW"] = judge("E2-SLOW", Decimal(over_hour), rows)
        day_rows = _daily_rows(daily.get((sid, source or ""), {}), first, month_days)

        # E3: the faults and adjustments of the platforms hosting the service's domains.
        platform_ids = sorted(platforms_of.get(sid, ()))
        mine = [ev for p in platform_ids for ev in events_by_platform.get(p, [])]
        in_month = _clip(mine, start, horizon)
        faults = [(a, b) for a, b, r in in_month if r["kind"] == PlatformEventKind.FAULT]
        adjustments = [(a, b) for a, b, r in in_month if r["kind"] == PlatformEventKind.ADJUSTMENT]
        fault_seconds, adjustment_seconds = _seconds(faults), _seconds(adjustments)
        month_seconds = int((end - start).total_seconds())
        availability = Decimal(month_seconds - fault_seconds) * 100 / Decimal(month_seconds)
        fault_rows = [_event_row(r, a, b) for a, b, r in in_month if r["kind"] == PlatformEventKind.FAULT]
        adjustment_rows = [_event_row(r, a, b) for a, b, r in in_month if r["kind"] == PlatformEventKind.ADJUSTMENT]
        year_faults = [(a, b) for a, b, r in _clip(mine, year_start, horizon) if r["kind"] == PlatformEventKind.FAULT]
        fault_days = _days_marked(year_faults)
        days_broken_in: date | None = None
        if platform_ids:
            fp = policies.get("E3-FAULT")
            measured["E3-FAULT"] = judge("E3-FAULT", _in_unit(Decimal(fault_seconds), fp.unit if fp else ""),
                                         fault_rows, fault_seconds)
            ap = policies.get("E3-ADJUST")
            measured["E3-ADJUST"] = judge("E3-ADJUST", _in_unit(Decimal(adjustment_seconds), ap.unit if ap else ""),
                                          adjustment_rows, adjustment_seconds)
            measured["E3-AVAIL"] = judge("E3-AVAIL", availability, fault_rows, fault_seconds)
            measured["E3-DAYS"], days_broken_in = _fault_free_days(
                judge, fault_days=fault_days, days_in_year=days_in_year, year=year, month=month,
                rows=[_event_row(r, a, b) for a, b, r in _clip(mine, year_start, horizon)
                      if r["kind"] == PlatformEventKind.FAULT])

        # E3: provider-wide billing error rate, and the service's webmail page probes.
        if billing_rate is not None and billing is not None:
            measured["E3-BILL"] = judge("E3-BILL", billing_rate, [{
                "id": billing.pk, "month": f"{billing.month:%Y-%m}", "customers_billed": billing.customers_billed,
                "customers_with_error": billing.customers_with_error}])
        web = webmail.get(sid)
        web_average: Decimal | None = None
        if web:
            ok = sum(t["ok_count"] for t in web)
            if ok:
                web_seconds = Decimal(sum(t["ok_total_ms"] for t in web)) / ok / 1000
                web_average = web_seconds.quantize(Decimal("0.001"))
                wp = policies.get("E3-WEB")
                measured["E3-WEB"] = judge("E3-WEB", _in_unit(web_seconds, wp.unit if wp else ""), [
                    {"id": t["id"], "name": t["name"], "ok_count": t["ok_count"],
                     "average_seconds": _dec(Decimal(t["ok_total_ms"]) / t["ok_count"] / 1000)
                     if t["ok_count"] else None} for t in web])

        measurements = {k: v for k, v in measured.items() if v is not None}
        dt = downtime.get(sid)
        verdicts: dict[str, bool | None] = {code: None for code in FIGURE_CODES}
        if dt is not None and dt.breached is not None:
            verdicts["E1"] = not dt.breached
        for code, m in measurements.items():
            verdicts[code] = m.kept
        out[sid] = MailMonthFigures(
            service_id=sid, year=year, month=month, latency_source=source, send=send, receive=receive,
            average_minutes=average_minutes, over_hour=over_hour, daily=day_rows,
            connectivity_minutes=dt.minutes if dt is not None else Decimal(0),
            fault_minutes=Decimal(fault_seconds) / 60, adjustment_minutes=Decimal(adjustment_seconds) / 60,
            availability_percent=availability, fault_days_year=len(fault_days),
            fault_free_days_year=days_in_year - len(fault_days), days_in_year=days_in_year,
            billing_error_rate_percent=billing_rate, webmail_average_seconds=web_average, verdicts=verdicts,
            measurements=measurements, platform_ids=platform_ids, days_broken_in=days_broken_in,
            events=sorted(fault_rows + adjustment_rows, key=lambda r: r["started_at"], reverse=True))
    return out


def _fault_free_days(judge: Any, *, fault_days: set[date], days_in_year: int, year: int, month: int,
                     rows: list[dict[str, Any]]) -> tuple[Measurement | None, date | None]:
    """E3-DAYS, judged on the calendar year: the fault-free days the year can still reach
    (days_in_year − fault days so far). Broken in the month the count first falls below the
    target; in the later months of the year not applicable, saying when it was broken, so the
    remedy is proposed once for the year."""
    value = Decimal(days_in_year - len(fault_days))
    m = judge("E3-DAYS", value, rows)
    if m is None or m.kept is not False:
        return m, None
    broken_in = month
    for earlier in range(1, month):
        so_far = sum(1 for d in fault_days if d.month <= earlier)
        if not compare(Decimal(days_in_year - so_far), m.comparison, m.threshold):
            broken_in = earlier
            break
    first_broken = date(year, broken_in, 1)
    if broken_in < month:
        m.kept = None
        m.counted = [{"id": "broken_in", "month": f"{first_broken:%Y-%m}"}, *rows]
    return m, first_broken


def _webmail(service_ids: list[int], first: date, last: date) -> dict[int, list[dict[str, Any]]]:
    """Per service, its webmail targets' successful probes in the month (count and summed
    latency, monitoring.ProbeDaily.ok_total_ms)."""
    from monitoring.models import ProbeDaily

    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in (ProbeDaily.objects.filter(target__service_id__in=service_ids, target__kind=WEBMAIL_CHECK,
                                          day__gte=first, day__lte=last)
                .values("target_id", "target__service_id", "target__name")
                .annotate(ok=Sum("ok_count"), ms=Sum("ok_total_ms")).order_by("target_id")):
        out[row["target__service_id"]].append({"id": row["target_id"], "name": row["target__name"],
                                               "ok_count": row["ok"] or 0, "ok_total_ms": row["ms"] or 0})
    return out
