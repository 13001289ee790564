"""Applying: "applied is set when billing confirms, singly or in bulk". Managers and holders of
credits.approve_credit apply; a bulk apply applies each approved credit on its own and reports
the others with the reason, leaving them exactly as they were."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from audit.services import audit_for
from credits.choices import CreditState
from credits.models import Credit
from credits.services import credit_apply, credit_reject, credit_withdraw, credits_apply
from slaportal.errors import ForbiddenError
from tests import factories as f
from tests.credits.conftest import NOW, applied, approved, login, messages_of, propose

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing(db):  # type: ignore[no-untyped-def]
    """A specialist who was given credits.approve_credit (billing): may apply, not approve."""
    user = f.StaffFactory(role="specialist", username="bella")
    user.user_permissions.add(Permission.objects.get(codename="approve_credit", content_type__app_label="credits"))
    return user


@pytest.fixture
def mixed(contract_a, contract_c, manager):  # type: ignore[no-untyped-def]
    """Two approved credits and one each proposed, rejected, withdrawn, already applied."""
    a1 = approved(contract_a, by=manager)
    a2 = approved(contract_c, by=manager)
    p = propose(contract_a)
    r = propose(contract_a)
    credit_reject(credit_id=r.pk, actor=manager, reason="客户原因", now=NOW)
    w = approved(contract_a, by=manager)
    credit_withdraw(credit_id=w.pk, reason="月度重判为达标", now=NOW)
    done = applied(contract_a, by=manager)
    return {"a1": a1, "a2": a2, "proposed": p, "rejected": r, "withdrawn": w, "applied": done}


def _snapshot() -> dict[int, tuple[object, ...]]:
    return {c.pk: (c.state, c.applied_at, c.decided_at, c.decision_reason)
            for c in Credit.objects.all()}


def test_bulk_applies_the_approved_and_reports_the_rest(mixed, manager):
    before = _snapshot()
    ids = [mixed[k].pk for k in ("a1", "proposed", "a2", "rejected", "withdrawn", "applied")] + [999999]
    result = credits_apply(credit_ids=ids, actor=manager, reason="2026-03 账单", now=NOW)
    assert result.applied == [mixed["a1"].pk, mixed["a2"].pk]
    assert set(result.refused) == {mixed[k].pk for k in ("proposed", "rejected", "withdrawn", "applied")} | {999999}
    assert all(code == "conflict" for _msg, code in
               (result.refused[mixed[k].pk] for k in ("proposed", "rejected", "withdrawn", "applied")))
    assert result.refused[999999][1] == "not_found"
    assert all(msg for msg, _code in result.refused.values())
    after = _snapshot()
    for key in ("a1", "a2"):
        c = Credit.objects.get(pk=mixed[key].pk)
        assert c.state == CreditState.APPLIED and c.applied_at == NOW
        assert audit_for(c).filter(action="apply", reason="2026-03 账单").count() == 1
    # Nothing half-done: every refused credit is exactly as it was, with no new audit row.
    for key in ("proposed", "rejected", "withdrawn", "applied"):
        pk = mixed[key].pk
        assert after[pk] == before[pk]
        assert not audit_for(mixed[key]).filter(reason="2026-03 账单").exists()


def test_bulk_apply_twice_is_harmless(mixed, manager):
    credits_apply(credit_ids=[mixed["a1"].pk], actor=manager, now=NOW)
    again = credits_apply(credit_ids=[mixed["a1"].pk, mixed["a1"].pk], actor=manager, now=NOW)
    assert again.applied == [] and list(again.refused) == [mixed["a1"].pk]
    assert audit_for(mixed["a1"]).filter(action="apply").count() == 1


@pytest.mark.parametrize("who", ["specialist", "engineer", "dc_staff", "alice"])
def test_only_managers_and_billing_apply(mixed, who, request):
    actor = request.getfixturevalue(who)
    before = _snapshot()
    with pytest.raises(ForbiddenError):
        credits_apply(credit_ids=[mixed["a1"].pk], actor=actor)
    with pytest.raises(ForbiddenError):
        credit_apply(credit_id=mixed["a1"].pk, actor=actor)
    assert _snapshot() == before


def test_billing_applies_but_does_not_approve(contract_a, manager, billing):
    from credits.services import credit_approve

    c = approved(contract_a, by=manager)
    assert credit_apply(credit_id=c.pk, actor=billing).state == CreditState.APPLIED
    p = propose(contract_a)
    with pytest.raises(ForbiddenError):
        credit_approve(credit_id=p.pk, actor=billing)
    result = credits_apply(credit_ids=[approved(contract_a, by=manager).pk], actor=billing)
    assert len(result.applied) == 1


# --- the page -----------------------------------------------------------------------------------

def test_list_offers_boxes_on_approved_credits_to_whoever_may_apply(mixed, manager, specialist):
    html = login(manager).get(reverse("credits:list"), {"state": "approved"}).content.decode()
    assert f'name="ids" value="{mixed["a1"].pk}"' in html and reverse("credits:bulk_apply") in html
    html = login(manager).get(reverse("credits:list")).content.decode()
    assert f'name="ids" value="{mixed["proposed"].pk}"' not in html  # only approved ones
    html = login(specialist).get(reverse("credits:list")).content.decode()
    assert 'name="ids"' not in html and reverse("credits:bulk_apply") not in html


def test_page_bulk_apply_reports_applied_and_refused(mixed, manager):
    ids = [mixed["a1"].pk, mixed["proposed"].pk, mixed["a2"].pk]
    r = login(manager).post(reverse("credits:bulk_apply"), {"ids": ids, "reason": "发票 0042"}, follow=True)
    assert r.status_code == 200
    msgs = messages_of(r)
    assert any(f"#{mixed['a1'].pk}" in m and f"#{mixed['a2'].pk}" in m for m in msgs)
    assert any(str(mixed["proposed"].pk) in m and "待审批" in m for m in msgs)
    states = dict(Credit.objects.filter(pk__in=ids).values_list("pk", "state"))
    assert states == {mixed["a1"].pk: "applied", mixed["a2"].pk: "applied", mixed["proposed"].pk: "proposed"}


def test_page_bulk_apply_bad_ids_is_a_message_not_a_500(mixed, manager):
    for bad in ({"ids": ["abc"]}, {}, {"ids": ["99999999999999999999999"]}):
        r = login(manager).post(reverse("credits:bulk_apply"), bad, follow=True)
        assert r.status_code == 200 and messages_of(r)
    assert Credit.objects.get(pk=mixed["a1"].pk).state == CreditState.APPROVED


@pytest.mark.parametrize("who", ["specialist", "alice", "charlie"])
def test_page_bulk_apply_refused_to_others(mixed, who, request):
    r = login(request.getfixturevalue(who)).post(reverse("credits:bulk_apply"), {"ids": [mixed["a1"].pk]})
    assert r.status_code == 403
    assert Credit.objects.get(pk=mixed["a1"].pk).state == CreditState.APPROVED


def test_page_single_apply_by_billing(contract_a, manager, billing):
    c = approved(contract_a, by=manager)
    client = login(billing)
    assert reverse("credits:apply", args=[c.pk]) in client.get(reverse("credits:detail", args=[c.pk])).content.decode()
    client.post(reverse("credits:apply", args=[c.pk]))
    c.refresh_from_db()
    assert c.state == CreditState.APPLIED


# --- the API ------------------------------------------------------------------------------------

def test_api_bulk_apply(mixed, manager, api):
    ids = [mixed["a1"].pk, mixed["rejected"].pk, mixed["a2"].pk, 999999]
    r = api(manager).post("/api/credits/apply/", {"ids": ids, "reason": "发票 0042"}, format="json")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["applied"] == [mixed["a1"].pk, mixed["a2"].pk]
    assert [(x["id"], x["code"]) for x in body["refused"]] == [(mixed["rejected"].pk, "conflict"),
                                                               (999999, "not_found")]
    assert all(x["detail"] for x in body["refused"])
    assert Credit.objects.get(pk=mixed["rejected"].pk).state == CreditState.REJECTED


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"ids": ["abc"]}, {"ids": [0]}, {"ids": "1"}])
def test_api_bulk_apply_bad_input_is_400(mixed, manager, api, body):
    r = api(manager).post("/api/credits/apply/", body, format="json")
    assert r.status_code == 400
    assert [k.split(".")[0] for k in r.json()["errors"]] == ["ids"]  # ids, or ids.0 for one item


@pytest.mark.parametrize("who", ["specialist", "alice", "charlie"])
def test_api_bulk_apply_refused_to_others(mixed, who, api, request):
    r = api(request.getfixturevalue(who)).post("/api/credits/apply/", {"ids": [mixed["a1"].pk]}, format="json")
    assert r.status_code == 403
    assert Credit.objects.get(pk=mixed["a1"].pk).state == CreditState.APPROVED


def test_api_single_apply_still_works(mixed, manager, api):
    r = api(manager).post(f"/api/credits/{mixed['a1'].pk}/apply/", {}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "applied"
    r = api(manager).post(f"/api/credits/{mixed['proposed'].pk}/apply/", {}, format="json")
    assert r.status_code == 409
