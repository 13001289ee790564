from datetime import timedelta

import pytest

from audit.models import AuditEntry
from complaints.choices import ComplaintState
from complaints.models import Complaint
from complaints.services import (
    complaint_accept,
    complaint_close,
    complaint_investigate,
    complaint_reopen,
    complaint_report_issue,
    complaint_resolve,
    complaint_withdraw,
)
from notifications.models import Notification
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clocks_sweep
from slaportal.errors import ConflictError

from .conftest import DAY1_10

pytestmark = pytest.mark.django_db


def test_report_at_0959_on_day_2_meets_c8(complaint, specialist, manager):
    complaint_accept(complaint_id=complaint.pk, actor=specialist, now=DAY1_10)
    clock = Clock.objects.get(policy__code="C8", object_id=complaint.pk)
    assert clock.due_at == DAY1_10 + timedelta(hours=24)
    assert clock.assignee == specialist
    report = complaint_report_issue(
        complaint_id=complaint.pk, actor=specialist, findings="核心交换机端口故障",
        actions_taken="已更换端口", now=DAY1_10 + timedelta(hours=23, minutes=59))
    clock = Clock.objects.get(pk=clock.pk)
    assert clock.state == ClockState.MET
    assert report.sequence == 1 and report.version == 1
    assert Complaint.objects.get(pk=complaint.pk).state == ComplaintState.REPORT_ISSUED
    assert clocks_sweep(now=DAY1_10 + timedelta(hours=25)).breached == []


def test_no_report_by_1000_day_2_breaches_and_notifies_manager_once(complaint, specialist, manager):
    complaint_accept(complaint_id=complaint.pk, actor=specialist, now=DAY1_10)
    assert clocks_sweep(now=DAY1_10 + timedelta(hours=23, minutes=59, seconds=59)).breached == []
    r = clocks_sweep(now=DAY1_10 + timedelta(hours=24))
    assert len(r.breached) == 1
    clocks_sweep(now=DAY1_10 + timedelta(hours=24, seconds=5))
    assert Notification.objects.filter(kind="clock_breach", recipient=manager).count() == 1
    assert Notification.objects.filter(kind="clock_warning", recipient=manager).count() == 1


def test_full_lifecycle_and_reopen(complaint, specialist):
    cid = complaint.pk
    complaint_accept(complaint_id=cid, actor=specialist, now=DAY1_10)
    complaint_investigate(complaint_id=cid, actor=specialist, now=DAY1_10)
    complaint_report_issue(complaint_id=cid, actor=specialist, findings="f", actions_taken="a", now=DAY1_10)
    complaint_resolve(complaint_id=cid, actor=specialist, now=DAY1_10)
    complaint_close(complaint_id=cid, actor=specialist, now=DAY1_10)
    c = complaint_reopen(complaint_id=cid, actor=specialist, reason="客户仍有问题", now=DAY1_10)
    assert c.state == ComplaintState.INVESTIGATING
    second = complaint_report_issue(complaint_id=cid, actor=specialist, findings="f2", actions_taken="a2",
                                    now=DAY1_10)
    assert second.sequence == 2
    actions = list(AuditEntry.objects.filter(object_id=cid, content_type__model="complaint")
                   .order_by("id").values_list("action", flat=True))
    assert actions[:6] == ["create", "accept", "investigate", "issue_report", "report", "resolve"]


def test_illegal_transition_refused_and_nothing_changes(complaint, specialist):
    with pytest.raises(ConflictError):
        complaint_resolve(complaint_id=complaint.pk, actor=specialist, now=DAY1_10)
    assert Complaint.objects.get(pk=complaint.pk).state == ComplaintState.RECEIVED
    assert not AuditEntry.objects.filter(action="resolve").exists()


def test_withdraw_cancels_the_clock(complaint, specialist, alice):
    complaint_accept(complaint_id=complaint.pk, actor=specialist, now=DAY1_10)
    complaint_withdraw(complaint_id=complaint.pk, actor=alice, reason="已解决", now=DAY1_10)
    assert Clock.objects.get(object_id=complaint.pk, policy__code="C8").state == ClockState.CANCELLED


def test_correction_is_a_new_version(complaint, specialist):
    complaint_accept(complaint_id=complaint.pk, actor=specialist, now=DAY1_10)
    first = complaint_report_issue(complaint_id=complaint.pk, actor=specialist, findings="f",
                                   actions_taken="a", now=DAY1_10)
    fixed = complaint_report_issue(complaint_id=complaint.pk, actor=specialist, findings="f (更正)",
                                   actions_taken="a", corrects=first, now=DAY1_10)
    assert (fixed.sequence, fixed.version, fixed.supersedes_id) == (1, 2, first.pk)
    with pytest.raises(ConflictError):
        complaint_report_issue(complaint_id=complaint.pk, actor=specialist, findings="x",
                               actions_taken="a", corrects=first, now=DAY1_10)
    with pytest.raises(ValueError):
        first.save()


def test_data_centre_staff_cannot_handle_complaints(complaint, dc_staff):
    from slaportal.errors import ForbiddenError

    with pytest.raises(ForbiddenError):
        complaint_accept(complaint_id=complaint.pk, actor=dc_staff, now=DAY1_10)
    assert Complaint.objects.get(pk=complaint.pk).state == ComplaintState.RECEIVED


def test_attachment_only_by_staff_or_own_customer(complaint, charlie, alice):
    import io

    from complaints.services import complaint_attach
    from slaportal.errors import ForbiddenError

    png = io.BytesIO(b"\x89PNG\r\n\x1a\n" + b"0" * 64)
    png.name = "shot.png"
    with pytest.raises(ForbiddenError):
        complaint_attach(complaint_id=complaint.pk, f=png, actor=charlie, now=DAY1_10)
    att = complaint_attach(complaint_id=complaint.pk, f=png, actor=alice, now=DAY1_10)
    assert att.original_name == "shot.png" and att.stored_name.endswith(".png")
