"""Proposing by hand: /credits/new/ for staff with credits.add_credit; the reason is required,
and an amount or a number of days as the remedy requires. The API requires the reason too and
records who proposed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from audit.services import audit_for
from credits.choices import CreditState
from credits.models import Credit
from tests.credits.conftest import login

pytestmark = pytest.mark.django_db



def create_url() -> str:
    return reverse("credits:create")


def _post(contract_, **kw):  # type: ignore[no-untyped-def]
    data = {"contract": contract_.pk, "policy": "C3", "kind": "refund_installation", "amount": "500.00",
            "days": "", "period": "2026-03-01", "reason": "初装超过 3 个工作日"}
    data.update(kw)
    return data


@pytest.mark.parametrize("who", ["specialist", "engineer", "manager"])
def test_staff_who_may_add_credits_propose(contract_a, who, request):
    user = request.getfixturevalue(who)
    client = login(user)
    page = client.get(create_url())
    assert page.status_code == 200 and contract_a.number in page.content.decode()
    r = client.post(create_url(), _post(contract_a))
    credit = Credit.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("credits:detail", args=[credit.pk])
    assert (credit.state, credit.proposed_by, credit.note, credit.amount, credit.customer_id) == (
        CreditState.PROPOSED, user, "初装超过 3 个工作日", Decimal("500.00"), contract_a.customer_id)
    assert audit_for(credit).get().actor == user


def test_service_time_extension_takes_days(contract_a, specialist):
    r = login(specialist).post(create_url(), _post(contract_a, policy="E1", kind="extend_service", amount="", days="31"))
    assert r.status_code == 302
    c = Credit.objects.get()
    assert c.days == 31 and c.amount is None


@pytest.mark.parametrize("changes, field", [
    ({"reason": ""}, "reason"),
    ({"reason": "   "}, "reason"),
    ({"amount": ""}, "amount"),                                           # money remedy without amount
    ({"days": "3"}, "days"),                                              # money remedy with days
    ({"kind": "extend_service", "amount": ""}, "days"),                   # extension without days
    ({"kind": "extend_service", "amount": "10.00", "days": "3"}, "amount"),
    ({"amount": "0"}, "amount"),
    ({"amount": "-5"}, "amount"),
    ({"period": "2026-02-30"}, "period"),
    ({"policy": "Z9"}, "policy"),
    ({"contract": "999999"}, "contract"),
    ({"kind": "teleport"}, "kind"),
])
def test_bad_input_is_a_form_error_and_nothing_saved(contract_a, specialist, changes, field):
    r = login(specialist).post(create_url(), _post(contract_a, **changes))
    assert r.status_code == 400
    assert field in r.context["form"].errors, r.context["form"].errors
    assert Credit.objects.count() == 0


@pytest.mark.parametrize("who", ["alice", "charlie", "dc_staff"])
def test_others_cannot_propose(contract_a, who, request):
    client = login(request.getfixturevalue(who))
    assert client.get(create_url()).status_code == 403
    assert client.post(create_url(), _post(contract_a)).status_code == 403
    assert Credit.objects.count() == 0


def test_list_links_to_the_form_for_proposers_only(specialist, alice, dc_staff):
    assert create_url() in login(specialist).get(reverse("credits:list")).content.decode()
    assert create_url() not in login(alice).get(reverse("credits:list")).content.decode()


@pytest.mark.parametrize("note", [None, "", "   "])
def test_api_propose_requires_a_reason(contract_a, specialist, api, note):
    body = {"contract": contract_a.pk, "policy": "C3", "kind": "refund_installation", "period": "2026-03-01",
            "amount": "500.00"}
    if note is not None:
        body["note"] = note
    r = api(specialist).post("/api/credits/", body, format="json")
    assert r.status_code == 400 and "note" in r.json()["errors"]
    assert Credit.objects.count() == 0


def test_api_propose_records_the_proposer(contract_a, engineer, api):
    r = api(engineer).post("/api/credits/", {"contract": contract_a.pk, "policy": "C3", "kind": "refund_installation",
                                             "period": "2026-03-01", "amount": "500.00", "note": "初装超时"},
                           format="json")
    assert r.status_code == 201
    assert r.json()["proposed_by"]["username"] == "eve" and r.json()["note"] == "初装超时"
    assert Credit.objects.get().proposed_by == engineer
