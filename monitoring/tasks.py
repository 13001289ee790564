"""Thin task: probe whatever is due. Beat runs it every few seconds; rows are the truth."""

from celery import shared_task


@shared_task(name="monitoring.tasks.probe_due", ignore_result=True)
def probe_due() -> dict[str, int]:
    from .services import probe_due as run

    return run()
