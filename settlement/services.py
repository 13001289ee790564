"""Month close: judge every period promise of every service in force for a calendar month, store
the judgements, and turn breaches into credits through the policy rows' remedies. Idempotent and
correctable: closing twice changes nothing; a late change re-judges the month as an adjustment
(a new judgement version, a new credit, a proposed one withdrawn, an applied one reversed)."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEntry
from audit.services import audit_record
from credits.choices import LIVE_CREDIT_STATES, CreditKind, CreditState
from credits.models import Credit
from customers.models import Contract, Service
from incidents.downtime import TZ, days_in_month, month_bounds
from runtime.bulk import copy_rows
from sla.choices import Remedy
from sla.models import SlaPolicy
from slaportal.errors import DomainError

from .choices import CloseTrigger, Verdict
from .measures import Measurement, registered
from .models import Judgement, MonthClose

logger = logging.getLogger(__name__)


@dataclass
class CloseResult:
    month: date
    created: bool = False
    services: int = 0
    judged: int = 0
    rejudged: int = 0
    unchanged: int = 0
    breaches: int = 0
    proposed: list[int] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)
    reversed: list[int] = field(default_factory=list)
    customer_ids: set[int] = field(default_factory=set)


def month_first(year: int, month: int) -> date:
    if not 1 <= month <= 12 or not 2000 <= year <= 2999:
        raise DomainError(_("Not a valid month."), field_errors={"month": [_("Use the form YYYY-MM.")]})
    return date(year, month, 1)


def month_previous(now: datetime) -> date:
    local = timezone.localtime(now, TZ).date().replace(day=1)
    return date(local.year - (local.month == 1), (local.month - 2) % 12 + 1, 1)


def services_in_force(*, first: date, service_ids: list[int] | None = None) -> list[Service]:
    """Active services whose contract was in force for some of the month."""
    start, end = month_bounds(first.year, first.month)
    last_day = (end.astimezone(TZ)).date()
    qs = Service.objects.filter(active=True, contract__starts_on__lt=last_day).select_related("contract")
    if service_ids is not None:
        qs = qs.filter(pk__in=service_ids)
    return [s for s in qs.order_by("pk") if s.contract.ends_on > first]


def _same(old: Judgement, m: Measurement, verdict: str) -> bool:
    return (old.verdict == verdict and old.value == m.value.quantize(Decimal("0.000001"))
            and old.threshold == m.threshold and old.counted_seconds == m.counted_seconds
            and [o["id"] for o in old.counted] == [o["id"] for o in m.counted]
            and [(o["id"], o["reason"]) for o in old.excluded] == [(o["id"], o["reason"]) for o in m.excluded]
            and [o.get("cause") for o in old.counted + old.excluded]
            == [o.get("cause") for o in m.counted + m.excluded])


def _verdict(m: Measurement) -> str:
    if m.kept is None:
        return Verdict.NOT_APPLICABLE
    return Verdict.MET if m.kept else Verdict.BREACHED


def month_close(
    *, year: int, month: int, actor: Any = None, trigger: str = CloseTrigger.MANAGER,
    service_ids: list[int] | None = None, reason: str = "", now: datetime | None = None,
) -> CloseResult:
    """Judge month `year-month` for every service in force (or only `service_ids`, a re-judgement),
    store what changed and reconcile the credits of the contracts whose judgements changed.
    Refused before the month has ended. Serialised per month by the MonthClose row lock."""
    now = now or timezone.now()
    first = month_first(year, month)
    _start, end = month_bounds(year, month)
    if end > now:
        raise DomainError(_("%(month)s has not ended yet; it can be closed from the 1st of the next month.")
                          % {"month": f"{first:%Y-%m}"}, field_errors={"month": [_("This month has not ended.")]})
    result = CloseResult(month=first)
    with transaction.atomic():
        mc, result.created = _lock_month(first, actor=actor, trigger=trigger, now=now)
        services = services_in_force(first=first, service_ids=service_ids)
        result.services = len(services)
        policies = {p.code: p for p in SlaPolicy.objects.filter(code__in=[m.code for m in registered()])}
        current = {(j.service_id, j.policy_id): j for j in Judgement.objects.filter(
            month=first, current=True, service_id__in=[s.pk for s in services])}
        new_rows: list[Judgement] = []
        superseded: list[Judgement] = []
        by_id = {s.pk: s for s in services}
        for pm in registered():
            policy = policies.get(pm.code)
            if policy is None or not policy.active:
                continue
            # The policy row says which kinds of service the promise is made for.
            targets = [s for s in services if pm.applies(s) and policy.applies_to_kind(s.kind)]
            if not targets:
                continue
            for sid, m in pm.measure(services=targets, year=year, month=month, now=now).items():
                verdict = _verdict(m)
                old = current.get((sid, policy.pk))
                if old is not None and _same(old, m, verdict):
                    result.unchanged += 1
                    continue
                s = by_id[sid]
                new_rows.append(Judgement(
                    service_id=sid, contract_id=s.contract_id, customer_id=s.customer_id, policy=policy,
                    month=first, value=m.value.quantize(Decimal("0.000001")), comparison=m.comparison,
                    threshold=m.threshold, unit=m.unit, verdict=verdict, counted_seconds=m.counted_seconds,
                    counted=m.counted, excluded=m.excluded, computed_at=now,
                    breached_at=end if verdict == Verdict.BREACHED else None,
                    version=old.version + 1 if old else 1, supersedes=old,
                    reason=(reason or _("month closed"))[:300]))
                if old is not None:
                    superseded.append(old)
        if superseded:
            Judgement.objects.filter(pk__in=[o.pk for o in superseded]).update(current=False)
        Judgement.objects.bulk_create(new_rows, batch_size=2000)
        result.judged = sum(1 for j in new_rows if j.version == 1)
        result.rejudged = len(superseded)
        _audit_rejudgements(new_rows, actor=actor, reason=reason, now=now)
        changed_contracts = {j.contract_id for j in new_rows}
        result.customer_ids = {j.customer_id for j in new_rows}
        _reconcile(first=first, contract_ids=changed_contracts, reason=reason, now=now, result=result)
        mc.last_judged_at = now
        mc.services = Judgement.objects.filter(month=first, current=True).values("service_id").distinct().count()
        mc.breaches = Judgement.objects.filter(month=first, current=True, verdict=Verdict.BREACHED).count()
        mc.save(update_fields=["last_judged_at", "services", "breaches"])
        result.breaches = mc.breaches
        if result.created:
            audit_record(obj=mc, action="month_close", actor=actor, reason=reason or str(CloseTrigger(trigger).label),
                         now=now, data={"services": result.services, "breaches": mc.breaches})
        if result.created or result.customer_ids:
            customers = (sorted({s.customer_id for s in services}) if result.created
                         else sorted(result.customer_ids))
            # The mode as it is now (a caller's override ends before the commit runs this).
            mode = statements_mode()
            transaction.on_commit(lambda: _statements_after_close(first, customers, now, mode=mode))
    logger.info("month %s judged (%s): %s new, %s re-judged, %s unchanged, %s credits proposed, "
                "%s withdrawn, %s reversed", f"{first:%Y-%m}", trigger, result.judged, result.rejudged,
                result.unchanged, len(result.proposed), len(result.withdrawn), len(result.reversed))
    return result


def _lock_month(first: date, *, actor: Any, trigger: str, now: datetime) -> tuple[MonthClose, bool]:
    by = actor if getattr(actor, "is_authenticated", False) else None
    for _attempt in range(2):
        mc = MonthClose.objects.select_for_update().filter(month=first).first()
        if mc is not None:
            return mc, False
        try:
            with transaction.atomic():
                return MonthClose.objects.create(month=first, closed_at=now, closed_by=by, trigger=trigger,
                                                 last_judged_at=now), True
        except IntegrityError:  # a concurrent closer created it; lock theirs
            continue
    raise DomainError(_("The month is being closed by someone else; try again."))


def _audit_rejudgements(rows: list[Judgement], *, actor: Any, reason: str, now: datetime) -> None:
    """A re-judgement is an adjustment: each one is in the audit trail with what changed."""
    rejudged = [j for j in rows if j.supersedes_id]
    if not rejudged:
        return
    ct = ContentType.objects.get_for_model(Judgement)
    actor_id = actor.pk if getattr(actor, "is_authenticated", False) else None
    copy_rows(AuditEntry, ("content_type_id", "object_id", "action", "from_state", "to_state", "actor_id",
                           "at", "reason", "data"),
              [(ct.pk, j.pk, "rejudge", j.supersedes.verdict if j.supersedes else "", j.verdict, actor_id, now,
                reason or _("re-judged after a late change"),
                {"supersedes": j.supersedes_id, "value": str(j.value),
                 "before": str(j.supersedes.value) if j.supersedes else None})
               for j in rejudged])


# --- Remedies ------------------------------------------------------------------------------

REMEDY_CREDIT = {
    Remedy.WAIVE_MONTH_RENT: CreditKind.WAIVE_MONTH_RENT,
    Remedy.EXTEND_SERVICE: CreditKind.EXTEND_SERVICE,
    Remedy.REFUND_INSTALLATION: CreditKind.REFUND_INSTALLATION,
    Remedy.DEDUCT_DAY_RENT: CreditKind.DEDUCT_DAY_RENT,
}


def remedy_terms(*, remedy: str, contract: Contract, first: date) -> tuple[str, Decimal | None, int | None] | None:
    """What a broken promise with this remedy owes for the month: (credit kind, amount, days), or
    None when the remedy is not a credit (an escalation) or comes to nothing (a fee of 0.00)."""
    kind = REMEDY_CREDIT.get(Remedy(remedy)) if remedy in Remedy.values else None
    if kind is None:
        return None
    if kind == CreditKind.WAIVE_MONTH_RENT:
        amount = contract.monthly_fee
    elif kind == CreditKind.REFUND_INSTALLATION:
        amount = contract.installation_fee
    elif kind == CreditKind.DEDUCT_DAY_RENT:
        amount = contract.one_day_rent(first.year, first.month)
    else:
        # 当月双倍服务时长: the month's service time again, as days added to the term.
        return kind, None, days_in_month(first.year, first.month)
    if amount <= 0:
        return None
    return kind, amount, None


def _live_settlement_credits(*, contract_ids: set[int], first: date) -> dict[int, list[Credit]]:
    """The month's credits proposed by settlement that still stand, per contract (a reversed
    applied credit no longer stands: its reversal corrected it)."""
    ct = ContentType.objects.get_for_model(Judgement)
    credits = list(Credit.objects.filter(
        contract_id__in=contract_ids, period=first, evidence_type=ct, reverses__isnull=True,
        state__in=LIVE_CREDIT_STATES))
    reversed_ids = set(Credit.objects.filter(reverses__in=credits, state__in=LIVE_CREDIT_STATES)
                       .values_list("reverses_id", flat=True))
    out: dict[int, list[Credit]] = defaultdict(list)
    for c in credits:
        if c.pk not in reversed_ids:
            out[c.contract_id].append(c)
    return out


def _reconcile(*, first: date, contract_ids: set[int], reason: str, now: datetime, result: CloseResult) -> None:
    """Make each contract's monthly credits match its current breached judgements: one credit per
    contract, month and remedy kind (C1 and C2 broken in the same month waive the rent once).
    Reads in bulk (a first close touches every contract); proposals are written together."""
    from credits import services as credit_services

    breached_by: dict[int, list[Judgement]] = defaultdict(list)
    for j in (Judgement.objects.filter(contract_id__in=contract_ids, month=first, current=True,
                                       verdict=Verdict.BREACHED)
              .select_related("policy", "service").order_by("contract_id", "policy__code", "service_id")):
        breached_by[j.contract_id].append(j)
    live_by = _live_settlement_credits(contract_ids=contract_ids, first=first)
    involved = set(breached_by) | set(live_by)
    contracts = Contract.objects.in_bulk(list(involved))
    proposals: list[Any] = []
    for contract_id in sorted(involved):
        contract = contracts[contract_id]
        desired: dict[str, tuple[list[Judgement], Decimal | None, int | None]] = {}
        for j in breached_by.get(contract_id, []):
            terms = remedy_terms(remedy=j.policy.remedy, contract=contract, first=first)
            if terms is None:
                continue
            kind, amount, days = terms
            desired.setdefault(kind, ([], amount, days))[0].append(j)
        live: dict[str, list[Credit]] = defaultdict(list)
        for c in live_by.get(contract_id, []):
            live[c.kind].append(c)
        for kind, (judgements, amount, days) in desired.items():
            if live.get(kind):
                continue
            lead = judgements[0]
            note = _("%(month)s: %(promises)s broken; remedy per %(clause)s.") % {
                "month": f"{first:%Y-%m}",
                "promises": "、".join(f"{j.policy.code} {j.policy.name_zh}（{j.service.name}）" for j in judgements),
                "clause": lead.policy.clause}
            proposals.append(credit_services.Proposal(
                contract=contract, policy_id=lead.policy_id, kind=kind, period=first, amount=amount,
                days=days, evidence=lead, note=note))
        for kind, credits in live.items():
            if kind in desired:
                continue
            why = _("%(month)s re-judged: the promise is met after all. %(reason)s") % {
                "month": f"{first:%Y-%m}", "reason": reason}
            for c in credits:
                if c.state in (CreditState.PROPOSED, CreditState.APPROVED):
                    credit_services.credit_withdraw(credit_id=c.pk, reason=why.strip(), now=now)
                    result.withdrawn.append(c.pk)
                elif c.state == CreditState.APPLIED:
                    # Never edited: the correction is a new entry that reverses it.
                    r = credit_services.credit_reverse(credit_id=c.pk, reason=why.strip(), actor=None, now=now)
                    result.reversed.append(r.pk)
    result.proposed += credit_services.credits_propose_many(proposals=proposals, now=now)


# --- Re-judgement after a late change, and the scheduled close -------------------------------

def months_touched(*, since: datetime, until: datetime | None, now: datetime) -> list[date]:
    """The closed months an interval [since, until) reaches."""
    last = timezone.localtime(until or now, TZ)
    cur = timezone.localtime(since, TZ).date().replace(day=1)
    months = []
    while cur <= last.date():
        months.append(cur)
        cur = date(cur.year + (cur.month == 12), cur.month % 12 + 1, 1)
    return list(MonthClose.objects.filter(month__in=months).order_by("month").values_list("month", flat=True))


def months_rejudge_for_outages(*, service_ids: list[int], since: datetime, until: datetime | None,
                               now: datetime | None = None, reason: str = "") -> list[CloseResult]:
    """An outage recorded, ended, re-classified or reported after a month was closed: re-judge
    those services in every closed month the outage reaches."""
    now = now or timezone.now()
    out = []
    for first in months_touched(since=since, until=until, now=now):
        out.append(month_close(year=first.year, month=first.month, service_ids=service_ids,
                               trigger=CloseTrigger.REJUDGE, now=now,
                               reason=reason or _("an outage was recorded or changed after the month was closed")))
    return out


# The 5-day clause: an outage near the end of a month is counted until its reporting window
# passes. The month is re-judged daily for that long after it ends (unchanged judgements make no
# new rows), so a window that lapses without a report takes the outage out of the count.
REJUDGE_DAYS_AFTER_CLOSE = 6


def months_close_due(*, now: datetime | None = None) -> list[CloseResult]:
    """The scheduled job (early every day, Asia/Shanghai): close last month if it is not closed,
    and re-judge it while the 5-day reporting windows of its last outages can still lapse."""
    now = now or timezone.now()
    first = month_previous(now)
    local_day = timezone.localtime(now, TZ).day
    results = []
    if not MonthClose.objects.filter(month=first).exists():
        results.append(month_close(year=first.year, month=first.month, trigger=CloseTrigger.SCHEDULE, now=now,
                                   reason=_("scheduled month close")))
    elif local_day <= REJUDGE_DAYS_AFTER_CLOSE + 1:
        results.append(month_close(year=first.year, month=first.month, trigger=CloseTrigger.SCHEDULE, now=now,
                                   reason=_("daily re-judgement while the 5-day reporting windows run")))
    # A statement the close could not queue (the broker was down at that moment) or that a later
    # re-judgement made stale is issued now: nothing waits for a second close that never comes.
    stale = statements_stale(first=first)
    if stale:
        logger.warning("month %s: %s statements missing or older than their judgements; issuing them",
                       f"{first:%Y-%m}", len(stale))
        mode = statements_mode()
        transaction.on_commit(lambda: _statements_after_close(first, stale, now, mode=mode))
    return results


def statements_issue_stale(*, now: datetime | None = None) -> list[int]:
    """Hourly: last month's statements that are missing or stale, queued for the worker."""
    now = now or timezone.now()
    first = month_previous(now)
    stale = statements_stale(first=first)
    if stale:
        _statements_after_close(first, stale, now)
    return stale


def statements_stale(*, first: date) -> list[int]:
    """Customers judged for the month whose statement is missing or was issued before their
    latest judgement."""
    from django.db.models import Max

    from reports.models import WrittenReport

    from .models import MonthlyStatement

    judged = dict(Judgement.objects.filter(month=first, current=True).values("customer_id")
                  .annotate(last=Max("computed_at")).values_list("customer_id", "last"))
    if not judged:
        return []
    statements = dict(MonthlyStatement.objects.filter(month=first, customer_id__in=list(judged))
                      .values_list("pk", "customer_id"))
    issued = dict(WrittenReport.objects.filter(
        content_type=ContentType.objects.get_for_model(MonthlyStatement), object_id__in=list(statements))
        .values("object_id").annotate(last=Max("issued_at")).values_list("object_id", "last"))
    last_issued = {statements[sid]: at for sid, at in issued.items()}
    return sorted(cid for cid, at in judged.items() if cid not in last_issued or last_issued[cid] < at)


def statements_mode() -> str:
    from django.conf import settings

    return str(getattr(settings, "SETTLEMENT_STATEMENTS", "task"))


def _statements_after_close(first: date, customer_ids: list[int], now: datetime, *,
                            mode: str | None = None) -> None:
    """Issue (or re-issue) the monthly statements of these customers: in the worker, in chunks
    (settings.SETTLEMENT_STATEMENTS = "task"), or here and now ("inline": the tests, which must not
    leave tasks on a shared broker for another test's worker), or not at all ("off")."""
    mode = mode or statements_mode()
    if mode == "off" or not customer_ids:
        return
    if mode == "inline":
        from .statements import statements_issue

        statements_issue(month=first, customer_ids=customer_ids)
        return
    from .tasks import issue_statements

    try:
        for i in range(0, len(customer_ids), 50):
            issue_statements.delay(month=first.isoformat(), customer_ids=customer_ids[i:i + 50])
    except Exception:  # the broker is down: the judgements stand; the daily job issues what is missing
        logger.warning("month %s: statements not queued (broker unavailable); the daily settlement job "
                       "issues them", f"{first:%Y-%m}", exc_info=True)
