from celery import shared_task

from .services import notification_send


@shared_task(name="notifications.tasks.send_batch", ignore_result=True)
def send_batch(notification_ids: list[int]) -> None:
    for nid in notification_ids:
        notification_send(notification_id=nid)
