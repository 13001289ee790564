"""The seed's steps: each done once with time, actor, note; the written guarantee gate on
restoring an own-domain account (acceptance); the result to the complainant meets E4-RESULT."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from abuse.models import CaseStep, SpamCase
from abuse.services import (
    case_close,
    case_evidence_add,
    case_reopen,
    case_set_kind,
    case_step_done,
)
from audit.services import audit_for
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from tests.abuse.conftest import MON_10, pdf_file
from tests.abuse.test_complaint_case import clocks

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)


def test_each_kind_gets_the_seed_checklist(staff_case: Any) -> None:
    inbound, outbound = staff_case("inbound"), staff_case("outbound")
    assert list(inbound.steps.values_list("code", flat=True)) == [
        "keep_evidence", "identify_source", "report_isc", "complain_provider", "block_source",
        "notify_result", "unblock_source"]
    assert list(outbound.steps.values_list("code", flat=True)) == [
        "keep_evidence", "identify_account", "suspend_account", "notify_result", "restore_account"]


def test_restoring_an_own_domain_account_without_a_written_guarantee_is_refused(
        staff_case: Any, engineer: Any) -> None:
    case = staff_case("outbound")
    case_step_done(case_id=case.pk, code="keep_evidence", actor=engineer, now=MON_10 + H)
    case_step_done(case_id=case.pk, code="identify_account", actor=engineer, value="sales@alpha.cn", now=MON_10 + H)
    case_step_done(case_id=case.pk, code="suspend_account", actor=engineer, value="sales@alpha.cn", now=MON_10 + H)
    with pytest.raises(DomainError) as e:
        case_step_done(case_id=case.pk, code="restore_account", actor=engineer, note="", now=MON_10 + 2 * H)
    assert e.value.code == "guarantee_missing" and "guarantee" in e.value.field_errors
    assert not CaseStep.objects.get(case=case, code="restore_account").done
    # An ordinary evidence file is not a guarantee.
    case_evidence_add(case_id=case.pk, f=pdf_file("headers.pdf"), actor=engineer, now=MON_10 + 2 * H)
    with pytest.raises(DomainError):
        case_step_done(case_id=case.pk, code="restore_account", actor=engineer, now=MON_10 + 2 * H)
    case_evidence_add(case_id=case.pk, f=pdf_file(), kind="guarantee", actor=engineer, now=MON_10 + 3 * H)
    step = case_step_done(case_id=case.pk, code="restore_account", actor=engineer, note="已恢复", now=MON_10 + 4 * H)
    assert step.done_at == MON_10 + 4 * H and step.done_by == engineer


def test_restore_needs_the_account_suspended_first_and_block_before_unblock(staff_case: Any, engineer: Any) -> None:
    out, inb = staff_case("outbound"), staff_case("inbound")
    case_evidence_add(case_id=out.pk, f=pdf_file(), kind="guarantee", actor=engineer, now=MON_10)
    with pytest.raises(ConflictError):
        case_step_done(case_id=out.pk, code="restore_account", actor=engineer, now=MON_10 + H)
    with pytest.raises(ConflictError):
        case_step_done(case_id=inb.pk, code="unblock_source", actor=engineer, now=MON_10 + H)


def test_a_guarantee_only_belongs_to_an_own_domain_case_and_files_are_checked_by_content(
        staff_case: Any, engineer: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    inb = staff_case("inbound")
    with pytest.raises(DomainError):
        case_evidence_add(case_id=inb.pk, f=pdf_file(), kind="guarantee", actor=engineer, now=MON_10)
    fake = SimpleUploadedFile("evil.pdf", b"<html>not a pdf</html>", content_type="application/pdf")
    with pytest.raises(DomainError) as e:
        case_evidence_add(case_id=inb.pk, f=fake, actor=engineer, now=MON_10)
    assert e.value.code == "bad_type" and not inb.evidence.exists()


def test_identifying_needs_the_account_or_ip_and_a_step_is_done_once(staff_case: Any, engineer: Any) -> None:
    case = staff_case("inbound")
    with pytest.raises(DomainError) as e:
        case_step_done(case_id=case.pk, code="identify_source", actor=engineer, value=" ", now=MON_10 + H)
    assert "value" in e.value.field_errors
    case_step_done(case_id=case.pk, code="identify_source", actor=engineer, value="203.0.113.7", now=MON_10 + H)
    with pytest.raises(ConflictError):
        case_step_done(case_id=case.pk, code="identify_source", actor=engineer, value="x", now=MON_10 + H)
    assert list(audit_for(case).filter(action="step_done").values_list("data__step", flat=True)) == ["identify_source"]


def test_telling_the_complainant_meets_the_result_clock_and_the_first_step_the_response(
        staff_case: Any, specialist: Any, engineer: Any) -> None:
    case = staff_case("inbound")
    case_step_done(case_id=case.pk, code="report_isc", actor=engineer, note="已通报", now=MON_10 + H)
    assert clocks(case)["E4-RESP"].state == "met" and clocks(case)["E4-RESULT"].state == "running"
    with pytest.raises(DomainError):  # what was said is the record of it
        case_step_done(case_id=case.pk, code="notify_result", actor=specialist, note="", now=MON_10 + 2 * H)
    case_step_done(case_id=case.pk, code="notify_result", actor=specialist, note="已阻断来源并告知", now=MON_10 + 2 * H)
    result = clocks(case)["E4-RESULT"]
    assert result.state == "met" and result.met_at == MON_10 + 2 * H


def test_close_needs_the_result_told_then_reopen(staff_case: Any, specialist: Any) -> None:
    case = staff_case("inbound")
    with pytest.raises(DomainError) as e:
        case_close(case_id=case.pk, actor=specialist, verdict="spam", result="已处理", now=MON_10 + H)
    assert e.value.code == "result_not_told"
    case_step_done(case_id=case.pk, code="notify_result", actor=specialist, note="已告知", now=MON_10 + H)
    case_close(case_id=case.pk, actor=specialist, verdict="spam", result="来源已阻断", now=MON_10 + 2 * H)
    case.refresh_from_db()
    assert case.state == "closed" and case.verdict == "spam"
    with pytest.raises(ConflictError):
        case_step_done(case_id=case.pk, code="keep_evidence", actor=specialist, now=MON_10 + 3 * H)
    case_reopen(case_id=case.pk, actor=specialist, reason="又收到", now=MON_10 + 3 * H)
    assert SpamCase.objects.get(pk=case.pk).state == "open"


def test_closing_a_case_without_complainant_as_not_spam_is_its_response(staff_case: Any, engineer: Any) -> None:
    case = staff_case("inbound", complainant=False, customer=None)
    assert set(clocks(case)) == {"E4-RESP"}  # nobody to tell: no result clock
    case_close(case_id=case.pk, actor=engineer, verdict="not_spam", result="正常群发通知", now=MON_10 + H)
    assert clocks(case)["E4-RESP"].state == "met"


def test_kind_changes_only_before_any_step(staff_case: Any, engineer: Any) -> None:
    case = staff_case("inbound")
    case_set_kind(case_id=case.pk, kind="outbound", actor=engineer, now=MON_10)
    assert "restore_account" in set(case.steps.values_list("code", flat=True))
    case_step_done(case_id=case.pk, code="keep_evidence", actor=engineer, now=MON_10 + H)
    with pytest.raises(ConflictError):
        case_set_kind(case_id=case.pk, kind="inbound", actor=engineer, now=MON_10 + H)


def test_data_centre_staff_and_customers_do_not_handle_spam(staff_case: Any, dc_staff: Any, alice: Any) -> None:
    case = staff_case("inbound")
    for who in (dc_staff, alice):
        with pytest.raises(ForbiddenError):
            case_step_done(case_id=case.pk, code="keep_evidence", actor=who, now=MON_10)
    assert not case.steps.filter(done_at__isnull=False).exists()


def test_a_case_for_a_customer_without_e_mail_is_refused(engineer: Any, customer_a: Any) -> None:
    from abuse.services import case_open_by_staff

    with pytest.raises(DomainError):
        case_open_by_staff(actor=engineer, kind="inbound", title="x", customer=customer_a, now=MON_10)
    assert not SpamCase.objects.exists()
