"""The credit list and detail pages: filters (state, customer, month, promise), a customer sees
only their own credits (another customer's credit is a 404 on every page and action, never a
403), the detail shows the audit trail, a withdrawn credit's state and reason, and the reject
form with its reason."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from credits.choices import CreditState
from credits.models import Credit
from credits.services import credit_reject, credit_withdraw
from tests.credits.conftest import NOW, applied, approved, login, messages_of, propose

pytestmark = pytest.mark.django_db


def _listed(client, **query) -> set[int]:  # type: ignore[no-untyped-def]
    r = client.get(reverse("credits:list"), query)
    assert r.status_code == 200
    return {c.pk for c in r.context["page"].object_list}


@pytest.fixture
def several(contract_a, contract_c, manager):  # type: ignore[no-untyped-def]
    return {
        "a_march": propose(contract_a, period=date(2026, 3, 1)),
        "a_april_c4": approved(contract_a, by=manager, policy_code="C4", kind="deduct_day_rent",
                               period=date(2026, 4, 17)),
        "c_march": propose(contract_c, period=date(2026, 3, 1)),
    }


def test_filters(several, manager, customer_a):
    client = login(manager)
    s = {k: v.pk for k, v in several.items()}
    assert _listed(client) == set(s.values())
    assert _listed(client, state="approved") == {s["a_april_c4"]}
    assert _listed(client, customer=customer_a.pk) == {s["a_march"], s["a_april_c4"]}
    assert _listed(client, month="2026-03") == {s["a_march"], s["c_march"]}
    assert _listed(client, month="2026-04", customer=customer_a.pk) == {s["a_april_c4"]}
    assert _listed(client, policy="C4") == {s["a_april_c4"]}
    assert _listed(client, policy="C3", state="proposed") == {s["a_march"], s["c_march"]}


@pytest.mark.parametrize("param, value", [("month", "2026-13"), ("month", "9999-12"), ("customer", "abc"),
                                          ("customer", "99999999999999999999"), ("policy", "Z9"),
                                          ("state", "on-fire")])
def test_a_bad_filter_is_ignored_with_a_message(several, manager, param, value):
    r = login(manager).get(reverse("credits:list"), {param: value})
    assert r.status_code == 200 and len(messages_of(r)) == 1
    assert {c.pk for c in r.context["page"].object_list} == {c.pk for c in several.values()}


def test_a_customer_sees_only_their_own(several, alice, charlie, customer_c):
    s = {k: v.pk for k, v in several.items()}
    assert _listed(login(alice)) == {s["a_march"], s["a_april_c4"]}
    assert _listed(login(charlie)) == {s["c_march"]}
    # No customer filter for a customer user; naming another customer does not reveal anything.
    r = login(alice).get(reverse("credits:list"))
    assert "customer" not in r.context["form"].fields
    assert _listed(login(alice), customer=customer_c.pk) == {s["a_march"], s["a_april_c4"]}


def test_another_customers_credit_is_404_everywhere(several, charlie, api):
    pk = several["a_march"].pk
    client = login(charlie)
    assert client.get(reverse("credits:detail", args=[pk])).status_code == 404
    for name in ("approve", "reject", "apply", "reverse"):
        assert client.post(reverse(f"credits:{name}", args=[pk]), {"reason": "x"}).status_code == 404, name
    assert api(charlie).get(f"/api/credits/{pk}/").status_code == 404
    for name in ("approve", "reject", "apply", "reverse"):
        assert api(charlie).post(f"/api/credits/{pk}/{name}/", {"reason": "x"}, format="json").status_code == 404
    assert Credit.objects.get(pk=pk).state == CreditState.PROPOSED


def test_own_credit_detail_for_the_customer_has_no_buttons(several, alice):
    pk = several["a_march"].pk
    html = login(alice).get(reverse("credits:detail", args=[pk])).content.decode()
    for name in ("approve", "reject", "apply", "reverse"):
        assert reverse(f"credits:{name}", args=[pk]) not in html


def test_detail_shows_the_audit_trail_and_a_withdrawn_reason(contract_a, manager):
    c = approved(contract_a, by=manager)
    credit_withdraw(credit_id=c.pk, reason="通知实际已按时送达", now=NOW)
    r = login(manager).get(reverse("credits:detail", args=[c.pk]))
    html = r.content.decode()
    assert "已撤回" in html and "通知实际已按时送达" in html
    assert "撤回时间" in html
    assert [e.action for e in r.context["audit"]] == ["withdraw", "approve", "propose"]
    for name in ("approve", "reject", "apply"):
        assert reverse(f"credits:{name}", args=[c.pk]) not in html


def test_reject_on_the_page_with_its_reason(contract_a, manager):
    c = propose(contract_a, actor=manager)  # one's own proposal may be rejected
    client = login(manager)
    r = client.post(reverse("credits:reject", args=[c.pk]), {"reason": ""})
    assert r.status_code == 400
    client.post(reverse("credits:reject", args=[c.pk]), {"reason": "重复提出"})
    c.refresh_from_db()
    assert c.state == CreditState.REJECTED and c.decision_reason == "重复提出"
    html = client.get(reverse("credits:detail", args=[c.pk])).content.decode()
    assert "重复提出" in html


def test_rejected_and_applied_credits_offer_nothing_more(contract_a, manager):
    r = propose(contract_a)
    credit_reject(credit_id=r.pk, actor=manager, reason="x")
    done = applied(contract_a, by=manager)
    client = login(manager)
    html = client.get(reverse("credits:detail", args=[r.pk])).content.decode()
    assert reverse("credits:reverse", args=[r.pk]) not in html
    html = client.get(reverse("credits:detail", args=[done.pk])).content.decode()
    assert reverse("credits:apply", args=[done.pk]) not in html
    assert reverse("credits:reverse", args=[done.pk]) in html
