"""Credit pages: a manager approves, rejects (with a reason) and applies through the page; a
POST on a credit no longer in the right state is a message and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from credits.choices import CreditState
from credits.models import Credit
from credits.services import credit_approve
from tests.ui.conftest import login

pytestmark = pytest.mark.django_db


def messages_of(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in response.context["messages"]]


def test_manager_approves_then_applies(credit_a, manager):  # type: ignore[no-untyped-def]
    c = login(manager)
    page = c.get(reverse("credits:detail", args=[credit_a.pk])).content.decode()
    assert reverse("credits:approve", args=[credit_a.pk]) in page
    assert reverse("credits:apply", args=[credit_a.pk]) not in page
    r = c.post(reverse("credits:approve", args=[credit_a.pk]), {"reason": "核实无误"}, follow=True)
    assert r.status_code == 200
    assert "服务补偿已批准。" in messages_of(r)
    credit_a.refresh_from_db()
    assert credit_a.state == CreditState.APPROVED and credit_a.decided_by == manager
    # The audit trail on the page shows the decision and its reason.
    assert "核实无误" in r.content.decode()
    r = c.post(reverse("credits:apply", args=[credit_a.pk]), follow=True)
    credit_a.refresh_from_db()
    assert credit_a.state == CreditState.APPLIED and credit_a.applied_at is not None


def test_reject_needs_a_reason(credit_a, manager):  # type: ignore[no-untyped-def]
    c = login(manager)
    r = c.post(reverse("credits:reject", args=[credit_a.pk]), {"reason": "  "})
    assert r.status_code == 400
    assert "请说明驳回该服务补偿的原因。" in r.content.decode()
    credit_a.refresh_from_db()
    assert credit_a.state == CreditState.PROPOSED
    r = c.post(reverse("credits:reject", args=[credit_a.pk]), {"reason": "客户未在 5 天内报告"}, follow=True)
    credit_a.refresh_from_db()
    assert credit_a.state == CreditState.REJECTED
    assert credit_a.decision_reason == "客户未在 5 天内报告"


def test_wrong_state_post_is_a_message_and_changes_nothing(credit_a, manager):  # type: ignore[no-untyped-def]
    credit_approve(credit_id=credit_a.pk, actor=manager)
    audit_before = AuditEntry.objects.count()
    c = login(manager)
    r = c.post(reverse("credits:reject", args=[credit_a.pk]), {"reason": "太迟了"}, follow=True)
    assert r.status_code == 200
    msgs = messages_of(r)
    assert len(msgs) == 1 and "已批准" in msgs[0]
    credit_a.refresh_from_db()
    assert credit_a.state == CreditState.APPROVED and credit_a.decision_reason == ""
    assert AuditEntry.objects.count() == audit_before
    # Approving twice is refused the same way.
    r = c.post(reverse("credits:approve", args=[credit_a.pk]), follow=True)
    assert len(messages_of(r)) == 1
    assert Credit.objects.get(pk=credit_a.pk).state == CreditState.APPROVED


def test_customer_sees_no_decision_buttons_and_cannot_post(credit_a, alice):  # type: ignore[no-untyped-def]
    c = login(alice)
    page = c.get(reverse("credits:detail", args=[credit_a.pk])).content.decode()
    assert "¥500.00" in page
    assert reverse("credits:approve", args=[credit_a.pk]) not in page
    assert c.post(reverse("credits:approve", args=[credit_a.pk])).status_code == 403
    credit_a.refresh_from_db()
    assert credit_a.state == CreditState.PROPOSED


def test_get_on_a_decision_url_is_refused(credit_a, manager):  # type: ignore[no-untyped-def]
    assert login(manager).get(reverse("credits:approve", args=[credit_a.pk])).status_code == 405


def test_list_filters_by_state(credit_a, credit_c, manager):  # type: ignore[no-untyped-def]
    credit_approve(credit_id=credit_c.pk, actor=manager)
    html = login(manager).get(reverse("credits:list"), {"state": "proposed"}).content.decode()
    assert reverse("credits:detail", args=[credit_a.pk]) in html
    assert reverse("credits:detail", args=[credit_c.pk]) not in html
