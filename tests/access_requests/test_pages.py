"""The pages: booking with visitors, the approver's form (with the escort overlap warning),
and the staff schedule per room."""

from datetime import timedelta

import pytest
from django.utils import timezone

from access_requests.choices import VisitState
from access_requests.models import Visit
from access_requests.services import visit_approve
from notifications.models import Notification

from .conftest import ENTRY, EXIT, FULL_ID, NOW, book

pytestmark = pytest.mark.django_db


def _dt(d):
    return timezone.localtime(d).strftime("%Y-%m-%dT%H:%M")


def test_customer_books_on_the_page(alice, room, client):
    client.force_login(alice)
    assert client.get("/visits/new/").status_code == 200
    entry = timezone.now() + timedelta(days=2)
    data = {"room": room.pk, "reason": "上架新服务器", "activity": "operation",
            "expected_entry_at": _dt(entry), "expected_exit_at": _dt(entry + timedelta(hours=2)),
            "needs_tools": "on", "tools_detail": "螺丝刀、网线钳",
            "visitors-TOTAL_FORMS": "2", "visitors-INITIAL_FORMS": "0", "visitors-MIN_NUM_FORMS": "1",
            "visitors-MAX_NUM_FORMS": "30",
            "visitors-0-name": "张三", "visitors-0-id_type": "resident_id", "visitors-0-id_number": FULL_ID,
            "visitors-1-name": "", "visitors-1-id_type": "resident_id", "visitors-1-id_number": ""}
    r = client.post("/visits/new/", data)
    assert r.status_code == 302, [x for x in r.content.decode().splitlines() if "error" in x]
    v = Visit.objects.get()
    assert v.needs_tools and v.tools_detail == "螺丝刀、网线钳" and v.visitors.count() == 1
    soon = dict(data, expected_entry_at=_dt(timezone.now() + timedelta(hours=2)),
                expected_exit_at=_dt(timezone.now() + timedelta(hours=4)))
    r = client.post("/visits/new/", soon)
    assert r.status_code == 400 and Visit.objects.count() == 1


def test_approver_page_warns_about_an_overlapping_escort(alice, customer_a, room, dc_staff, client):
    a = book(customer_a, alice, room)
    b = book(customer_a, alice, room, entry=ENTRY + timedelta(hours=1), exit_=EXIT + timedelta(hours=1))
    visit_approve(visit_id=a.pk, actor=dc_staff, escort=dc_staff, now=NOW)
    client.force_login(dc_staff)
    r = client.post(f"/visits/{b.pk}/approve/", {"escort": dc_staff.pk})
    assert r.status_code == 409 and a.number in r.content.decode()
    assert Visit.objects.get(pk=b.pk).state == VisitState.REQUESTED
    r = client.post(f"/visits/{b.pk}/approve/", {"escort": dc_staff.pk, "allow_escort_overlap": "on"})
    assert r.status_code == 302
    assert Visit.objects.get(pk=b.pk).state == VisitState.APPROVED
    assert Notification.objects.filter(kind="visit_approved").count() == 2
    r = client.get("/visits/schedule/", {"start": timezone.localdate(ENTRY).isoformat()})
    body = r.content.decode()
    assert r.status_code == 200 and a.number in body and b.number in body
    assert body.count('class="pill overdue">') >= 2  # both visits marked as a double booking


def test_customer_sees_no_staff_pages(alice, client, visit):
    client.force_login(alice)
    assert client.get("/visits/schedule/").status_code == 403
    assert client.get("/visits/door/").status_code == 403
    assert client.post(f"/visits/{visit.pk}/approve/", {}).status_code == 403
    assert visit.number in client.get("/visits/").content.decode()
