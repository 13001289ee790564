"""Celery is a second path, never the only one: beat runs deliver_due every few seconds, which
sends whatever the sender loop has not (a deployment that runs no sender loop still delivers).
Both lease rows the same way, so running both sends nothing twice."""

from celery import shared_task

from .services import notification_send, notifications_deliver_due, notifications_release_dead


@shared_task(name="notifications.tasks.send_batch", ignore_result=True)
def send_batch(notification_ids: list[int]) -> None:
    for nid in notification_ids:
        notification_send(notification_id=nid)


@shared_task(name="notifications.tasks.deliver_due", ignore_result=True)
def deliver_due() -> int:
    from runtime.loops import worker_name

    notifications_release_dead()
    return notifications_deliver_due(worker=worker_name(), limit=500)
