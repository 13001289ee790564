"""Notification channels behind one interface. E-mail goes through Django's mail backend; SMS,
phone, pager and fax go through a pluggable gateway backend named in settings.NOTIFICATION_BACKENDS."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from .base import ChannelBackend, DeliveryResult

__all__ = ["ChannelBackend", "DeliveryResult", "backend_for"]


def backend_for(channel: str) -> ChannelBackend:
    if channel == "email":
        from .email import EmailBackend

        return EmailBackend()
    path = settings.NOTIFICATION_BACKENDS.get(channel)
    if not path:
        raise LookupError(f"No notification backend configured for channel {channel!r}")
    cls = import_string(path)
    return cls(channel=channel)  # type: ignore[no-any-return]
