"""Notification channels behind one interface. E-mail goes through Django's mail backend; SMS,
phone, pager and fax go through a pluggable gateway backend named in settings.NOTIFICATION_BACKENDS.
A channel with no gateway configured delivers nothing and says so on the row: a notice nobody
received is never counted as delivered."""

from __future__ import annotations

from django.conf import settings
from django.utils.module_loading import import_string

from .base import NOT_DELIVERED_NO_GATEWAY, ChannelBackend, DeliveryResult, NoGatewayBackend

__all__ = ["NOT_DELIVERED_NO_GATEWAY", "ChannelBackend", "DeliveryResult", "NoGatewayBackend",
           "backend_for"]


def backend_for(channel: str) -> ChannelBackend:
    if channel == "email":
        from .email import EmailBackend

        return EmailBackend()
    path = settings.NOTIFICATION_BACKENDS.get(channel)
    if not path:
        return NoGatewayBackend(channel=channel)
    cls = import_string(path)
    return cls(channel=channel)  # type: ignore[no-any-return]
