"""The credit ledger: workflows propose, managers approve, reject and apply; every decision is
audited; a wrong-state move is refused and changes nothing."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from audit.services import audit_for
from credits.choices import CreditKind, CreditState
from credits.models import Credit
from credits.services import credit_apply, credit_approve, credit_propose, credit_reject
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)


@pytest.fixture
def contract(db):
    return f.ContractFactory(monthly_fee=Decimal("3100.00"), installation_fee=Decimal("500.00"))


def _propose(contract, **kw):  # type: ignore[no-untyped-def]
    args = dict(contract=contract, policy_code="C3", kind=CreditKind.REFUND_INSTALLATION,
                period=date(2026, 3, 1), amount=Decimal("500.00"), note="late installation", now=NOW)
    args.update(kw)
    return credit_propose(**args)


def test_propose_writes_a_proposed_row_and_an_audit_entry(contract, specialist):
    c = _propose(contract, actor=specialist)
    assert c.state == CreditState.PROPOSED
    assert c.customer_id == contract.customer_id and c.policy.code == "C3"
    assert c.proposed_by == specialist and c.proposed_at == NOW
    [a] = audit_for(c)
    assert (a.action, a.from_state, a.to_state, a.actor, a.at) == (
        "propose", "", "proposed", specialist, NOW)
    assert a.reason == "late installation" and a.data == {"amount": "500.00", "days": None}


def test_propose_with_evidence_links_the_clock(contract):
    from sla.services import clock_start

    clock = clock_start(subject=contract, policy_code="C3", contract=contract, now=NOW)
    c = _propose(contract, evidence=clock)
    assert c.evidence == clock


def test_approve_then_apply_by_a_manager(contract, manager):
    c = _propose(contract)
    later = datetime(2026, 3, 3, 9, 0, tzinfo=TZ)
    c = credit_approve(credit_id=c.pk, actor=manager, reason="agreed", now=later)
    assert (c.state, c.decided_by, c.decided_at, c.decision_reason) == (
        CreditState.APPROVED, manager, later, "agreed")
    applied = datetime(2026, 4, 1, 9, 0, tzinfo=TZ)
    c = credit_apply(credit_id=c.pk, actor=manager, reason="April invoice", now=applied)
    c.refresh_from_db()
    assert c.state == CreditState.APPLIED and c.applied_at == applied
    assert c.decision_reason == "agreed"  # applying keeps the decision's reason
    rows = list(audit_for(c).order_by("at", "id"))
    assert [(r.action, r.from_state, r.to_state, r.actor) for r in rows] == [
        ("propose", "", "proposed", None),
        ("approve", "proposed", "approved", manager),
        ("apply", "approved", "applied", manager),
    ]
    assert rows[2].reason == "April invoice" and rows[2].at == applied


def test_reject_needs_a_reason(contract, manager):
    c = _propose(contract)
    with pytest.raises(DomainError) as e:
        credit_reject(credit_id=c.pk, actor=manager, reason="  ")
    assert "reason" in e.value.field_errors
    c.refresh_from_db()
    assert c.state == CreditState.PROPOSED
    c = credit_reject(credit_id=c.pk, actor=manager, reason="installed on time per log", now=NOW)
    assert c.state == CreditState.REJECTED and c.decision_reason == "installed on time per log"
    assert audit_for(c).filter(action="reject", from_state="proposed", to_state="rejected").count() == 1


@pytest.mark.parametrize("who", ["specialist", "engineer", "dc_staff", "alice", None])
def test_only_a_manager_decides(contract, who, request):
    actor = request.getfixturevalue(who) if who else None
    c = _propose(contract)
    for fn, kw in ((credit_approve, {}), (credit_reject, {"reason": "no"}), (credit_apply, {})):
        with pytest.raises(ForbiddenError):
            fn(credit_id=c.pk, actor=actor, **kw)
    c.refresh_from_db()
    assert c.state == CreditState.PROPOSED and c.decided_by is None
    assert audit_for(c).count() == 1


def test_a_superuser_may_decide(contract):
    admin = f.UserFactory(is_superuser=True, is_staff=True)
    c = _propose(contract)
    assert credit_approve(credit_id=c.pk, actor=admin).state == CreditState.APPROVED


@pytest.mark.parametrize("setup, move", [
    ([], "apply"),                       # apply needs approval first
    (["approve"], "approve"),
    (["approve"], "reject"),
    (["reject"], "approve"),
    (["reject"], "apply"),
    (["approve", "apply"], "apply"),
    (["approve", "apply"], "reject"),
])
def test_wrong_state_moves_conflict_and_change_nothing(contract, manager, setup, move):
    fns = {"approve": credit_approve, "reject": credit_reject, "apply": credit_apply}
    c = _propose(contract)
    for step in setup:
        fns[step](credit_id=c.pk, actor=manager, reason="r", now=NOW)
    c.refresh_from_db()
    before = (c.state, c.decided_at, c.decided_by_id, c.decision_reason, c.applied_at)
    audits = audit_for(c).count()
    with pytest.raises(ConflictError):
        fns[move](credit_id=c.pk, actor=manager, reason="again", now=datetime(2026, 5, 1, tzinfo=TZ))
    c.refresh_from_db()
    assert (c.state, c.decided_at, c.decided_by_id, c.decision_reason, c.applied_at) == before
    assert audit_for(c).count() == audits


def test_dedupe_key_returns_the_first_proposal(contract):
    a = _propose(contract, kind=CreditKind.DEDUCT_DAY_RENT, policy_code="C4", amount=Decimal("100.00"),
                 period=date(2026, 3, 2), dedupe_key="C4:contract:1:2026-03-02")
    b = _propose(contract, kind=CreditKind.DEDUCT_DAY_RENT, policy_code="C4", amount=Decimal("100.00"),
                 period=date(2026, 3, 2), dedupe_key="C4:contract:1:2026-03-02", note="second notice")
    assert a.pk == b.pk
    assert Credit.objects.count() == 1
    assert audit_for(a).count() == 1
    # Another day is another deduction.
    c = _propose(contract, kind=CreditKind.DEDUCT_DAY_RENT, policy_code="C4", amount=Decimal("100.00"),
                 period=date(2026, 3, 3), dedupe_key="C4:contract:1:2026-03-03")
    assert c.pk != a.pk


@pytest.mark.parametrize("kind, amount, days, field", [
    (CreditKind.WAIVE_MONTH_RENT, None, None, "amount"),
    (CreditKind.REFUND_INSTALLATION, None, 3, "amount"),
    (CreditKind.DEDUCT_DAY_RENT, Decimal("100.00"), 1, "days"),
    (CreditKind.EXTEND_SERVICE, None, None, "days"),
    (CreditKind.EXTEND_SERVICE, Decimal("10.00"), 30, "amount"),
    (CreditKind.WAIVE_MONTH_RENT, Decimal("0.00"), None, "amount"),
    (CreditKind.WAIVE_MONTH_RENT, Decimal("-5.00"), None, "amount"),
])
def test_amount_versus_days_is_validated_and_nothing_saved(contract, kind, amount, days, field):
    with pytest.raises(DomainError) as e:
        _propose(contract, kind=kind, amount=amount, days=days)
    assert field in e.value.field_errors
    assert Credit.objects.count() == 0


def test_service_time_extension_is_days(contract):
    c = _propose(contract, policy_code="E1", kind=CreditKind.EXTEND_SERVICE, amount=None, days=31)
    assert c.days == 31 and c.amount is None


def test_unknown_policy_is_refused(contract):
    with pytest.raises(DomainError) as e:
        _propose(contract, policy_code="Z9")
    assert "policy" in e.value.field_errors
