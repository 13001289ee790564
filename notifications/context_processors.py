"""The header's unread count of the in-app notification centre."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import cached_property

from .selectors import inbox_unread_count

BADGE_MAX = 99


class UnreadBadge:
    """Counted when a template first reads it (one indexed COUNT per page), never for a page that
    does not show it or for an anonymous visitor."""

    def __init__(self, user: Any) -> None:
        self._user = user

    @cached_property
    def count(self) -> int:
        return inbox_unread_count(user=self._user)

    @property
    def label(self) -> str:
        """What the badge shows: the number, "99+" past 99."""
        return f"{BADGE_MAX}+" if self.count > BADGE_MAX else str(self.count)


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_badge": UnreadBadge(user)}
