"""At the door: only listed visitors get in, with a pass number and a checked ID document;
overstays and visits never checked out are flagged to staff."""

from datetime import timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from access_requests.choices import VisitState
from access_requests.models import Visit, Visitor
from access_requests.services import (
    visitor_check_in,
    visitor_check_out,
    visits_flag_open_at_day_end,
    visits_flag_overstays,
)
from audit.models import AuditEntry
from notifications.models import Notification
from slaportal.errors import ConflictError, DomainError, ForbiddenError

from .conftest import ENTRY, EXIT, book

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_visit(alice, customer_a, room):
    return book(customer_a, alice, room, entry=ENTRY + timedelta(days=1), exit_=EXIT + timedelta(days=1))


def test_unlisted_visitor_cannot_be_checked_in(approved, other_visit, dc_staff):
    stranger = other_visit.visitors.first()
    before = AuditEntry.objects.count()
    with pytest.raises(DomainError) as e:
        visitor_check_in(visit_id=approved.pk, visitor_id=stranger.pk, actor=dc_staff, pass_number="P-9",
                         id_document_confirmed=True, now=ENTRY)
    assert e.value.code == "not_listed"
    assert Visit.objects.get(pk=approved.pk).state == VisitState.APPROVED
    assert Visitor.objects.get(pk=stranger.pk).entered_at is None
    assert AuditEntry.objects.count() == before


def test_api_unlisted_visitor_is_refused(approved, other_visit, dc_staff):
    c = APIClient()
    c.force_authenticate(dc_staff)
    r = c.post(f"/api/visits/{approved.pk}/check-in/",
               {"visitor": other_visit.visitors.first().pk, "pass_number": "P-9", "id_document_confirmed": True},
               format="json")
    assert r.status_code == 400 and "visitor" in r.json()["errors"]
    assert Visit.objects.get(pk=approved.pk).state == VisitState.APPROVED


def test_check_in_needs_the_pass_number_and_the_id_check(approved, dc_staff):
    p = approved.visitors.first()
    with pytest.raises(DomainError) as e:
        visitor_check_in(visit_id=approved.pk, visitor_id=p.pk, actor=dc_staff, pass_number="",
                         id_document_confirmed=False, now=ENTRY)
    assert set(e.value.field_errors) == {"pass_number", "id_document_confirmed"}
    person = visitor_check_in(visit_id=approved.pk, visitor_id=p.pk, actor=dc_staff, pass_number="P-001",
                              id_document_confirmed=True, now=ENTRY)
    assert person.entered_at == ENTRY and person.pass_number == "P-001" and person.id_checked_by == dc_staff
    v = Visit.objects.get(pk=approved.pk)
    assert v.state == VisitState.CHECKED_IN and v.checked_in_at == ENTRY
    with pytest.raises(ConflictError):
        visitor_check_in(visit_id=approved.pk, visitor_id=p.pk, actor=dc_staff, pass_number="P-001",
                         id_document_confirmed=True, now=ENTRY)


def test_a_requested_visit_cannot_be_checked_in_and_only_security_checks_in(visit, approved, manager):
    p = approved.visitors.first()
    with pytest.raises(ForbiddenError):
        visitor_check_in(visit_id=approved.pk, visitor_id=p.pk, actor=manager, pass_number="P",
                         id_document_confirmed=True, now=ENTRY)


def test_requested_visit_check_in_conflicts(visit, dc_staff):
    p = visit.visitors.first()
    with pytest.raises(ConflictError):
        visitor_check_in(visit_id=visit.pk, visitor_id=p.pk, actor=dc_staff, pass_number="P",
                         id_document_confirmed=True, now=ENTRY)
    assert Visitor.objects.get(pk=p.pk).entered_at is None


def _enter_all(visit, dc_staff, at):
    for i, p in enumerate(visit.visitors.all()):
        visitor_check_in(visit_id=visit.pk, visitor_id=p.pk, actor=dc_staff, pass_number=f"P-{i}",
                         id_document_confirmed=True, now=at)


def test_overstay_is_flagged_once_to_staff(approved, dc_staff):
    _enter_all(approved, dc_staff, ENTRY)
    assert visits_flag_overstays(now=EXIT) == []
    assert visits_flag_overstays(now=EXIT + timedelta(minutes=1)) == [approved.pk]
    assert visits_flag_overstays(now=EXIT + timedelta(hours=1)) == []
    v = Visit.objects.get(pk=approved.pk)
    assert v.overstay_flagged_at == EXIT + timedelta(minutes=1)
    n = Notification.objects.get(kind="visit_overstay", recipient=dc_staff)
    assert v.number in n.subject and "张三" in n.body
    assert AuditEntry.objects.filter(object_id=v.pk, action="overstay").count() == 1


def test_no_overstay_when_everyone_left(approved, dc_staff):
    _enter_all(approved, dc_staff, ENTRY)
    visitor_check_out(visit_id=approved.pk, actor=dc_staff, now=EXIT - timedelta(minutes=5))
    assert visits_flag_overstays(now=EXIT + timedelta(hours=1)) == []
    assert Visit.objects.get(pk=approved.pk).state == VisitState.CHECKED_OUT


def test_visit_never_checked_out_is_flagged_at_day_end(approved, dc_staff):
    _enter_all(approved, dc_staff, ENTRY)
    assert visits_flag_open_at_day_end(now=ENTRY + timedelta(hours=12)) == [approved.pk]
    assert visits_flag_open_at_day_end(now=ENTRY + timedelta(hours=13)) == []
    assert Notification.objects.filter(kind="visit_not_checked_out", recipient=dc_staff).count() == 1


def test_door_lookup_by_number_and_visitor_name(approved, visit, dc_staff, manager):
    c = APIClient()
    c.force_authenticate(dc_staff)
    r = c.get("/api/visits/door-lookup/", {"q": approved.number})
    assert [x["id"] for x in r.json()] == [approved.pk]
    r = c.get("/api/visits/door-lookup/", {"q": "李四"})
    assert [x["id"] for x in r.json()] == [approved.pk]
    assert c.get("/api/visits/door-lookup/", {"q": "赵六"}).json() == []
    c.force_authenticate(manager)
    assert c.get("/api/visits/door-lookup/", {"q": "李四"}).status_code == 403


def test_door_page_flow(approved, dc_staff, client):
    # At the door at the booked entry time (inside the check-in window; tests/access_requests/
    # test_checkin_window.py covers check-in outside it).
    with time_machine.travel(ENTRY, tick=False):
        _door_page_flow(approved, dc_staff, client)


def _door_page_flow(approved, dc_staff, client):
    client.force_login(dc_staff)
    r = client.get("/visits/door/", {"q": approved.number})
    assert r.status_code == 302 and r["Location"].endswith(f"/visits/{approved.pk}/door/")
    p = approved.visitors.first()
    r = client.post(f"/visits/{approved.pk}/door/check-in/", {"visitor": p.pk, "pass_number": ""})
    assert r.status_code == 400
    r = client.post(f"/visits/{approved.pk}/door/check-in/",
                    {"visitor": p.pk, "pass_number": "P-7", "id_document_confirmed": "on"})
    assert r.status_code == 302
    assert Visitor.objects.get(pk=p.pk).pass_number == "P-7"
    r = client.post(f"/visits/{approved.pk}/door/check-out/", {})
    assert Visit.objects.get(pk=approved.pk).state == VisitState.CHECKED_OUT
