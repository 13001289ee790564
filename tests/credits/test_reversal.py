"""Correcting an applied credit: a reversing entry with the same terms, proposed with a reason,
approved by another manager and applied like any credit; shown with a minus sign and linked
both ways on the pages and the API. Only an applied, not yet reversed, non-reversal credit can
be reversed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from audit.services import audit_for
from credits.choices import CreditState
from credits.models import Credit
from credits.services import credit_apply, credit_approve, credit_reject, credit_reverse, credit_withdraw
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from tests.credits.conftest import NOW, applied, approved, login, messages_of, propose

pytestmark = pytest.mark.django_db


def test_reverse_proposes_a_mirror_entry(contract_a, manager, manager2):
    from sla.services import clock_start

    clock = clock_start(subject=contract_a, policy_code="C3", contract=contract_a, now=NOW)
    original = applied(contract_a, by=manager, evidence=clock)
    rev = credit_reverse(credit_id=original.pk, reason="安装日志显示按时完成", actor=manager2, now=NOW)
    assert rev.pk != original.pk and rev.state == CreditState.PROPOSED
    assert rev.reverses == original and rev.proposed_by == manager2 and rev.note == "安装日志显示按时完成"
    for field in ("customer_id", "contract_id", "policy_id", "kind", "amount", "days", "period",
                  "evidence_type_id", "evidence_id"):
        assert getattr(rev, field) == getattr(original, field), field
    assert rev.signed_amount == Decimal("-500.00") and original.signed_amount == Decimal("500.00")
    original.refresh_from_db()
    assert original.state == CreditState.APPLIED and original.reversal == rev
    [a] = audit_for(rev)
    assert (a.action, a.to_state, a.actor, a.data["reverses"]) == ("propose", "proposed", manager2, original.pk)


def test_reversal_goes_through_approve_and_apply(contract_a, manager, manager2):
    original = applied(contract_a, by=manager)
    rev = credit_reverse(credit_id=original.pk, reason="改判", actor=manager, now=NOW)
    with pytest.raises(ForbiddenError):  # four-eyes holds for reversals
        credit_approve(credit_id=rev.pk, actor=manager)
    credit_approve(credit_id=rev.pk, actor=manager2, now=NOW)
    rev = credit_apply(credit_id=rev.pk, actor=manager2, now=NOW)
    assert rev.state == CreditState.APPLIED


def test_days_reversal_is_negative_days(contract_a, manager):
    original = applied(contract_a, by=manager, policy_code="E1", kind="extend_service", amount=None, days=31)
    rev = credit_reverse(credit_id=original.pk, reason="改判", actor=manager, now=NOW)
    assert rev.days == 31 and rev.signed_days == -31 and rev.signed_amount is None


@pytest.mark.parametrize("setup", ["proposed", "approved", "rejected", "withdrawn"])
def test_only_an_applied_credit_can_be_reversed(contract_a, manager, setup):
    c = propose(contract_a)
    if setup == "approved":
        credit_approve(credit_id=c.pk, actor=manager)
    elif setup == "rejected":
        credit_reject(credit_id=c.pk, actor=manager, reason="r")
    elif setup == "withdrawn":
        credit_withdraw(credit_id=c.pk, reason="r")
    with pytest.raises(ConflictError):
        credit_reverse(credit_id=c.pk, reason="改判", actor=manager)
    assert Credit.objects.count() == 1


def test_a_credit_is_reversed_once_and_a_reversal_is_never_reversed(contract_a, manager, manager2):
    original = applied(contract_a, by=manager)
    rev = credit_reverse(credit_id=original.pk, reason="改判", actor=manager, now=NOW)
    with pytest.raises(ConflictError):
        credit_reverse(credit_id=original.pk, reason="再来一次", actor=manager2)
    credit_approve(credit_id=rev.pk, actor=manager2)
    credit_apply(credit_id=rev.pk, actor=manager2)
    with pytest.raises(ConflictError):
        credit_reverse(credit_id=rev.pk, reason="冲正的冲正", actor=manager2)
    assert Credit.objects.count() == 2


def test_reverse_needs_a_reason_and_a_role(contract_a, manager, dc_staff, alice):
    original = applied(contract_a, by=manager)
    with pytest.raises(DomainError) as e:
        credit_reverse(credit_id=original.pk, reason="  ", actor=manager)
    assert "reason" in e.value.field_errors
    for actor in (dc_staff, alice):
        with pytest.raises(ForbiddenError):
            credit_reverse(credit_id=original.pk, reason="改判", actor=actor)
    assert Credit.objects.count() == 1
    # A workflow (a re-judged month) reverses without a person.
    assert credit_reverse(credit_id=original.pk, reason="月度重判", actor=None).proposed_by is None


# --- pages --------------------------------------------------------------------------------------

def test_page_reverse_and_links_both_ways(contract_a, manager, manager2, alice):
    original = applied(contract_a, by=manager)
    client = login(manager2)
    page = client.get(reverse("credits:detail", args=[original.pk])).content.decode()
    assert reverse("credits:reverse", args=[original.pk]) in page
    r = client.post(reverse("credits:reverse", args=[original.pk]), {"reason": ""})
    assert r.status_code == 400 and Credit.objects.count() == 1
    r = client.post(reverse("credits:reverse", args=[original.pk]), {"reason": "改判为客户责任"}, follow=True)
    rev = Credit.objects.get(reverses=original)
    assert r.redirect_chain[-1][0] == reverse("credits:detail", args=[rev.pk])
    html = r.content.decode()
    assert "−¥500.00" in html and reverse("credits:detail", args=[original.pk]) in html
    html = client.get(reverse("credits:detail", args=[original.pk])).content.decode()
    assert reverse("credits:detail", args=[rev.pk]) in html
    assert reverse("credits:reverse", args=[original.pk]) not in html  # reversed once only
    # The customer sees the reversal in their ledger, with the minus sign.
    html = login(alice).get(reverse("credits:list")).content.decode()
    assert "−¥500.00" in html and "¥500.00" in html
    assert reverse("credits:detail", args=[rev.pk]) in html


def test_page_reverse_of_a_wrong_state_is_a_message(contract_a, manager):
    c = approved(contract_a, by=manager)
    r = login(manager).post(reverse("credits:reverse", args=[c.pk]), {"reason": "改判"}, follow=True)
    assert r.status_code == 200 and len(messages_of(r)) == 1
    assert Credit.objects.count() == 1


def test_page_reverse_refused_to_customers_and_other_tenants(contract_a, manager, alice, charlie, dc_staff):
    original = applied(contract_a, by=manager)
    url = reverse("credits:reverse", args=[original.pk])
    assert login(alice).post(url, {"reason": "x"}).status_code == 403
    assert login(charlie).post(url, {"reason": "x"}).status_code == 404
    assert login(dc_staff).post(url, {"reason": "x"}).status_code in (403, 404)
    assert Credit.objects.count() == 1


# --- API ----------------------------------------------------------------------------------------

def test_api_reverse_and_fields(contract_a, manager, manager2, api):
    original = applied(contract_a, by=manager)
    r = api(manager2).post(f"/api/credits/{original.pk}/reverse/", {"reason": "改判"}, format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["reverses"] == original.pk and body["signed_amount"] == "-500.00"
    assert body["amount"] == "500.00" and body["state"] == "proposed" and body["reversed_by"] is None
    assert body["proposed_by"]["username"] == "max"
    orig = api(manager).get(f"/api/credits/{original.pk}/").json()
    assert orig["reversed_by"] == body["id"] and orig["reverses"] is None and orig["signed_amount"] == "500.00"
    assert api(manager2).post(f"/api/credits/{original.pk}/reverse/", {"reason": "再来"},
                              format="json").status_code == 409
    assert api(manager2).post(f"/api/credits/{body['id']}/reverse/", {"reason": "再来"},
                              format="json").status_code == 409


def test_api_reverse_input_and_access(contract_a, manager, api, alice, charlie):
    original = applied(contract_a, by=manager)
    url = f"/api/credits/{original.pk}/reverse/"
    r = api(manager).post(url, {}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["errors"]
    assert api(alice).post(url, {"reason": "x"}, format="json").status_code == 403
    assert api(charlie).post(url, {"reason": "x"}, format="json").status_code == 404
    assert api(None).post(url, {"reason": "x"}, format="json").status_code in (401, 403)
    assert Credit.objects.count() == 1
