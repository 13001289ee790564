"""Template helpers of the downtime page: durations and availability as people read them
("1 小时 44 分钟", "99.7593 %"), never a clock-face 104:00 or a stored code."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(seconds: Any) -> str:
    """Whole seconds as hours, minutes and (when there are any) seconds: 6240 → 1 小时 44 分钟,
    2639 → 43 分 59 秒, 0 → 0 分钟. Nothing: —."""
    if seconds is None or seconds == "":
        return "—"
    total = max(int(seconds), 0)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    if h and s:
        return _("%(h)d h %(m)d min %(s)d s") % {"h": h, "m": m, "s": s}
    if h:
        return _("%(h)d h %(m)d min") % {"h": h, "m": m}
    if s:
        return _("%(m)d min %(s)02d s") % {"m": m, "s": s}
    return _("%(m)d min") % {"m": m}


@register.filter
def availability(result: Any) -> str:
    """The month's availability, 100 % less the counted downtime's share of the whole month, to
    four places and rounded down: a month at 99.89996 % must not read as the 99.9 % it missed."""
    if result is None or not getattr(result, "month_seconds", 0):
        return "—"
    up = Decimal(100) - Decimal(result.counted_seconds) * 100 / Decimal(result.month_seconds)
    return f"{up.quantize(Decimal('0.0001'), rounding=ROUND_DOWN)} %"
