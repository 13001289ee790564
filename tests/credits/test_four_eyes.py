"""Four-eyes: whoever proposed a credit does not approve it, on the service, the page and the API.
A different manager may; a credit the system proposed (no proposer) any manager may approve;
rejecting one's own proposal is allowed."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.translation import gettext

from audit.services import audit_for
from credits.choices import CreditState
from credits.services import credit_approve, credit_reject, credit_reverse
from slaportal.errors import ForbiddenError
from tests.credits.conftest import NOW, applied, login, propose

pytestmark = pytest.mark.django_db

# In the page's language (Chinese by default, once locale/pending/credits.po is merged).
FOUR_EYES_MESSAGE = gettext(
    "You proposed this credit yourself: another manager must approve it (four-eyes rule).")


def test_the_proposer_cannot_approve_and_nothing_changes(contract_a, manager):
    c = propose(contract_a, actor=manager)
    with pytest.raises(ForbiddenError) as e:
        credit_approve(credit_id=c.pk, actor=manager, reason="looks right", now=NOW)
    assert e.value.code == "four_eyes"
    c.refresh_from_db()
    assert (c.state, c.decided_by, c.decided_at, c.decision_reason) == (CreditState.PROPOSED, None, None, "")
    assert [a.action for a in audit_for(c)] == ["propose"]


def test_another_manager_approves(contract_a, manager, manager2):
    c = propose(contract_a, actor=manager)
    c = credit_approve(credit_id=c.pk, actor=manager2, reason="核实无误", now=NOW)
    assert c.state == CreditState.APPROVED and c.decided_by == manager2 and c.proposed_by == manager


def test_a_specialists_proposal_is_approved_by_a_manager(contract_a, specialist, manager):
    c = propose(contract_a, actor=specialist)
    assert credit_approve(credit_id=c.pk, actor=manager).state == CreditState.APPROVED


@pytest.mark.parametrize("who", ["manager", "manager2"])
def test_a_system_proposal_is_approved_by_any_manager(contract_a, who, request):
    c = propose(contract_a, actor=None)
    assert c.proposed_by is None
    actor = request.getfixturevalue(who)
    assert credit_approve(credit_id=c.pk, actor=actor).decided_by == actor


def test_the_proposer_may_reject_their_own_proposal(contract_a, manager):
    c = propose(contract_a, actor=manager)
    c = credit_reject(credit_id=c.pk, actor=manager, reason="金额填错，重新提出", now=NOW)
    assert c.state == CreditState.REJECTED and c.decided_by == manager


def test_a_superuser_is_held_to_four_eyes_too(contract_a):
    from tests import factories as f

    admin = f.UserFactory(is_superuser=True, is_staff=True)
    c = propose(contract_a, actor=admin)
    with pytest.raises(ForbiddenError):
        credit_approve(credit_id=c.pk, actor=admin)


def test_the_proposer_of_a_reversal_cannot_approve_it(contract_a, manager, manager2):
    original = applied(contract_a, by=manager)
    rev = credit_reverse(credit_id=original.pk, reason="停机原因改判为客户责任", actor=manager2, now=NOW)
    with pytest.raises(ForbiddenError):
        credit_approve(credit_id=rev.pk, actor=manager2)
    assert credit_approve(credit_id=rev.pk, actor=manager).state == CreditState.APPROVED


# --- the page -----------------------------------------------------------------------------------

def test_page_hides_approve_from_the_proposer_and_refuses_the_post_with_a_form_error(contract_a, manager):
    c = propose(contract_a, actor=manager)
    client = login(manager)
    page = client.get(reverse("credits:detail", args=[c.pk])).content.decode()
    assert reverse("credits:approve", args=[c.pk]) not in page
    assert reverse("credits:reject", args=[c.pk]) in page  # rejecting one's own is allowed
    r = client.post(reverse("credits:approve", args=[c.pk]), {"reason": "ok"})
    assert r.status_code == 403
    assert FOUR_EYES_MESSAGE in r.content.decode()
    assert r.context["form"].non_field_errors() == [FOUR_EYES_MESSAGE]
    c.refresh_from_db()
    assert c.state == CreditState.PROPOSED


def test_page_another_manager_approves(contract_a, manager, manager2):
    c = propose(contract_a, actor=manager)
    client = login(manager2)
    page = client.get(reverse("credits:detail", args=[c.pk])).content.decode()
    assert reverse("credits:approve", args=[c.pk]) in page
    r = client.post(reverse("credits:approve", args=[c.pk]), {"reason": "核实无误"}, follow=True)
    assert r.status_code == 200
    c.refresh_from_db()
    assert c.state == CreditState.APPROVED and c.decided_by == manager2


def test_page_system_proposal_offers_approve_to_any_manager(contract_a, manager):
    c = propose(contract_a)
    client = login(manager)
    assert reverse("credits:approve", args=[c.pk]) in client.get(
        reverse("credits:detail", args=[c.pk])).content.decode()
    client.post(reverse("credits:approve", args=[c.pk]))
    c.refresh_from_db()
    assert c.state == CreditState.APPROVED


# --- the API ------------------------------------------------------------------------------------

def test_api_self_approval_is_403_four_eyes(contract_a, manager, api):
    c = propose(contract_a, actor=manager)
    r = api(manager).post(f"/api/credits/{c.pk}/approve/", {"reason": "ok"}, format="json")
    assert r.status_code == 403
    body = r.json()
    assert body["code"] == "four_eyes" and body["detail"]
    c.refresh_from_db()
    assert c.state == CreditState.PROPOSED


def test_api_another_manager_and_system_proposals(contract_a, manager, manager2, api):
    mine = propose(contract_a, actor=manager)
    r = api(manager2).post(f"/api/credits/{mine.pk}/approve/", {}, format="json")
    assert r.status_code == 200 and r.json()["decided_by"]["username"] == "max"
    system = propose(contract_a)
    r = api(manager).post(f"/api/credits/{system.pk}/approve/", {}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "approved"
