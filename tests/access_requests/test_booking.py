"""Booking: the lead time, emergencies, who may book for whom."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from access_requests.choices import VisitState
from access_requests.models import Visit, Visitor
from audit.models import AuditEntry
from slaportal.errors import DomainError, ForbiddenError
from tests import factories as f

from .conftest import FULL_ID, NOW, book

pytestmark = pytest.mark.django_db


def test_booking_inside_the_lead_time_is_refused(alice, customer_a, room):
    entry = NOW + timedelta(hours=23, minutes=59)
    with pytest.raises(DomainError) as e:
        book(customer_a, alice, room, entry=entry, exit_=entry + timedelta(hours=2))
    assert "expected_entry_at" in e.value.field_errors
    assert not Visit.objects.exists() and not Visitor.objects.exists()


def test_booking_exactly_at_the_lead_time_is_accepted(alice, customer_a, room):
    entry = NOW + timedelta(hours=24)
    v = book(customer_a, alice, room, entry=entry, exit_=entry + timedelta(hours=2))
    assert v.state == VisitState.REQUESTED and not v.emergency
    assert v.number.startswith("JF") and v.visitors.count() == 2
    assert AuditEntry.objects.filter(object_id=v.pk, action="create").exists()


def test_emergency_needs_a_reason_and_is_flagged(alice, customer_a, room):
    entry = NOW + timedelta(hours=2)
    with pytest.raises(DomainError) as e:
        book(customer_a, alice, room, entry=entry, exit_=entry + timedelta(hours=2), emergency=True)
    assert "emergency_reason" in e.value.field_errors
    v = book(customer_a, alice, room, entry=entry, exit_=entry + timedelta(hours=2), emergency=True,
             emergency_reason="核心交换机宕机，需立即更换板卡")
    assert v.emergency and v.emergency_reason


def test_lead_time_is_configurable(alice, customer_a, room, settings):
    settings.VISIT_LEAD_TIME_HOURS = 48
    entry = NOW + timedelta(hours=30)
    with pytest.raises(DomainError):
        book(customer_a, alice, room, entry=entry, exit_=entry + timedelta(hours=1))


def test_exit_must_follow_entry_and_a_visitor_is_required(alice, customer_a, room):
    from access_requests.services import visit_book

    entry = NOW + timedelta(days=2)
    with pytest.raises(DomainError) as e:
        book(customer_a, alice, room, entry=entry, exit_=entry)
    assert "expected_exit_at" in e.value.field_errors
    with pytest.raises(DomainError) as e:
        visit_book(customer=customer_a, actor=alice, room=room, reason="r", activity="tour",
                   expected_entry_at=entry, expected_exit_at=entry + timedelta(hours=1), visitors=[],
                   now=NOW)
    assert "visitors" in e.value.field_errors


def test_customer_cannot_book_for_another_customer(charlie, customer_a, room):
    with pytest.raises(ForbiddenError):
        book(customer_a, charlie, room)
    assert not Visit.objects.exists()




def _payload(room, entry, **extra):
    return {"room": room.pk, "reason": "巡检", "activity": "tour",
            "expected_entry_at": entry.isoformat(), "expected_exit_at": (entry + timedelta(hours=1)).isoformat(),
            "visitors": [{"name": "张三", "id_type": "resident_id", "id_number": FULL_ID}], **extra}


def test_api_refuses_inside_the_lead_time_unless_emergency(alice, room):
    from django.utils import timezone

    c = APIClient()
    c.force_authenticate(alice)
    entry = timezone.now() + timedelta(hours=3)
    r = c.post("/api/visits/", _payload(room, entry), format="json")
    assert r.status_code == 400 and "expected_entry_at" in r.json()["errors"]
    r = c.post("/api/visits/", _payload(room, entry, emergency=True, emergency_reason="断电"), format="json")
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["emergency"] is True and body["state"] == "requested"
    assert body["visitors"][0]["id_number"] == "11**************34"
    assert FULL_ID not in r.content.decode()
    assert body["contact_email"] == alice.email



def test_staff_books_for_a_customer_other_activity_needs_text(specialist, customer_a, room):
    f.AuthorizedContactFactory(customer=customer_a, name="王经理", email="wang@alpha.test")
    with pytest.raises(DomainError) as e:
        book(customer_a, specialist, room, activity="other")
    assert "activity_other" in e.value.field_errors
    v = book(customer_a, specialist, room, activity="other", activity_other="拍摄资产照片")
    assert v.customer == customer_a and v.requested_by == specialist
    assert v.contact_name == "王经理" and v.contact_email == "ops@alpha.test"  # named on the booking
    assert v.activity_display.endswith("拍摄资产照片")
