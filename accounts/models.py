"""API tokens that expire and can be revoked, and the record of sign-in lockouts a manager lifted.

Failed sign-ins themselves are counted by django-axes (its AccessAttempt rows); see lockout.py."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from slaportal.models import FastChoiceDisplay

from .choices import LockoutKind, TokenState

KEY_PREFIX = "slp_"  # makes a leaked key recognisable to secret scanners and to people
PREFIX_LENGTH = 12  # "slp_" and 8 random characters: enough to tell one's tokens apart


def hash_key(key: str) -> str:
    """The stored form of a key. A plain SHA-256 is enough: keys are 256-bit random strings, so
    there is nothing for a slow hash to protect against."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiToken(FastChoiceDisplay, models.Model):
    """One API key of one user, sent as `Authorization: Token <key>`. Only its hash is stored; the
    key itself is shown once, in the answer that created it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens", verbose_name=_("user"))
    name = models.CharField(_("name"), max_length=100, blank=True)
    prefix = models.CharField(_("key prefix"), max_length=PREFIX_LENGTH, editable=False)
    key_hash = models.CharField(_("key hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "created_at"])]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name or self.user_id})"

    def state(self, now: datetime) -> TokenState:
        if self.revoked_at is not None:
            return TokenState.REVOKED
        if self.expires_at <= now:
            return TokenState.EXPIRED
        return TokenState.ACTIVE

    def is_usable(self, now: datetime) -> bool:
        return self.state(now) == TokenState.ACTIVE


class LockoutRelease(FastChoiceDisplay, models.Model):
    """A sign-in lockout that a manager lifted before its cool-off ended: which user name or client
    address, how many counted failures were cleared, by whom and when (audited)."""

    kind = models.CharField(_("locked by"), max_length=16, choices=LockoutKind.choices)
    value = models.CharField(_("user name or address"), max_length=255)
    failures = models.PositiveIntegerField(_("failures cleared"))
    locked_until = models.DateTimeField(_("would have stayed locked until"), null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", verbose_name=_("lifted by"))
    released_at = models.DateTimeField(_("lifted at"), db_index=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("lifted sign-in lockout")
        verbose_name_plural = _("lifted sign-in lockouts")
        ordering = ["-released_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value} @ {self.released_at:%Y-%m-%d %H:%M}"
