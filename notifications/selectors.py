"""Reads of the notification log. Staff only: the log spans every customer, so callers check
the role before using it (it carries no customer key to scope by)."""

from __future__ import annotations

from typing import Any

from django.db import models

from customers.selectors import user_is_staff

from .models import Notification


def notification_list(*, user: Any) -> models.QuerySet[Notification]:
    if not user_is_staff(user):
        return Notification.objects.none()
    return Notification.objects.select_related("recipient", "content_type")
