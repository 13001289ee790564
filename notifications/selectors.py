"""Reads of the notification log. Staff only: the log spans every customer, so callers check
the role before using it (it carries no customer key to scope by)."""

from __future__ import annotations

from typing import Any

from django.db import models

from customers.selectors import user_is_staff

from .models import InboxItem, Notification


def notification_list(*, user: Any) -> models.QuerySet[Notification]:
    if not user_is_staff(user):
        return Notification.objects.none()
    return Notification.objects.select_related("recipient", "content_type")


# --- The in-app notification centre: each user reads their own items only -------------------

def inbox_list(*, user: Any, unread: bool | None = None) -> models.QuerySet[InboxItem]:
    """`user`'s items, newest first (unread only, or read only, when asked)."""
    if not getattr(user, "is_authenticated", False):
        return InboxItem.objects.none()
    qs = InboxItem.objects.filter(user_id=user.pk)
    if unread is not None:
        qs = qs.filter(read_at__isnull=unread)
    return qs.order_by("-created_at", "-id")


def inbox_unread_count(*, user: Any) -> int:
    """One indexed COUNT (the partial index inbox_user_unread)."""
    if not getattr(user, "is_authenticated", False):
        return 0
    return InboxItem.objects.filter(user_id=user.pk, read_at__isnull=True).count()
