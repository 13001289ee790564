"""Backups and anti-virus freshness of the mail platforms (seed 002 §5 and §7, SPEC E6).

Writes: a backup run or a virus-signature update, reported by the platform's machines with a
reporter token (mailservice.api.guarantee) or entered by staff; reporter tokens; the daily
check rows (BackupDay). Reads: the daily check of any platform and day range, the signature
gaps, the month's figures the month close judges (mailservice.guarantee_measures).

The daily check (Asia/Shanghai days, from the platform's `backup_checks_from`):
- E6-INCR: an ok backup (incremental or full) started that day; the interval between backups
  is `days_since_backup + 1` and must be ≤ 1 day, so one day without one is one breached day.
- E6-FULL: an ok full backup started within the last 3 days (that day and the two before); the
  interval `days_since_full + 1` must be ≤ 3, so a full every 4 days breaks one day in four.
- E6-KEEP: the oldest backup still kept at the end of the day is at least 30 days old (from the
  backup system's `oldest_kept_at` when it reports one, else from the runs' `kept_until`);
  judged once the platform has been checked for 30 days (nothing can be older than that).
A failed run does not count as a backup; a day with only failed runs (or none) is breached.
Today is never judged: its runs may still come.

The same computation feeds the stored rows, the pages and the month close, so what is shown is
what is judged; a report for a day already judged recomputes the rows from that day on and
re-judges every closed month whose rows changed."""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from customers.choices import Role, ServiceKind
from customers.selectors import user_has_role
from incidents.downtime import TZ, compare
from sla.models import ContractPolicy, SlaPolicy
from slaportal.errors import DomainError, ForbiddenError

from .choices import BackupKind, BackupStatus, ReportOrigin
from .models import (
    BackupDay,
    BackupRun,
    MailDomain,
    MailPlatform,
    ReporterToken,
    SignatureUpdate,
    hash_reporter_token,
)

logger = logging.getLogger(__name__)

BACKUP_CODES = ("E6-INCR", "E6-FULL", "E6-KEEP")
AV_CODE = "AV-SIG"
EDITOR_ROLES = (Role.ENGINEER, Role.MANAGER)
# The defaults of the policy rows, used only when a row is missing (a test database without the
# seed, a row deleted by mistake): the rows decide.
DEFAULTS = {"E6-INCR": ("le", Decimal(1)), "E6-FULL": ("le", Decimal(3)), "E6-KEEP": ("ge", Decimal(30)),
            "E6-LOCKED": ("ge", Decimal(90)), AV_CODE: ("le", Decimal(7))}
DAY = timedelta(days=1)


def _require_editor(actor: Any) -> None:
    if not user_has_role(actor, *EDITOR_ROLES):
        raise ForbiddenError(_("Only an engineer or a manager can do this."))


def local_day(at: datetime) -> date:
    return timezone.localtime(at, TZ).date()


def day_start(d: date) -> datetime:
    return datetime.combine(d, time(0), tzinfo=TZ)


def yesterday(now: datetime) -> date:
    """The last day that can be judged: today's backups may still come."""
    return local_day(now) - DAY


@dataclass(frozen=True)
class Target:
    """A promise's comparison and threshold (the policy row, with a contract's override)."""

    code: str
    comparison: str
    threshold: Decimal
    active: bool = True

    def kept(self, value: Decimal) -> bool:
        return compare(value, self.comparison, self.threshold)


def policy_targets(codes: tuple[str, ...] = (*BACKUP_CODES, "E6-LOCKED", AV_CODE),
                   contract_id: int | None = None) -> dict[str, Target]:
    """The targets of `codes` from their policy rows (the contract's override wins)."""
    policies = {p.code: p for p in SlaPolicy.objects.filter(code__in=codes)}
    overrides = ({o.policy_id: o for o in ContractPolicy.objects.filter(contract_id=contract_id,
                                                                        policy__in=list(policies.values()))}
                 if contract_id else {})
    out = {}
    for code in codes:
        p = policies.get(code)
        if p is None:
            cmp, thr = DEFAULTS[code]
            out[code] = Target(code, cmp, thr)
            continue
        ov = overrides.get(p.pk)
        out[code] = Target(code, p.comparison,
                           ov.threshold if ov is not None and ov.threshold is not None else p.threshold,
                           p.active and (ov.active if ov is not None else True))
    return out


def _whole_days(t: Target) -> int:
    return max(int(t.threshold), 1)


# --- Reporter tokens ---------------------------------------------------------------------------

def reporter_for_token(raw: str) -> ReporterToken | None:
    """The active reporter whose token hashes to `raw` (tokens are random: lookup by hash is safe)."""
    if not raw:
        return None
    return (ReporterToken.objects.select_related("platform")
            .filter(token_hash=hash_reporter_token(raw), active=True).first())


def reporter_token_create(*, actor: Any, platform: MailPlatform, name: str,
                          now: datetime | None = None) -> tuple[ReporterToken, str]:
    """Make a reporter token for a platform's backup system or scanner; the raw token is returned
    once (shown once) and only its hash is stored."""
    _require_editor(actor)
    now = now or timezone.now()
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the reporter a name."), field_errors={"name": [_("This field is required.")]})
    raw = secrets.token_urlsafe(32)
    token = ReporterToken(platform=platform, name=name[:120])
    token.set_token(raw)
    try:
        with transaction.atomic():
            token.save()
            audit_record(obj=token, action="create", actor=actor, now=now,
                         data={"platform": platform.pk, "name": token.name, "token_prefix": token.token_prefix})
    except IntegrityError:
        raise DomainError(_("This platform already has a reporter with that name."),
                          field_errors={"name": [_("Choose another name.")]}) from None
    return token, raw


def reporter_token_revoke(*, actor: Any, token_id: int, now: datetime | None = None) -> ReporterToken:
    """Switch a reporter token off (a leaked or retired machine)."""
    _require_editor(actor)
    with transaction.atomic():
        token = ReporterToken.objects.select_for_update().get(pk=token_id)
        if token.active:
            token.active = False
            token.save(update_fields=["active"])
            audit_record(obj=token, action="revoke", actor=actor, now=now or timezone.now())
    return token


# --- Backup runs -------------------------------------------------------------------------------

RUN_FIELDS = ("kind", "status", "started_at", "ended_at", "size_bytes", "kept_until", "oldest_kept_at", "tool",
              "note")


@dataclass
class ReportResult:
    """What a report did: created, changed (a correction of the same run id) or unchanged."""

    id: int
    outcome: str
    rejudged_days: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "outcome": self.outcome, "recomputed_days": self.rejudged_days}


def _check_run(data: dict[str, Any], now: datetime) -> None:
    errors: dict[str, list[Any]] = {}
    if data["kind"] not in BackupKind.values:
        errors["kind"] = [_("Use incremental or full.")]
    if data["status"] not in BackupStatus.values:
        errors["status"] = [_("Use ok or failed.")]
    if data["ended_at"] < data["started_at"]:
        errors["ended_at"] = [_("The end must not be before the start.")]
    if data["started_at"] > now + timedelta(minutes=5):
        errors["started_at"] = [_("This is in the future.")]
    if data.get("kept_until") is not None and data["kept_until"] < data["ended_at"]:
        errors["kept_until"] = [_("A backup cannot be deleted before it ended.")]
    if data.get("oldest_kept_at") is not None and data["oldest_kept_at"] > data["ended_at"]:
        errors["oldest_kept_at"] = [_("The oldest backup kept cannot be newer than this run.")]
    if data.get("size_bytes") is not None and data["size_bytes"] < 0:
        errors["size_bytes"] = [_("The size cannot be negative.")]
    if errors:
        raise DomainError(_("The backup report is not valid."), field_errors=errors)


def backup_run_record(*, platform: MailPlatform, data: dict[str, Any], reporter: ReporterToken | None = None,
                      actor: Any = None, now: datetime | None = None) -> ReportResult:
    """Record one backup run (from a reporter token, or `actor` staff). The same run id of the
    platform reported again with the same content changes nothing; with other content it is a
    correction (audited). The daily checks from the run's day on are recomputed after commit."""
    now = now or timezone.now()
    if reporter is None:
        _require_editor(actor)
    data = dict(data)
    if data.get("kept_until") is None and data.get("retention_days") is not None:
        data["kept_until"] = data["ended_at"] + timedelta(days=int(data["retention_days"]))
    if data.get("kept_until") is None:
        raise DomainError(_("The backup report is not valid."),
                          field_errors={"kept_until": [_("Give kept_until or retention_days.")]})
    _check_run(data, now)
    run_id = str(data["run_id"]).strip()
    values = {k: data.get(k) for k in RUN_FIELDS}
    values["tool"] = (values["tool"] or "")[:40]
    values["note"] = (values["note"] or "")[:500]
    with transaction.atomic():
        locked = MailPlatform.objects.select_for_update().get(pk=platform.pk)
        existing = BackupRun.objects.select_for_update().filter(platform=locked, run_id=run_id).first()
        since = local_day(data["started_at"])
        if existing is not None:
            changed = {k: v for k, v in values.items() if getattr(existing, k) != v}
            if not changed:
                result = ReportResult(existing.pk, "unchanged")
                _touch(reporter, now)
                return result
            before = {k: _plain(getattr(existing, k)) for k in changed}
            since = min(since, local_day(existing.started_at))
            for k, v in changed.items():
                setattr(existing, k, v)
            existing.save(update_fields=list(changed))
            audit_record(obj=existing, action="correct", actor=actor, now=now,
                         data={"before": before, "after": {k: _plain(v) for k, v in changed.items()},
                               "reporter": reporter.pk if reporter else None})
            run, outcome = existing, "changed"
        else:
            run = BackupRun.objects.create(
                platform=locked, run_id=run_id, **values, received_at=now,
                origin=ReportOrigin.REPORTER if reporter else ReportOrigin.STAFF, reporter=reporter,
                recorded_by=actor if getattr(actor, "is_authenticated", False) else None)
            audit_record(obj=run, action="create", actor=actor, now=now,
                         data={"run_id": run_id, "kind": run.kind, "status": run.status,
                               "reporter": reporter.pk if reporter else None})
            outcome = "created"
        if locked.backup_checks_from is None:
            # The day the portal first heard of this platform's backups: judged from then on.
            locked.backup_checks_from = local_day(run.started_at)
            locked.save(update_fields=["backup_checks_from"])
        _touch(reporter, now)
        changed_days = backup_days_refresh(platform=locked, since=since, now=now)
    return ReportResult(run.pk, outcome, [d.isoformat() for d in changed_days])


def _plain(v: Any) -> Any:
    return v.isoformat() if isinstance(v, (datetime, date)) else v


def _touch(reporter: ReporterToken | None, now: datetime) -> None:
    if reporter is not None:
        ReporterToken.objects.filter(pk=reporter.pk).update(last_used_at=now)


# --- The daily check ----------------------------------------------------------------------------

@dataclass
class DayFacts:
    """One platform's day: the facts and the verdicts against the given targets."""

    platform_id: int
    day: date
    runs_ok: int = 0
    runs_failed: int = 0
    days_since_backup: int = 0
    days_since_full: int = 0
    oldest_kept_days: int | None = None
    keep_judged: bool = True
    incremental_breached: bool = False
    full_breached: bool = False
    keep_breached: bool = False

    @property
    def breached(self) -> bool:
        return self.incremental_breached or self.full_breached or self.keep_breached

    def judge(self, targets: dict[str, Target]) -> DayFacts:
        """Set the verdicts against `targets` (a contract's override gives other verdicts on the
        same facts)."""
        incr, full, keep = targets["E6-INCR"], targets["E6-FULL"], targets["E6-KEEP"]
        self.incremental_breached = incr.active and not incr.kept(Decimal(self.days_since_backup + 1))
        self.full_breached = full.active and not full.kept(Decimal(self.days_since_full + 1))
        self.keep_breached = keep.active and self.keep_judged and (
            self.oldest_kept_days is None or not keep.kept(Decimal(self.oldest_kept_days)))
        return self


def backup_days_compute(*, platforms: list[MailPlatform], first: date, last: date,
                        keep_days: int | None = None) -> dict[int, list[DayFacts]]:
    """The daily facts of each platform for the days [first, last] it is checked (from its
    backup_checks_from). Unjudged (call DayFacts.judge). A few queries per platform."""
    if keep_days is None:
        keep_days = _whole_days(policy_targets(BACKUP_CODES)["E6-KEEP"])
    out: dict[int, list[DayFacts]] = {}
    for p in platforms:
        if p.backup_checks_from is None:
            continue
        lo = max(first, p.backup_checks_from)
        if lo > last:
            out[p.pk] = []
            continue
        out[p.pk] = _platform_days(p, lo, last, keep_days)
    return out


def _platform_days(p: MailPlatform, lo: date, hi: date, keep_days: int) -> list[DayFacts]:
    start, end = day_start(lo), day_start(hi + DAY)
    runs = BackupRun.objects.filter(platform=p)
    ok = runs.filter(status=BackupStatus.OK)
    prev_ok = ok.filter(started_at__lt=start).order_by("-started_at").values_list("started_at", flat=True).first()
    prev_full = (ok.filter(started_at__lt=start, kind=BackupKind.FULL).order_by("-started_at")
                 .values_list("started_at", flat=True).first())
    # Typed Any: django-stubs types values() rows as TypedDicts of the literal keys only.
    window: Any = list(runs.filter(started_at__gte=start, started_at__lt=end).values("kind", "status", "started_at"))
    # Backups that may still be kept on some day of the range, and the backup system's own
    # statements of its oldest backup (the last one before the range, and those in it).
    kept = list(ok.filter(started_at__lt=end, kept_until__gt=start).values_list("started_at", "kept_until"))
    stated = list(runs.filter(oldest_kept_at__isnull=False, ended_at__lt=end, ended_at__gte=start)
                  .values_list("ended_at", "oldest_kept_at").order_by("ended_at"))
    before = (runs.filter(oldest_kept_at__isnull=False, ended_at__lt=start).order_by("-ended_at")
              .values_list("ended_at", "oldest_kept_at").first())
    if before is not None:
        stated.insert(0, before)

    per_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for r in window:
        per_day[local_day(r["started_at"])].append(r)
    checks_from = p.backup_checks_from or lo
    # Before the first known backup, count from the day before the checks began.
    last_ok = local_day(prev_ok) if prev_ok else checks_from - DAY
    last_full = local_day(prev_full) if prev_full else checks_from - DAY
    out = []
    d = lo
    si = 0
    current_stated: datetime | None = None
    while d <= hi:
        rows = per_day.get(d, [])
        good = [r for r in rows if r["status"] == BackupStatus.OK]
        if good:
            last_ok = d
        if any(r["kind"] == BackupKind.FULL for r in good):
            last_full = d
        end_of_day = day_start(d + DAY)
        while si < len(stated) and stated[si][0] < end_of_day:
            current_stated = stated[si][1]
            si += 1
        if current_stated is not None:
            oldest: datetime | None = current_stated
        else:
            candidates = [s for s, until in kept if s < end_of_day and until > end_of_day]
            oldest = min(candidates) if candidates else None
        facts = DayFacts(
            platform_id=p.pk, day=d, runs_ok=len(good), runs_failed=len(rows) - len(good),
            days_since_backup=(d - last_ok).days, days_since_full=(d - last_full).days,
            oldest_kept_days=int((end_of_day - oldest) / DAY) if oldest is not None else None,
            keep_judged=d >= checks_from + timedelta(days=keep_days))
        out.append(facts)
        d += DAY
    return out


STORED = ("runs_ok", "runs_failed", "days_since_backup", "days_since_full", "oldest_kept_days", "keep_judged",
          "incremental_breached", "full_breached", "keep_breached", "breached")


def backup_days_refresh(*, platform: MailPlatform, since: date, now: datetime | None = None) -> list[date]:
    """Store the daily checks of `platform` from `since` to yesterday (only the rows that change)
    and, after commit, re-judge the closed months whose rows changed. Returns the changed days."""
    now = now or timezone.now()
    last = yesterday(now)
    if platform.backup_checks_from is None or since > last:
        return []
    targets = policy_targets(BACKUP_CODES)
    facts = backup_days_compute(platforms=[platform], first=since, last=last,
                                keep_days=_whole_days(targets["E6-KEEP"])).get(platform.pk, [])
    if not facts:
        return []
    existing = {r.day: r for r in BackupDay.objects.filter(platform=platform, day__gte=facts[0].day,
                                                           day__lte=facts[-1].day)}
    new_rows, changed_rows, changed_days = [], [], []
    for f in facts:
        f.judge(targets)
        values = {k: getattr(f, k) for k in STORED}
        row = existing.get(f.day)
        if row is None:
            new_rows.append(BackupDay(platform=platform, day=f.day, computed_at=now, **values))
            changed_days.append(f.day)
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            row.computed_at = now
            changed_rows.append(row)
            changed_days.append(f.day)
    with transaction.atomic():
        BackupDay.objects.bulk_create(new_rows, ignore_conflicts=True)
        if changed_rows:
            BackupDay.objects.bulk_update(changed_rows, [*STORED, "computed_at"])
    if changed_days:
        from .services import _email_services_on, _rejudge_after_commit

        _rejudge_after_commit(service_ids=_email_services_on({platform.pk}), since=day_start(min(changed_days)),
                              until=day_start(max(changed_days) + DAY),
                              reason=_("a backup report changed the daily backup checks"), now=now)
    return changed_days


def backup_days_daily(*, now: datetime | None = None) -> dict[int, int]:
    """The scheduled check shortly after midnight: every checked platform's days up to yesterday
    (from the day after its last stored row, so a missed night is caught up). Idempotent."""
    now = now or timezone.now()
    out = {}
    for p in MailPlatform.objects.filter(backup_checks_from__isnull=False).order_by("pk"):
        checks_from = p.backup_checks_from
        assert checks_from is not None
        last_row = BackupDay.objects.filter(platform=p).order_by("-day").values_list("day", flat=True).first()
        since = max(checks_from, last_row + DAY) if last_row else checks_from
        # Yesterday is always recomputed: a report received after it was first judged changes it.
        since = min(since, yesterday(now))
        out[p.pk] = len(backup_days_refresh(platform=p, since=since, now=now))
    return out


# --- Virus signatures ---------------------------------------------------------------------------

def signature_update_record(*, platform: MailPlatform, scanner: str, version: str, updated_at: datetime,
                            reporter: ReporterToken | None = None, actor: Any = None,
                            now: datetime | None = None) -> ReportResult:
    """Record a virus-signature update of the platform's scanner. The same scanner version again
    changes nothing. A late update re-judges the closed months of the gap it closes."""
    now = now or timezone.now()
    if reporter is None:
        _require_editor(actor)
    scanner, version = (scanner or "").strip()[:60], (version or "").strip()[:120]
    errors: dict[str, list[Any]] = {}
    if not scanner:
        errors["scanner"] = [_("This field is required.")]
    if not version:
        errors["version"] = [_("This field is required.")]
    if updated_at > now + timedelta(minutes=5):
        errors["updated_at"] = [_("This is in the future.")]
    if errors:
        raise DomainError(_("The signature update is not valid."), field_errors=errors)
    with transaction.atomic():
        locked = MailPlatform.objects.select_for_update().get(pk=platform.pk)
        existing = SignatureUpdate.objects.filter(platform=locked, scanner=scanner, version=version).first()
        if existing is not None:
            _touch(reporter, now)
            return ReportResult(existing.pk, "unchanged")
        u = SignatureUpdate.objects.create(
            platform=locked, scanner=scanner, version=version, updated_at=updated_at, received_at=now,
            origin=ReportOrigin.REPORTER if reporter else ReportOrigin.STAFF, reporter=reporter,
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit_record(obj=u, action="create", actor=actor, now=now,
                     data={"scanner": scanner, "version": version, "updated_at": updated_at.isoformat(),
                           "reporter": reporter.pk if reporter else None})
        if locked.av_checks_from is None:
            locked.av_checks_from = local_day(updated_at)
            locked.save(update_fields=["av_checks_from"])
        _touch(reporter, now)
        prev = (SignatureUpdate.objects.filter(platform=locked, updated_at__lt=updated_at)
                .order_by("-updated_at").values_list("updated_at", flat=True).first())
        nxt = (SignatureUpdate.objects.filter(platform=locked, updated_at__gt=updated_at)
               .order_by("updated_at").values_list("updated_at", flat=True).first())
        from .services import _email_services_on, _rejudge_after_commit

        _rejudge_after_commit(service_ids=_email_services_on({locked.pk}), since=prev or updated_at,
                              until=nxt or now, reason=_("a virus signature update was recorded late"), now=now)
    return ReportResult(u.pk, "created")


@dataclass
class SignatureGaps:
    """One platform's signature freshness: the gaps between updates that reach a period, the
    longest (in days, counted up to the period's end or now), the last update before the horizon."""

    platform_id: int
    longest_days: Decimal
    gaps: list[dict[str, Any]]
    last_update_at: datetime | None
    last_version: str
    days_since: Decimal | None


def signature_gaps(*, platforms: list[MailPlatform], start: datetime, end: datetime,
                   now: datetime) -> dict[int, SignatureGaps]:
    """For each platform checked for signatures (av_checks_from set): the gaps between updates
    reaching [start, min(end, now)). A gap is measured from the update that opens it (even in an
    earlier month: a signature set gets older across a month boundary) to the next update, cut
    at the period's end or now. Before the first update the checks' first day opens the gap."""
    horizon = min(end, max(now, start))
    out: dict[int, SignatureGaps] = {}
    ids = [p.pk for p in platforms if p.av_checks_from is not None]
    if not ids:
        return out
    updates: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for pid, at, ver in (SignatureUpdate.objects.filter(platform_id__in=ids, updated_at__lt=horizon)
                         .order_by("platform_id", "updated_at").values_list("platform_id", "updated_at", "version")):
        updates[pid].append((at, ver))
    for p in platforms:
        if p.av_checks_from is None:
            continue
        marks = [(day_start(p.av_checks_from), "")] + updates.get(p.pk, [])
        marks.sort(key=lambda m: m[0])
        gaps: list[dict[str, Any]] = []
        for i, (opened, _ver) in enumerate(marks):
            closed = marks[i + 1][0] if i + 1 < len(marks) else horizon
            closed = min(closed, horizon)
            if closed <= start or opened >= horizon:
                continue
            length = Decimal((closed - opened).total_seconds()) / Decimal(86400)
            gaps.append({"id": opened.isoformat(), "platform": p.pk, "platform_name": p.name,
                         "from": opened.isoformat(), "to": closed.isoformat(),
                         "open": i + 1 >= len(marks) or marks[i + 1][0] >= horizon,
                         # Not rounded to whole days: 7 days and 1 second is more than 7 days.
                         "days": str(length.quantize(Decimal("0.000001")))})
        real = updates.get(p.pk, [])
        last = real[-1] if real else None
        out[p.pk] = SignatureGaps(
            platform_id=p.pk, gaps=gaps,
            longest_days=max((Decimal(g["days"]) for g in gaps), default=Decimal(0)),
            last_update_at=last[0] if last else None, last_version=last[1] if last else "",
            days_since=(Decimal((horizon - last[0]).total_seconds()) / Decimal(86400)).quantize(Decimal("0.01"))
            if last else None)
    return out


def platforms_of_services(service_ids: list[int]) -> dict[int, list[MailPlatform]]:
    """The platforms hosting each e-mail service's mail domains."""
    out: dict[int, list[MailPlatform]] = defaultdict(list)
    for d in (MailDomain.objects.filter(service_id__in=service_ids, service__kind=ServiceKind.EMAIL)
              .select_related("platform").order_by("platform__name")):
        if d.platform not in out[d.service_id]:
            out[d.service_id].append(d.platform)
    return out
