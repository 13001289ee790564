"""Agreed service changes (服务内容变更): staff record what was agreed with the customer, linked
to an authorized operation when the change needs work on the customer's equipment; applying it
writes the service record through customers.services (audited there, field by field)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from customers.models import AuthorizedContact, Service
from customers.services import service_save
from operations.models import OperationRequest
from operations.services import operation_create
from slaportal.errors import ConflictError, DomainError

from ..choices import CHANGEABLE_SERVICE_FIELDS, ChangeState
from ..models import ServiceChange
from .common import locked, require_handler


def _clean_changes(changes: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, list[Any]] = {}
    out: dict[str, Any] = {}
    for key, value in changes.items():
        if key not in CHANGEABLE_SERVICE_FIELDS:
            errors[key] = [_("This field of a service cannot be changed here.")]
        elif key == "active":
            if not isinstance(value, bool):
                errors[key] = [_("Must be true or false.")]
            else:
                out[key] = value
        elif not isinstance(value, str):
            errors[key] = [_("Must be text.")]
        elif key == "name" and not value.strip():
            errors[key] = [_("A service needs a name.")]
        else:
            out[key] = value.strip()
    if not changes and not errors:
        errors["changes"] = [_("Name at least one field that changes.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    return out


def service_change_agree(
    *, request_id: int, actor: Any, changes: dict[str, Any], note: str = "",
    service: Service | None = None, needs_operation: bool = False, operation: OperationRequest | None = None,
    operation_contact: AuthorizedContact | None = None, operation_title: str = "",
    now: datetime | None = None,
) -> ServiceChange:
    """Record a change agreed with the customer on one of their services. When it needs work on
    their equipment it must be linked to an authorized operation: an existing one of that
    service, or one created here (operations.services.operation_create) on behalf of the
    authorized contact who asked for it."""
    require_handler(actor)
    now = now or timezone.now()
    clean = _clean_changes(changes)
    with transaction.atomic():
        sr = locked(request_id)
        if not sr.is_open:
            raise ConflictError(_("A %(state)s request takes no more changes.")
                                % {"state": sr.get_state_display()})
        service = service or sr.service
        if service is None or service.customer_id != sr.customer_id:
            raise DomainError(_("Please correct the errors below."),
                              field_errors={"service": [_("Choose a service of this customer.")]})
        if operation is not None and operation.service_id != service.pk:
            raise DomainError(_("Please correct the errors below."),
                              field_errors={"operation": [_("This operation is about another service.")]})
        if needs_operation and operation is None:
            if operation_contact is None:
                raise DomainError(_("Please correct the errors below."), field_errors={
                    "operation": [_("Link the authorized operation, or name the authorized contact "
                                    "who asks for it.")]})
            operation = operation_create(
                service=service, requested_by=operation_contact, actor=actor, now=now,
                title=(operation_title or _("Service change %(number)s") % {"number": sr.number})[:200],
                description=note or sr.description)
        change = ServiceChange.objects.create(
            request=sr, service=service, changes=clean, note=note, needs_operation=needs_operation,
            operation=operation, agreed_at=now, agreed_by=actor)
        audit_record(obj=sr, action="change_agreed", actor=actor, now=now,
                     data={"change": change.pk, "service": service.pk, "changes": clean,
                           "operation": operation.pk if operation else None})
    return change


def service_change_apply(*, change_id: int, actor: Any, now: datetime | None = None) -> ServiceChange:
    """Write the agreed values onto the service record (customers.services.service_save: full
    validation and its own audit row with old and new values) and mark the change applied."""
    require_handler(actor)
    now = now or timezone.now()
    with transaction.atomic():
        change = ServiceChange.objects.select_for_update().select_related("service", "request").get(pk=change_id)
        if change.state != ChangeState.AGREED:
            raise ConflictError(_("This change was already applied."))
        service = Service.objects.select_for_update().get(pk=change.service_id)
        change.previous = {k: getattr(service, k) for k in change.changes}
        service_save(data=dict(change.changes), service=service, actor=actor, now=now)
        change.state, change.applied_at, change.applied_by = ChangeState.APPLIED, now, actor
        change.save()
        audit_record(obj=change.request, action="change_applied", actor=actor, now=now,
                     data={"change": change.pk, "service": service.pk, "before": change.previous,
                           "after": change.changes})
    return change
