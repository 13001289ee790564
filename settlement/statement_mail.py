"""The e-mail figures of the monthly statement (seed 002 §1–§3): for each e-mail service of the
customer, the month's mailbox connectivity, the send and receive latency (messages, average,
maximum, over 1 hour, excluded) and the operations figures, each with its target and verdict.

The judged figures (E1, E2, E3) are those of the period promises above them in the statement: the
current judgement of a closed month, or the live measurement of a month not closed yet, so the
statement never says something the judgements do not. mailservice.selectors.mail_month_figures
adds the detail the judgements do not keep: the latency per direction, the running count of
fault-free days of the year."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from customers.choices import ServiceKind
from customers.models import Service
from sla.choices import Unit

from .choices import Verdict

# The figures of the e-mail guarantee, in the agreement's order.
MAIL_CODES = ("E1", "E2-AVG", "E2-SLOW", "E3-FAULT", "E3-ADJUST", "E3-AVAIL", "E3-DAYS", "E3-BILL", "E3-WEB")
_SECONDS_PER = {Unit.MINUTES: Decimal(60), Unit.HOURS: Decimal(3600), Unit.DAYS: Decimal(86400)}


def _seconds(value: Decimal, unit: str) -> Decimal:
    """A duration judged in `unit` (E2's average in minutes, E3-WEB in seconds) in seconds."""
    return value * _SECONDS_PER[Unit(unit)] if unit in _SECONDS_PER else value


def _measured(code: str, value: Decimal, unit: str, f: Any) -> str:
    """A judged value as the e-mail pages show it."""
    from mailservice.templatetags.mail_ui import latency, percent4, rate_sci

    from .statements import _value_display, _with_unit

    if code in ("E2-AVG", "E3-WEB"):
        return latency(_seconds(value, unit))
    if code == "E3-DAYS" and f is not None:
        # A running count of the calendar year (judged on the year, seed 002 §3).
        return f"{int(value)} / {f.days_in_year}"
    if code == "E3-BILL":
        return rate_sci(value)
    if code == "E3-AVAIL":
        return f"{percent4(value)}%"
    return _with_unit(_value_display(value, unit), unit)


def _target(code: str, comparison: str, threshold: Decimal | None, unit: str) -> str:
    from mailservice.templatetags.mail_ui import rate_sci

    from .statements import _number, _symbol, _with_unit

    if threshold is None:
        return ""
    if code == "E3-BILL":
        return f"{_symbol(comparison)} {rate_sci(threshold)}"
    return f"{_symbol(comparison)} {_with_unit(_number(threshold), unit)}"


def _verdict_display(verdict: str) -> str:
    return str(Verdict(verdict).label) if verdict in Verdict.values else _("not measured yet")


def _direction(d: Any) -> dict[str, Any]:
    from mailservice.choices import Direction
    from mailservice.templatetags.mail_ui import latency

    return {
        "direction": d.direction,
        "direction_display": str(Direction(d.direction).label) if d.direction in Direction.values else "",
        "messages": d.messages, "excluded": d.excluded, "over_hour": d.over_hour,
        "average_seconds": str(d.average_seconds) if d.average_seconds is not None else None,
        "max_seconds": str(d.max_seconds) if d.max_seconds is not None else None,
        "average": latency(d.average_seconds), "maximum": latency(d.max_seconds),
    }


def _item(f: Any, rows: dict[str, Any]) -> dict[str, Any]:
    """One e-mail service's figures: each from its period-promise row (judged or live), with the
    selector's detail."""
    from mailservice.choices import LatencySource

    figures = []
    for code in MAIL_CODES:
        r = rows.get(code)
        if r is None:
            continue  # the promise is not in force for the service (switched off in the policy table)
        measured = _measured(code, r.value, r.unit, f) if r.value is not None else ""
        figures.append({
            "code": code, "name": r.policy.name,
            "value": str(r.value) if r.value is not None else None,
            "measured": measured or "—",
            "target": _target(code, r.comparison, r.threshold, r.unit),
            "verdict": r.verdict or "", "verdict_display": _verdict_display(r.verdict or ""),
        })
    source = f.latency_source if f is not None else None
    return {
        "latency_source": source,
        "latency_source_display": str(LatencySource(source).label) if source in LatencySource.values else "",
        "directions": [_direction(f.send), _direction(f.receive)] if f is not None and source else [],
        "fault_days_year": f.fault_days_year if f is not None else None,
        "days_in_year": f.days_in_year if f is not None else None,
        "figures": figures,
    }


def mail_items(*, services: list[Service], rows: dict[int, list[Any]], first: date, now: datetime
               ) -> dict[int, dict[str, Any]]:
    """The e-mail figures of each e-mail service among `services` (by service id), in the active
    language. `rows` are the statement's period-promise rows per service."""
    from mailservice.selectors import mail_month_figures

    email = [s for s in services if s.kind == ServiceKind.EMAIL]
    if not email:
        return {}
    figures = mail_month_figures(services=email, year=first.year, month=first.month, now=now)
    out = {}
    for s in email:
        by_code = {r.policy.code: r for r in rows.get(s.pk, []) if r.policy.code in MAIL_CODES}
        out[s.pk] = _item(figures.get(s.pk), by_code)
    return out
