"""Template helpers of the e-mail measurement pages: latencies and rates as people read them, in
the reader's language (a page never shows a stored code or a bare number of milliseconds)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def latency(value: Any) -> str:
    """Seconds as 8.4 秒, 2 分 05 秒 or 1 小时 3 分钟; nothing measured: —."""
    if value is None or value == "":
        return "—"
    s = Decimal(str(value))
    if s < 60:
        return _("%(s)s s") % {"s": f"{s.quantize(Decimal('0.1'), rounding=ROUND_HALF_UP)}"}
    whole = int(s.to_integral_value(rounding=ROUND_HALF_UP))
    if whole < 3600:
        m, sec = divmod(whole, 60)
        return _("%(m)d min %(s)02d s") % {"m": m, "s": sec}
    h, rest = divmod(whole, 3600)
    return _("%(h)d h %(m)d min") % {"h": h, "m": rest // 60}


@register.filter
def minutes(value: Any) -> str:
    """Minutes to two decimals (43.98), as the downtime page shows them; nothing: —."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)).quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"


@register.filter
def percent4(value: Any) -> str:
    """An availability to four decimals: 99.9931."""
    if value is None or value == "":
        return "—"
    return f"{Decimal(str(value)).quantize(Decimal('0.0001'), rounding=ROUND_HALF_UP)}"


@register.filter
def rate_sci(value: Any) -> str:
    """A small percentage (the billing error rate) as a plain fraction in scientific notation, as
    the agreement writes its target: 0.002 % → 2×10⁻⁵."""
    if value is None or value == "":
        return "—"
    fraction = Decimal(str(value)) / 100
    if fraction == 0:
        return "0"
    mantissa, exponent = f"{fraction:.2e}".split("e")
    sup = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}×10{str(int(exponent)).translate(sup)}"


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """mapping[key] in a template (a verdict or a target by policy code)."""
    if mapping is None:
        return None
    try:
        return mapping.get(key)
    except AttributeError:
        return None
