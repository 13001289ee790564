"""Choices of the traffic app: SNMP versions and v3 protocols, and the consolidation rings."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SnmpVersion(models.TextChoices):
    V2C = "v2c", _("SNMP v2c (community)")
    V3 = "v3", _("SNMP v3 (user)")


class AuthProtocol(models.TextChoices):
    NONE = "none", _("None")
    MD5 = "md5", "MD5"
    SHA = "sha", "SHA-1"
    SHA256 = "sha256", "SHA-256"
    SHA512 = "sha512", "SHA-512"


class PrivProtocol(models.TextChoices):
    NONE = "none", _("None")
    DES = "des", "DES"
    AES = "aes", "AES-128"
    AES256 = "aes256", "AES-256"


class GraphRange(models.TextChoices):
    DAY = "day", _("Daily")
    WEEK = "week", _("Weekly")
    MONTH = "month", _("Monthly")
    YEAR = "year", _("Yearly")


# MRTG-style rings: (resolution in seconds, slots). Each port has at most sum(slots) rows in
# TrafficSlot whatever the uptime: slot = (bucket start // resolution) % slots, overwritten in place.
RINGS: tuple[tuple[int, int], ...] = (
    (300, 2 * 24 * 12),        # 5-minute samples for 2 days: 576
    (1800, 14 * 24 * 2),       # 30-minute averages for 2 weeks: 672
    (7200, 62 * 12),           # 2-hour averages for 2 months (62 days): 744
    (86400, 2 * 366),          # daily averages for 2 years: 732
)
ROWS_PER_PORT = sum(n for _r, n in RINGS)

# Which ring each graph reads, and how far back it shows.
GRAPH_RINGS: dict[str, tuple[int, int]] = {
    GraphRange.DAY: (300, 86400),
    GraphRange.WEEK: (1800, 7 * 86400),
    GraphRange.MONTH: (7200, 31 * 86400),
    GraphRange.YEAR: (86400, 366 * 86400),
}
