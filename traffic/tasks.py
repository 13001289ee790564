"""Thin task: poll the switch ports whose 5-minute slot is due. Beat runs it every few seconds;
the rows (claimed with a conditional UPDATE) are the truth, so two workers never poll a port twice."""

from celery import shared_task


@shared_task(name="traffic.tasks.poll_due", ignore_result=True)
def poll_due() -> dict[str, int]:
    from .services import poll_due as run

    return run()
