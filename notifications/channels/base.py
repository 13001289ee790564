from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from notifications.models import Notification

# Stored on the row (Chinese first, the English after it for the logs and the API).
NOT_DELIVERED_NO_GATEWAY = "未送达：未配置发送网关 (not delivered: no gateway configured)"


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    detail: str = ""
    #: a temporary failure (unreachable, "try again later"): the sender tries again later
    retry: bool = False


class ChannelBackend(abc.ABC):
    """Send one notification; return the outcome. Raise nothing for an ordinary refusal."""

    #: False for a backend that tells nobody (the log, the console): its rows end "not delivered".
    delivers = True

    def __init__(self, channel: str = "") -> None:
        self.channel = channel

    @abc.abstractmethod
    def send(self, notification: Notification) -> DeliveryResult: ...


class NoGatewayBackend(ChannelBackend):
    """A channel nobody configured a gateway for: nothing is sent, and the row says so."""

    delivers = False

    def send(self, notification):  # type: ignore[no-untyped-def]
        return DeliveryResult(False, NOT_DELIVERED_NO_GATEWAY)
