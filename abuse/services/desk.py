"""The abuse desk row: the contact every e-mail customer is shown and the mailbox the portal
reads. Managers change it; the password is sealed, never stored or shown in clear."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record, audit_snapshot
from customers.choices import Role
from customers.selectors import user_has_role
from monitoring.sealing import seal
from slaportal.errors import DomainError, ForbiddenError

from ..models import AbuseDesk

DESK_FIELDS = ("organisation", "contact_name", "phone", "email", "notice", "imap_host", "imap_port",
               "imap_security", "imap_login", "imap_folder", "reading_enabled")


def desk_save(*, data: dict[str, Any], actor: Any, password: str | None = None,
              now: datetime | None = None) -> AbuseDesk:
    """Create or change the desk (managers). `password` None keeps the sealed one, "" clears it.
    Reading the mailbox needs a server, a login and a password. Audited with the fields before
    and after (the password only as "changed")."""
    if not user_has_role(actor, Role.MANAGER):
        raise ForbiddenError(_("Only a manager can change the abuse desk."))
    now = now or timezone.now()
    with transaction.atomic():
        desk = AbuseDesk.objects.select_for_update().filter(pk=1).first() or AbuseDesk(pk=1)
        before = audit_snapshot(desk, redact=("imap_password_sealed",)) if desk.pk and desk.contact_name else {}
        for name in DESK_FIELDS:
            if name in data:
                setattr(desk, name, data[name])
        if password is not None:
            desk.imap_password_sealed = seal(password) if password else ""
        try:
            desk.full_clean()
        except ValidationError as e:
            raise DomainError(_("Please correct the errors below."), field_errors=e.message_dict) from None
        if desk.reading_enabled and not (desk.imap_host and desk.imap_login and desk.imap_password_sealed):
            raise DomainError(_("Reading the abuse mailbox needs its server, login and password."),
                              field_errors={"reading_enabled": [_("Enter the IMAP server, login and password first.")]})
        desk.save()
        audit_record(obj=desk, action="update" if before else "create", actor=actor, now=now,
                     data={"before": before, "after": audit_snapshot(desk, redact=("imap_password_sealed",)),
                           "password_changed": password is not None})
    return desk


def desk_read_status(*, at: datetime, error: str = "") -> None:
    """Record the last reading of the mailbox (the page shows when and whether it failed)."""
    AbuseDesk.objects.filter(pk=1).update(last_read_at=at, last_read_error=error[:500])
