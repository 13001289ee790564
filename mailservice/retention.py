"""Locked and terminated mail accounts (seed 002 §7, E6-LOCKED): their data is kept 90 days.

The boundary, exactly: an account locked or terminated at T may have its data deleted from
T + 90 × 24 h (Asia/Shanghai has no daylight saving, so that is the same wall-clock time 90
calendar days later). A deletion recorded at that instant or later is accepted; one second
earlier is refused with a message saying the date. The 90 is the E6-LOCKED policy row's target
(with the contract's override), frozen on the record when it is made.

A loss of the data before the date (a disk failure, a mistake) can be recorded only by a
manager, with the reason: it is marked early and breaks E6-LOCKED for that service's month."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from customers.choices import Role, ServiceKind
from customers.models import Service
from customers.selectors import scope_for_user, user_has_role
from slaportal.errors import ConflictError, DomainError, ForbiddenError

from .backups import DAY, Target, policy_targets
from .choices import AccountLockKind
from .models import LockedAccount

# Staff are warned this many days before an account's data may be deleted.
WARN_DAYS = 7


def _fmt(at: datetime) -> str:
    return f"{timezone.localtime(at):%Y-%m-%d %H:%M:%S}"


def _days_up(left: timedelta) -> int:
    """Days left, a part of a day counting as one (0 once the time has come)."""
    return max(0, math.ceil(left.total_seconds() / 86400))


def days_kept(account: LockedAccount, at: datetime) -> int:
    """Whole days the data has been kept at `at` (E6-LOCKED's value for a deletion at `at`)."""
    return int((at - account.locked_at) / DAY)


def locked_account_record(*, actor: Any, service: Service, address: str, kind: str, locked_at: datetime,
                          reason: str, now: datetime | None = None) -> LockedAccount:
    """Record that a mail account of an e-mail service was locked or terminated (engineers and
    managers). Its data must be kept from then on for the E6-LOCKED retention."""
    if not user_has_role(actor, Role.ENGINEER, Role.MANAGER):
        raise ForbiddenError(_("Only an engineer or a manager can do this."))
    now = now or timezone.now()
    address = (address or "").strip().lower()
    errors: dict[str, list[Any]] = {}
    try:
        validate_email(address)
    except ValidationError:
        errors["address"] = [_("Enter the mail account's address.")]
    if service.kind != ServiceKind.EMAIL:
        errors["service"] = [_("Only an e-mail service has mail accounts.")]
    if kind not in AccountLockKind.values:
        errors["kind"] = [_("Use locked or terminated.")]
    if locked_at > now:
        errors["locked_at"] = [_("This is in the future.")]
    if not (reason or "").strip():
        errors["reason"] = [_("This field is required.")]
    if errors:
        raise DomainError(_("The account could not be recorded."), field_errors=errors)
    target = policy_targets(("E6-LOCKED",), contract_id=service.contract_id)["E6-LOCKED"]
    account = LockedAccount(service=service, address=address, kind=kind, locked_at=locked_at,
                            reason=reason.strip()[:300], retention_days=max(int(target.threshold), 0),
                            recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
                            recorded_at=now)
    try:
        with transaction.atomic():
            account.save()
            audit_record(obj=account, action="create", actor=actor, now=now,
                         data={"address": address, "kind": kind, "locked_at": locked_at.isoformat(),
                               "retention_days": account.retention_days})
    except IntegrityError:
        raise DomainError(_("This account is already recorded as locked at that time."),
                          field_errors={"address": [_("Already recorded.")]}) from None
    return account


def locked_account_delete(*, actor: Any, account_id: int, deleted_at: datetime | None = None, note: str = "",
                          early_loss: bool = False, now: datetime | None = None) -> LockedAccount:
    """Record that the account's data was deleted. Refused before `deletable_from` (the 90 days
    are not over), unless a manager records an early loss (with the reason in `note`): that is
    kept as evidence and breaks E6-LOCKED for the month it happened."""
    if not user_has_role(actor, Role.ENGINEER, Role.MANAGER):
        raise ForbiddenError(_("Only an engineer or a manager can do this."))
    now = now or timezone.now()
    deleted_at = deleted_at or now
    with transaction.atomic():
        account = LockedAccount.objects.select_for_update().get(pk=account_id)
        if account.deleted_at is not None:
            raise ConflictError(_("The deletion of this account's data is already recorded."))
        if deleted_at > now:
            raise DomainError(_("A deletion cannot be recorded before it happens."),
                              field_errors={"deleted_at": [_("This is in the future.")]})
        if deleted_at < account.locked_at:
            raise DomainError(_("The data cannot have been deleted before the account was locked."),
                              field_errors={"deleted_at": [_("Before the lock.")]})
        early = deleted_at < account.deletable_from
        if early and not early_loss:
            msg = _("The data of %(address)s must be kept %(days)s days after it was locked or terminated "
                    "(%(locked)s): it may be deleted from %(date)s, not before. %(left)s days are left.") % {
                "address": account.address, "days": account.retention_days, "locked": _fmt(account.locked_at),
                "date": _fmt(account.deletable_from), "left": _days_up(account.deletable_from - deleted_at)}
            raise DomainError(msg, code="retention", field_errors={"deleted_at": [msg]})
        if early:
            if not user_has_role(actor, Role.MANAGER):
                raise ForbiddenError(_("Only a manager can record that the data was lost before the date."))
            if not (note or "").strip():
                raise DomainError(_("Say how the data was lost."), field_errors={"note": [_("This field is required.")]})
        account.deleted_at = deleted_at
        account.deletion_recorded_at = now
        account.deletion_recorded_by = actor if getattr(actor, "is_authenticated", False) else None
        account.deletion_note = (note or "").strip()[:300]
        account.early = early
        account.save(update_fields=["deleted_at", "deletion_recorded_at", "deletion_recorded_by", "deletion_note",
                                    "early"])
        audit_record(obj=account, action="delete_data", actor=actor, now=now,
                     reason=account.deletion_note,
                     data={"deleted_at": deleted_at.isoformat(), "early": early,
                           "days_kept": days_kept(account, deleted_at)})
        if early:
            from .services import _rejudge_after_commit

            _rejudge_after_commit(service_ids=[account.service_id], since=deleted_at, until=deleted_at + DAY,
                                  reason=_("the data of a locked account was lost before the date"), now=now)
    return account


# --- Reads ---------------------------------------------------------------------------------------

def locked_accounts_visible(*, user: Any) -> models.QuerySet[LockedAccount]:
    """Locked accounts: a customer user sees their own, staff all."""
    return scope_for_user(LockedAccount.objects.select_related("service", "customer"), user)


def locked_accounts_awaiting(*, user: Any, now: datetime | None = None) -> list[LockedAccount]:
    """Accounts whose data is still kept, soonest deletable first, each with `days_left` (days
    until it may be deleted, 0 when it may be deleted now) and `near` (within WARN_DAYS)."""
    now = now or timezone.now()
    rows = list(locked_accounts_visible(user=user).filter(deleted_at__isnull=True))
    for a in rows:
        left = a.deletable_from - now
        a.days_left = _days_up(left)  # type: ignore[attr-defined]
        a.may_delete = left <= timedelta(0)  # type: ignore[attr-defined]
        a.near = not a.may_delete and left <= timedelta(days=WARN_DAYS)  # type: ignore[attr-defined]
    rows.sort(key=lambda a: (a.deletable_from, a.pk))
    return rows


@dataclass
class LockedMonth:
    """E6-LOCKED of one service and month: the deletions of the month and the shortest retention."""

    deletions: list[dict[str, Any]]
    min_days: int | None


def locked_month(*, service_ids: list[int], start: datetime, end: datetime) -> dict[int, LockedMonth]:
    """Per service, the accounts whose data was deleted in [start, end), and the fewest days kept."""
    out: dict[int, LockedMonth] = {}
    for a in (LockedAccount.objects.filter(service_id__in=service_ids, deleted_at__gte=start, deleted_at__lt=end)
              .order_by("deleted_at", "pk")):
        assert a.deleted_at is not None
        m = out.setdefault(a.service_id, LockedMonth([], None))
        kept = days_kept(a, a.deleted_at)
        m.deletions.append({"id": a.pk, "address": a.address, "locked_at": a.locked_at.isoformat(),
                            "deleted_at": a.deleted_at.isoformat(), "days_kept": kept, "early": a.early})
        m.min_days = kept if m.min_days is None else min(m.min_days, kept)
    return out


def locked_accounts_of_month(*, service_ids: list[int], start: datetime, end: datetime
                             ) -> models.QuerySet[LockedAccount]:
    """Accounts locked, terminated or deleted in [start, end) (the statement's rows)."""
    return (LockedAccount.objects.filter(service_id__in=service_ids)
            .filter(Q(locked_at__gte=start, locked_at__lt=end) | Q(deleted_at__gte=start, deleted_at__lt=end))
            .select_related("service").order_by("locked_at", "pk"))


def judge_locked(target: Target, m: LockedMonth) -> bool | None:
    if not target.active or m.min_days is None:
        return None
    return target.kept(Decimal(m.min_days))
