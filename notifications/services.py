"""Writing and sending notifications. Rows first, sending after commit: a crash between the
two leaves a visible pending row, never a message nobody knows was sent."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from .channels import backend_for
from .choices import Status
from .models import Notification

logger = logging.getLogger(__name__)

# Notifications per send task.
SEND_CHUNK = 20


@dataclass
class Message:
    """What to send to whom; the idempotency key names the event, the channel and the address."""

    channel: str
    address: str
    kind: str
    subject: str
    body: str
    idempotency_key: str
    recipient_id: int | None = None
    related: models.Model | None = None
    attachments: list[dict[str, str]] = field(default_factory=list)


def notifications_enqueue(*, messages: list[Message], now: datetime | None = None) -> list[int]:
    """Write one pending row per message (a key already written is left alone) and queue the
    sending after commit. Returns the ids of rows that are new."""
    if not messages:
        return []
    now = now or timezone.now()
    keys = [m.idempotency_key for m in messages]
    existing = set(Notification.objects.filter(idempotency_key__in=keys)
                   .values_list("idempotency_key", flat=True))
    rows = []
    for m in messages:
        if m.idempotency_key in existing:
            continue
        existing.add(m.idempotency_key)
        ct = ContentType.objects.get_for_model(m.related) if m.related is not None else None
        rows.append(Notification(
            channel=m.channel, address=m.address, recipient_id=m.recipient_id, kind=m.kind,
            subject=m.subject[:300], body=m.body, attachments=m.attachments,
            idempotency_key=m.idempotency_key, content_type=ct,
            object_id=m.related.pk if m.related is not None else None, created_at=now,
        ))
    # ignore_conflicts: a concurrent writer of the same key wins and this row is dropped.
    # No fixed batch size: one INSERT however many rows (the backend splits where it must).
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    ids = list(Notification.objects.filter(
        idempotency_key__in=[r.idempotency_key for r in rows], status=Status.PENDING)
        .values_list("id", flat=True))
    if ids:
        from .tasks import send_batch

        # Small tasks: several worker processes send in parallel, and a sweep queued behind
        # them never waits for thousands of SMTP conversations to finish.
        chunks = [ids[i:i + SEND_CHUNK] for i in range(0, len(ids), SEND_CHUNK)]
        # robust: a broker that is down must not turn a saved change into an error page; the
        # rows stay pending and notifications_resend_stale() sends them once the broker is back.
        transaction.on_commit(lambda: [send_batch.delay(c) for c in chunks], robust=True)
    return ids


def notification_send(*, notification_id: int, now: datetime | None = None) -> Notification | None:
    """Send one pending notification. Only the caller whose conditional UPDATE moved the row
    from pending to sending sends it, so a retried or duplicated task sends nothing twice."""
    claimed = Notification.objects.filter(pk=notification_id, status=Status.PENDING).update(
        status=Status.SENDING, attempted_at=now or timezone.now())
    if not claimed:
        return None
    n = Notification.objects.get(pk=notification_id)
    try:
        result = backend_for(n.channel).send(n)
        ok, detail = result.ok, result.detail
    except Exception as e:  # a broken gateway must not leave the row in 'sending'
        logger.exception("notification %s failed", n.pk)
        ok, detail = False, f"{type(e).__name__}: {e}"
    n.status = Status.SENT if ok else Status.FAILED
    n.detail = detail[:2000]
    n.finished_at = timezone.now()
    n.save(update_fields=["status", "detail", "finished_at"])
    return n


def notifications_for(obj: models.Model) -> models.QuerySet[Notification]:
    return Notification.objects.filter(content_type=ContentType.objects.get_for_model(obj),
                                       object_id=obj.pk)


def as_attachment(*, name: str, path: str, mimetype: str) -> dict[str, Any]:
    """An attachment is a file under MEDIA_ROOT, read at send time."""
    return {"name": name, "path": path, "mimetype": mimetype}


STALE_AFTER_SECONDS = 60


def notifications_resend_stale(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Send rows still pending a while after they were written: their send task was lost (the
    broker was down at commit, or a worker died before it ran). Sending claims each row with a
    conditional UPDATE, so a row whose original task does run after all is still sent once."""
    now = now or timezone.now()
    ids = list(Notification.objects.filter(
        status=Status.PENDING, created_at__lte=now - timedelta(seconds=STALE_AFTER_SECONDS))
        .order_by("created_at").values_list("id", flat=True)[:limit])
    for nid in ids:
        notification_send(notification_id=nid)
    return ids
