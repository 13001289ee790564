"""The customer's monthly SLA statement 月度服务品质报告 (SPEC "Monthly statement"): for one
customer and calendar month, every promise in force with its measured value against its target,
the outages with their causes (counted or excluded, and why), the missed emergency notices, the
deadline promises kept and broken, and the credits of the month. Issued as an immutable PDF
(reports.WrittenReport); a changed month (re-judged, a credit decided) issues a new version that
supersedes the last one, an unchanged one issues nothing.

The content is a JSON snapshot taken in the customer's language: what the PDF shows, what the API
returns, and what decides whether anything changed. No target is written here: each comes from
the judgement (which copied it from the policy row and the contract's override) or the policy row.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from credits.choices import CreditKind, CreditState
from credits.models import Credit
from customers.choices import Language, ServiceKind
from customers.models import AuthorizedContact, Customer, Service
from incidents.choices import CAUSE_SEED_TEXT, Cause, OutageKind
from incidents.downtime import NOT_REPORTED, REPORT_WINDOW, TZ, month_bounds
from incidents.models import Incident
from notifications.services import Message, as_attachment, notifications_enqueue
from reports.choices import ReportKind
from reports.models import WrittenReport
from reports.services import report_issue
from sla.choices import ClockState, Comparison, PolicyKind, Unit
from sla.models import Clock, ContractPolicy, SlaPolicy
from slaportal.errors import DomainError

from .choices import Verdict
from .measures import Measurement, registered
from .models import Judgement, MonthClose, MonthlyStatement

logger = logging.getLogger(__name__)

TEMPLATE = "reports/monthly_statement.html"
# Bumped when the snapshot's shape changes: a statement re-issued after an upgrade is a new
# version rather than a silent difference in how the same month reads. 2: an e-mail service
# carries its month's e-mail figures ("mail", settlement.statement_mail).
CONTENT_SCHEMA = 2

# The comparison that holds when a promise is broken (a 45:00 outage against "< 44" reads
# "45:00 分钟 ≥ 44 分钟").
NEGATED = {Comparison.LT: "≥", Comparison.LE: ">", Comparison.GE: "<", Comparison.GT: "≤"}

# Status of one period promise in the statement.
JUDGED = "judged"            # the month is closed: the current judgement
LIVE = "live"                # not closed yet: computed now, stored nowhere (provisional)
NOT_JUDGED = "not_judged"    # measurable, but no judgement (yet) for this service and month
NOT_MEASURED = "not_measured"  # no app measures this promise yet (E2, E3, E6): said, not hidden


def statement_language(customer: Customer) -> str:
    """The statement is Chinese unless the customer reads English."""
    return Language.EN if customer.language == Language.EN else Language.ZH


def month_next(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def month_has_ended(first: date, *, now: datetime) -> bool:
    return month_bounds(first.year, first.month)[1] <= now


def statement_month_check(first: date, *, now: datetime) -> None:
    """A statement can be asked for any month that has ended (Asia/Shanghai); the current or a
    future month has nothing to state yet."""
    if not month_has_ended(first, now=now):
        raise DomainError(
            _("%(month)s has not ended yet: a statement can be requested from the 1st of the next month.")
            % {"month": f"{first:%Y-%m}"},
            field_errors={"month": [_("Choose a month that has ended.")]})


# --- Formatting (in the active language) -------------------------------------------------------

def _local(dt: datetime | None) -> str:
    return f"{timezone.localtime(dt, TZ):%Y-%m-%d %H:%M}" if dt is not None else ""


def _iso(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _mmss(seconds: int) -> str:
    m, s = divmod(max(0, int(seconds)), 60)
    return f"{m}:{s:02d}"


def _number(value: Decimal) -> str:
    """A target as written in the agreement: 44, 0.1, 99.99."""
    text = f"{value.normalize():f}"
    return text


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def _unit_display(unit: str) -> str:
    return str(Unit(unit).label) if unit in Unit.values else unit


def _value_display(value: Decimal, unit: str) -> str:
    """The measured value: minutes as mm:ss (43:59 is 43.98 minutes), a percentage to 4
    decimals, anything else to 2."""
    if unit == Unit.MINUTES:
        seconds = int((value * 60).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
        return _mmss(seconds)
    if unit == Unit.PERCENT:
        return f"{value:.4f}"
    if unit == Unit.COUNT:
        return f"{value.quantize(Decimal('1'), rounding=ROUND_HALF_UP)}"
    return f"{value.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


def _with_unit(text: str, unit: str) -> str:
    shown = _unit_display(unit)
    return f"{text}{shown}" if unit == Unit.PERCENT else f"{text} {shown}"


def _symbol(comparison: str) -> str:
    return str(Comparison(comparison).label) if comparison in Comparison.values else comparison


def _cause_display(cause: str) -> str:
    if not cause:
        return _("Not classified yet (counted until an exclusion is justified)")
    return str(Cause(cause).label) if cause in Cause.values else cause


def _reason_display(reason: str) -> str:
    """Why an outage is not counted: its cause, or the 5-day clause."""
    if reason == NOT_REPORTED:
        return _("Not reported by the customer within %(days)s days of the outage") % {
            "days": REPORT_WINDOW.days}
    return _cause_display(reason)


# --- Period promises ---------------------------------------------------------------------------

@dataclass
class _Row:
    policy: SlaPolicy
    status: str
    value: Decimal | None = None
    comparison: str = ""
    threshold: Decimal | None = None
    unit: str = ""
    verdict: str = ""
    version: int | None = None
    counted: list[dict[str, Any]] | None = None
    excluded: list[dict[str, Any]] | None = None


def _family(service: Service) -> str:
    """The agreement a service falls under: the e-mail guarantee (E…) or the hosting one (C…)."""
    return "E" if service.kind == ServiceKind.EMAIL else "C"


def _applies(policy: SlaPolicy, service: Service, measures: dict[str, Any]) -> bool:
    pm = measures.get(policy.code)
    if pm is not None:
        return bool(pm.applies(service))
    return policy.code.startswith(_family(service))


def _verdict_of(m: Measurement) -> str:
    if m.kept is None:
        return Verdict.NOT_APPLICABLE
    return Verdict.MET if m.kept else Verdict.BREACHED


def _period_rows(*, services: list[Service], first: date, closed: bool, now: datetime
                 ) -> dict[int, list[_Row]]:
    """Every period promise in force for each service: its current judgement (a closed month),
    a live measurement (a month not closed yet), or an honest "not judged / not measured yet"."""
    measures = {pm.code: pm for pm in registered()}
    policies = list(SlaPolicy.objects.filter(kind=PolicyKind.MEASURE).order_by("code"))
    by_code = {p.code: p for p in policies}
    overrides = {(o.contract_id, o.policy_id): o for o in ContractPolicy.objects.filter(
        contract_id__in={s.contract_id for s in services}, policy__in=policies)}
    found: dict[tuple[int, int], _Row] = {}
    if closed:
        for j in Judgement.objects.filter(month=first, current=True,
                                          service_id__in=[s.pk for s in services]).select_related("policy"):
            found[(j.service_id, j.policy_id)] = _Row(
                policy=j.policy, status=JUDGED, value=j.value, comparison=j.comparison, threshold=j.threshold,
                unit=j.unit, verdict=j.verdict, version=j.version, counted=j.counted, excluded=j.excluded)
    else:
        for code, pm in sorted(measures.items()):
            policy = by_code.get(code)
            if policy is None or not policy.active:
                continue
            targets = [s for s in services if pm.applies(s)]
            if not targets:
                continue
            for sid, m in pm.measure(services=targets, year=first.year, month=first.month, now=now).items():
                found[(sid, policy.pk)] = _Row(
                    policy=policy, status=LIVE, value=m.value, comparison=m.comparison, threshold=m.threshold,
                    unit=m.unit, verdict=_verdict_of(m), counted=m.counted, excluded=m.excluded)
    # A service the close judged (or that was measured just now) had every registered promise
    # asked for: one without a result had nothing to measure (an e-mail service without mail
    # domains, a month without a billing figure): "not measured", not "not judged yet".
    asked = {sid for (sid, _pid) in found}
    out: dict[int, list[_Row]] = {}
    for s in services:
        rows = [r for (sid, _pid), r in found.items() if sid == s.pk]
        seen = {r.policy.pk for r in rows}
        for p in policies:
            if p.pk in seen or not p.active or not _applies(p, s, measures):
                continue
            ov = overrides.get((s.contract_id, p.pk))
            threshold = ov.threshold if ov is not None and ov.threshold is not None else p.threshold
            if ov is not None and not ov.active:
                rows.append(_Row(policy=p, status=NOT_JUDGED, comparison=p.comparison, threshold=threshold,
                                 unit=p.unit, verdict=Verdict.NOT_APPLICABLE))
                continue
            measured_nothing = p.code not in measures or not closed or s.pk in asked
            rows.append(_Row(policy=p, status=NOT_MEASURED if measured_nothing else NOT_JUDGED,
                             comparison=p.comparison, threshold=threshold, unit=p.unit))
        out[s.pk] = sorted(rows, key=lambda r: r.policy.code)
    return out


def _status_display(status: str) -> str:
    return {
        JUDGED: _("judged at the month close"),
        LIVE: _("computed now (provisional)"),
        NOT_JUDGED: _("not judged yet"),
        NOT_MEASURED: _("not measured yet"),
    }[status]


def _period_item(r: _Row) -> dict[str, Any]:
    p = r.policy
    target = (f"{_symbol(r.comparison)} {_with_unit(_number(r.threshold), r.unit)}"
              if r.threshold is not None else "")
    measured = summary = ""
    if r.value is not None:
        measured = _with_unit(_value_display(r.value, r.unit), r.unit)
        if r.verdict == Verdict.BREACHED and r.comparison in Comparison.values:
            symbol = NEGATED[Comparison(r.comparison)]
        else:
            symbol = _symbol(r.comparison)
        summary = (f"{measured} {symbol} {_with_unit(_number(r.threshold), r.unit)}"
                   if r.threshold is not None else measured)
    verdict = r.verdict or ""
    if verdict:
        verdict_display = str(Verdict(verdict).label)
    elif r.status == NOT_MEASURED:
        verdict_display = _("not measured yet")
    else:
        verdict_display = _("not judged yet")
    return {
        "code": p.code, "name": p.name, "clause": p.clause, "remedy": p.get_remedy_display(),
        "status": r.status, "status_display": _status_display(r.status),
        "comparison": r.comparison, "threshold": str(r.threshold) if r.threshold is not None else None,
        "unit": r.unit, "target": target,
        "value": str(r.value) if r.value is not None else None, "measured": measured, "summary": summary,
        "verdict": verdict, "verdict_display": verdict_display, "version": r.version,
    }


def _outage_items(rows: list[_Row], *, first: date) -> list[dict[str, Any]]:
    """The outages the service's judgements counted and excluded (C1/E1 network, C2 power), each
    once, with its cause, the seed's words for it, and why it is not counted."""
    start, end = month_bounds(first.year, first.month)
    items: dict[int, dict[str, Any]] = {}
    for r in rows:
        for o, counted in [(o, True) for o in (r.counted or [])] + [(o, False) for o in (r.excluded or [])]:
            # Only outages (C1, C2, E1): the e-mail figures' judgements keep other evidence in the
            # same lists (latency per direction, platform faults, billing figures).
            if o.get("kind") not in OutageKind.values or "started_at" not in o or o["id"] in items:
                continue
            s = datetime.fromisoformat(o["started_at"])
            e = datetime.fromisoformat(o["ended_at"]) if o.get("ended_at") else None
            in_month = int((min(e or end, end) - max(s, start)).total_seconds())
            cause = o.get("cause") or ""
            kind = o.get("kind") or ""
            items[o["id"]] = {
                "id": o["id"], "promise": r.policy.code,
                "kind": kind, "kind_display": str(OutageKind(kind).label) if kind in OutageKind.values else kind,
                "started_at": o["started_at"], "ended_at": o.get("ended_at"),
                "started": _local(s), "ended": _local(e) if e else _("ongoing"),
                "minutes_in_month": _mmss(in_month),
                "cause": cause, "cause_display": _cause_display(cause),
                "cause_seed": CAUSE_SEED_TEXT.get(Cause(cause), "") if cause in Cause.values else "",
                "note": o.get("note") or "",
                "counted": counted,
                "reason": "" if counted else o.get("reason", ""),
                "reason_display": _("Counted") if counted else _reason_display(o.get("reason", "")),
            }
    return sorted(items.values(), key=lambda x: (x["started_at"], x["id"]))


# --- Deadline promises, missed notices, credits --------------------------------------------------

def _deadlines(*, customer: Customer, services: list[Service], start: datetime, end: datetime
               ) -> list[dict[str, Any]]:
    """The deadline promises (C3–C8, E4, E5): the customer's clocks due or breached in the month,
    per promise: how many were kept and broken, and each breach with its late fulfilment."""
    clocks = list(Clock.objects.filter(customer=customer).filter(
        Q(due_at__gte=start, due_at__lt=end) | Q(breached_at__gte=start, breached_at__lt=end))
        .select_related("policy").order_by("policy__code", "due_at", "pk"))
    families = {_family(s) for s in services}
    policies = {p.code: p for p in SlaPolicy.objects.filter(kind=PolicyKind.DEADLINE).order_by("code")
                if p.active and p.code[:1] in families}
    for c in clocks:
        policies.setdefault(c.policy.code, c.policy)
    grouped: dict[str, list[Clock]] = defaultdict(list)
    for c in clocks:
        grouped[c.policy.code].append(c)
    out = []
    for code in sorted(policies):
        p = policies[code]
        met = breached = running = exempt = late_recorded = 0
        breaches = []
        for c in grouped.get(code, []):
            if c.state == ClockState.MET:
                met += 1
                late_recorded += c.breached_at is not None
            elif c.state == ClockState.BREACHED:
                breached += 1
                breaches.append({
                    "label": c.label, "started_at": _iso(c.started_at), "due_at": _iso(c.due_at),
                    "breached_at": _iso(c.breached_at), "completed_at": _iso(c.completed_at),
                    "started": _local(c.started_at), "due": _local(c.due_at), "breached": _local(c.breached_at),
                    "completed": _local(c.completed_at) if c.completed_at else _("not fulfilled yet"),
                })
            elif c.state in (ClockState.RUNNING, ClockState.PAUSED):
                running += 1
            elif c.breached_at is not None:  # breached, then exempted (force majeure)
                exempt += 1
        out.append({
            "code": code, "name": p.name, "clause": p.clause, "remedy": p.get_remedy_display(),
            "target": f"{_symbol(p.comparison)} {_with_unit(_number(p.threshold), p.unit)}",
            "met": met, "breached": breached, "running": running, "exempt": exempt,
            "met_recorded_late": late_recorded, "breaches": breaches,
        })
    return out


def _missed_notices(*, customer: Customer, start: datetime, end: datetime) -> list[dict[str, Any]]:
    rows = (Incident.objects.filter(customer=customer, notice_missed_at__gte=start, notice_missed_at__lt=end)
            .select_related("service").order_by("notice_missed_at", "pk"))
    return [{
        "number": i.number or f"#{i.pk}", "title": i.title, "service": i.service.name if i.service_id else "",
        "declared_at": _iso(i.declared_at), "missed_at": _iso(i.notice_missed_at),
        "declared": _local(i.declared_at), "missed": _local(i.notice_missed_at),
        "exemption": i.get_notice_exemption_display() if i.notice_exemption else "",
    } for i in rows]


def _credits(*, customer: Customer, first: date) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The credits of the month (a monthly remedy's period is the 1st, a day's deduction its day):
    every state, a reversal negative; what is owed counts proposed, approved and applied only."""
    rows = (Credit.objects.filter(customer=customer, period__gte=first, period__lt=month_next(first))
            .select_related("policy", "contract").order_by("period", "pk"))
    items = []
    totals = {"applied": Decimal("0.00"), "pending": Decimal("0.00")}
    days = {"applied": 0, "pending": 0}
    for c in rows:
        amount = c.signed_amount
        signed_days = c.signed_days
        bucket = ("applied" if c.state == CreditState.APPLIED else
                  "pending" if c.state in (CreditState.PROPOSED, CreditState.APPROVED) else None)
        if bucket is not None:
            if amount is not None:
                totals[bucket] += amount
            if signed_days is not None:
                days[bucket] += signed_days
        items.append({
            "id": c.pk, "code": c.policy.code, "name": c.policy.name, "contract": c.contract.number,
            "period": c.period.isoformat(), "kind": c.kind,
            "kind_display": str(CreditKind(c.kind).label) if c.kind in CreditKind.values else c.kind,
            "state": c.state, "state_display": c.get_state_display(),
            "amount": str(amount) if amount is not None else None,
            "amount_display": _money(amount) if amount is not None else "",
            "days": signed_days, "reverses": c.reverses_id, "reversal": c.reverses_id is not None,
        })
    return items, {
        "amount_applied": _money(totals["applied"]), "amount_pending": _money(totals["pending"]),
        "amount_owed": _money(totals["applied"] + totals["pending"]),
        "days_applied": days["applied"], "days_pending": days["pending"],
        "days_owed": days["applied"] + days["pending"],
    }


# --- The snapshot ------------------------------------------------------------------------------

def _services_in_force(*, customer: Customer, first: date) -> list[Service]:
    from .services import services_in_force

    ids = list(Service.objects.filter(customer=customer).values_list("pk", flat=True))
    return services_in_force(first=first, service_ids=ids) if ids else []


def statement_content(*, customer: Customer, first: date, now: datetime) -> dict[str, Any]:
    """The statement of `customer` for the month starting `first`, as a JSON-serialisable
    snapshot in the customer's language. A month not closed yet is stated provisionally: its
    period promises are measured now and stored nowhere."""
    from .statement_mail import mail_items
    from .statement_sections import sections_content

    language = statement_language(customer)
    with translation.override(language):
        start, end = month_bounds(first.year, first.month)
        closed = MonthClose.objects.filter(month=first).exists()
        services = _services_in_force(customer=customer, first=first)
        rows = _period_rows(services=services, first=first, closed=closed, now=now)
        mail = mail_items(services=services, rows=rows, first=first, now=now)
        out_services: list[dict[str, Any]] = []
        for s in services:
            items = [_period_item(r) for r in rows.get(s.pk, [])]
            entry = {
                "id": s.pk, "name": s.name, "kind": s.kind, "kind_display": s.get_kind_display(),
                "contract": s.contract.number, "promises": items,
                "outages": _outage_items(rows.get(s.pk, []), first=first),
            }
            if s.pk in mail:
                entry["mail"] = mail[s.pk]
            out_services.append(entry)
        contracts = sorted({s.contract.number: s.contract for s in services}.items())
        credits, totals = _credits(customer=customer, first=first)
        period = [p for s in out_services for p in s["promises"]]
        deadlines = _deadlines(customer=customer, services=services, start=start, end=end)
        sections = sections_content(customer=customer, first=first, start=start, end=end,
                                    services=services, now=now)
        content: dict[str, Any] = {
            "schema": CONTENT_SCHEMA,
            "language": language,
            "customer": {"id": customer.pk, "name": customer.name, "code": customer.code},
            "month": f"{first:%Y-%m}",
            "provisional": not closed,
            "contracts": [{"number": n, "monthly_fee": _money(c.monthly_fee), "currency": c.currency}
                          for n, c in contracts],
            "services": out_services,
            "deadlines": deadlines,
            "missed_notices": _missed_notices(customer=customer, start=start, end=end),
            "credits": credits,
            "totals": totals,
            "summary": {
                "period_breached": sum(1 for p in period if p["verdict"] == Verdict.BREACHED),
                "period_met": sum(1 for p in period if p["verdict"] == Verdict.MET),
                "not_measured": sum(1 for p in period if p["status"] == NOT_MEASURED),
                "deadline_breached": sum(d["breached"] for d in deadlines),
                "deadline_met": sum(d["met"] for d in deadlines),
            },
        }
        if sections:  # only when an app has something to say: older statements stay as issued
            content["sections"] = sections
        return content


# --- Issuing ---------------------------------------------------------------------------------

def provider_header() -> dict[str, str]:
    return {
        "name": getattr(settings, "PROVIDER_NAME", "SLA Portal 数据中心服务"),
        "address": getattr(settings, "PROVIDER_ADDRESS", ""),
        "phone": getattr(settings, "PROVIDER_COMPLAINT_LINE", ""),
    }


def statement_reports(statement: MonthlyStatement) -> Any:
    """Every version of the statement's report, oldest first."""
    return WrittenReport.objects.filter(
        content_type=ContentType.objects.get_for_model(MonthlyStatement), object_id=statement.pk
    ).select_related("supersedes").order_by("sequence", "version")


def statement_current_report(statement: MonthlyStatement) -> WrittenReport | None:
    return (WrittenReport.objects.filter(content_type=ContentType.objects.get_for_model(MonthlyStatement),
                                         object_id=statement.pk, superseded_by__isnull=True)
            .order_by("-sequence", "-version").first())


def _number_prefix(customer: Customer, first: date) -> str:
    return f"YB{first:%Y%m}-{customer.pk:06d}"


def _issue(*, customer_id: int, first: date, actor: Any, now: datetime, reason: str,
           notify: bool) -> tuple[WrittenReport, bool]:
    """(the current report, True if this call issued it)."""
    with transaction.atomic():
        customer = Customer.objects.get(pk=customer_id)
        statement, _created = MonthlyStatement.objects.get_or_create(
            customer=customer, month=first, defaults={"created_at": now})
        # The statement's row is the lock: two issuers of the same month (the close's task and a
        # customer's request) cannot both decide that something changed.
        statement = MonthlyStatement.objects.select_for_update().get(pk=statement.pk)
        content = statement_content(customer=customer, first=first, now=now)
        current = statement_current_report(statement)
        if current is not None and current.content == content:
            return current, False
        language = statement_language(customer)
        report = report_issue(
            subject=statement, customer=customer, kind=ReportKind.STATEMENT,
            number_prefix=_number_prefix(customer, first), content=content, template=TEMPLATE,
            context={"provider": provider_header(), "customer": customer, "first": first,
                     "previous": current},
            language=language, actor=actor, supersedes=current, now=now)
        audit_record(obj=statement, action="issue", actor=actor, reason=reason, now=now, data={
            "report": report.number, "version": report.version, "sha256": report.sha256,
            "provisional": content["provisional"]})
        if notify:
            _send(statement=statement, report=report, customer=customer, now=now)
    return report, True


def statement_issue(*, customer_id: int, first: date, actor: Any = None, now: datetime | None = None,
                    reason: str = "", notify: bool = False) -> WrittenReport:
    """Issue the customer's statement for the month starting `first`, or return the current one
    when nothing in it changed (closing a month twice issues nothing twice). A change issues a
    new version that supersedes the current one. `notify`: e-mail a new version to the contacts
    who opted in."""
    now = now or timezone.now()
    if first.day != 1:
        raise DomainError(_("Not a valid month."), field_errors={"month": [_("Use the form YYYY-MM.")]})
    report, _new = _issue(customer_id=customer_id, first=first, actor=actor, now=now, reason=reason,
                          notify=notify)
    return report


def statement_request(*, customer_id: int, first: date, actor: Any, now: datetime | None = None
                      ) -> tuple[MonthlyStatement, WrittenReport]:
    """A customer (or staff for them) asks for the statement of a month that has ended: the
    current one, brought up to date if anything changed. A month not closed yet is stated
    provisionally (月度结算前的临时报告)."""
    now = now or timezone.now()
    statement_month_check(first, now=now)
    report = statement_issue(customer_id=customer_id, first=first, actor=actor, now=now,
                             reason=_("requested"))
    return MonthlyStatement.objects.get(customer_id=customer_id, month=first), report


def statements_issue(*, month: date, customer_ids: list[int], now: datetime | None = None) -> list[WrittenReport]:
    """After a month close: issue (or re-issue) each customer's statement and e-mail each new one
    to the customer's authorized contacts who opted in. One customer failing stops no other."""
    out = []
    for cid in customer_ids:
        try:
            report, new = _issue(customer_id=cid, first=month, actor=None, now=now or timezone.now(),
                                 reason=_("month closed"), notify=True)
        except Exception:
            logger.exception("monthly statement of customer %s for %s failed", cid, f"{month:%Y-%m}")
            continue
        logger.info("monthly statement %s %s", report.number, "issued" if new else "unchanged")
        out.append(report)
    return out


def statement_recipients(customer: Customer, *, day: date) -> list[AuthorizedContact]:
    """Active authorized contacts valid on `day` who asked for the statement and have an e-mail."""
    return [c for c in AuthorizedContact.objects.filter(customer=customer, receives_statements=True, active=True)
            .exclude(email="").order_by("priority", "pk") if c.is_valid_on(day)]


def _send(*, statement: MonthlyStatement, report: WrittenReport, customer: Customer, now: datetime) -> None:
    messages = []
    for contact in statement_recipients(customer, day=timezone.localtime(now, TZ).date()):
        lang = Language.EN if contact.language == Language.EN else Language.ZH
        with translation.override(lang):
            subject = _("Monthly SLA statement %(month)s: %(customer)s (%(number)s)") % {
                "month": f"{statement.month:%Y-%m}", "customer": customer.name, "number": report.number}
            if report.version > 1:
                body = _("Dear %(name)s,\n\nThe monthly SLA statement of %(customer)s for %(month)s has been "
                         "corrected: version %(version)s, attached, replaces the earlier version. You can "
                         "also read every version in the portal.\n\nReport %(number)s, SHA-256: %(sha)s\n")
            else:
                body = _("Dear %(name)s,\n\nPlease find attached the monthly SLA statement of %(customer)s "
                         "for %(month)s. You can also read it in the portal.\n\nReport %(number)s, "
                         "SHA-256: %(sha)s\n")
            body = body % {"name": contact.name, "customer": customer.name, "month": f"{statement.month:%Y-%m}",
                           "version": report.version, "number": report.number, "sha": report.sha256}
        messages.append(Message(
            channel="email", address=contact.email, kind="monthly_statement", subject=subject, body=body,
            idempotency_key=f"statement:{report.pk}:contact:{contact.pk}", related=statement,
            attachments=[as_attachment(name=report.filename, path=str(report.file.name),
                                       mimetype="application/pdf")]))
    notifications_enqueue(messages=messages, now=now)


# --- Reads (tenant-scoped: another customer's statement is not in the queryset, hence a 404) ---

def statement_list(*, user: Any, customer_id: int | None = None, month: date | None = None) -> Any:
    """The statements `user` may see (staff: all; a customer user: their own), newest first."""
    from customers.selectors import scope_for_user

    qs = scope_for_user(MonthlyStatement.objects.select_related("customer"), user)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if month is not None:
        qs = qs.filter(month=month)
    return qs.order_by("-month", "customer__name", "pk")


def statements_with_current(statements: list[MonthlyStatement]) -> list[MonthlyStatement]:
    """Attach `current` (the report in force) and `versions` (how many) to each statement, in two
    queries for the whole page."""
    ct = ContentType.objects.get_for_model(MonthlyStatement)
    reports: dict[int, list[WrittenReport]] = defaultdict(list)
    for r in (WrittenReport.objects.filter(content_type=ct, object_id__in=[s.pk for s in statements])
              .order_by("object_id", "sequence", "version")):
        reports[r.object_id].append(r)
    for s in statements:
        rows = reports.get(s.pk, [])
        s.current = rows[-1] if rows else None  # type: ignore[attr-defined]
        s.versions = len(rows)  # type: ignore[attr-defined]
    return statements
