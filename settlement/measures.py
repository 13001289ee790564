"""The period promises that can be measured, one entry per policy code.

Month close asks every registered measure for its verdicts; a promise is judged once an app
registers how to measure it (C1, C2 and E1 from the outages here; the e-mail guarantee's E2, E3
and E6 register from the app that measures them). Nothing here knows a threshold: the policy
row (with the contract's override) decides, through incidents.downtime.judge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from customers.choices import ServiceKind
from customers.models import Service


@dataclass
class Measurement:
    """One service's value for one promise and month, judged against its policy row."""

    value: Decimal
    comparison: str
    threshold: Decimal
    unit: str
    # True kept, False broken, None: the promise is switched off for the contract.
    kept: bool | None
    counted_seconds: int = 0
    counted: list[dict[str, Any]] = field(default_factory=list)
    excluded: list[dict[str, Any]] = field(default_factory=list)


MeasureFn = Callable[..., dict[int, Measurement]]


@dataclass(frozen=True)
class PeriodMeasure:
    code: str
    applies: Callable[[Service], bool]
    # measure(services=[...], year=, month=, now=) -> {service_id: Measurement}
    measure: MeasureFn


REGISTRY: dict[str, PeriodMeasure] = {}


def register(measure: PeriodMeasure) -> None:
    REGISTRY[measure.code] = measure


def registered() -> list[PeriodMeasure]:
    return [REGISTRY[k] for k in sorted(REGISTRY)]


# --- Downtime promises: C1 (hosting network), C2 (hosting power), E1 (mailbox connectivity) ---

def _outage_rows(ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    from incidents.models import Outage

    ids = list(ids)
    if not ids:
        return {}
    rows = Outage.objects.filter(pk__in=ids).values_list(
        "pk", "kind", "started_at", "ended_at", "cause", "cause_note", "facility_event_id"
        if _has_facility_event() else "pk")
    out = {}
    for pk, kind, s, e, cause, note, event in rows:
        out[pk] = {"id": pk, "kind": kind, "started_at": s.isoformat(),
                   "ended_at": e.isoformat() if e else None, "cause": cause or "", "note": note,
                   "facility_event": event if event != pk else None}
    return out


def _has_facility_event() -> bool:
    from incidents.models import Outage

    return any(f.name == "facility_event" for f in Outage._meta.get_fields())


def _downtime(kind: str) -> MeasureFn:
    def measure(*, services: list[Service], year: int, month: int, now: datetime) -> dict[int, Measurement]:
        from incidents.downtime import services_month_downtime

        results = services_month_downtime(services=services, year=year, month=month, kind=kind, now=now)
        ids: set[int] = set()
        for r in results.values():
            ids.update(r.counted_outage_ids)
            ids.update(r.excluded)
        rows = _outage_rows(ids)
        out = {}
        for sid, r in results.items():
            if r.policy_code is None or r.value is None or r.threshold is None or r.comparison is None:
                continue
            out[sid] = Measurement(
                value=r.value, comparison=r.comparison, threshold=r.threshold, unit=r.unit or "",
                kept=None if r.breached is None else not r.breached,
                counted_seconds=r.counted_seconds,
                counted=[rows[i] for i in sorted(set(r.counted_outage_ids)) if i in rows],
                excluded=[{**rows[i], "reason": reason} for i, reason in sorted(r.excluded.items())
                          if i in rows],
            )
        return out
    return measure


def _hosting(service: Service) -> bool:
    return service.kind != ServiceKind.EMAIL


def _email(service: Service) -> bool:
    return service.kind == ServiceKind.EMAIL


register(PeriodMeasure("C1", _hosting, _downtime("network")))
register(PeriodMeasure("C2", _hosting, _downtime("power")))
register(PeriodMeasure("E1", _email, _downtime("network")))
