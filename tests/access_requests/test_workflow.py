"""Decisions, changes and cancellations: the state machine, the audit trail, and the customer's
e-mail with a calendar invitation that parses back with icalendar."""

from datetime import UTC, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from icalendar import Calendar
from rest_framework.test import APIClient

from access_requests.choices import VisitState
from access_requests.models import Visit
from access_requests.services import (
    visit_approve,
    visit_cancel,
    visit_change,
    visit_close,
    visit_decline,
    visitor_check_in,
    visitor_check_out,
    visits_mark_no_shows,
)
from audit.models import AuditEntry
from notifications.models import Notification
from notifications.services import notification_send
from slaportal.errors import ConflictError, DomainError, ForbiddenError

from .conftest import ENTRY, EXIT, NOW, book

pytestmark = pytest.mark.django_db


def _ics(notification: Notification) -> Calendar:
    (att,) = notification.attachments
    return Calendar.from_ical((Path(settings.MEDIA_ROOT) / att["path"]).read_bytes())


def _event(cal: Calendar):
    (ev,) = cal.walk("VEVENT")
    return ev


def test_approval_emails_a_request_invitation(visit, dc_staff):
    v = visit_approve(visit_id=visit.pk, actor=dc_staff, escort=dc_staff, now=NOW)
    assert v.state == VisitState.APPROVED and v.escort == dc_staff
    n = Notification.objects.get(kind="visit_approved")
    assert n.address == "ops@alpha.test" and v.number in n.subject
    cal = _ics(n)
    ev = _event(cal)
    assert str(cal["METHOD"]) == "REQUEST"
    assert ev.decoded("DTSTART") == ENTRY.astimezone(UTC)
    assert ev.decoded("DTEND") == EXIT.astimezone(UTC)
    assert str(ev["UID"]) == f"visit-{visit.pk}@localhost"
    assert int(ev["SEQUENCE"]) == 0
    assert str(ev["STATUS"]) == "CONFIRMED"
    assert "A301" in str(ev["LOCATION"])


def test_decline_emails_a_cancel_with_the_reason(visit, dc_staff):
    with pytest.raises(DomainError):
        visit_decline(visit_id=visit.pk, actor=dc_staff, reason=" ", now=NOW)
    visit_decline(visit_id=visit.pk, actor=dc_staff, reason="当日机房电力检修", now=NOW)
    n = Notification.objects.get(kind="visit_declined")
    assert "当日机房电力检修" in n.body
    cal = _ics(n)
    ev = _event(cal)
    assert str(cal["METHOD"]) == "CANCEL"
    assert str(ev["UID"]) == f"visit-{visit.pk}@localhost" and int(ev["SEQUENCE"]) == 0
    assert ev.decoded("DTSTART") == ENTRY.astimezone(UTC) and ev.decoded("DTEND") == EXIT.astimezone(UTC)


def test_change_sends_an_update_with_the_same_uid_and_a_higher_sequence_then_cancel(approved, dc_staff, alice):
    new_entry = ENTRY + timedelta(days=1)
    visit_change(visit_id=approved.pk, actor=dc_staff, expected_entry_at=new_entry,
                 expected_exit_at=new_entry + timedelta(hours=2), now=NOW)
    first = _event(_ics(Notification.objects.get(kind="visit_approved")))
    update_cal = _ics(Notification.objects.get(kind="visit_changed"))
    update = _event(update_cal)
    assert str(update_cal["METHOD"]) == "REQUEST"
    assert str(update["UID"]) == str(first["UID"])
    assert int(update["SEQUENCE"]) == 1
    assert update.decoded("DTSTART") == new_entry.astimezone(UTC)
    visit_cancel(visit_id=approved.pk, actor=alice, reason="计划取消", now=NOW)
    cancel_cal = _ics(Notification.objects.get(kind="visit_cancelled"))
    assert str(cancel_cal["METHOD"]) == "CANCEL"
    assert str(_event(cancel_cal)["UID"]) == str(first["UID"])
    assert int(_event(cancel_cal)["SEQUENCE"]) == 2
    assert Visit.objects.get(pk=approved.pk).state == VisitState.CANCELLED


def test_the_email_carries_a_text_calendar_part_with_its_method(approved):
    n = Notification.objects.get(kind="visit_approved")
    notification_send(notification_id=n.pk)
    (msg,) = mail.outbox
    parts = [p for p in msg.message().walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    assert parts[0].get_param("method") == "REQUEST"
    cal = Calendar.from_ical(parts[0].get_payload(decode=True))
    assert int(_event(cal)["SEQUENCE"]) == 0


def test_customer_cannot_change_an_approved_visit_but_can_change_a_request(visit, alice, dc_staff):
    new_entry = ENTRY + timedelta(hours=1)
    visit_change(visit_id=visit.pk, actor=alice, expected_entry_at=new_entry, now=NOW)
    assert Visit.objects.get(pk=visit.pk).expected_entry_at == new_entry
    assert not Notification.objects.exists()  # nothing was sent for a request not yet decided
    visit_approve(visit_id=visit.pk, actor=dc_staff, escort=dc_staff, now=NOW)
    with pytest.raises(ForbiddenError):
        visit_change(visit_id=visit.pk, actor=alice, expected_entry_at=ENTRY, now=NOW)


def test_illegal_transitions_conflict_and_change_nothing(visit, dc_staff, alice):
    with pytest.raises(ConflictError):
        visit_close(visit_id=visit.pk, actor=dc_staff, now=NOW)
    visit_decline(visit_id=visit.pk, actor=dc_staff, reason="不可", now=NOW)
    before = AuditEntry.objects.count()
    for call in (lambda: visit_approve(visit_id=visit.pk, actor=dc_staff, escort=dc_staff, now=NOW),
                 lambda: visit_cancel(visit_id=visit.pk, actor=alice, now=NOW),
                 lambda: visit_decline(visit_id=visit.pk, actor=dc_staff, reason="again", now=NOW)):
        with pytest.raises(ConflictError):
            call()
    v = Visit.objects.get(pk=visit.pk)
    assert v.state == VisitState.DECLINED and v.escort is None and v.decision_reason == "不可"
    assert AuditEntry.objects.count() == before
    assert Notification.objects.count() == 1


def test_only_data_centre_staff_or_managers_decide(visit, alice, specialist):
    for actor in (alice, specialist):
        with pytest.raises(ForbiddenError):
            visit_approve(visit_id=visit.pk, actor=actor, escort=specialist, now=NOW)
    assert Visit.objects.get(pk=visit.pk).state == VisitState.REQUESTED


def test_overlapping_escort_is_refused_unless_confirmed(alice, customer_a, room, dc_staff):
    a = book(customer_a, alice, room)
    b = book(customer_a, alice, room, entry=ENTRY + timedelta(hours=2), exit_=EXIT + timedelta(hours=2))
    visit_approve(visit_id=a.pk, actor=dc_staff, escort=dc_staff, now=NOW)
    with pytest.raises(ConflictError) as e:
        visit_approve(visit_id=b.pk, actor=dc_staff, escort=dc_staff, now=NOW)
    assert e.value.code == "escort_overlap" and a.number in str(e.value.message)
    assert Visit.objects.get(pk=b.pk).state == VisitState.REQUESTED
    visit_approve(visit_id=b.pk, actor=dc_staff, escort=dc_staff, allow_escort_overlap=True, now=NOW)
    entry = AuditEntry.objects.get(object_id=b.pk, action="approve")
    assert entry.data["escort_overlaps"] == [a.number]


def test_full_lifecycle_is_audited(approved, dc_staff):
    p1, p2 = approved.visitors.all()
    at = ENTRY + timedelta(minutes=5)
    visitor_check_in(visit_id=approved.pk, visitor_id=p1.pk, actor=dc_staff, pass_number="P-001",
                     id_document_confirmed=True, now=at)
    visitor_check_in(visit_id=approved.pk, visitor_id=p2.pk, actor=dc_staff, pass_number="P-002",
                     id_document_confirmed=True, now=at)
    visitor_check_out(visit_id=approved.pk, actor=dc_staff, visitor_id=p1.pk, now=at + timedelta(hours=1))
    assert Visit.objects.get(pk=approved.pk).state == VisitState.CHECKED_IN
    visitor_check_out(visit_id=approved.pk, actor=dc_staff, now=at + timedelta(hours=2))
    v = visit_close(visit_id=approved.pk, actor=dc_staff, work_done="更换硬盘 2 块", now=at + timedelta(hours=3))
    assert v.state == VisitState.CLOSED and v.work_done == "更换硬盘 2 块"
    transitions = list(AuditEntry.objects.filter(object_id=v.pk, content_type__model="visit")
                       .exclude(from_state="").order_by("id").values_list("from_state", "to_state"))
    assert transitions == [("requested", "approved"), ("approved", "checked_in"),
                           ("checked_in", "checked_out"), ("checked_out", "closed")]


def test_no_show_after_the_grace_period(approved, settings):
    settings.VISIT_NO_SHOW_GRACE_MINUTES = 30
    assert visits_mark_no_shows(now=ENTRY + timedelta(minutes=29)) == []
    assert visits_mark_no_shows(now=ENTRY + timedelta(minutes=30)) == [approved.pk]
    assert Visit.objects.get(pk=approved.pk).state == VisitState.NO_SHOW
    assert visits_mark_no_shows(now=ENTRY + timedelta(hours=2)) == []


def test_api_illegal_transition_is_409_and_nothing_changes(visit, dc_staff):
    c = APIClient()
    c.force_authenticate(dc_staff)
    r = c.post(f"/api/visits/{visit.pk}/close/", {}, format="json")
    assert r.status_code == 409
    r = c.post(f"/api/visits/{visit.pk}/approve/", {"escort": dc_staff.pk}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "approved"
    r = c.post(f"/api/visits/{visit.pk}/decline/", {"reason": "晚了"}, format="json")
    assert r.status_code == 409
    v = Visit.objects.get(pk=visit.pk)
    assert v.state == VisitState.APPROVED and v.decision_reason == ""


def test_api_customer_cannot_approve(visit, alice, dc_staff):
    c = APIClient()
    c.force_authenticate(alice)
    r = c.post(f"/api/visits/{visit.pk}/approve/", {"escort": dc_staff.pk}, format="json")
    assert r.status_code == 403
    r = c.post(f"/api/visits/{visit.pk}/cancel/", {"reason": "不去了"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
