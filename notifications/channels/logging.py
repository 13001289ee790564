"""A development gateway: writes the message's headline to the log. It tells nobody, so the row
ends "not delivered: no gateway configured", never "sent" (a 15-minute notice that went only to
a log file was not given)."""

from __future__ import annotations

import logging

from .base import NOT_DELIVERED_NO_GATEWAY, ChannelBackend, DeliveryResult

logger = logging.getLogger("notifications.gateway")


class LoggingBackend(ChannelBackend):
    delivers = False

    def send(self, notification):  # type: ignore[no-untyped-def]
        logger.info("channel=%s address=%s subject=%s key=%s (logged only, not delivered)",
                    notification.channel, notification.address, notification.subject,
                    notification.idempotency_key)
        return DeliveryResult(False, NOT_DELIVERED_NO_GATEWAY)
