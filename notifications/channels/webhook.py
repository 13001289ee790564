"""A real gateway reached over HTTP: POSTs JSON to NOTIFICATION_WEBHOOK_URL. A 2xx answer is
delivered; anything else, or no answer, is a failure recorded on the row. The idempotency key
travels as a header so a gateway can drop a duplicate."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from django.conf import settings

from .base import ChannelBackend, DeliveryResult


class WebhookBackend(ChannelBackend):
    def send(self, notification):  # type: ignore[no-untyped-def]
        url = settings.NOTIFICATION_WEBHOOK_URL
        if not url:
            return DeliveryResult(False, "NOTIFICATION_WEBHOOK_URL is not set")
        payload = json.dumps({
            "channel": notification.channel,
            "to": notification.address,
            "subject": notification.subject,
            "body": notification.body,
            "idempotency_key": notification.idempotency_key,
        }).encode()
        headers = {"Content-Type": "application/json",
                   "Idempotency-Key": notification.idempotency_key}
        if settings.NOTIFICATION_WEBHOOK_TOKEN:
            headers["Authorization"] = f"Bearer {settings.NOTIFICATION_WEBHOOK_TOKEN}"
        req = urllib.request.Request(url, data=payload, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=settings.NOTIFICATION_WEBHOOK_TIMEOUT) as resp:
                return DeliveryResult(200 <= resp.status < 300, f"HTTP {resp.status}")
        except urllib.error.HTTPError as e:
            # 5xx and 429: the gateway is struggling, try again later; other 4xx are final.
            return DeliveryResult(False, f"HTTP {e.code}", retry=e.code >= 500 or e.code == 429)
        except (urllib.error.URLError, OSError) as e:
            return DeliveryResult(False, f"unreachable: {e}", retry=True)
