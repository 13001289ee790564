"""The e-mail guarantee's measured promises (seed 002 §2–§3: E2-AVG, E2-SLOW, E3-FAULT,
E3-ADJUST, E3-AVAIL, E3-DAYS, E3-BILL, E3-WEB) registered with the month close
(settlement.measures). Every value and verdict comes from mailservice.selectors.mail_month_figures,
so the judgement stored is what the pages show; a service with nothing measured for a promise
(no latency samples, no billing figure, no webmail probe, no domain on a platform) is not judged
for it."""

from __future__ import annotations

from datetime import datetime

from customers.choices import ServiceKind
from customers.models import Service
from settlement.measures import MeasureFn, Measurement, PeriodMeasure, register

from .selectors import MEASURED_CODES, mail_month_figures


def _email(service: Service) -> bool:
    return service.kind == ServiceKind.EMAIL


def _measure(code: str) -> MeasureFn:
    def measure(*, services: list[Service], year: int, month: int, now: datetime) -> dict[int, Measurement]:
        figures = mail_month_figures(services=services, year=year, month=month, now=now)
        return {sid: f.measurements[code] for sid, f in figures.items() if code in f.measurements}
    return measure


for _code in MEASURED_CODES:
    register(PeriodMeasure(_code, _email, _measure(_code)))
