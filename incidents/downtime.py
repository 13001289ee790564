"""Monthly counted downtime of a customer service (C1/E1 network, C2 power).

The rules (SPEC "What counts as downtime", seed 第一条/第二条):
- a month is the calendar month in Asia/Shanghai; an outage crossing a month boundary is split;
- only outages whose cause is the provider's fault count (an unclassified outage counts until
  staff justify an exclusion);
- with the contract's 5-day switch on, an outage the customer did not report within 5 days of its
  start is not counted (until those 5 days have passed it still counts: it may yet be reported);
- overlapping counted intervals are merged, so nothing is counted twice (a device outage and a
  www outage at the same time are one outage of the service);
- excluded outages simply contribute nothing: their time is not subtracted from counted ones (a
  customer-side www failure during a provider-side device outage must not erase the latter);
- minutes keep seconds precision (43:59 is 43.9833… minutes); the breach decision compares
  against the policy row (with the contract's override), never a number written here.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from customers.choices import ServiceKind
from customers.models import Contract, Service
from sla.choices import Comparison, Unit
from sla.models import ContractPolicy, SlaPolicy

from .choices import COUNTED_CAUSES, OutageKind
from .models import Incident, Outage

TZ = ZoneInfo("Asia/Shanghai")
REPORT_WINDOW = timedelta(days=5)
NOT_REPORTED = "not_reported_5_days"


@dataclass(frozen=True)
class OutageFacts:
    """What the computation needs of one outage (the bench feeds these without the ORM)."""

    id: int
    started_at: datetime
    ended_at: datetime | None
    cause: str
    reported_at: datetime | None


@dataclass
class MonthlyDowntime:
    service_id: int
    year: int
    month: int
    kind: str
    month_start: datetime
    month_end: datetime
    counted_seconds: int
    intervals: list[tuple[datetime, datetime]]
    counted_outage_ids: list[int]
    excluded: dict[int, str] = field(default_factory=dict)
    policy_code: str | None = None
    comparison: str | None = None
    threshold: Decimal | None = None
    unit: str | None = None
    value: Decimal | None = None
    breached: bool | None = None

    @property
    def minutes(self) -> Decimal:
        """Counted minutes with seconds precision (exact: seconds / 60)."""
        return Decimal(self.counted_seconds) / Decimal(60)

    @property
    def minutes_display(self) -> str:
        """mm:ss, e.g. 43:59."""
        m, s = divmod(self.counted_seconds, 60)
        return f"{m}:{s:02d}"

    @property
    def month_seconds(self) -> int:
        return int((self.month_end - self.month_start).total_seconds())

    @property
    def percent(self) -> Decimal:
        return Decimal(self.counted_seconds) * 100 / Decimal(self.month_seconds)


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of the calendar month in Asia/Shanghai, as aware datetimes."""
    if not 1 <= month <= 12:
        raise ValueError("month must be 1..12")
    start = datetime(year, month, 1, tzinfo=TZ)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=TZ)
    return start, end


def merge_intervals(intervals: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Union of half-open intervals; touching intervals join."""
    out: list[tuple[datetime, datetime]] = []
    for s, e in sorted(i for i in intervals if i[1] > i[0]):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def exclusion_reason(o: OutageFacts, *, exclude_unreported: bool, now: datetime) -> str | None:
    """Why an outage is not counted (its cause, or the 5-day clause), or None if it counts."""
    if o.cause and o.cause not in COUNTED_CAUSES:
        return o.cause
    if exclude_unreported:
        deadline = o.started_at + REPORT_WINDOW
        reported_in_time = o.reported_at is not None and o.reported_at <= deadline
        if not reported_in_time and now > deadline:
            return NOT_REPORTED
    return None


def policy_code_for(*, service_kind: str, kind: str) -> str:
    if kind == OutageKind.POWER:
        return "C2"
    return "E1" if service_kind == ServiceKind.EMAIL else "C1"


def compare(value: Decimal, comparison: str, threshold: Decimal) -> bool:
    """True when the promise is kept: value <comparison> threshold."""
    return {
        Comparison.LT: value < threshold, Comparison.LE: value <= threshold,
        Comparison.GE: value >= threshold, Comparison.GT: value > threshold,
    }[Comparison(comparison)]


def compute(
    *, outages: Iterable[OutageFacts], service_id: int, year: int, month: int, kind: str,
    exclude_unreported: bool, now: datetime,
) -> MonthlyDowntime:
    """The pure computation: clip to the month, drop exclusions, merge, sum."""
    start, end = month_bounds(year, month)
    horizon = min(end, max(now, start))
    counted: list[tuple[datetime, datetime]] = []
    counted_ids: list[int] = []
    excluded: dict[int, str] = {}
    for o in outages:
        s = max(o.started_at, start)
        e = min(o.ended_at if o.ended_at is not None else horizon, end)
        if e <= s:
            continue
        reason = exclusion_reason(o, exclude_unreported=exclude_unreported, now=now)
        if reason:
            excluded[o.id] = reason
            continue
        counted.append((s, e))
        counted_ids.append(o.id)
    merged = merge_intervals(counted)
    # Sum first, truncate once: per-interval truncation loses up to a second per interval.
    total = int(sum((e - s for s, e in merged), timedelta()).total_seconds())
    return MonthlyDowntime(service_id=service_id, year=year, month=month, kind=kind,
                           month_start=start, month_end=end, counted_seconds=total,
                           intervals=merged, counted_outage_ids=counted_ids, excluded=excluded)


def judge(result: MonthlyDowntime, *, policy: SlaPolicy | None, override: ContractPolicy | None
          ) -> MonthlyDowntime:
    """Fill in the policy comparison (the contract's override applied) and the breach decision."""
    if policy is None:
        return result
    threshold = override.threshold if override and override.threshold is not None else policy.threshold
    active = policy.active and (override.active if override else True)
    result.policy_code, result.comparison, result.unit = policy.code, policy.comparison, policy.unit
    result.threshold = threshold
    if policy.unit == Unit.PERCENT:
        result.value = result.percent
    elif policy.unit == Unit.HOURS:
        result.value = Decimal(result.counted_seconds) / 3600
    else:
        result.value = result.minutes
    result.breached = (not compare(result.value, policy.comparison, threshold)) if active else None
    return result


def _facts(qs: Any) -> list[tuple[int, OutageFacts]]:
    rows = qs.values_list("id", "service_id", "started_at", "ended_at", "cause", "reported_at",
                          "incident__reported_at")
    out = []
    for oid, sid, s, e, cause, rep, inc_rep in rows:
        reported = min((r for r in (rep, inc_rep) if r is not None), default=None)
        out.append((sid, OutageFacts(oid, s, e, cause, reported)))
    return out


def _reports_by_service(service_ids: list[int], *, since: datetime, until: datetime) -> dict[int, list[datetime]]:
    """The customer's own reports (portal, complaint line, acknowledgement) per service: a report
    made while an outage of that service was going on reports that outage, even when it was filed
    as an incident of its own rather than on the monitor's incident."""
    out: dict[int, list[datetime]] = defaultdict(list)
    for sid, at in (Incident.objects.filter(service_id__in=service_ids, reported_at__gte=since,
                                            reported_at__lt=until)
                    .values_list("service_id", "reported_at")):
        out[sid].append(at)
    return out


def _with_service_reports(o: OutageFacts, reports: list[datetime], *, now: datetime) -> OutageFacts:
    end = o.ended_at if o.ended_at is not None else now
    during = [r for r in reports if o.started_at <= r <= end]
    if not during or (o.reported_at is not None and o.reported_at <= min(during)):
        return o
    return replace(o, reported_at=min(during))


def _outages_in_month(year: int, month: int, kind: str) -> Any:
    start, end = month_bounds(year, month)
    return Outage.objects.filter(kind=kind, started_at__lt=end).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=start))


def service_month_downtime(*, service: Service, year: int, month: int,
                           kind: str = OutageKind.NETWORK, now: datetime | None = None) -> MonthlyDowntime:
    """Counted downtime of one service for one month, and whether C1/E1 (network) or C2 (power)
    is breached against the policy."""
    return services_month_downtime(services=[service], year=year, month=month, kind=kind, now=now)[service.pk]


def services_month_downtime(*, services: Iterable[Service], year: int, month: int,
                            kind: str = OutageKind.NETWORK, now: datetime | None = None
                            ) -> dict[int, MonthlyDowntime]:
    """The same for many services with one outage query (the monthly statement, the bench)."""
    now = now or timezone.now()
    services = list(services)
    by_service: dict[int, list[OutageFacts]] = defaultdict(list)
    for sid, one in _facts(_outages_in_month(year, month, kind).filter(
            service_id__in=[s.pk for s in services])):
        by_service[sid].append(one)
    if by_service:
        start, end = month_bounds(year, month)
        since = min(o.started_at for outages in by_service.values() for o in outages)
        reports = _reports_by_service(list(by_service), since=since, until=max(end, now))
        for sid, outages in by_service.items():
            if reports.get(sid):
                by_service[sid] = [_with_service_reports(o, reports[sid], now=now) for o in outages]
    contracts = {c.pk: c for c in Contract.objects.filter(pk__in={s.contract_id for s in services})}
    policies = {p.code: p for p in SlaPolicy.objects.filter(code__in=["C1", "C2", "E1"])}
    # The same rule as sla.services.policy_effective, with every override read in one query.
    overrides = {(o.contract_id, o.policy_id): o for o in ContractPolicy.objects.filter(
        contract_id__in=list(contracts), policy__in=list(policies.values()))}
    out = {}
    for s in services:
        contract = contracts.get(s.contract_id)
        r = compute(outages=by_service.get(s.pk, []), service_id=s.pk, year=year, month=month, kind=kind,
                    # The 5-day clause is the hosting agreement's (seed 000); the e-mail guarantee
                    # has none, so E1 counts every outage not excluded by its cause (SPEC).
                    exclude_unreported=bool(contract and contract.exclude_unreported_outages
                                            and s.kind != ServiceKind.EMAIL), now=now)
        policy = policies.get(policy_code_for(service_kind=s.kind, kind=kind))
        out[s.pk] = judge(r, policy=policy, override=overrides.get((s.contract_id, policy.pk)) if policy else None)
    return out


def month_of(dt: datetime) -> tuple[int, int]:
    local = dt.astimezone(TZ)
    return local.year, local.month


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def service_months_downtime(*, service: Service, months: list[tuple[int, int]],
                            kind: str = OutageKind.NETWORK, now: datetime | None = None
                            ) -> dict[tuple[int, int], MonthlyDowntime]:
    """The same as service_month_downtime for several months of one service with one outage query
    (the availability chart of the downtime page: five queries for twelve months). The rules are
    services_month_downtime's, applied month by month to the outages of the whole range."""
    now = now or timezone.now()
    if not months:
        return {}
    first, _end = month_bounds(*min(months))
    _start, last = month_bounds(*max(months))
    outages = [f for _sid, f in _facts(Outage.objects.filter(kind=kind, service_id=service.pk, started_at__lt=last)
                                       .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=first)))]
    if outages:
        reports = _reports_by_service([service.pk], since=min(o.started_at for o in outages),
                                      until=max(last, now)).get(service.pk)
        if reports:
            outages = [_with_service_reports(o, reports, now=now) for o in outages]
    contract = Contract.objects.filter(pk=service.contract_id).first()
    policy = SlaPolicy.objects.filter(code=policy_code_for(service_kind=service.kind, kind=kind)).first()
    override = (ContractPolicy.objects.filter(contract_id=service.contract_id, policy=policy).first()
                if policy is not None else None)
    exclude_unreported = bool(contract and contract.exclude_unreported_outages and service.kind != ServiceKind.EMAIL)
    return {(y, m): judge(compute(outages=outages, service_id=service.pk, year=y, month=m, kind=kind,
                                  exclude_unreported=exclude_unreported, now=now),
                          policy=policy, override=override)
            for y, m in months}
