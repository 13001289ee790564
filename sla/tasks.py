"""Thin tasks: the sweep and the calendar-coverage check. Both are idempotent."""

import logging
import time
from typing import Any

from celery import shared_task
from django.db import connection

logger = logging.getLogger(__name__)


class _QueryCounter:
    """Counts the statements a sweep sends (a cheap execute wrapper; works with DEBUG off)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


@shared_task(name="sla.tasks.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    from .services import clocks_sweep

    counter = _QueryCounter()
    started = time.monotonic()
    with connection.execute_wrapper(counter):
        r = clocks_sweep()
    if r.breached or r.warned:
        # One line per sweep that claimed something: the benchmark and the metrics read it.
        logger.info("sweep breached=%d warned=%d notifications=%d queries=%d duration_ms=%d",
                    len(r.breached), len(r.warned), r.notifications, counter.count,
                    int((time.monotonic() - started) * 1000))
    return {"breached": len(r.breached), "warned": len(r.warned)}


@shared_task(name="sla.tasks.check_calendar_coverage", ignore_result=True)
def check_calendar_coverage() -> list[int]:
    from .services import calendar_coverage_alert

    return calendar_coverage_alert()
