"""Thin tasks: move notice attempts on after their notifications were sent."""

from celery import shared_task


@shared_task(name="incidents.tasks.advance_notices", ignore_result=True)
def advance_notices() -> int:
    from .services import notices_advance

    return notices_advance()
