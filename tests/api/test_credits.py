"""Credits over the API: scoped ledger, proposing (staff), deciding (managers), bad input,
409 on a wrong state."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from audit.models import AuditEntry
from credits.choices import CreditState
from credits.models import Credit
from credits.services import credit_approve, credit_propose

from .conftest import ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def credit_a(contract_a):  # type: ignore[no-untyped-def]
    return credit_propose(contract=contract_a, policy_code="C3", kind="refund_installation",
                          period=date(2026, 1, 1), amount=Decimal("500.00"))


@pytest.fixture
def credit_c(contract_c):  # type: ignore[no-untyped-def]
    return credit_propose(contract=contract_c, policy_code="C3", kind="refund_installation",
                          period=date(2026, 1, 1), amount=Decimal("500.00"))


def test_credit_list_scoped_and_filtered(alice, charlie, manager, dc_staff, credit_a, credit_c, api):
    assert ids(api(alice).get("/api/credits/")) == {credit_a.pk}
    assert ids(api(charlie).get("/api/credits/")) == {credit_c.pk}
    assert api(charlie).get(f"/api/credits/{credit_a.pk}/").status_code == 404
    body = api(alice).get(f"/api/credits/{credit_a.pk}/").json()
    assert body["amount"] == "500.00" and body["policy"] == "C3" and body["state"] == "proposed"
    c = api(manager)
    assert ids(c.get(f"/api/credits/?customer={credit_a.customer_id}")) == {credit_a.pk}
    assert ids(c.get("/api/credits/?state=approved")) == set()
    assert ids(c.get("/api/credits/?policy=C3")) == {credit_a.pk, credit_c.pk}
    assert api(dc_staff).get("/api/credits/").status_code == 403


def test_staff_propose_with_clock_evidence(specialist, contract_a, clock_a, api):
    r = api(specialist).post("/api/credits/", {
        "contract": contract_a.pk, "policy": "C8", "kind": "deduct_day_rent", "period": "2026-03-02",
        "amount": "100.00", "clock": clock_a.pk, "note": "late report"}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["evidence_type"] == "sla.clock" and body["evidence_id"] == clock_a.pk
    assert body["proposed_by"]["username"] == specialist.username
    assert AuditEntry.objects.filter(content_type__model="credit", object_id=body["id"],
                                     action="propose").exists()


def test_customer_and_dc_staff_cannot_propose(alice, dc_staff, contract_a, api):
    body = {"contract": contract_a.pk, "policy": "C3", "kind": "refund_installation",
            "period": "2026-01-01", "amount": "500.00", "note": "late"}
    assert api(alice).post("/api/credits/", body, format="json").status_code == 403
    assert api(dc_staff).post("/api/credits/", body, format="json").status_code == 403
    assert Credit.objects.count() == 0


@pytest.mark.parametrize("extra,field", [
    ({"kind": "refund_installation"}, "amount"),                                 # money kind, no amount
    ({"kind": "extend_service", "amount": "10.00"}, "days"),                    # extension without days
    ({"kind": "extend_service", "days": 3, "amount": "10.00"}, "amount"),       # both
    ({"kind": "refund_installation", "amount": "-5.00"}, "amount"),             # negative
    ({"kind": "refund_installation", "amount": "5.00", "days": 2}, "days"),      # money with days
    ({"kind": "teleport", "amount": "5.00"}, "kind"),                           # unknown kind
    ({"kind": "refund_installation", "amount": "5.00", "policy": "ZZ"}, "policy"),
])
def test_propose_bad_input_is_400_and_nothing_saved(specialist, contract_a, api, extra, field):
    body = {"contract": contract_a.pk, "policy": "C3", "period": "2026-01-01", "note": "late", **extra}
    before = (Credit.objects.count(), AuditEntry.objects.count())
    r = api(specialist).post("/api/credits/", body, format="json")
    assert r.status_code == 400, r.content
    assert field in r.json()["errors"]
    assert (Credit.objects.count(), AuditEntry.objects.count()) == before


def test_propose_on_another_customers_contract_is_400(specialist, charlie, contract_c, api):
    # Staff see every contract; what is checked here is the scoped reference for the evidence.
    from sla.services import clock_start

    clock = clock_start(subject=contract_c, policy_code="C8", contract=contract_c)
    r = api(specialist).post("/api/credits/", {"contract": 999999, "policy": "C3", "period": "2026-01-01",
                                               "kind": "refund_installation", "amount": "1.00",
                                               "clock": clock.pk, "note": "late"}, format="json")
    assert r.status_code == 400 and "contract" in r.json()["errors"]
    assert Credit.objects.count() == 0


def test_manager_approves_then_applies(manager, credit_a, api):
    r = api(manager).post(f"/api/credits/{credit_a.pk}/approve/", {"reason": "clause 3"})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "approved" and r.json()["decided_by"]["username"] == manager.username
    r = api(manager).post(f"/api/credits/{credit_a.pk}/apply/")
    assert r.status_code == 200
    credit_a.refresh_from_db()
    assert credit_a.state == CreditState.APPLIED and credit_a.applied_at is not None
    actions = set(AuditEntry.objects.filter(content_type__model="credit", object_id=credit_a.pk)
                  .values_list("action", flat=True))
    assert {"propose", "approve", "apply"} <= actions


def test_reject_needs_a_reason(manager, credit_a, api):
    r = api(manager).post(f"/api/credits/{credit_a.pk}/reject/", {"reason": "  "})
    assert r.status_code == 400 and "reason" in r.json()["errors"]
    credit_a.refresh_from_db()
    assert credit_a.state == CreditState.PROPOSED
    r = api(manager).post(f"/api/credits/{credit_a.pk}/reject/", {"reason": "customer's own fault"})
    assert r.status_code == 200
    credit_a.refresh_from_db()
    assert credit_a.state == CreditState.REJECTED and credit_a.decision_reason == "customer's own fault"


def test_wrong_state_is_409_and_unchanged(manager, credit_a, api):
    r = api(manager).post(f"/api/credits/{credit_a.pk}/apply/")  # not approved yet
    assert r.status_code == 409
    credit_approve(credit_id=credit_a.pk, actor=manager)
    r = api(manager).post(f"/api/credits/{credit_a.pk}/reject/", {"reason": "changed my mind"})
    assert r.status_code == 409
    credit_a.refresh_from_db()
    assert credit_a.state == CreditState.APPROVED and credit_a.decision_reason == ""


def test_decisions_refused_to_non_managers(specialist, alice, charlie, credit_a, api):
    assert api(specialist).post(f"/api/credits/{credit_a.pk}/approve/").status_code == 403
    assert api(alice).post(f"/api/credits/{credit_a.pk}/approve/").status_code == 403
    assert api(charlie).post(f"/api/credits/{credit_a.pk}/approve/").status_code == 404
    assert api(None).post(f"/api/credits/{credit_a.pk}/approve/").status_code in (401, 403)
    credit_a.refresh_from_db()
    assert credit_a.state == CreditState.PROPOSED
