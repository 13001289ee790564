"""Thin tasks: the sweep and the calendar-coverage check. Both are idempotent."""

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="sla.tasks.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    from .services import clocks_sweep

    r = clocks_sweep()
    if r.breached or r.warned:
        logger.info("sweep breached=%d warned=%d notifications=%d", len(r.breached), len(r.warned),
                    r.notifications)
    return {"breached": len(r.breached), "warned": len(r.warned)}


@shared_task(name="sla.tasks.check_calendar_coverage", ignore_result=True)
def check_calendar_coverage() -> list[int]:
    from .services import calendar_coverage_alert

    return calendar_coverage_alert()
