"""Ticking a checklist item done or taking the tick back: the same for an installation order and
an e-mail provisioning order. The caller has locked the order, checked the actor's role and that
the order is open, all in its transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext as _

from audit.services import audit_record
from slaportal.errors import ConflictError, DomainError


def actor_user(actor: Any) -> Any:
    """The user to store as the one who did it (None for the system)."""
    return actor if getattr(actor, "is_authenticated", False) else None


def checklist_item(order: models.Model, item_code: str) -> Any:
    """The order's checklist item `item_code`, locked; not on its checklist: a not-found error."""
    item = order.items.select_for_update().filter(code=item_code).first()  # type: ignore[attr-defined]
    if item is None:
        raise DomainError(_("This order has no checklist item %(item)s.") % {"item": item_code},
                          field_errors={"item": [_("Not on this order's checklist.")]}, code="not_found")
    return item


def checklist_tick(*, order: models.Model, item_code: str, done: bool, actor: Any, note: str,
                   now: datetime) -> Any:
    """Tick the item done (by whom, when, with a note) or take the tick back (ticked by
    mistake); the audit trail keeps both. Ticking twice, or undoing what is not done, is a 409."""
    item = checklist_item(order, item_code)
    if done and item.done:
        raise ConflictError(_("“%(item)s” is already done.") % {"item": item.get_code_display()})
    if not done and not item.done:
        raise ConflictError(_("“%(item)s” is not done.") % {"item": item.get_code_display()})
    was = item.done_at
    item.done_at, item.done_by, item.note = (now, actor_user(actor), note) if done else (None, None, note)
    item.save(update_fields=["done_at", "done_by", "note"])
    data: dict[str, Any] = {"item": item.code}
    if not done:
        data["was_done_at"] = was.isoformat() if was else None
    audit_record(obj=order, action="item_done" if done else "item_undone", actor=actor, reason=note,
                 now=now, data=data)
    return item
