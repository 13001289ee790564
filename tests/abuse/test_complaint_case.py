"""A spam complaint opens a spam case with the E4 clocks instead of the generic C8 clock
(acceptance: response at 1 working day minus 1 s meets, plus 1 s breaks; a national holiday
moves the deadline with the calendar)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from abuse.models import SpamCase
from abuse.services import case_step_done, cases_reconcile
from credits.models import Credit
from sla.models import Clock
from tests.abuse.conftest import MON_10, RESP_DUE, TZ

pytestmark = pytest.mark.django_db
S = timedelta(seconds=1)


def clocks(obj: Any) -> dict[str, Clock]:
    from django.contrib.contenttypes.models import ContentType

    return {c.policy.code: c for c in Clock.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk).select_related("policy")}


def test_accepting_a_spam_complaint_opens_one_case_with_e4_clocks_and_no_c8(
        spam_complaint: Any, django_capture_on_commit_callbacks: Any) -> None:
    complaint = spam_complaint(capture=django_capture_on_commit_callbacks)
    case = SpamCase.objects.get(complaint=complaint)
    assert case.source == "complaint" and case.kind == "inbound"
    assert case.customer_id == complaint.customer_id and case.contract is not None
    assert case.opened_at == MON_10 and case.number.startswith("SPAM-20260302-")
    assert "C8" not in clocks(complaint)
    c = clocks(case)
    assert c["E4-RESP"].due_at == RESP_DUE and c["E4-RESP"].calendar == "cn-workdays"
    assert c["E4-RESULT"].due_at == MON_10 + timedelta(days=3)
    # The listener running again (or the reconcile task) finds the case: still one.
    assert cases_reconcile()["opened"] == 0
    assert SpamCase.objects.filter(complaint=complaint).count() == 1


def test_other_complaints_still_run_c8(spam_complaint: Any, django_capture_on_commit_callbacks: Any) -> None:
    complaint = spam_complaint(capture=django_capture_on_commit_callbacks, subject="network")
    assert "C8" in clocks(complaint)
    assert not SpamCase.objects.exists()


@pytest.mark.parametrize(("offset", "state"), [(-S, "met"), (timedelta(0), "breached"), (S, "breached")])
def test_response_one_working_day_minus_one_second_meets_plus_one_breaks(
        spam_complaint: Any, django_capture_on_commit_callbacks: Any, engineer: Any, offset: timedelta,
        state: str) -> None:
    case = SpamCase.objects.get(complaint=spam_complaint(capture=django_capture_on_commit_callbacks))
    with django_capture_on_commit_callbacks(execute=True):
        case_step_done(case_id=case.pk, code="keep_evidence", actor=engineer, note="邮件头已保存",
                       now=RESP_DUE + offset)
    resp = clocks(case)["E4-RESP"]
    assert resp.state == state
    waivers = Credit.objects.filter(contract=case.contract, kind="waive_month_rent")
    if state == "met":
        assert resp.met_at == RESP_DUE - S and not waivers.exists()
    else:
        # that month's fee waived, for the month the deadline fell in
        credit = waivers.get()
        assert credit.amount == case.contract.monthly_fee and str(credit.period) == "2026-03-01"
        assert credit.policy.code == "E4-RESP"


def test_across_a_national_holiday_the_deadline_moves_with_the_calendar(
        spam_complaint: Any, django_capture_on_commit_callbacks: Any, engineer: Any) -> None:
    # Wednesday 2026-09-30; 1-7 October are the National Day holiday (Sunday 4th included):
    # the next working day is Thursday 8 October, so the response is due at its end.
    at = datetime(2026, 9, 30, 10, 0, tzinfo=TZ)
    case = SpamCase.objects.get(complaint=spam_complaint(at=at, capture=django_capture_on_commit_callbacks))
    due = datetime(2026, 10, 9, 0, 0, tzinfo=TZ)
    assert clocks(case)["E4-RESP"].due_at == due
    case_step_done(case_id=case.pk, code="keep_evidence", actor=engineer, note="", now=due - S)
    assert clocks(case)["E4-RESP"].state == "met"


def test_withdrawing_the_complaint_cancels_the_case_clocks(
        spam_complaint: Any, django_capture_on_commit_callbacks: Any, alice: Any) -> None:
    from complaints.services import complaint_withdraw

    complaint = spam_complaint(capture=django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        complaint_withdraw(complaint_id=complaint.pk, actor=alice, reason="误报", now=MON_10 + timedelta(hours=1))
    case = SpamCase.objects.get(complaint=complaint)
    assert {c.state for c in clocks(case).values()} == {"cancelled"}


def test_reconcile_opens_the_case_a_failed_listener_left_missing(spam_complaint: Any) -> None:
    complaint = spam_complaint()  # on-commit callbacks not run: the listener never heard
    assert not SpamCase.objects.exists()
    assert cases_reconcile(now=MON_10 + timedelta(hours=2))["opened"] == 1
    case = SpamCase.objects.get(complaint=complaint)
    assert clocks(case)["E4-RESP"].started_at == MON_10  # from the acceptance, not the repair


def test_a_spam_complaint_needs_an_e_mail_customer(customer_a: Any, specialist: Any) -> None:
    from complaints.services import complaint_create
    from slaportal.errors import DomainError
    from tests import factories as f

    f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="colocation")
    with pytest.raises(DomainError):
        complaint_create(customer=customer_a, actor=specialist, channel="email", subject="spam", title="t",
                         description="d", complainant_name="x", now=MON_10)
