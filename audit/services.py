"""Writing the audit trail. Called inside the caller's transaction so the row and the change
commit together or not at all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from .models import AuditEntry


def audit_record(
    *,
    obj: models.Model,
    action: str,
    actor: Any = None,
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Append one audit row for `obj`."""
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEntry.objects.create(
        content_type=ContentType.objects.get_for_model(obj),
        object_id=obj.pk,
        action=action,
        from_state=from_state or "",
        to_state=to_state or "",
        actor=actor_obj,
        at=now or timezone.now(),
        reason=reason or "",
        data=data or {},
    )


def audit_for(obj: models.Model) -> models.QuerySet[AuditEntry]:
    """The audit rows of one object, newest first."""
    return AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    ).select_related("actor")


def audited_save(
    *,
    obj: models.Model,
    fields: tuple[str, ...],
    data: dict[str, Any],
    actor: Any = None,
    now: datetime | None = None,
    exclude: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> models.Model:
    """Set `fields` from `data`, validate the whole row (full_clean), save it and append one audit
    row naming each changed field with its value before and after. Nothing is written when
    validation fails: the refusal is a DomainError with the model's field errors."""
    from django.core.exceptions import ValidationError
    from django.db import transaction
    from django.utils.translation import gettext as _

    from slaportal.errors import DomainError

    creating = obj.pk is None
    before = {f: str(getattr(obj, f)) for f in fields} if not creating else {}
    for f in fields:
        if f in data:
            setattr(obj, f, data[f])
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as e:
        raise DomainError(_("Please correct the errors below."), field_errors=e.message_dict) from None
    after = {f: str(getattr(obj, f)) for f in fields}
    changed = {f: [before.get(f), after[f]] for f in fields if creating or before[f] != after[f]}
    with transaction.atomic():
        obj.save()
        audit_record(obj=obj, action="create" if creating else "change", actor=actor, now=now,
                     data={"changed": changed, **(extra or {})})
    return obj
