"""The complaint pages: lifecycle under time-machine (C8 met and breached), the customer's portal
(file, see own only, withdraw, reopen), another customer's user (404 everywhere), illegal moves
(a message, nothing changes), report and correction forms, downloads, constant query count."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.contrib.messages import ERROR, get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from audit.models import AuditEntry
from complaints.choices import ComplaintState
from complaints.models import Complaint
from complaints.services import complaint_accept, complaint_create, complaint_report_issue
from notifications.models import Notification
from reports.models import WrittenReport
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clocks_sweep

from .conftest import DAY1_10

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x01" * 32
DAY2_0959 = DAY1_10 + timedelta(hours=23, minutes=59)
DAY2_10 = DAY1_10 + timedelta(hours=24)


def login(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def u(name: str, *args: int) -> str:
    return reverse(f"complaints:{name}", args=args)


def state(pk: int) -> str:
    return Complaint.objects.values_list("state", flat=True).get(pk=pk)


def c8(pk: int) -> Clock:
    return Clock.objects.get(policy__code="C8", object_id=pk)


def error_messages(response) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(m) for m in get_messages(response.wsgi_request) if m.level == ERROR]


def staff_form(customer_id: int, **over):  # type: ignore[no-untyped-def]
    return {"customer": customer_id, "channel": "complaint_line", "subject": "network",
            "target": "provider", "title": "机房网络时断时续", "description": "3月1日晚网络多次中断。",
            "complainant_name": "王经理", "complainant_email": "wang@alpha.test", **over}


# --- Lifecycle and the 24-hour promise -------------------------------------------------------

def test_full_lifecycle_through_the_pages_report_at_0959_day_2_meets_c8(service_a, specialist, alice):
    client = login(specialist)
    with time_machine.travel(DAY1_10, tick=False) as traveller:
        r = client.post(u("create"), staff_form(service_a.customer_id,
                                                attachments=SimpleUploadedFile("现场照片.png", PNG)))
        assert r.status_code == 302, r.context["form"].errors if r.context else r
        c = Complaint.objects.get()
        assert r["Location"] == u("detail", c.pk)
        assert (c.channel, c.state, c.received_at) == ("complaint_line", "received", DAY1_10)
        assert c.attachments.get().original_name == "现场照片.png"

        page = client.get(u("detail", c.pk))
        assert page.status_code == 200
        assert [a for a, _label in page.context["actions"]] == ["accept", "withdraw"]

        assert client.post(u("accept", c.pk), {"reason": ""}).status_code == 302
        assert state(c.pk) == ComplaintState.ACCEPTED
        page = client.get(u("detail", c.pk))
        assert "2026-03-03 10:00" in page.content.decode()  # the C8 deadline is shown
        assert page.context["clock"].state == ClockState.RUNNING
        client.post(u("investigate", c.pk))

        traveller.move_to(DAY2_0959)
        assert client.get(u("report_create", c.pk)).status_code == 200
        r = client.post(u("report_create", c.pk), {"findings": "核心交换机端口故障",
                                                   "actions_taken": "已更换端口",
                                                   "next_steps": "观察一周", "expected_resolution": "3天内"})
        assert r.status_code == 302
        assert c8(c.pk).state == ClockState.MET
        assert state(c.pk) == ComplaintState.REPORT_ISSUED
        report = WrittenReport.objects.get()
        assert report.issued_at == DAY2_0959

        traveller.move_to(DAY2_10 + timedelta(minutes=1))
        assert clocks_sweep().breached == []

        for action, expected in (("resolve", "resolved"), ("close", "closed")):
            assert client.post(u(action, c.pk)).status_code == 302
            assert state(c.pk) == expected
        # The customer reopens their own closed complaint, with a reason.
        assert login(alice).post(u("reopen", c.pk), {"reason": "问题再次出现"}).status_code == 302
        assert state(c.pk) == ComplaintState.INVESTIGATING

    page = client.get(u("detail", c.pk))
    body = page.content.decode()
    assert report.number in body and u("report_pdf", c.pk, report.pk) in body
    assert [e.action for e in page.context["audit"]][::-1][:8] == [
        "create", "accept", "investigate", "issue_report", "report", "resolve", "close", "reopen"]


def test_no_report_by_1000_day_2_is_breached_by_the_sweep_and_manager_notified_once(
        complaint, specialist, manager):
    client = login(specialist)
    with time_machine.travel(DAY1_10, tick=False) as traveller:
        client.post(u("accept", complaint.pk))
        traveller.move_to(DAY2_10 - timedelta(seconds=1))
        assert clocks_sweep().breached == []
        traveller.move_to(DAY2_10)
        assert len(clocks_sweep().breached) == 1
        traveller.move_to(DAY2_10 + timedelta(minutes=10))
        assert clocks_sweep().breached == []
        page = client.get(u("list"), {"overdue": "true"})
        assert [c.pk for c in page.context["page"].object_list] == [complaint.pk]
        detail = client.get(u("detail", complaint.pk))
        assert detail.context["clock"].state == ClockState.BREACHED
    assert Notification.objects.filter(kind="clock_breach", recipient=manager).count() == 1


# --- Customers and tenant isolation ----------------------------------------------------------

def test_customer_files_a_complaint_in_the_portal(alice, customer_a, service_a):
    client = login(alice)
    form = client.get(u("create"))
    assert form.status_code == 200 and "customer" not in form.context["form"].fields
    r = client.post(u("create"), {"complainant_name": "Alice", "complainant_email": "alice@alpha.test",
                                  "subject": "tech_support", "target": "employee",
                                  "target_employee": "张工", "title": "技术支持响应慢",
                                  "description": "两天没有答复。"})
    assert r.status_code == 302
    c = Complaint.objects.get()
    assert (c.customer_id, c.channel, c.target_employee) == (customer_a.pk, "portal", "张工")


def test_form_errors_from_the_service_are_shown_and_nothing_is_saved(alice, service_a, specialist):
    # Naming the employee is the model's rule; spam needs an e-mail service (the service's rule).
    r = login(alice).post(u("create"), {"complainant_name": "A", "subject": "network", "target": "employee",
                                        "title": "t", "description": "d"})
    assert r.status_code == 200 and r.context["form"].errors.get("target_employee")
    r = login(specialist).post(u("create"), staff_form(service_a.customer_id, subject="spam"))
    assert r.status_code == 200 and r.context["form"].errors.get("subject")
    r = login(alice).post(u("create"), {"complainant_name": "A", "subject": "network", "target": "provider",
                                        "title": "t", "description": "d",
                                        "attachments": SimpleUploadedFile("x.png", b"MZ\x90\x00 exe")})
    assert r.status_code == 200 and r.context["form"].non_field_errors()
    assert not Complaint.objects.exists()


def test_customer_sees_only_their_own_complaints(alice, charlie, specialist, service_a):
    mine = complaint_create(customer=service_a.customer, actor=specialist, channel="email",
                            subject="network", title="mine", description="d", complainant_name="x")
    theirs = complaint_create(customer=charlie.customer_link.customer, actor=specialist, channel="email",
                              subject="network", title="theirs", description="d", complainant_name="y")
    page = login(alice).get(u("list"))
    assert [c.pk for c in page.context["page"].object_list] == [mine.pk]
    page = login(specialist).get(u("list"))
    assert {c.pk for c in page.context["page"].object_list} == {mine.pk, theirs.pk}
    page = login(specialist).get(u("list"), {"customer": charlie.customer_link.customer_id})
    assert [c.pk for c in page.context["page"].object_list] == [theirs.pk]


def test_customer_may_withdraw_but_not_accept(complaint, alice):
    client = login(alice)
    page = client.get(u("detail", complaint.pk))
    assert [a for a, _label in page.context["actions"]] == ["withdraw"]
    assert not page.context["can_report"]
    assert client.post(u("accept", complaint.pk)).status_code == 403
    assert client.get(u("report_create", complaint.pk)).status_code == 403
    assert state(complaint.pk) == ComplaintState.RECEIVED
    assert client.post(u("withdraw", complaint.pk), {"reason": "已解决"}).status_code == 302
    assert state(complaint.pk) == ComplaintState.WITHDRAWN


def test_another_customers_user_gets_404_on_the_complaint_its_reports_and_its_pdf(
        complaint, specialist, charlie):
    complaint_accept(complaint_id=complaint.pk, actor=specialist)
    report = complaint_report_issue(complaint_id=complaint.pk, actor=specialist, findings="f",
                                    actions_taken="a")
    login(specialist).post(u("attachment_upload", complaint.pk), {"file": SimpleUploadedFile("a.png", PNG)})
    att = complaint.attachments.get()
    client = login(charlie)
    cid = complaint.pk
    for path in (u("detail", cid), u("report_pdf", cid, report.pk), u("report_create", cid),
                 u("report_correct", cid, report.pk), u("attachment_download", cid, att.pk)):
        assert client.get(path).status_code == 404, path
    for action in ("accept", "investigate", "resolve", "close", "reopen", "withdraw"):
        assert client.post(u(action, cid), {"reason": "x"}).status_code == 404
    assert client.post(u("attachment_upload", cid), {"file": SimpleUploadedFile("b.png", PNG)}).status_code == 404
    assert list(client.get(u("list")).context["page"].object_list) == []
    assert state(cid) == ComplaintState.REPORT_ISSUED and complaint.attachments.count() == 1


def test_anonymous_is_sent_to_login(complaint):
    r = Client().get(u("detail", complaint.pk))
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]


# --- Illegal moves and reasons ---------------------------------------------------------------

def test_illegal_transition_is_a_message_and_nothing_changes(complaint, specialist):
    audit_before = AuditEntry.objects.count()
    r = login(specialist).post(u("resolve", complaint.pk), follow=True)
    assert r.status_code == 200
    assert len(error_messages(r)) == 1
    assert state(complaint.pk) == ComplaintState.RECEIVED
    assert AuditEntry.objects.count() == audit_before


def test_reopen_without_a_reason_is_a_form_error(complaint, specialist):
    cid = complaint.pk
    complaint_accept(complaint_id=cid, actor=specialist)
    complaint_report_issue(complaint_id=cid, actor=specialist, findings="f", actions_taken="a")
    client = login(specialist)
    client.post(u("resolve", cid))
    r = client.post(u("reopen", cid), {"reason": "  "})
    assert r.status_code == 400
    assert r.context["reason_form"].errors.get("reason")
    assert state(cid) == ComplaintState.RESOLVED


# --- Reports and downloads -------------------------------------------------------------------

def test_report_pdf_download_and_correction(complaint, specialist, alice):
    cid = complaint.pk
    complaint_accept(complaint_id=cid, actor=specialist)
    client = login(specialist)
    r = client.post(u("report_create", cid), {"findings": "", "actions_taken": ""})
    assert r.status_code == 400 and not WrittenReport.objects.exists()
    client.post(u("report_create", cid), {"findings": "端口故障", "actions_taken": "已更换"})
    first = WrittenReport.objects.get()

    pdf = login(alice).get(u("report_pdf", cid, first.pk))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"] == f'attachment; filename="{first.number}.pdf"'
    assert hashlib.sha256(b"".join(pdf.streaming_content)).hexdigest() == first.sha256

    form = client.get(u("report_correct", cid, first.pk))
    assert form.context["form"].initial["findings"] == "端口故障"
    assert client.post(u("report_correct", cid, first.pk), {"findings": "端口故障（更正）",
                                                            "actions_taken": "已更换"}).status_code == 302
    fixed = WrittenReport.objects.exclude(pk=first.pk).get()
    assert (fixed.sequence, fixed.version, fixed.supersedes_id) == (1, 2, first.pk)
    # Correcting the old version again is refused with a message; nothing new is issued.
    r = client.post(u("report_correct", cid, first.pk), {"findings": "x", "actions_taken": "y"}, follow=True)
    assert error_messages(r)
    assert WrittenReport.objects.count() == 2
    page = client.get(u("detail", cid))
    current = {r.pk: r.current for r in page.context["reports"]}
    assert current == {first.pk: False, fixed.pk: True}


def test_attachment_download_is_an_attachment(complaint, alice):
    client = login(alice)
    assert client.post(u("attachment_upload", complaint.pk),
                       {"file": SimpleUploadedFile("截图.png", PNG)}).status_code == 302
    att = complaint.attachments.get()
    assert att.stored_name != "截图.png" and att.file.name.endswith(".png")
    r = client.get(u("attachment_download", complaint.pk, att.pk))
    assert r.status_code == 200 and r["Content-Disposition"].startswith("attachment;")
    assert b"".join(r.streaming_content) == PNG


# --- Constant query count --------------------------------------------------------------------

def _complaints(customer, actor, n: int) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        c = complaint_create(customer=customer, actor=actor, channel="email", subject="network",
                             title=f"c{i}", description="d", complainant_name=f"p{i}")
        if i % 2 == 0:
            complaint_accept(complaint_id=c.pk, actor=actor)


@pytest.mark.parametrize("who", ["specialist", "alice"])
def test_list_page_query_count_is_constant(who, service_a, specialist, alice):
    client = login({"specialist": specialist, "alice": alice}[who])
    _complaints(service_a.customer, specialist, 3)
    client.get(u("list"))  # warm caches (content types)

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(u("list"))
        assert r.status_code == 200
        return len(ctx.captured_queries), len(r.context["page"].object_list)

    few, rows_few = count()
    _complaints(service_a.customer, specialist, 27)
    many, rows_many = count()
    assert (rows_few, rows_many) == (3, 30)
    assert few == many, f"{few} queries for 3 complaints, {many} for 30"


# --- Admin: read-mostly ----------------------------------------------------------------------

def test_admin_shows_complaints_but_never_edits_the_state(complaint, specialist):
    from django.contrib.auth import get_user_model

    from tests.factories import StaffFactory

    admin_user = get_user_model().objects.create_superuser("root", "root@example.test", "pw-for-tests-1")
    client = login(admin_user)
    assert client.get(reverse("admin:complaints_complaint_changelist")).status_code == 200
    change_url = reverse("admin:complaints_complaint_change", args=[complaint.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    assert list(page.context["adminform"].form.fields) == ["specialist"]
    assert client.get(reverse("admin:complaints_complaint_add")).status_code == 403
    other = StaffFactory(role="specialist", username="sue")
    r = client.post(change_url, {"specialist": other.pk, "state": "closed",
                                 "attachments-TOTAL_FORMS": "0", "attachments-INITIAL_FORMS": "0"})
    assert r.status_code == 302
    c = Complaint.objects.get(pk=complaint.pk)
    assert (c.specialist_id, c.state) == (other.pk, ComplaintState.RECEIVED)
    assert AuditEntry.objects.filter(object_id=c.pk, action="change", actor=admin_user).exists()
