"""Template helpers of the visit pages: the labels of this app's own audit actions (the rest come
from the shared audit_action filter)."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy

from sla.templatetags.sla_ui import audit_action

register = template.Library()

VISIT_ACTION_LABELS = {
    "check_in_override": gettext_lazy("checked in outside the booked time (override)"),
}


@register.filter
def visit_audit_action(value: str) -> str:
    label = VISIT_ACTION_LABELS.get(value)
    return str(label) if label is not None else audit_action(value)
