"""The month of seed 002 §5 and §7 for e-mail services: backups (E6-INCR, E6-FULL, E6-KEEP),
locked-account retention (E6-LOCKED) and virus-signature freshness (AV-SIG), judged per service
against its contract's targets. `guarantee_month` is the one computation behind the month close
(the measures registered here), the pages, the API and the statement section.

A service is judged for a promise only when something can be judged: its domains are on a
platform whose backups (signatures) are checked, and for E6-LOCKED an account's data was
deleted in the month. The days judged are the month's days up to yesterday (today is not over)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Service
from incidents.downtime import TZ, month_bounds
from settlement.measures import Measurement, PeriodMeasure, register
from settlement.statement_sections import register_section

from .backups import (
    AV_CODE,
    BACKUP_CODES,
    DayFacts,
    SignatureGaps,
    Target,
    backup_days_compute,
    platforms_of_services,
    policy_targets,
    signature_gaps,
    yesterday,
)
from .retention import LockedMonth, judge_locked, locked_accounts_of_month, locked_month

CODES = (*BACKUP_CODES, "E6-LOCKED", AV_CODE)


@dataclass
class GuaranteeMonth:
    """One e-mail service's backups, retention and anti-virus month, with the measurements."""

    service_id: int
    platforms: list[Any]
    days: list[DayFacts]
    breached_days: list[date]
    signatures: list[SignatureGaps]
    locked: LockedMonth | None
    targets: dict[str, Target]
    measurements: dict[str, Measurement] = field(default_factory=dict)


def _day_row(f: DayFacts, names: dict[int, str], why: str) -> dict[str, Any]:
    return {"id": f"{f.day.isoformat()}:{f.platform_id}", "day": f.day.isoformat(), "platform": f.platform_id,
            "platform_name": names.get(f.platform_id, ""), "cause": why,
            "days_since_backup": f.days_since_backup, "days_since_full": f.days_since_full,
            "oldest_kept_days": f.oldest_kept_days, "runs_failed": f.runs_failed}


def _m(t: Target, value: Decimal, unit: str, counted: list[dict[str, Any]]) -> Measurement:
    return Measurement(value=value, comparison=t.comparison, threshold=t.threshold, unit=unit,
                       kept=t.kept(value) if t.active else None, counted=counted)


def guarantee_month(*, services: list[Service], year: int, month: int,
                    now: datetime | None = None) -> dict[int, GuaranteeMonth]:
    """Seed 002 §5/§7 of `services` (e-mail) for an Asia/Shanghai month, judged per contract."""
    now = now or timezone.now()
    services = list(services)
    if not services:
        return {}
    start, end = month_bounds(year, month)
    first = date(year, month, 1)
    last = min((end - timedelta(days=1)).astimezone(TZ).date(), yesterday(now))
    platforms = platforms_of_services([s.pk for s in services])
    all_platforms = {p.pk: p for ps in platforms.values() for p in ps}
    names = {p.pk: p.name for p in all_platforms.values()}
    base = policy_targets(CODES)
    facts = (backup_days_compute(platforms=list(all_platforms.values()), first=first, last=last,
                                 keep_days=max(int(base["E6-KEEP"].threshold), 1))
             if last >= first else {})
    gaps = signature_gaps(platforms=list(all_platforms.values()), start=start, end=end, now=now)
    locked = locked_month(service_ids=[s.pk for s in services], start=start, end=end)
    targets_by_contract: dict[int, dict[str, Target]] = {}
    out: dict[int, GuaranteeMonth] = {}
    for s in services:
        targets = targets_by_contract.get(s.contract_id)
        if targets is None:
            targets = targets_by_contract[s.contract_id] = policy_targets(CODES, contract_id=s.contract_id)
        mine = platforms.get(s.pk, [])
        days = [DayFacts(**{**f.__dict__}).judge(targets) for p in mine for f in facts.get(p.pk, [])]
        g = GuaranteeMonth(service_id=s.pk, platforms=mine, days=days,
                           breached_days=sorted({d.day for d in days if d.breached}),
                           signatures=[gaps[p.pk] for p in mine if p.pk in gaps], locked=locked.get(s.pk),
                           targets=targets)
        if days:
            g.measurements["E6-INCR"] = _m(
                targets["E6-INCR"], Decimal(max(d.days_since_backup for d in days) + 1), "days",
                [_day_row(d, names, "no_backup") for d in days if d.incremental_breached])
            g.measurements["E6-FULL"] = _m(
                targets["E6-FULL"], Decimal(max(d.days_since_full for d in days) + 1), "days",
                [_day_row(d, names, "no_full_backup") for d in days if d.full_breached])
            judged = [d for d in days if d.keep_judged]
            if judged:
                g.measurements["E6-KEEP"] = _m(
                    targets["E6-KEEP"], Decimal(min((d.oldest_kept_days or 0) for d in judged)), "days",
                    [_day_row(d, names, "retention_short") for d in judged if d.keep_breached])
        if g.signatures:
            longest = max(sg.longest_days for sg in g.signatures)
            t = targets[AV_CODE]
            g.measurements[AV_CODE] = _m(t, longest, "days", [
                {**gap, "cause": "signatures_stale"} for sg in g.signatures for gap in sg.gaps
                if not t.kept(Decimal(gap["days"]))])
        if g.locked is not None:
            t = targets["E6-LOCKED"]
            kept = judge_locked(t, g.locked)
            if kept is not None or not t.active:
                g.measurements["E6-LOCKED"] = _m(t, Decimal(g.locked.min_days or 0), "days", [
                    {**d, "cause": "deleted_early" if d["early"] else "deleted"} for d in g.locked.deletions])
        out[s.pk] = g
    return out


# --- The month close --------------------------------------------------------------------------

def _email(service: Service) -> bool:
    from customers.choices import ServiceKind

    return service.kind == ServiceKind.EMAIL


def _measure(code: str) -> Any:
    def measure(*, services: list[Service], year: int, month: int, now: datetime) -> dict[int, Measurement]:
        months = guarantee_month(services=services, year=year, month=month, now=now)
        return {sid: g.measurements[code] for sid, g in months.items() if code in g.measurements}
    return measure


for _code in CODES:
    register(PeriodMeasure(_code, _email, _measure(_code)))


# --- The monthly statement ----------------------------------------------------------------------

def statement_section(*, customer: Any, first: date, start: datetime, end: datetime, services: list[Service],
                      now: datetime, **_kwargs: Any) -> dict[str, Any] | None:
    """Backups (breached days), virus-signature freshness and the locked accounts of the month,
    one row per e-mail service."""
    emails = [s for s in services if _email(s)]
    if not emails:
        return None
    months = guarantee_month(services=emails, year=first.year, month=first.month, now=now)
    accounts: dict[int, list[Any]] = {}
    for a in locked_accounts_of_month(service_ids=[s.pk for s in emails], start=start, end=end):
        accounts.setdefault(a.service_id, []).append(a)
    from sla.models import SlaPolicy

    # The promises by their names in the active language (a code is not a word a customer reads).
    names = {p.code: p.name for p in SlaPolicy.objects.filter(code__in=CODES)}
    rows, breached = [], 0
    for s in emails:
        g = months.get(s.pk)
        if g is None:
            continue
        broken = [c for c, m in g.measurements.items() if m.kept is False]
        breached += 1 if broken else 0
        if g.days:
            backups = (_("%(n)s breached days: %(days)s") % {
                "n": len(g.breached_days), "days": "、".join(f"{d:%m-%d}" for d in g.breached_days)}
                if g.breached_days else _("every day checked was kept"))
        else:
            backups = _("not checked")
        av = g.measurements.get(AV_CODE)
        av_text = (_("longest gap %(days)s days") % {"days": av.value.quantize(Decimal("0.1"))}
                   if av is not None else _("not checked"))
        acc = accounts.get(s.pk, [])
        acc_text = "；".join(
            _("%(address)s locked %(locked)s, may be deleted from %(date)s%(deleted)s") % {
                "address": a.address, "locked": f"{timezone.localtime(a.locked_at, TZ):%Y-%m-%d}",
                "date": f"{timezone.localtime(a.deletable_from, TZ):%Y-%m-%d %H:%M}",
                "deleted": (_(", deleted %(at)s") % {"at": f"{timezone.localtime(a.deleted_at, TZ):%Y-%m-%d}"})
                if a.deleted_at else ""} for a in acc) or _("none")
        rows.append([s.name, backups, av_text, acc_text,
                     "、".join(names.get(c, c) for c in broken) if broken else _("kept")])
    if not rows:
        return None
    return {"title": _("Backups, anti-virus and locked accounts"),
            "columns": [_("Service"), _("Backups"), _("Virus signature updates"), _("Locked accounts"),
                        _("Promises broken")],
            "rows": rows, "breached": breached,
            "note": _("Backups: an incremental every day, a full backup within every 3 days, backups kept at "
                      "least a month; virus signatures updated at least weekly; a locked account's data kept "
                      "90 days.")}


register_section("mail_guarantee", statement_section, order=120)


# --- The staff work queue -----------------------------------------------------------------------

QUEUE_DAYS = 30


@dataclass
class PlatformQueueRow:
    """One platform on the staff work queue: its last runs, the breached days of the last 30 days
    (stored daily checks), and its virus-signature freshness."""

    platform: Any
    runs: list[Any]
    breached_days: list[Any]
    checked: bool
    signatures: SignatureGaps | None
    av_breached: bool


def staff_queue(*, now: datetime | None = None, runs_per_platform: int = 5) -> list[PlatformQueueRow]:
    """Every mail platform with what staff must look at (the work queue page and API)."""
    from .models import BackupDay, BackupRun, MailPlatform

    now = now or timezone.now()
    platforms = list(MailPlatform.objects.order_by("name"))
    since = timezone.localtime(now, TZ).date() - timedelta(days=QUEUE_DAYS)
    bad: dict[int, list[Any]] = {}
    for row in BackupDay.objects.filter(breached=True, day__gte=since).order_by("-day"):
        bad.setdefault(row.platform_id, []).append(row)
    gaps = signature_gaps(platforms=platforms, start=now - timedelta(days=QUEUE_DAYS), end=now, now=now)
    av = policy_targets((AV_CODE,))[AV_CODE]
    out = []
    for p in platforms:
        runs = list(BackupRun.objects.filter(platform=p).order_by("-started_at", "-id")[:runs_per_platform])
        sg = gaps.get(p.pk)
        stale = sg is not None and av.active and not av.kept(
            sg.days_since if sg.days_since is not None else sg.longest_days)
        out.append(PlatformQueueRow(platform=p, runs=runs, breached_days=bad.get(p.pk, []),
                                    checked=p.backup_checks_from is not None, signatures=sg, av_breached=stale))
    return out
