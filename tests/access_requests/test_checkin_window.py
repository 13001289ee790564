"""Check-in outside the booked time plus or minus SLAPORTAL_CHECKIN_WINDOW_MINUTES (default
120) is refused unless security gives a reason; the override is audited and shown.

The booked time is [expected entry, expected exit). Check-in is allowed from entry − window
(inclusive) until exit + window (exclusive), the SPEC's one boundary rule: "within N" is met
strictly before start + N, so exactly at exit + window the override is needed."""

from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import translation
from rest_framework.test import APIClient

from access_requests.choices import VisitState
from access_requests.models import Visit, Visitor
from access_requests.services import CHECK_IN_OVERRIDE, visitor_check_in
from audit.models import AuditEntry
from slaportal.errors import DomainError

from .conftest import ENTRY, EXIT

pytestmark = pytest.mark.django_db


def _check_in(visit, actor, *, at, reason="", person=None):
    person = person or visit.visitors.order_by("id").first()
    return visitor_check_in(visit_id=visit.pk, visitor_id=person.pk, actor=actor, pass_number="P-1",
                            id_document_confirmed=True, override_reason=reason, now=at)


def test_inside_the_window_needs_no_reason(approved, dc_staff):
    person = _check_in(approved, dc_staff, at=ENTRY - timedelta(minutes=90))
    assert person.entered_at == ENTRY - timedelta(minutes=90)
    assert not AuditEntry.objects.filter(object_id=approved.pk, action=CHECK_IN_OVERRIDE).exists()


def test_three_hours_early_is_refused_and_changes_nothing(approved, dc_staff):
    before = AuditEntry.objects.count()
    with translation.override("en"), pytest.raises(DomainError) as e:
        _check_in(approved, dc_staff, at=ENTRY - timedelta(hours=3))
    assert e.value.code == "outside_window"
    assert "override_reason" in e.value.field_errors
    assert "outside the booked time" in str(e.value.message) and "120 minutes" in str(e.value.message)
    assert Visit.objects.get(pk=approved.pk).state == VisitState.APPROVED
    assert not Visitor.objects.filter(visit=approved, entered_at__isnull=False).exists()
    assert AuditEntry.objects.count() == before


def test_blank_reason_is_no_reason(approved, dc_staff):
    with pytest.raises(DomainError):
        _check_in(approved, dc_staff, at=ENTRY - timedelta(hours=3), reason="   ")


def test_too_long_reason_is_a_field_error(approved, dc_staff):
    with pytest.raises(DomainError) as e:
        _check_in(approved, dc_staff, at=ENTRY - timedelta(hours=3), reason="x" * 501)
    assert "override_reason" in e.value.field_errors


def test_with_a_reason_it_is_accepted_and_audited(approved, dc_staff, client):
    at = ENTRY - timedelta(hours=3)
    person = _check_in(approved, dc_staff, at=at, reason="  客户提前到场，值班经理电话确认  ")
    assert person.entered_at == at
    entry = AuditEntry.objects.get(object_id=approved.pk, action=CHECK_IN_OVERRIDE)
    assert entry.reason == "客户提前到场，值班经理电话确认" and entry.actor == dc_staff
    assert entry.data["name"] == person.name and entry.data["side"] == "early"
    assert entry.data["window_minutes"] == 120
    # Shown on the visit page, with the Chinese label in the audit trail.
    client.force_login(dc_staff)
    html = client.get(f"/visits/{approved.pk}/").content.decode()
    assert "data-checkin-overrides" in html and "客户提前到场，值班经理电话确认" in html
    assert CHECK_IN_OVERRIDE not in html


def test_boundaries_start_inclusive_end_exclusive(approved, dc_staff):
    people = list(approved.visitors.order_by("id"))
    # Exactly at entry − 120 min: allowed.
    _check_in(approved, dc_staff, at=ENTRY - timedelta(minutes=120), person=people[0])
    # One second earlier would have needed a reason (checked on the second visitor).
    with pytest.raises(DomainError):
        _check_in(approved, dc_staff, at=ENTRY - timedelta(minutes=120, seconds=1), person=people[1])
    # Exactly at exit + 120 min: needs the override; a second before: allowed.
    with pytest.raises(DomainError):
        _check_in(approved, dc_staff, at=EXIT + timedelta(minutes=120), person=people[1])
    _check_in(approved, dc_staff, at=EXIT + timedelta(minutes=120) - timedelta(seconds=1), person=people[1])


@override_settings(SLAPORTAL_CHECKIN_WINDOW_MINUTES=30)
def test_the_window_is_configurable(approved, dc_staff):
    with pytest.raises(DomainError):
        _check_in(approved, dc_staff, at=ENTRY - timedelta(minutes=31))
    _check_in(approved, dc_staff, at=ENTRY - timedelta(minutes=30))


def test_api_outside_the_window_is_400_with_a_field_error(approved, dc_staff):
    c = APIClient()
    c.force_authenticate(dc_staff)
    p = approved.visitors.order_by("id").first()
    body = {"visitor": p.pk, "pass_number": "P-9", "id_document_confirmed": True}
    with time_machine.travel(ENTRY - timedelta(hours=3), tick=False):
        r = c.post(f"/api/visits/{approved.pk}/check-in/", body, format="json")
        assert r.status_code == 400 and "override_reason" in r.json()["errors"]
        assert Visitor.objects.get(pk=p.pk).entered_at is None
        r = c.post(f"/api/visits/{approved.pk}/check-in/", {**body, "override_reason": "x" * 501}, format="json")
        assert r.status_code == 400 and "override_reason" in r.json()["errors"]
        r = c.post(f"/api/visits/{approved.pk}/check-in/", {**body, "override_reason": "抢修"}, format="json")
        assert r.status_code == 200
    assert AuditEntry.objects.get(object_id=approved.pk, action=CHECK_IN_OVERRIDE).reason == "抢修"


def test_door_page_first_submit_asks_for_the_reason(approved, dc_staff, client):
    client.force_login(dc_staff)
    p = approved.visitors.order_by("id").first()
    body = {"visitor": p.pk, "pass_number": "P-7", "id_document_confirmed": "on"}
    with time_machine.travel(ENTRY - timedelta(hours=3), tick=False):
        page = client.get(f"/visits/{approved.pk}/door/").content.decode()
        assert "data-outside-window" in page and 'name="override_reason"' in page
        r = client.post(f"/visits/{approved.pk}/door/check-in/", body)
        assert r.status_code == 400 and "override_reason" in r.context["rows"][0][1].errors
        assert Visitor.objects.get(pk=p.pk).entered_at is None
        r = client.post(f"/visits/{approved.pk}/door/check-in/", {**body, "override_reason": "提前到场"})
        assert r.status_code == 302
    assert Visitor.objects.get(pk=p.pk).entered_at is not None
    with time_machine.travel(ENTRY, tick=False):
        page = client.get(f"/visits/{approved.pk}/door/").content.decode()
    assert "data-outside-window" not in page
