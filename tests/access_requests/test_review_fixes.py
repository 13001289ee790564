"""Found in review: lead time on the customer's own change; boundaries checked on the way."""

from datetime import timedelta

import pytest

from access_requests.models import mask_id_number
from access_requests.services import (
    visit_approve,
    visit_change,
    visitor_check_in,
    visitor_check_out,
    visits_flag_open_at_day_end,
    visits_flag_overstays,
    visits_mark_no_shows,
)
from slaportal.errors import ConflictError, DomainError

from .conftest import ENTRY, EXIT, NOW, book

pytestmark = pytest.mark.django_db


def test_customer_cannot_move_a_request_inside_the_lead_time(visit, alice):
    with pytest.raises(DomainError) as e:
        visit_change(visit_id=visit.pk, actor=alice, expected_entry_at=NOW + timedelta(hours=2),
                     expected_exit_at=NOW + timedelta(hours=3), now=NOW)
    assert "expected_entry_at" in e.value.field_errors
    visit.refresh_from_db()
    assert visit.expected_entry_at == ENTRY


def test_customer_may_move_a_request_to_exactly_the_lead_time_or_an_emergency_sooner(
        visit, alice, customer_a, room):
    v = visit_change(visit_id=visit.pk, actor=alice, expected_entry_at=NOW + timedelta(hours=24),
                     expected_exit_at=NOW + timedelta(hours=26), now=NOW)
    assert v.expected_entry_at == NOW + timedelta(hours=24)
    urgent = book(customer_a, alice, room, entry=NOW + timedelta(hours=5), exit_=NOW + timedelta(hours=6),
                  emergency=True, emergency_reason="硬盘故障")
    v = visit_change(visit_id=urgent.pk, actor=alice, expected_entry_at=NOW + timedelta(hours=2),
                     expected_exit_at=NOW + timedelta(hours=3), now=NOW)
    assert v.expected_entry_at == NOW + timedelta(hours=2)


def test_escort_visits_touching_at_the_boundary_do_not_overlap(alice, customer_a, room, dc_staff):
    a = book(customer_a, alice, room)
    b = book(customer_a, alice, room, entry=EXIT, exit_=EXIT + timedelta(hours=2))
    visit_approve(visit_id=a.pk, actor=dc_staff, escort=dc_staff, now=NOW)
    visit_approve(visit_id=b.pk, actor=dc_staff, escort=dc_staff, now=NOW)


@pytest.mark.parametrize("raw", ["1", "12", "123", "1234"])
def test_very_short_id_numbers_are_fully_masked(raw):
    assert mask_id_number(raw) == "*" * len(raw)


def test_door_twice_out_before_in_and_the_periodic_flags_are_idempotent(approved, dc_staff):
    p1, p2 = approved.visitors.all()
    with pytest.raises(ConflictError):
        visitor_check_out(visit_id=approved.pk, actor=dc_staff, visitor_id=p1.pk, now=ENTRY)
    visitor_check_in(visit_id=approved.pk, visitor_id=p1.pk, actor=dc_staff, pass_number="P1",
                     id_document_confirmed=True, now=ENTRY)
    with pytest.raises(ConflictError):
        visitor_check_in(visit_id=approved.pk, visitor_id=p1.pk, actor=dc_staff, pass_number="P1",
                         id_document_confirmed=True, now=ENTRY)
    with pytest.raises(ConflictError):
        visitor_check_out(visit_id=approved.pk, actor=dc_staff, visitor_id=p2.pk, now=ENTRY)
    assert visits_flag_overstays(now=EXIT + timedelta(minutes=5)) == [approved.pk]
    assert visits_flag_overstays(now=EXIT + timedelta(minutes=10)) == []
    assert visits_flag_open_at_day_end(now=EXIT + timedelta(hours=5)) == [approved.pk]
    assert visits_flag_open_at_day_end(now=EXIT + timedelta(hours=6)) == []


def test_no_show_is_marked_once(approved):
    assert visits_mark_no_shows(now=ENTRY + timedelta(hours=2)) == [approved.pk]
    assert visits_mark_no_shows(now=ENTRY + timedelta(hours=3)) == []
