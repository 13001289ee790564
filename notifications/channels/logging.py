"""The default gateway: writes the message to the log. Counts as delivered to the log only;
the row's detail says so, so nobody mistakes it for a real SMS."""

from __future__ import annotations

import logging

from .base import ChannelBackend, DeliveryResult

logger = logging.getLogger("notifications.gateway")


class LoggingBackend(ChannelBackend):
    def send(self, notification):  # type: ignore[no-untyped-def]
        logger.info("channel=%s address=%s subject=%s key=%s", notification.channel,
                    notification.address, notification.subject, notification.idempotency_key)
        return DeliveryResult(True, "logged (no gateway configured)")
