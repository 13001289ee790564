"""Reads: a user's own API tokens (another user's token is simply not in the queryset, so it is a
404), the token a presented key belongs to, and the sign-in lockouts in force right now."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.models import AccessAttempt
from django.db import models
from django.utils import timezone

from . import lockout
from .choices import LockoutKind
from .models import ApiToken, LockoutRelease, hash_key


def token_list(*, user: Any) -> models.QuerySet[ApiToken]:
    """The requesting user's own tokens, newest first; nobody sees anyone else's."""
    if not getattr(user, "is_authenticated", False):
        return ApiToken.objects.none()
    return ApiToken.objects.filter(user=user)


def token_for_key(*, key: str) -> ApiToken | None:
    """The token a presented key belongs to (usable or not), with its user."""
    if not key:
        return None
    return ApiToken.objects.select_related("user").filter(key_hash=hash_key(key)).first()


@dataclass(frozen=True)
class Lockout:
    """One sign-in lock in force: a user name or a client address, its counted failures and limit."""

    kind: str
    value: str
    failures: int
    limit: int
    last_failure_at: datetime
    locked_until: datetime

    @property
    def kind_label(self) -> str:
        return str(LockoutKind(self.kind).label)


def lockout_list(*, now: datetime | None = None) -> list[Lockout]:
    """Every user name and every client address locked right now, the longest-locked first."""
    now = now or timezone.now()
    rows = (AccessAttempt.objects.filter(attempt_time__gte=now - lockout.cool_off())
            .order_by("-attempt_time").values_list("username", "ip_address", "attempt_time",
                                                   "failures_since_start"))
    grouped: dict[tuple[str, str], list[tuple[datetime, int]]] = defaultdict(list)
    for username, ip, at, failures in rows:
        if username:
            grouped[(LockoutKind.USERNAME, username)].append((at, failures))
        if ip:
            grouped[(LockoutKind.IP_ADDRESS, ip)].append((at, failures))
    found = []
    for (kind, value), attempts in grouped.items():
        limit = lockout.user_limit() if kind == LockoutKind.USERNAME else lockout.ip_limit()
        until = lockout.locked_until(attempts, limit)
        if until is not None and until > now:
            found.append(Lockout(kind=kind, value=value, failures=sum(n for _, n in attempts), limit=limit,
                                 last_failure_at=attempts[0][0], locked_until=until))
    return sorted(found, key=lambda lo: (-lo.locked_until.timestamp(), lo.kind, lo.value))


def lockout_get(*, kind: str, value: str, now: datetime | None = None) -> Lockout | None:
    """The lock on one user name or address, if one is in force."""
    return next((lo for lo in lockout_list(now=now) if lo.kind == kind and lo.value == value), None)


def lockout_release_list() -> models.QuerySet[LockoutRelease]:
    """Locks lifted by managers, newest first."""
    return LockoutRelease.objects.select_related("released_by")
