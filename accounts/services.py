"""Writes: issuing, using and revoking API tokens; clearing a user's failed sign-ins after a
success; a manager lifting a sign-in lock. Each change that matters is audited."""

from __future__ import annotations

import ipaddress
import secrets
from datetime import datetime, timedelta
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from customers.choices import Role
from customers.selectors import user_has_role
from slaportal.errors import ConflictError, DomainError, ForbiddenError

from . import selectors
from .choices import LockoutKind
from .models import KEY_PREFIX, PREFIX_LENGTH, ApiToken, LockoutRelease, hash_key

# last_used_at is written at most this often per token: one UPDATE per API request would be a
# write on every read.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_ttl() -> timedelta:
    return timedelta(hours=float(settings.API_TOKEN_TTL_HOURS))


def token_create(*, user: Any, name: str = "", now: datetime | None = None) -> tuple[ApiToken, str]:
    """Issue a new API token for `user`, valid for API_TOKEN_TTL_HOURS. Returns the row and the
    key; the key is not stored (only its hash) and cannot be shown again."""
    now = now or timezone.now()
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(user=user, name=name.strip()[:100], prefix=key[:PREFIX_LENGTH],
                                        key_hash=hash_key(key), created_at=now,
                                        expires_at=now + token_ttl())
        audit_record(obj=token, action="api_token_create", actor=user, now=now,
                     data={"name": token.name, "prefix": token.prefix,
                           "expires_at": token.expires_at.isoformat()})
    return token, key


def token_authenticate(*, key: str, now: datetime | None = None) -> ApiToken | None:
    """The usable token for a presented key (not expired, not revoked, its user active), noting
    when it was last used; None for anything else."""
    now = now or timezone.now()
    token = selectors.token_for_key(key=key)
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or token.last_used_at < now - LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_revoke(*, token_id: int, actor: Any, now: datetime | None = None) -> ApiToken:
    """Revoke one of the actor's own tokens: from now on it is refused (401). Revoking a revoked
    token is refused and changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        token = selectors.token_list(user=actor).select_for_update().filter(pk=token_id).first()
        if token is None:
            raise DomainError(_("No such token."), code="not_found")
        if token.revoked_at is not None:
            raise ConflictError(_("This token was already revoked."))
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
        audit_record(obj=token, action="api_token_revoke", actor=actor, now=now,
                     data={"name": token.name, "prefix": token.prefix})
    return token


def login_failures_clear(*, username: str) -> int:
    """After a successful sign-in: forget that user name's failed attempts (not the client
    address's: see lockout.LoginLockoutHandler)."""
    count, _ = AccessAttempt.objects.filter(username=username).delete()
    return count


def lockout_lift(*, kind: str, value: str, actor: Any, reason: str = "",
                 now: datetime | None = None) -> LockoutRelease:
    """A manager lifts a sign-in lock in force before its cool-off ends: the counted failures of
    that user name (or client address) are cleared, and the lift is recorded and audited."""
    now = now or timezone.now()
    if not user_has_role(actor, Role.MANAGER):
        raise ForbiddenError(_("Only managers can lift a sign-in lock."))
    if kind not in LockoutKind.values:
        raise DomainError(_("Unknown kind of lock."), field_errors={"kind": [_("Unknown kind of lock.")]})
    if kind == LockoutKind.IP_ADDRESS:
        try:
            value = str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise DomainError(_("Not an IP address."), field_errors={"value": [_("Not an IP address.")]})
    with transaction.atomic():
        attempts = AccessAttempt.objects.select_for_update().filter(
            **({"username": value} if kind == LockoutKind.USERNAME else {"ip_address": value}))
        # Lock the rows first so that two managers lifting the same lock record it once.
        list(attempts.values_list("pk", flat=True))
        current = selectors.lockout_get(kind=kind, value=value, now=now)
        if current is None:
            raise ConflictError(_("This sign-in lock is no longer in force."))
        attempts.delete()
        release = LockoutRelease.objects.create(
            kind=kind, value=value, failures=current.failures, locked_until=current.locked_until,
            released_by=actor, released_at=now, reason=reason.strip())
        audit_record(obj=release, action="login_lockout_lift", actor=actor, now=now, reason=release.reason,
                     data={"kind": kind, "value": value, "failures": current.failures,
                           "locked_until": current.locked_until.isoformat()})
    return release
