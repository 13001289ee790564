"""Sealed secrets: a probe mailbox's password must be usable by the prober (so it cannot be
hashed) but must not be readable from the database, a dump or a backup alone. It is encrypted
with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived from SLAPORTAL_SEAL_KEY when set, else
from SECRET_KEY; rotating that key makes the sealed passwords unreadable (the probe then fails
with a clear detail and staff enter the password again)."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

_SALT = b"slaportal.monitoring.seal.v1"


class UnsealError(Exception):
    """The sealed value cannot be read with the current key (changed key, damaged value)."""


def _fernet() -> Fernet:
    secret = os.environ.get("SLAPORTAL_SEAL_KEY") or getattr(settings, "SLAPORTAL_SEAL_KEY", "") \
        or settings.SECRET_KEY
    # A derived key, not SECRET_KEY itself: a leaked sealed value says nothing about the key that
    # signs sessions, and the salt separates this use from any other derivation.
    key = hashlib.pbkdf2_hmac("sha256", secret.encode(), _SALT, 10_000, dklen=32)
    return Fernet(base64.urlsafe_b64encode(key))


_CACHE: dict[str, Fernet] = {}


def _cached() -> Fernet:
    marker = (os.environ.get("SLAPORTAL_SEAL_KEY") or getattr(settings, "SLAPORTAL_SEAL_KEY", "")
              or settings.SECRET_KEY)
    f = _CACHE.get(marker)
    if f is None:
        _CACHE.clear()
        f = _CACHE[marker] = _fernet()
    return f


def seal(plaintext: str) -> str:
    """Encrypt `plaintext`; the result is ASCII, different on every call (random IV)."""
    return _cached().encrypt(plaintext.encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> str:
    """Decrypt a value made by seal(); UnsealError when the key does not match."""
    try:
        return _cached().decrypt(sealed.encode("ascii")).decode("utf-8")
    except (InvalidToken, ValueError, UnicodeError) as e:
        raise UnsealError("the sealed value cannot be read with the current key") from e
