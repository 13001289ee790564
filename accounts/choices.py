from django.db import models
from django.utils.translation import gettext_lazy as _


class LockoutKind(models.TextChoices):
    """What a sign-in lockout is keyed on: one user name, or one client address."""

    USERNAME = "username", _("user name")
    IP_ADDRESS = "ip_address", _("IP address")


class TokenState(models.TextChoices):
    ACTIVE = "active", _("active")
    EXPIRED = "expired", _("expired")
    REVOKED = "revoked", _("revoked")
