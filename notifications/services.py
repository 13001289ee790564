"""Writing and sending notifications. Rows first, sending after commit: a crash between the
two leaves a visible pending row, never a message nobody knows was sent. Rows are delivered by
the sender loop (manage.py send_notifications) with a lease per row being sent."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from runtime.bulk import claim_update, copy_rows
from runtime.loops import NOTIFICATIONS, pid_alive, wake, worker_name

from .channels import backend_for
from .channels.inbox import inbox_items_write
from .choices import Status
from .models import InboxItem, Notification

logger = logging.getLogger(__name__)

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
    # The event across channels, for the in-app notification centre; by default the idempotency
    # key without its channel and address (notifications.channels.inbox.event_key).
    inbox_key: str | None = None


def notifications_enqueue(*, messages: list[Message], now: datetime | None = None) -> list[int]:
    """Write one pending row per message (a key already written is left alone) and wake the
    sender at commit. Returns the ids of rows that are new."""
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
    new_keys = {r.idempotency_key for r in rows}
    # One transaction with the caller's (no savepoint: nothing here is retried on its own).
    with transaction.atomic(savepoint=False):
        # ignore_conflicts: a concurrent writer of the same key wins and this row is dropped.
        # No fixed batch size: one INSERT however many rows (the backend splits where it must).
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        # The in-app channel, in the same transaction: a row written is an item shown.
        inbox_items_write(messages=[m for m in messages if m.idempotency_key in new_keys], now=now)
    ids = list(Notification.objects.filter(
        idempotency_key__in=[r.idempotency_key for r in rows], status=Status.PENDING)
        .values_list("id", flat=True))
    if ids:
        # The sender loop (manage.py send_notifications) delivers from the rows; on PostgreSQL it
        # is woken at commit, elsewhere it polls. No broker on this path: a broker that is down
        # delays nothing and loses nothing.
        wake(NOTIFICATIONS)
    return ids


def notifications_enqueue_fresh(*, messages: list[Message], now: datetime | None = None) -> int:
    """notifications_enqueue for messages whose keys cannot exist yet (the sweep's escalations of
    clocks it has just claimed): one COPY on PostgreSQL, no look-up of existing keys. Returns the
    number of rows written."""
    if not messages:
        return 0
    now = now or timezone.now()
    ct_cache: dict[type, int] = {}

    def ct_id(obj: models.Model) -> int:
        if type(obj) not in ct_cache:
            ct_cache[type(obj)] = ContentType.objects.get_for_model(obj).pk
        return ct_cache[type(obj)]

    with transaction.atomic(savepoint=False):
        n = _copy_fresh(messages=messages, now=now, ct_id=ct_id)
        inbox_items_write(messages=messages, now=now)  # the in-app channel, same transaction
    wake(NOTIFICATIONS)
    return n


def _copy_fresh(*, messages: list[Message], now: datetime, ct_id: Any) -> int:
    return copy_rows(Notification, (
        "channel", "address", "recipient_id", "kind", "subject", "body", "attachments",
        "idempotency_key", "content_type_id", "object_id", "status", "detail", "created_at", "attempts",
        "claimed_by"), [
        (m.channel, m.address, m.recipient_id, m.kind, m.subject[:300], m.body, m.attachments,
         m.idempotency_key, ct_id(m.related) if m.related is not None else None,
         m.related.pk if m.related is not None else None, Status.PENDING, "", now, 0, "")
        for m in messages])


def notifications_claim(*, worker: str, limit: int = 1, now: datetime | None = None) -> list[int]:
    """Lease up to `limit` rows to `worker`: pending rows oldest first, and rows whose lease ran
    out (their sender died mid-send). Only the process whose UPDATE changed a row gets its id back.
    PostgreSQL: FOR UPDATE SKIP LOCKED, so concurrent senders take disjoint rows without waiting;
    SQLite serialises writers instead."""
    now = now or timezone.now()
    lease = timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)
    ops = connection.ops
    ts, until = ops.adapt_datetimefield_value(now), ops.adapt_datetimefield_value(now + lease)
    with transaction.atomic():
        return claim_update(
            Notification,
            set_sql="status = %s, attempted_at = %s, lease_expires_at = %s, claimed_by = %s, "
                    "attempts = attempts + 1",
            set_params=[Status.SENDING, ts, until, worker[:120]],
            where_sql="(status = %s OR (status = %s AND lease_expires_at <= %s))",
            where_params=[Status.PENDING, Status.SENDING, ts], order_by="created_at", limit=limit)


def notification_deliver(*, notification_id: int, worker: str,
                         loaded: Notification | None = None) -> Notification | None:
    """Send one row leased to `worker` and record the outcome, once. A row whose lease another
    sender has taken over meanwhile is left to that sender (the final conditional UPDATE)."""
    n = loaded if loaded is not None and loaded.pk == notification_id else (
        Notification.objects.filter(pk=notification_id, status=Status.SENDING, claimed_by=worker[:120]).first())
    if n is None:
        return None
    retried = ""
    if n.attempts > 1 and not n.detail:  # the last attempt saved nothing: it was interrupted
        retried = _("attempt %(n)d (an earlier attempt was interrupted): ") % {"n": n.attempts}
    elif n.attempts > 1:  # the last one was a temporary failure
        retried = _("attempt %(n)d: ") % {"n": n.attempts}
    if n.attempts > settings.NOTIFICATION_MAX_ATTEMPTS:
        ok, detail = False, _("given up after %(n)d interrupted attempts") % {"n": n.attempts - 1}
    else:
        try:
            result = backend_for(n.channel).send(n)
            ok, detail = result.ok, result.detail
        except Exception as e:  # a broken gateway must not leave the row in 'sending'
            logger.warning("notification %s failed: %s: %s", n.pk, type(e).__name__, e)
            ok, detail = False, f"{type(e).__name__}: {e}"
            result = None
        if not ok and result is not None and result.retry and n.attempts < settings.NOTIFICATION_MAX_ATTEMPTS:
            # A temporary failure: the row stays leased to nobody until the back-off has passed,
            # then any sender takes it up again (10 s, then 30 s, ...).
            backoff = settings.NOTIFICATION_RETRY_SECONDS * 3 ** (n.attempts - 1)
            n.detail = (_("temporary failure, trying again in %(s)d s: ") % {"s": backoff} + detail)[:2000]
            Notification.objects.filter(pk=n.pk, status=Status.SENDING, claimed_by=worker[:120]).update(
                detail=n.detail, claimed_by="", lease_expires_at=timezone.now() + timedelta(seconds=backoff))
            return n
    n.status = Status.SENT if ok else Status.FAILED
    n.detail = (retried + detail)[:2000]
    n.finished_at = timezone.now()
    saved = Notification.objects.filter(pk=n.pk, status=Status.SENDING, claimed_by=worker[:120]).update(
        status=n.status, detail=n.detail, finished_at=n.finished_at, lease_expires_at=None)
    if not saved:
        # Our lease ran out while the gateway was slow and another sender took the row over.
        logger.warning("notification %s: lease lost during the send; the other sender records it", n.pk)
    return n


def notification_send(*, notification_id: int, now: datetime | None = None) -> Notification | None:
    """Send one pending notification now (or one whose lease ran out). Only the caller whose
    conditional UPDATE leased the row sends it, so a retried or duplicated call sends nothing twice."""
    now = now or timezone.now()
    worker = worker_name()
    lease = timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)
    claimed = (Notification.objects.filter(pk=notification_id)
               .filter(models.Q(status=Status.PENDING)
                       | models.Q(status=Status.SENDING, lease_expires_at__lte=now))
               .update(status=Status.SENDING, attempted_at=now, lease_expires_at=now + lease,
                       claimed_by=worker[:120], attempts=models.F("attempts") + 1))
    if not claimed:
        return None
    return notification_deliver(notification_id=notification_id, worker=worker)


def notifications_deliver_due(*, worker: str, limit: int = 10_000, now: datetime | None = None) -> int:
    """One pass of a sender thread: lease a few rows at a time (NOTIFICATION_CLAIM_BATCH) and
    deliver them over one mail-server connection, renewing the lease of the rows still waiting
    when half of it has passed, until nothing is due or `limit` rows were delivered."""
    from .channels.email import email_session

    batch = max(1, settings.NOTIFICATION_CLAIM_BATCH)
    lease = settings.NOTIFICATION_LEASE_SECONDS
    done = 0
    with email_session():
        while done < limit:
            ids = notifications_claim(worker=worker, limit=min(batch, limit - done), now=now)
            if not ids:
                break
            renew_at = time.monotonic() + lease / 2
            rows = Notification.objects.in_bulk(ids)
            for k, nid in enumerate(ids):  # every row leased to us is ours to finish
                if time.monotonic() >= renew_at:
                    mine = Notification.objects.filter(pk__in=ids[k:], status=Status.SENDING,
                                                       claimed_by=worker[:120])
                    mine.update(lease_expires_at=timezone.now() + timedelta(seconds=lease))
                    # A row whose lease ran out meanwhile may be another sender's now: skip it.
                    still = set(mine.values_list("pk", flat=True))
                    rows = {pk: r for pk, r in rows.items() if pk in still}
                    renew_at = time.monotonic() + lease / 2
                if nid not in rows:
                    continue
                notification_deliver(notification_id=nid, worker=worker, loaded=rows[nid])
                done += 1
    return done


def notifications_release_dead(*, now: datetime | None = None) -> int:
    """Rows leased by a process of this host that no longer exists are free again at once
    (a sender killed mid-send): no need to wait for the lease to run out."""
    now = now or timezone.now()
    host = worker_name().rsplit(":", 1)[0] + ":"
    dead = []
    for pk, who in (Notification.objects.filter(status=Status.SENDING, claimed_by__startswith=host,
                                                lease_expires_at__gt=now)
                    .values_list("pk", "claimed_by")):
        pid = who[len(host):]
        if pid.isdigit() and not pid_alive(int(pid)):
            dead.append(pk)
    if dead:
        Notification.objects.filter(pk__in=dead, status=Status.SENDING).update(lease_expires_at=now)
        logger.info("released %d notification(s) leased by senders that died", len(dead))
    return len(dead)


def notifications_for(obj: models.Model) -> models.QuerySet[Notification]:
    return Notification.objects.filter(content_type=ContentType.objects.get_for_model(obj),
                                       object_id=obj.pk)


def as_attachment(*, name: str, path: str, mimetype: str) -> dict[str, Any]:
    """An attachment is a file under MEDIA_ROOT, read at send time."""
    return {"name": name, "path": path, "mimetype": mimetype}


# --- The in-app notification centre -------------------------------------------------------
# Reading one's own notifications is not audited: it changes nothing anybody else relies on
# (the notification rows, the send log, stay as they were).

def inbox_item_mark_read(*, user: Any, item_id: int, now: datetime | None = None) -> InboxItem:
    """Mark one of `user`'s items read (an item already read keeps its first read time). Another
    user's item, or none, raises InboxItem.DoesNotExist (a 404)."""
    now = now or timezone.now()
    with transaction.atomic():
        item = InboxItem.objects.select_for_update().get(pk=item_id, user_id=user.pk)
        if item.read_at is None:
            item.read_at = now
            item.save(update_fields=["read_at"])
    return item


def inbox_mark_all_read(*, user: Any, now: datetime | None = None) -> int:
    """Mark every unread item of `user` read. Returns how many were unread."""
    now = now or timezone.now()
    return InboxItem.objects.filter(user_id=user.pk, read_at__isnull=True).update(read_at=now)
