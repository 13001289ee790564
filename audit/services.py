"""Writing the audit trail. Called inside the caller's transaction so the row and the change
commit together or not at all."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, router, transaction
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _

from slaportal.errors import ConflictError, DomainError

from .models import AuditEntry

# Field names whose values never enter the audit trail, whoever calls: secrets (and their hashes,
# which are as good as the secret against an offline guess) and full ID numbers (erased after the
# retention time; an append-only copy could never be). A change is recorded as "changed".
SECRET_FIELDS = frozenset({"password", "mrtg_secret", "mrtg_secret_hash", "token", "token_hash",
                           "key_hash", "id_number"})
REDACTED = "changed"


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


def _jsonable(value: Any) -> Any:
    """A JSON value for the audit row: numbers as exact strings, dates in ISO 8601."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | dict | tuple):
        return json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    return str(value)


def _raw(obj: models.Model, name: str) -> Any:
    """The field's own value: the id for a foreign key (a name can change, the id cannot)."""
    try:
        field = obj._meta.get_field(name)
    except Exception:  # not a model field (a property): the attribute itself
        return getattr(obj, name)
    return getattr(obj, getattr(field, "attname", name))


def audit_snapshot(obj: models.Model, *, redact: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every stored column of `obj` (foreign keys as ids), secrets replaced by whether one is set."""
    hidden = SECRET_FIELDS | set(redact)
    out: dict[str, Any] = {}
    for f in obj._meta.concrete_fields:
        value = getattr(obj, f.attname)
        out[f.name] = ("set" if value else None) if f.name in hidden else _jsonable(value)
    return out


def audited_save(
    *,
    obj: models.Model,
    fields: tuple[str, ...],
    data: dict[str, Any],
    actor: Any = None,
    now: datetime | None = None,
    exclude: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    redact: tuple[str, ...] = (),
    reason: str = "",
) -> models.Model:
    """Set `fields` from `data`, validate the whole row (full_clean), save it and append one audit
    row naming each changed field with its value before and after (`{"changed": {field: [old,
    new]}}`; on creation old is None). A secret field (SECRET_FIELDS, `redact`) is recorded as
    "changed" without any value. Nothing is written when validation fails: the refusal is a
    DomainError with the model's field errors. A save that changes nothing writes no audit row."""
    creating = obj.pk is None
    before = {f: _raw(obj, f) for f in fields} if not creating else {}
    for f in fields:
        if f in data:
            setattr(obj, f, data[f])
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as e:
        raise DomainError(_("Please correct the errors below."), field_errors=e.message_dict) from None
    hidden = SECRET_FIELDS | set(redact)
    changed: dict[str, Any] = {}
    for f in fields:
        after = _raw(obj, f)
        if creating or before[f] != after:
            if f in hidden:
                if creating and not after:
                    continue
                changed[f] = REDACTED
            else:
                changed[f] = [None if creating else _jsonable(before[f]), _jsonable(after)]
    if not creating and not changed:
        return obj
    with transaction.atomic():
        obj.save()
        audit_record(obj=obj, action="create" if creating else "change", actor=actor, now=now,
                     reason=reason, data={"changed": changed, **(extra or {})})
    return obj


def audited_delete(*, obj: models.Model, actor: Any = None, now: datetime | None = None,
                   reason: str = "", redact: tuple[str, ...] = ()) -> None:
    """Delete one row and append an audit row holding its values (`{"deleted": {...}}`), in one
    transaction. Refused (DomainError, nothing written) when other rows still point at it
    (PROTECT/RESTRICT) or when deleting it would silently delete or change other rows (CASCADE,
    SET_NULL): an audited deletion removes exactly the row it names."""
    label = f"{obj._meta.verbose_name} “{obj}”"
    using = router.db_for_write(type(obj), instance=obj)
    with transaction.atomic(using=using):
        collector = Collector(using=using, origin=obj)
        try:
            collector.collect([obj])
        except ProtectedError as e:
            raise ConflictError(_("%(object)s cannot be deleted: %(others)s still refer to it.") % {
                "object": label, "others": _kinds(e.protected_objects)}) from None
        except RestrictedError as e:
            raise ConflictError(_("%(object)s cannot be deleted: %(others)s still refer to it.") % {
                "object": label, "others": _kinds(e.restricted_objects)}) from None
        others = [o for model, objs in collector.data.items() for o in objs
                  if not (model is type(obj) and o.pk == obj.pk)]
        others += [o for qs in collector.fast_deletes for o in qs[:20]]
        if others or any(collector.field_updates.values()):
            raise ConflictError(_("%(object)s cannot be deleted: %(others)s would be deleted or "
                                  "changed with it.") % {"object": label, "others": _kinds(others) or "…"})
        audit_record(obj=obj, action="delete", actor=actor, now=now, reason=reason,
                     data={"deleted": audit_snapshot(obj, redact=redact)})
        obj.delete()


def _kinds(objs: Any) -> str:
    return ", ".join(sorted({str(o._meta.verbose_name_plural) for o in objs}))
