from celery import shared_task

from .services import notification_send, notifications_resend_stale


@shared_task(name="notifications.tasks.send_batch", ignore_result=True)
def send_batch(notification_ids: list[int]) -> None:
    for nid in notification_ids:
        notification_send(notification_id=nid)


@shared_task(name="notifications.tasks.resend_stale", ignore_result=True)
def resend_stale() -> int:
    return len(notifications_resend_stale())
