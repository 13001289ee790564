"""The abuse desk card every e-mail customer sees (seed 002 §4.2: a named contact, a phone and
the abuse@ address), usable from any page without its view's help."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext_lazy

from ..selectors import desk_get

register = template.Library()


@register.inclusion_tag("abuse/_desk_card.html")
def abuse_desk_card() -> dict[str, Any]:
    return {"desk": desk_get()}


# The case's own audit actions; the others (create, close, reopen…) are sla_ui's.
ACTIONS = {
    "step_done": gettext_lazy("step done"), "attach": gettext_lazy("file kept"),
    "set_kind": gettext_lazy("kind changed"), "deadline_pending": gettext_lazy("deadline pending"),
    "no_clock": gettext_lazy("no deadline clock"), "escalated": gettext_lazy("escalated to the managers"),
    "waiver_proposed": gettext_lazy("fee waiver proposed"), "waiver_withdrawn": gettext_lazy("fee waiver withdrawn"),
    "waiver_exists": gettext_lazy("that month's fee already waived"),
    "waiver_none": gettext_lazy("no fee to waive"), "complaint_withdrawn": gettext_lazy("complaint withdrawn"),
}


@register.filter
def abuse_action(value: str) -> str:
    """An audit action of a spam case as its translated label."""
    from sla.templatetags.sla_ui import audit_action

    label = ACTIONS.get(value)
    return str(label) if label is not None else audit_action(value)
