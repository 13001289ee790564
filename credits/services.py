"""Writes to the credit ledger. Workflows and staff propose; managers approve or reject (never
their own proposal: four-eyes); managers and billing (credits.approve_credit) apply, singly or in
bulk; an applied credit is corrected by a reversing entry that goes through the same steps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
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
from .selectors import user_may_apply, user_may_propose

# The API's code for a refused self-approval (403), so a client can tell it from a role refusal.
FOUR_EYES = "four_eyes"


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
    if method == "apply":
        if not user_may_apply(actor):
            raise ForbiddenError(_("Only a manager or billing can mark credits as applied."))
    elif not user_has_role(actor, Role.MANAGER):
        raise ForbiddenError(_("Only a manager can decide on credits."))
    if method == "reject" and not reason.strip():
        raise DomainError(_("Say why the credit is rejected."), field_errors={"reason": [_("Required.")]})
    with transaction.atomic():
        credit = Credit.objects.select_for_update().get(pk=credit_id)
        bound = getattr(credit, method)
        if not can_proceed(bound):
            raise ConflictError(_("A %(state)s credit cannot be %(action)s.")
                                % {"state": credit.get_state_display(), "action": _action_label(method)})
        # Four-eyes: whoever proposed a credit does not approve it. Rejecting one's own proposal
        # is allowed (it pays nothing out); a system proposal (sweep, month close) has no proposer.
        if method == "approve" and credit.proposed_by_id is not None and credit.proposed_by_id == actor.pk:
            raise ForbiddenError(
                _("You proposed this credit yourself: another manager must approve it (four-eyes rule)."),
                code=FOUR_EYES)
        before = credit.state
        bound(at=now, by=actor)
        if method != "apply":
            credit.decision_reason = reason
        credit.save()
        audit_record(obj=credit, action=method, actor=actor, from_state=before, to_state=credit.state,
                     reason=reason, now=now)
    return credit


def _action_label(method: str) -> str:
    labels = {"approve": _("Approve"), "reject": _("Reject"), "apply": _("Mark as applied")}
    return labels.get(method, method)


def credit_approve(*, credit_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> Credit:
    """A manager approves a proposed credit; never the person who proposed it (four-eyes)."""
    return _decide(credit_id=credit_id, method="approve", actor=actor, reason=reason, now=now)


def credit_reject(*, credit_id: int, actor: Any, reason: str, now: datetime | None = None) -> Credit:
    """A manager rejects a proposed credit, with the reason (their own proposal too)."""
    return _decide(credit_id=credit_id, method="reject", actor=actor, reason=reason, now=now)


def credit_apply(*, credit_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> Credit:
    """Billing confirmed: mark an approved credit as applied to the customer's bill or service
    term (managers, or anyone with credits.approve_credit)."""
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


@dataclass
class BulkApplyResult:
    """What a bulk apply did: the ids applied, and each refused id with the message and code."""

    applied: list[int] = field(default_factory=list)
    refused: dict[int, tuple[str, str]] = field(default_factory=dict)


def credits_apply(*, credit_ids: Iterable[int], actor: Any, reason: str = "",
                  now: datetime | None = None) -> BulkApplyResult:
    """Billing confirmed several credits at once. Each credit is applied in its own transaction
    with its row locked (all or nothing per credit, as credit_apply); one that cannot be applied
    (not approved any more, unknown) is reported with the reason and the others go ahead."""
    if not user_may_apply(actor):
        raise ForbiddenError(_("Only a manager or billing can mark credits as applied."))
    result = BulkApplyResult()
    for credit_id in dict.fromkeys(credit_ids):  # each id once, in the order given
        try:
            credit_apply(credit_id=credit_id, actor=actor, reason=reason, now=now)
        except Credit.DoesNotExist:
            result.refused[credit_id] = (str(_("No such credit.")), "not_found")
        except DomainError as e:
            result.refused[credit_id] = (str(e.message), e.code)
        else:
            result.applied.append(credit_id)
    return result


def credit_reverse(*, credit_id: int, reason: str, actor: Any, now: datetime | None = None) -> Credit:
    """Correct an applied credit: propose a new ledger entry that reverses it (same customer,
    contract, promise, remedy, period, amount or days; billing subtracts it). It is then approved
    (four-eyes) and applied like any credit. Only an applied credit that is not itself a reversal
    and has no reversal yet can be reversed. actor None: a workflow (a re-judged month)."""
    now = now or timezone.now()
    if actor is not None and not user_may_propose(actor):
        raise ForbiddenError(_("Only staff who may propose credits can propose a reversal."))
    if not reason.strip():
        raise DomainError(_("Say why the credit is reversed."), field_errors={"reason": [_("Required.")]})
    try:
        with transaction.atomic():
            original = Credit.objects.select_for_update().get(pk=credit_id)
            if original.reverses_id is not None:
                raise ConflictError(_("This credit is itself a reversal: it cannot be reversed."))
            if original.state != CreditState.APPLIED:
                raise ConflictError(_("Only an applied credit can be reversed; this one is %(state)s.")
                                    % {"state": original.get_state_display()})
            existing = Credit.objects.filter(reverses=original).first()
            if existing is not None:
                raise ConflictError(_("This credit already has a reversal (credit %(n)s, %(state)s).")
                                    % {"n": existing.pk, "state": existing.get_state_display()})
            reversal = Credit(
                customer_id=original.customer_id, contract_id=original.contract_id,
                policy_id=original.policy_id, kind=original.kind, amount=original.amount,
                days=original.days, period=original.period, evidence_type_id=original.evidence_type_id,
                evidence_id=original.evidence_id, note=reason, reverses=original, proposed_at=now,
                proposed_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            reversal.full_clean(exclude=["dedupe_key", "state", "reverses"])
            reversal.save()
            audit_record(obj=reversal, action="propose", actor=actor, to_state=CreditState.PROPOSED,
                         reason=reason, now=now,
                         data={"reverses": original.pk,
                               "amount": str(original.amount) if original.amount is not None else None,
                               "days": original.days})
    except IntegrityError:
        # Two reversals at once: the one-to-one column lets only the first in.
        raise ConflictError(_("This credit already has a reversal.")) from None
    except ValidationError as e:
        raise DomainError(_("The credit is not valid."), field_errors=e.message_dict) from None
    return reversal


@dataclass(frozen=True)
class Proposal:
    """One credit a workflow proposes in bulk (see credits_propose_many)."""

    contract: Contract
    policy_id: int
    kind: str
    period: date
    amount: Decimal | None
    days: int | None
    evidence: models.Model
    note: str


def credits_propose_many(*, proposals: list[Proposal], now: datetime | None = None) -> list[int]:
    """Propose many credits at once for a workflow (month close: thousands of contracts), in the
    caller's transaction: each row checked by the model's rules (clean(): money or days as the
    kind requires; the constraints do the rest), inserted together with its audit row. No actor
    (proposed by the system, so any manager may approve). Returns the new ids in order."""
    now = now or timezone.now()
    rows = []
    for p in proposals:
        credit = Credit(customer_id=p.contract.customer_id, contract=p.contract, policy_id=p.policy_id,
                        kind=p.kind, amount=p.amount, days=p.days, period=p.period, note=p.note,
                        proposed_at=now, evidence_type=ContentType.objects.get_for_model(p.evidence),
                        evidence_id=p.evidence.pk)
        try:
            Credit.clean(credit)
        except ValidationError as e:
            raise DomainError(_("The credit is not valid."), field_errors=e.message_dict) from None
        rows.append(credit)
    Credit.objects.bulk_create(rows, batch_size=1000)
    from audit.models import AuditEntry
    from runtime.bulk import copy_rows

    ct = ContentType.objects.get_for_model(Credit)
    copy_rows(AuditEntry, ("content_type_id", "object_id", "action", "from_state", "to_state", "actor_id",
                           "at", "reason", "data"),
              [(ct.pk, c.pk, "propose", "", CreditState.PROPOSED, None, now, c.note,
                {"amount": str(c.amount) if c.amount is not None else None, "days": c.days}) for c in rows])
    return [c.pk for c in rows]
