"""The complaints API: lifecycle under time-machine, C8 met and breached, tenant isolation (404),
roles (403), illegal transitions (409, nothing changes), reports and their PDFs, attachments,
constant query count, two concurrent transitions, and the report e-mail with its PDF."""

from __future__ import annotations

import hashlib
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEntry
from complaints.choices import ComplaintState
from complaints.models import Complaint
from complaints.services import complaint_accept, complaint_create, complaint_report_issue
from notifications.models import Notification
from notifications.services import notification_send
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clocks_sweep
from slaportal.errors import ConflictError
from tests import factories as f

from .conftest import DAY1_10

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
DAY2_0959 = DAY1_10 + timedelta(hours=23, minutes=59)
DAY2_10 = DAY1_10 + timedelta(hours=24)


def api(user=None) -> APIClient:  # type: ignore[no-untyped-def]
    c = APIClient()
    if user is not None:
        c.force_authenticate(user)
    return c


def url(name: str, *args: int) -> str:
    return reverse(name, args=args)


def c8(complaint_id: int) -> Clock:
    return Clock.objects.get(policy__code="C8", object_id=complaint_id)


def state(complaint_id: int) -> str:
    return Complaint.objects.values_list("state", flat=True).get(pk=complaint_id)


def new_payload(customer_id: int, **over):  # type: ignore[no-untyped-def]
    return {"customer": customer_id, "channel": "complaint_line", "subject": "network",
            "title": "机房网络时断时续", "description": "3月1日晚网络多次中断。",
            "complainant_name": "王经理", "complainant_email": "wang@alpha.test", **over}


# --- Lifecycle and the 24-hour promise -------------------------------------------------------

def test_full_lifecycle_through_the_api_report_at_0959_day_2_meets_c8(service_a, specialist, manager):
    client = api(specialist)
    with time_machine.travel(DAY1_10, tick=False) as traveller:
        r = client.post(url("api-complaint-list"), new_payload(service_a.customer_id), format="json")
        assert r.status_code == 201, r.data
        cid = r.data["id"]
        assert r.data["state"] == "received" and r.data["number"].startswith("TS20260302-")
        assert r.data["specialist"]["id"] == specialist.pk  # the customer's specialist by default

        r = client.post(url("api-complaint-accept", cid), {}, format="json")
        assert r.status_code == 200, r.data
        assert r.data["state"] == "accepted"
        assert r.data["first_report_clock_state"] == "running"
        assert c8(cid).due_at == DAY2_10

        assert client.post(url("api-complaint-investigate", cid), {}).data["state"] == "investigating"

        traveller.move_to(DAY2_0959)
        r = client.post(url("api-complaint-reports", cid), {
            "findings": "核心交换机端口故障", "actions_taken": "已更换端口",
            "next_steps": "观察一周", "expected_resolution": "2026-03-05"}, format="json")
        assert r.status_code == 201, r.data
        assert (r.data["sequence"], r.data["version"], r.data["corrects"]) == (1, 1, None)
        first_report = r.data
        clock = c8(cid)
        assert clock.state == ClockState.MET and clock.met_at == DAY2_0959
        assert state(cid) == ComplaintState.REPORT_ISSUED

        # The promise was kept: the sweep at the deadline and after finds nothing.
        traveller.move_to(DAY2_10 + timedelta(hours=1))
        assert clocks_sweep().breached == []

        pdf = client.get(first_report["pdf_url"])
        assert pdf.status_code == 200
        assert pdf["Content-Type"] == "application/pdf"
        assert pdf["Content-Disposition"].startswith("attachment;")
        body = b"".join(pdf.streaming_content)
        assert body.startswith(b"%PDF-") and hashlib.sha256(body).hexdigest() == first_report["sha256"]

        for action, expected in (("resolve", "resolved"), ("close", "closed")):
            r = client.post(url(f"api-complaint-{action}", cid), {}, format="json")
            assert r.status_code == 200 and r.data["state"] == expected

        r = client.post(url("api-complaint-reopen", cid), {"reason": "客户反映问题再次出现"}, format="json")
        assert r.status_code == 200 and r.data["state"] == "investigating"
        r = client.post(url("api-complaint-reports", cid), {"findings": "光模块老化",
                                                            "actions_taken": "更换光模块"}, format="json")
        assert r.status_code == 201 and r.data["sequence"] == 2
        assert client.post(url("api-complaint-resolve", cid), {}).data["state"] == "resolved"
        assert client.post(url("api-complaint-close", cid), {}).data["state"] == "closed"

    detail = client.get(url("api-complaint-detail", cid)).data
    assert [(x["sequence"], x["version"]) for x in detail["reports"]] == [(1, 1), (2, 1)]
    assert detail["first_report_at"] is not None
    assert Notification.objects.filter(kind="clock_breach").count() == 0


def test_no_report_by_1000_day_2_is_breached_by_the_sweep_and_manager_notified_once(
        complaint, specialist, manager):
    client = api(specialist)
    with time_machine.travel(DAY1_10, tick=False) as traveller:
        assert client.post(url("api-complaint-accept", complaint.pk), {}).status_code == 200
        traveller.move_to(DAY2_10 - timedelta(seconds=1))
        assert clocks_sweep().breached == []
        assert client.get(url("api-complaint-list"), {"overdue": "true"}).data["count"] == 0

        traveller.move_to(DAY2_10)
        assert clocks_sweep().breached == [c8(complaint.pk).pk]
        traveller.move_to(DAY2_10 + timedelta(minutes=5))
        assert clocks_sweep().breached == []  # a later sweep does not breach it again

        overdue = client.get(url("api-complaint-list"), {"overdue": "true"}).data
        assert [c["id"] for c in overdue["results"]] == [complaint.pk]
        assert overdue["results"][0]["first_report_clock_state"] == "breached"
        assert client.get(url("api-complaint-list"), {"overdue": "false"}).data["count"] == 0

    assert c8(complaint.pk).state == ClockState.BREACHED
    assert Notification.objects.filter(kind="clock_breach", recipient=manager).count() == 1


def test_illegal_transition_is_409_with_a_message_and_changes_nothing(complaint, specialist):
    audit_before = AuditEntry.objects.count()
    r = api(specialist).post(url("api-complaint-resolve", complaint.pk), {}, format="json")
    assert r.status_code == 409
    assert r.data["code"] == "conflict" and r.data["detail"]
    assert state(complaint.pk) == ComplaintState.RECEIVED
    assert AuditEntry.objects.count() == audit_before
    # Accepting twice: the second is refused, the clock is not started twice.
    assert api(specialist).post(url("api-complaint-accept", complaint.pk)).status_code == 200
    assert api(specialist).post(url("api-complaint-accept", complaint.pk)).status_code == 409
    assert Clock.objects.filter(policy__code="C8", object_id=complaint.pk).count() == 1


def test_reopen_needs_a_reason(complaint, specialist):
    cid = complaint.pk
    complaint_accept(complaint_id=cid, actor=specialist)
    complaint_report_issue(complaint_id=cid, actor=specialist, findings="f", actions_taken="a")
    api(specialist).post(url("api-complaint-resolve", cid))
    r = api(specialist).post(url("api-complaint-reopen", cid), {"reason": ""}, format="json")
    assert r.status_code == 400 and "reason" in r.data["errors"]
    assert state(cid) == ComplaintState.RESOLVED


# --- Customers, roles and tenant isolation ---------------------------------------------------

def test_customer_files_a_complaint_for_their_own_organisation_by_portal(alice, customer_a, charlie):
    r = api(alice).post(url("api-complaint-list"), {
        "channel": "complaint_line", "subject": "customer_service", "title": "客服不回电话",
        "description": "两天没有人回电话。"}, format="json")
    assert r.status_code == 201, r.data
    c = Complaint.objects.get(pk=r.data["id"])
    assert (c.customer_id, c.channel, c.created_by_id) == (customer_a.pk, "portal", alice.pk)
    assert c.complainant_name == (alice.get_full_name() or alice.username)
    assert c.complainant_email == alice.email
    # Another customer's id is "does not exist", exactly like an unknown id.
    other = charlie.customer_link.customer_id
    r = api(alice).post(url("api-complaint-list"), new_payload(other), format="json")
    assert r.status_code == 400 and "customer" in r.data["errors"]
    assert not Complaint.objects.filter(customer_id=other).exists()


def test_staff_must_name_the_customer_and_channel(specialist):
    r = api(specialist).post(url("api-complaint-list"), {"subject": "network", "title": "t",
                                                         "description": "d", "complainant_name": "x"})
    assert r.status_code == 400 and "customer" in r.data["errors"]


def test_spam_complaint_refused_for_a_customer_without_e_mail_service(service_a, specialist):
    r = api(specialist).post(url("api-complaint-list"), new_payload(service_a.customer_id, subject="spam"),
                             format="json")
    assert r.status_code == 400 and "subject" in r.data["errors"]
    assert not Complaint.objects.exists()


def test_customer_may_withdraw_and_reopen_own_but_not_accept(complaint, alice, specialist):
    r = api(alice).post(url("api-complaint-accept", complaint.pk))
    assert r.status_code == 403
    assert state(complaint.pk) == ComplaintState.RECEIVED
    r = api(alice).post(url("api-complaint-reports", complaint.pk), {"findings": "x", "actions_taken": "y"})
    assert r.status_code == 403
    complaint_accept(complaint_id=complaint.pk, actor=specialist)
    r = api(alice).post(url("api-complaint-withdraw", complaint.pk), {"reason": "问题已自行解决"})
    assert r.status_code == 200 and r.data["state"] == "withdrawn"
    assert c8(complaint.pk).state == ClockState.CANCELLED


def test_customer_reopens_own_resolved_complaint(complaint, alice, specialist):
    cid = complaint.pk
    complaint_accept(complaint_id=cid, actor=specialist)
    complaint_report_issue(complaint_id=cid, actor=specialist, findings="f", actions_taken="a")
    api(specialist).post(url("api-complaint-resolve", cid))
    r = api(alice).post(url("api-complaint-reopen", cid), {"reason": "还是断网"})
    assert r.status_code == 200 and r.data["state"] == "investigating"


def test_another_customers_user_gets_404_on_the_complaint_its_reports_and_its_pdf(
        complaint, specialist, charlie, alice):
    complaint_accept(complaint_id=complaint.pk, actor=specialist)
    report = complaint_report_issue(complaint_id=complaint.pk, actor=specialist, findings="f",
                                    actions_taken="a")
    att = api(specialist).post(url("api-complaint-attachments", complaint.pk),
                               {"file": _png("screen.png")}, format="multipart").data
    cid = complaint.pk
    client = api(charlie)
    assert client.get(url("api-complaint-list")).data["count"] == 0
    for path in (url("api-complaint-detail", cid), url("api-complaint-reports", cid),
                 url("api-complaint-report-pdf", cid, report.pk), url("api-complaint-attachments", cid),
                 url("api-complaint-attachment-download", cid, att["id"])):
        assert client.get(path).status_code == 404, path
    for action in ("accept", "investigate", "resolve", "close", "withdraw"):
        assert client.post(url(f"api-complaint-{action}", cid), {}).status_code == 404
    assert client.post(url("api-complaint-reopen", cid), {"reason": "x"}).status_code == 404
    assert client.post(url("api-complaint-reports", cid), {"findings": "f", "actions_taken": "a"}
                       ).status_code == 404
    assert client.post(url("api-complaint-attachments", cid), {"file": _png()},
                       format="multipart").status_code == 404
    assert state(cid) == ComplaintState.REPORT_ISSUED
    # The owner's user sees all of it.
    owner = api(alice)
    assert owner.get(url("api-complaint-detail", cid)).status_code == 200
    assert owner.get(url("api-complaint-report-pdf", cid, report.pk)).status_code == 200
    # A report id of another complaint through this complaint's URL is a 404 too.
    other = complaint_create(customer=complaint.customer, actor=specialist, channel="email",
                             subject="network", title="t", description="d", complainant_name="x")
    assert api(specialist).get(url("api-complaint-report-pdf", other.pk, report.pk)).status_code == 404


def test_anonymous_gets_nothing():
    assert api().get(url("api-complaint-list")).status_code in (401, 403)


# --- Reports and attachments -----------------------------------------------------------------

def test_correcting_a_report_makes_a_new_version(complaint, specialist):
    client = api(specialist)
    cid = complaint.pk
    client.post(url("api-complaint-accept", cid))
    first = client.post(url("api-complaint-reports", cid), {"findings": "f", "actions_taken": "a"}).data
    r = client.post(url("api-complaint-reports", cid),
                    {"findings": "f（更正）", "actions_taken": "a", "corrects": first["id"]}, format="json")
    assert r.status_code == 201
    assert (r.data["sequence"], r.data["version"], r.data["corrects"]) == (1, 2, first["id"])
    assert r.data["sha256"] != first["sha256"]
    again = client.post(url("api-complaint-reports", cid),
                        {"findings": "x", "actions_taken": "a", "corrects": first["id"]}, format="json")
    assert again.status_code == 409
    listed = client.get(url("api-complaint-reports", cid)).data
    assert [(x["sequence"], x["version"]) for x in listed] == [(1, 1), (1, 2)]
    assert client.post(url("api-complaint-reports", cid), {"findings": "x", "actions_taken": "a",
                                                           "corrects": 999999}).status_code == 400


def test_report_on_a_received_complaint_is_409(complaint, specialist):
    r = api(specialist).post(url("api-complaint-reports", complaint.pk), {"findings": "f", "actions_taken": "a"})
    assert r.status_code == 409
    assert api(specialist).get(url("api-complaint-reports", complaint.pk)).data == []


def _png(name: str = "a.png"):  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, PNG, content_type="image/png")


def test_attachment_upload_is_checked_by_content_and_downloaded_as_attachment(complaint, alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = api(alice)
    r = client.post(url("api-complaint-attachments", complaint.pk), {"file": _png("截图.png")},
                    format="multipart")
    assert r.status_code == 201, r.data
    assert r.data["content_type"] == "image/png" and r.data["sha256"] == hashlib.sha256(PNG).hexdigest()
    d = client.get(r.data["download_url"])
    assert d.status_code == 200 and d["Content-Disposition"].startswith("attachment;")
    assert d["Content-Type"] == "image/png"
    assert b"".join(d.streaming_content) == PNG
    # A script named .png is refused by its content.
    fake = SimpleUploadedFile("evil.png", b"<script>alert(1)</script>", content_type="image/png")
    r = client.post(url("api-complaint-attachments", complaint.pk), {"file": fake}, format="multipart")
    assert r.status_code == 400
    assert len(client.get(url("api-complaint-attachments", complaint.pk)).data) == 1


# --- Lists: filters, pagination, constant query count ----------------------------------------

def _complaints(customer, actor, n: int, **kw):  # type: ignore[no-untyped-def]
    out = []
    for i in range(n):
        c = complaint_create(customer=customer, actor=actor, channel="email", subject=kw.get("subject", "network"),
                             title=f"complaint {i}", description="d", complainant_name=f"p{i}")
        if i % 2 == 0:
            complaint_accept(complaint_id=c.pk, actor=actor)
        out.append(c)
    return out


def test_list_filters(service_a, specialist, charlie):
    other = charlie.customer_link.customer
    f.ServiceFactory(contract=f.ContractFactory(customer=other), kind="email", specialist=specialist)
    _complaints(service_a.customer, specialist, 3)
    _complaints(other, specialist, 2, subject="spam")
    client = api(specialist)
    get = lambda **q: client.get(url("api-complaint-list"), q).data  # noqa: E731
    assert get()["count"] == 5
    assert get(customer=other.pk)["count"] == 2
    assert get(subject="spam")["count"] == 2
    assert get(state="accepted")["count"] == 3
    assert get(state="received", customer=service_a.customer_id)["count"] == 1
    assert get(overdue="false")["count"] == 5
    assert client.get(url("api-complaint-list"), {"state": "nonsense"}).status_code == 400
    assert api(charlie).get(url("api-complaint-list")).data["count"] == 2


def test_list_is_paginated(service_a, specialist):
    _complaints(service_a.customer, specialist, 55)
    page1 = api(specialist).get(url("api-complaint-list")).data
    assert page1["count"] == 55 and len(page1["results"]) == 50 and page1["next"]
    page2 = api(specialist).get(page1["next"]).data
    assert len(page2["results"]) == 5


@pytest.mark.parametrize("who", ["specialist", "alice"])
def test_list_api_query_count_is_constant(who, service_a, specialist, alice):
    user = {"specialist": specialist, "alice": alice}[who]
    client = APIClient()
    client.force_login(user)
    _complaints(service_a.customer, specialist, 3)
    client.get(url("api-complaint-list"))  # warm caches (content types)

    def count() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(url("api-complaint-list"))
        assert r.status_code == 200
        return len(ctx.captured_queries), len(r.data["results"])

    few, rows_few = count()
    _complaints(service_a.customer, specialist, 27)
    many, rows_many = count()
    assert (rows_few, rows_many) == (3, 30)
    assert few == many, f"{few} queries for 3 complaints, {many} for 30"


# --- Two people at once ----------------------------------------------------------------------

@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_accepts_cannot_both_succeed(service_a, contact_a, specialist, manager):
    c = complaint_create(customer=contact_a.customer, actor=specialist, channel="complaint_line",
                         subject="network", title="并发", description="d", complainant_contact=contact_a)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(actor) -> None:  # type: ignore[no-untyped-def]
        try:
            barrier.wait()
            complaint_accept(complaint_id=c.pk, actor=actor)
            result = "ok"
        except ConflictError:
            result = "conflict"
        except BaseException as e:  # noqa: BLE001 - reported in the assertion
            result = repr(e)
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(u,)) for u in (specialist, manager)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["conflict", "ok"]
    assert state(c.pk) == ComplaintState.ACCEPTED
    assert Clock.objects.filter(policy__code="C8", object_id=c.pk).count() == 1
    assert AuditEntry.objects.filter(content_type__model="complaint", object_id=c.pk,
                                     action="accept").count() == 1


# --- The report reaches the complainant ------------------------------------------------------

def test_report_e_mail_to_the_complainant_carries_the_pdf(complaint, contact_a, specialist):
    client = api(specialist)
    client.post(url("api-complaint-accept", complaint.pk))
    report = client.post(url("api-complaint-reports", complaint.pk),
                         {"findings": "核心交换机端口故障", "actions_taken": "已更换端口"}).data
    row = Notification.objects.get(kind="complaint_report")
    assert row.address == contact_a.email == "wang@alpha.test"
    mail.outbox.clear()
    sent = notification_send(notification_id=row.pk)
    assert sent is not None and sent.status == "sent"
    assert len(mail.outbox) == 1
    msg = mail.outbox[0]
    assert msg.to == ["wang@alpha.test"]
    assert report["number"] in msg.subject
    [(name, content, mimetype)] = msg.attachments
    assert name == f"{report['number']}.pdf" and mimetype == "application/pdf"
    assert content.startswith(b"%PDF-") and hashlib.sha256(content).hexdigest() == report["sha256"]
    # Sending again sends nothing twice.
    assert notification_send(notification_id=row.pk) is None
    assert len(mail.outbox) == 1
