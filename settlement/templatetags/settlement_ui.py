"""How a judgement's numbers read on the pages: minutes as mm:ss (43:59 is not 44), percent to
four places, units in the reader's language."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from sla.choices import Unit

register = template.Library()


def unit_text(unit: str) -> str:
    return str(Unit(unit).label) if unit in Unit.values else unit


def value_text(*, value: Decimal, unit: str, counted_seconds: int | None = None) -> str:
    if unit == Unit.MINUTES and counted_seconds is not None:
        m, s = divmod(int(counted_seconds), 60)
        return _("%(mmss)s min") % {"mmss": f"{m}:{s:02d}"}
    if unit == Unit.PERCENT:
        return f"{Decimal(value):.4f}%"
    if unit == Unit.HOURS and counted_seconds is not None:
        return _("%(h)s h") % {"h": f"{Decimal(counted_seconds) / 3600:.2f}"}
    return f"{format(Decimal(value).normalize(), 'f')} {unit_text(unit)}"


@register.simple_tag
def judgement_value(j: Any) -> str:
    return value_text(value=j.value, unit=j.unit, counted_seconds=j.counted_seconds)


@register.filter
def iso_local(value: Any) -> str:
    """An ISO timestamp stored in a judgement's JSON, as local time."""
    if not value:
        return ""
    try:
        dt = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M:%S")
