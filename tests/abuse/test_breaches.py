"""A broken E4 clock: that month's fee waived for the customer concerned (once per contract,
month and remedy), escalation when no customer is concerned; withdrawn when the breach is."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from abuse.services import case_step_done
from audit.services import audit_for
from credits.models import Credit
from credits.services import credit_propose
from sla.services import clocks_sweep
from tests.abuse.conftest import MON_10, RESP_DUE
from tests.abuse.test_complaint_case import clocks

pytestmark = pytest.mark.django_db
S = timedelta(seconds=1)


def test_the_sweep_breaches_at_due_and_proposes_the_waiver_once_per_contract_and_month(
        staff_case: Any, django_capture_on_commit_callbacks: Any) -> None:
    a, b = staff_case(), staff_case()
    with django_capture_on_commit_callbacks(execute=True):
        clocks_sweep(now=RESP_DUE - S)
    assert clocks(a)["E4-RESP"].state == "running"
    with django_capture_on_commit_callbacks(execute=True):
        clocks_sweep(now=RESP_DUE)
    assert clocks(a)["E4-RESP"].state == "breached" and clocks(b)["E4-RESP"].state == "breached"
    credit = Credit.objects.get(contract=a.contract)  # two cases, one month: one waiver
    assert credit.kind == "waive_month_rent" and credit.amount == a.contract.monthly_fee
    assert credit.dedupe_key == f"E4:waive_month_rent:contract:{a.contract_id}:2026-03"
    assert audit_for(a).filter(action="waiver_proposed").exists()


def test_a_waiver_another_promise_already_proposed_for_the_month_is_not_doubled(
        staff_case: Any, django_capture_on_commit_callbacks: Any) -> None:
    case = staff_case()
    other = credit_propose(contract=case.contract, policy_code="E5-EXIST", kind="waive_month_rent",
                           period=MON_10.date().replace(day=1), amount=case.contract.monthly_fee, now=MON_10)
    with django_capture_on_commit_callbacks(execute=True):
        clocks_sweep(now=RESP_DUE)
    assert list(Credit.objects.filter(contract=case.contract)) == [other]
    assert audit_for(case).filter(action="waiver_exists").exists()


def test_without_a_customer_a_breach_escalates(staff_case: Any, django_capture_on_commit_callbacks: Any) -> None:
    case = staff_case(customer=None, complainant=False)
    with django_capture_on_commit_callbacks(execute=True):
        clocks_sweep(now=RESP_DUE)
    assert not Credit.objects.exists()
    assert audit_for(case).filter(action="escalated").exists()


def test_a_response_in_time_recorded_after_the_sweep_withdraws_the_waiver(
        staff_case: Any, engineer: Any, django_capture_on_commit_callbacks: Any) -> None:
    case = staff_case()
    with django_capture_on_commit_callbacks(execute=True):
        clocks_sweep(now=RESP_DUE + S)
    assert Credit.objects.get(contract=case.contract).state == "proposed"
    with django_capture_on_commit_callbacks(execute=True):
        case_step_done(case_id=case.pk, code="keep_evidence", actor=engineer, note="前一天已保存",
                       now=RESP_DUE - timedelta(hours=2))
    assert clocks(case)["E4-RESP"].state == "met"
    assert Credit.objects.get(contract=case.contract).state == "withdrawn"


def test_a_late_result_proposes_the_waiver_without_waiting_for_the_sweep(staff_case: Any, specialist: Any) -> None:
    case = staff_case()
    case_step_done(case_id=case.pk, code="keep_evidence", actor=specialist, now=MON_10 + timedelta(hours=1))
    case_step_done(case_id=case.pk, code="notify_result", actor=specialist, note="已告知",
                   now=MON_10 + timedelta(days=3, seconds=1))
    assert clocks(case)["E4-RESULT"].state == "breached"
    assert Credit.objects.get(contract=case.contract).policy.code == "E4-RESULT"
