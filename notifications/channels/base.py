from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from notifications.models import Notification


@dataclass(frozen=True)
class DeliveryResult:
    ok: bool
    detail: str = ""


class ChannelBackend(abc.ABC):
    """Send one notification; return the outcome. Raise nothing for an ordinary refusal."""

    def __init__(self, channel: str = "") -> None:
        self.channel = channel

    @abc.abstractmethod
    def send(self, notification: Notification) -> DeliveryResult: ...
