"""The in-app channel: the portal's notification centre. Unlike the other channels it sends
nothing after commit: the rows that tell an event (notifications_enqueue / _fresh) also write, in
the same transaction, one InboxItem per portal user the event is for. One item per (user, event)
however many channels carry the event (an e-mail and an SMS are one item).

Who gets an item:
- a message with a recipient user: that user, if active;
- a message to an address only: the active users whose e-mail is that address, if staff (a
  superuser or a staff role) or a customer user of the customer the event is about. A customer
  contact without a login gets nothing here (the e-mail is all they have).
A customer user only ever gets events about their own customer: an event about another
customer's object, or about nothing customer-bound, is not shown to them even when named as its
recipient."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models.functions import Lower

from customers.selectors import STAFF_ROLES
from notifications.choices import Channel
from notifications.models import InboxItem, Notification

if TYPE_CHECKING:
    from notifications.services import Message

SUMMARY_CHARS = 500

# "<event>:<channel>" or "<event>:<channel>:<address>" (the house's idempotency keys name the
# event, then the channel and the address): the event is what comes before the channel segment.
_CHANNELS = "|".join(map(re.escape, Channel.values))
_CHANNEL_TAIL = re.compile(rf"^(?P<event>.+?):(?:{_CHANNELS})(?::.*)?$")


def event_key(message: Message) -> str:
    """The event a message tells, without its channel and address (see InboxItem.event_key)."""
    if message.inbox_key:
        return message.inbox_key[:200]
    key = message.idempotency_key
    m = _CHANNEL_TAIL.match(key)
    return (m.group("event") if m else key)[:200]


def _customer_of(obj: models.Model | None) -> int | None:
    """The customer an object belongs to, if it is customer-bound."""
    if obj is None:
        return None
    if obj._meta.label_lower == "customers.customer":
        return int(obj.pk)
    cid = getattr(obj, "customer_id", None)
    if cid is None and getattr(obj, "incident_id", None) is not None:  # a notice attempt
        cid = getattr(obj.incident, "customer_id", None)  # type: ignore[attr-defined]
    return cid


def _users(messages: Sequence[Message]) -> tuple[dict[int, tuple[int | None, bool]],
                                                  dict[str, list[int]]]:
    """Active users the messages may be for, in one query: {user id: (customer id, is staff)}
    and {lower-case e-mail: [user ids]}."""
    explicit = {m.recipient_id for m in messages if m.recipient_id}
    addresses = {m.address.strip().lower() for m in messages
                 if not m.recipient_id and "@" in (m.address or "")}
    if not explicit and not addresses:
        return {}, {}
    user_model = get_user_model()
    staff_group = Group.objects.filter(user=models.OuterRef("pk"), name__in=STAFF_ROLES)
    rows = (user_model.objects.filter(is_active=True)
            .annotate(lower_email=Lower("email"), has_role=models.Exists(staff_group))
            .filter(models.Q(pk__in=explicit) | models.Q(lower_email__in=addresses))
            .values_list("pk", "lower_email", "customer_link__customer_id", "is_superuser", "has_role"))
    users: dict[int, tuple[int | None, bool]] = {}
    by_address: dict[str, list[int]] = {}
    for pk, email, cid, superuser, has_role in rows:
        users[pk] = (cid, bool(superuser or has_role))
        if email:
            by_address.setdefault(email, []).append(pk)
    return users, by_address


def inbox_items_write(*, messages: Iterable[Message], now: datetime) -> int:
    """Write the inbox items of messages whose notification rows were just written (call inside
    the same transaction, after them). Returns the number of items offered (a (user, event) that
    already has an item is left alone)."""
    messages = list(messages)
    users, by_address = _users(messages)
    if not users:
        return 0
    wanted: dict[tuple[int, str], Message] = {}
    for m in messages:
        cid = _customer_of(m.related)
        if m.recipient_id:
            candidates = [m.recipient_id] if m.recipient_id in users else []
        else:
            candidates = by_address.get((m.address or "").strip().lower(), [])
        for uid in candidates:
            user_customer, is_staff = users[uid]
            if user_customer is not None:
                if cid is None or cid != user_customer:
                    continue  # a customer user sees their own customer's events only
            elif not (is_staff or m.recipient_id == uid):
                continue  # an address shared with a login that is neither staff nor customer
            wanted.setdefault((uid, event_key(m)), m)
    if not wanted:
        return 0
    notification_ids = dict(Notification.objects.filter(
        idempotency_key__in={m.idempotency_key for m in wanted.values()})
        .values_list("idempotency_key", "id"))
    ct_cache: dict[type, ContentType] = {}

    def ct(obj: models.Model) -> ContentType:
        if type(obj) not in ct_cache:
            ct_cache[type(obj)] = ContentType.objects.get_for_model(obj)
        return ct_cache[type(obj)]

    items = [InboxItem(
        user_id=uid, event_key=key, kind=m.kind, title=m.subject[:300],
        summary=m.body[:SUMMARY_CHARS], content_type=ct(m.related) if m.related is not None else None,
        object_id=m.related.pk if m.related is not None else None,
        notification_id=notification_ids.get(m.idempotency_key), created_at=now,
    ) for (uid, key), m in wanted.items()]
    # ignore_conflicts: an event re-enqueued (or written concurrently) keeps its first item.
    InboxItem.objects.bulk_create(items, ignore_conflicts=True)
    return len(items)

