"""The monthly statement's anti-spam section (settlement.statement_sections): the customer's
spam cases of the month with when they were answered and when the result was told, each
against its promise, and the case's verdict. Built in the statement's language."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from sla.choices import ClockState
from sla.models import Clock

from .selectors import cases_of_month


def _when(clock: Clock | None) -> str:
    if clock is None:
        return "—"
    at = clock.met_at or clock.completed_at
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else "—"


def _judged(clock: Clock | None) -> tuple[str, bool]:
    """The clock's outcome as the customer reads it, and whether it broke the promise."""
    if clock is None:
        return "—", False
    if clock.state == ClockState.BREACHED:
        return _("late"), True
    if clock.state == ClockState.MET:
        return _("in time"), False
    if clock.state == ClockState.CANCELLED:
        return str(ClockState.CANCELLED.label), False
    return _("in progress"), False


def spam_cases_section(*, customer: Any, start: datetime, end: datetime, **kwargs: Any) -> dict[str, Any] | None:
    rows = cases_of_month(customer=customer, start=start, end=end)
    if not rows:
        return None
    out, breached = [], 0
    for r in rows:
        case = r["case"]
        resp, resp_bad = _judged(r["resp"])
        result, result_bad = _judged(r["result"])
        breached += int(resp_bad or result_bad)
        out.append([case.number or str(case.pk), str(case.get_kind_display()),
                    timezone.localtime(case.opened_at).strftime("%Y-%m-%d %H:%M"),
                    _when(r["resp"]), resp, _when(r["result"]), result,
                    str(case.get_verdict_display()) if case.verdict else str(case.get_state_display())])
    return {
        "title": _("Anti-spam cases"),
        "columns": [_("Case"), _("Kind"), _("Opened at"), _("Responded at"), _("Response (≤ 1 working day)"),
                    _("Result told at"), _("Result (≤ 3 days)"), _("Verdict")],
        "rows": out,
        "breached": breached,
        "note": _("A late response or result waives that month's fee (anti-spam guarantee, clause 4)."),
    }
