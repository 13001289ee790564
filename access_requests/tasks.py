"""Periodic checks of the visit workflow (scheduled in settings.CELERY_BEAT_SCHEDULE). Thin: each
calls one service, which claims its rows, so a duplicated or retried run does nothing twice."""

from celery import shared_task

from . import services


@shared_task(name="access_requests.tasks.sweep", ignore_result=True)
def sweep() -> None:
    """No-shows and overstays."""
    services.visits_mark_no_shows()
    services.visits_flag_overstays()


@shared_task(name="access_requests.tasks.flag_open_at_day_end", ignore_result=True)
def flag_open_at_day_end() -> None:
    services.visits_flag_open_at_day_end()


@shared_task(name="access_requests.tasks.erase_id_numbers", ignore_result=True)
def erase_id_numbers() -> None:
    services.visitor_ids_erase()
