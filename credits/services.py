"""Writes to the credit ledger. Workflows propose; managers approve, reject and apply."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from audit.services import audit_record
from customers.choices import Role
from customers.models import Contract
from customers.selectors import user_has_role
from sla.models import SlaPolicy
from slaportal.errors import ConflictError, DomainError, ForbiddenError

from .choices import CreditState
from .models import Credit


def credit_propose(
    *,
    contract: Contract,
    policy_code: str,
    kind: str,
    period: date,
    amount: Decimal | None = None,
    days: int | None = None,
    evidence: models.Model | None = None,
    note: str = "",
    dedupe_key: str | None = None,
    actor: Any = None,
    now: datetime | None = None,
) -> Credit:
    """Propose a credit. With a dedupe_key, a second proposal for the same key returns the first
    instead of creating another (a sweep retried, or 'one deduction per calendar day')."""
    now = now or timezone.now()
    if dedupe_key:
        existing = Credit.objects.filter(dedupe_key=dedupe_key).first()
        if existing:
            return existing
    try:
        policy = SlaPolicy.objects.get(code=policy_code)
    except SlaPolicy.DoesNotExist:
        raise DomainError(_("No SLA policy with code %(code)s.") % {"code": policy_code},
                          field_errors={"policy": [_("Unknown policy.")]}) from None
    credit = Credit(
        customer_id=contract.customer_id, contract=contract, policy=policy, kind=kind,
        amount=amount, days=days, period=period, note=note, dedupe_key=dedupe_key,
        proposed_at=now, proposed_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if evidence is not None:
        credit.evidence_type = ContentType.objects.get_for_model(evidence)
        credit.evidence_id = evidence.pk
    try:
        credit.full_clean(exclude=["dedupe_key", "state"])  # protected FSM field: never re-set
    except ValidationError as e:
        raise DomainError(_("The credit is not valid."), field_errors=e.message_dict) from None
    try:
        with transaction.atomic():
            credit.save()
            audit_record(obj=credit, action="propose", actor=actor, to_state=CreditState.PROPOSED,
                         reason=note, now=now,
                         data={"amount": str(amount) if amount is not None else None, "days": days})
    except IntegrityError:
        if dedupe_key:
            return Credit.objects.get(dedupe_key=dedupe_key)
        raise
    return credit


def _decide(*, credit_id: int, method: str, actor: Any, reason: str, now: datetime | None) -> Credit:
    now = now or timezone.now()
    if not user_has_role(actor, Role.MANAGER):
        raise ForbiddenError(_("Only a manager can decide on credits."))
    if method == "reject" and not reason.strip():
        raise DomainError(_("Say why the credit is rejected."), field_errors={"reason": [_("Required.")]})
    with transaction.atomic():
        credit = Credit.objects.select_for_update().get(pk=credit_id)
        bound = getattr(credit, method)
        if not can_proceed(bound):
            raise ConflictError(_("A %(state)s credit cannot be %(action)s.")
                                % {"state": credit.get_state_display(), "action": method})
        before = credit.state
        bound(at=now, by=actor)
        if method != "apply":
            credit.decision_reason = reason
        credit.save()
        audit_record(obj=credit, action=method, actor=actor, from_state=before, to_state=credit.state,
                     reason=reason, now=now)
    return credit


def credit_approve(*, credit_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> Credit:
    return _decide(credit_id=credit_id, method="approve", actor=actor, reason=reason, now=now)


def credit_reject(*, credit_id: int, actor: Any, reason: str, now: datetime | None = None) -> Credit:
    return _decide(credit_id=credit_id, method="reject", actor=actor, reason=reason, now=now)


def credit_apply(*, credit_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> Credit:
    """Mark an approved credit as applied to the customer's bill or service term."""
    return _decide(credit_id=credit_id, method="apply", actor=actor, reason=reason, now=now)


def credit_withdraw(*, credit_id: int, reason: str, actor: Any = None, now: datetime | None = None) -> Credit:
    """What caused a proposed or approved credit went away (a re-judged month, a notice found to
    have been given in time): withdraw it with the reason, audited. An applied credit is never
    withdrawn (it is on the bill): that needs a reversing entry. Idempotent on a withdrawn one."""
    now = now or timezone.now()
    if not reason.strip():
        raise DomainError(_("Say why the credit is withdrawn."), field_errors={"reason": [_("Required.")]})
    with transaction.atomic():
        credit = Credit.objects.select_for_update().get(pk=credit_id)
        if credit.state == CreditState.WITHDRAWN:
            return credit
        if not can_proceed(credit.withdraw):
            raise ConflictError(_("A %(state)s credit cannot be withdrawn.")
                                % {"state": credit.get_state_display()})
        before = credit.state
        credit.withdraw(at=now, by=actor)
        credit.decision_reason = reason
        credit.save()
        audit_record(obj=credit, action="withdraw", actor=actor, from_state=before,
                     to_state=credit.state, reason=reason, now=now)
    return credit
