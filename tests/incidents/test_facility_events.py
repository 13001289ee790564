"""Facility events: recorded once for a room, rack row or uplink, fanned out to one outage per
affected active service (with the event's cause), re-classified and ended as one; counted once
per service even beside a separately recorded overlapping outage; and under force majeure the
deadlines of the contracts hit are paused, extended or exempted, and emergency notices exempted."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from rest_framework.test import APIClient

from audit.services import audit_for
from credits.choices import CreditState
from credits.models import Credit
from incidents.choices import Cause, IncidentSource, NoticeExemption, OutageKind
from incidents.downtime import service_month_downtime
from incidents.models import FacilityEvent, Incident, Outage
from incidents.services import (
    emergency_declare,
    facility_event_classify,
    facility_event_end,
    facility_event_record,
    outage_record,
)
from incidents.signals import outages_changed
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clock_start, clocks_sweep
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 10, 10, 0, tzinfo=TZ)
FM_NOTE = "市电停电，供电局计划外检修通知（附件）"


@pytest.fixture
def site(customer_a, engineer):
    """Room A101: alpha's two services (one also in rack row A101-R1), another customer's
    service, an inactive service; room B202: one service of alpha's second contract."""
    other = f.ContractFactory()
    c_a = f.ContractFactory(customer=customer_a, monthly_fee=Decimal("3100.00"))
    c_b = f.ContractFactory(customer=customer_a)
    return {
        "a1": f.ServiceFactory(contract=c_a, room="A101", engineer=engineer),
        "a2": f.ServiceFactory(contract=c_a, room="A101", rack_row="A101-R1"),
        "o1": f.ServiceFactory(contract=other, room="A101"),
        "off": f.ServiceFactory(contract=other, room="A101", active=False),
        "b1": f.ServiceFactory(contract=c_b, room="B202"),
        "c_a": c_a, "c_b": c_b, "other": other,
    }


def record(actor, *, cause="", note="", ended_at=None, started_at=T0, now=None, kind="power_cut",  # type: ignore[no-untyped-def]
           scopes=(("room", "A101"), ("rack_row", "A101-R1"))):
    return facility_event_record(title="A101 市电中断", kind=kind, scopes=list(scopes),
                                 started_at=started_at, ended_at=ended_at, evidence="UPS 日志",
                                 cause=cause, cause_note=note, actor=actor,
                                 now=now or started_at + timedelta(minutes=5))


def test_fan_out_one_outage_per_affected_active_service(site, dc_staff, django_capture_on_commit_callbacks):
    told: list[list[int]] = []

    def on_changed(sender, service_ids, **kw):  # type: ignore[no-untyped-def]
        told.append(service_ids)

    outages_changed.connect(on_changed, dispatch_uid="test.fe")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            event = record(dc_staff, cause=Cause.PROVIDER)
    finally:
        outages_changed.disconnect(dispatch_uid="test.fe")
    outages = Outage.objects.filter(facility_event=event)
    # a2 is matched by the room and by the rack row: still one outage.
    assert sorted(o.service_id for o in outages) == sorted(site[k].pk for k in ("a1", "a2", "o1"))
    assert {(o.kind, o.cause, o.started_at, o.ended_at) for o in outages} == {
        (OutageKind.POWER, Cause.PROVIDER, T0, None)}
    assert sorted(sid for ids in told for sid in ids) == sorted(o.service_id for o in outages)
    assert audit_for(event).filter(action="facility_event").count() == 1


def test_kinds_map_to_outage_kinds_and_nothing_matches_nothing(site, dc_staff):
    e = record(dc_staff, kind="carrier_fault", scopes=[("uplink", "CT-10G-1")])
    assert not e.outages.exists()
    site["b1"].uplink = "CT-10G-1"
    site["b1"].save()
    e = record(dc_staff, kind="carrier_fault", scopes=[("uplink", "CT-10G-1")])
    assert [o.kind for o in e.outages.all()] == [OutageKind.NETWORK]


def test_the_db_refuses_a_second_outage_of_one_service_for_one_event(site, dc_staff):
    from django.db import IntegrityError, transaction

    event = record(dc_staff)
    with pytest.raises(IntegrityError), transaction.atomic():
        Outage(service=site["a1"], kind=OutageKind.POWER, source="manual", started_at=T0,
               created_at=T0, facility_event=event).save()


def test_refusals(site, dc_staff, alice):
    with pytest.raises(ForbiddenError):
        record(alice)
    with pytest.raises(DomainError) as e:
        record(dc_staff, cause=Cause.FM_WAR_STRIKE_GRID, note="")
    assert "cause_note" in e.value.field_errors
    with pytest.raises(DomainError) as e:
        record(dc_staff, scopes=[("room", "  ")])
    assert "scopes" in e.value.field_errors
    assert not FacilityEvent.objects.exists() and not Outage.objects.exists()


def test_a_room_power_event_counts_once_beside_an_overlapping_outage(site, dc_staff):
    """a1 also had a power outage entered by hand, 10:30–11:30; the room event is 10:00–11:00.
    Merged: 10:00–11:30 = 90 minutes, for a1; 60 for the others in the room."""
    outage_record(service=site["a1"], actor=dc_staff, started_at=T0 + timedelta(minutes=30),
                  ended_at=T0 + timedelta(minutes=90), evidence="UPS 告警", cause=Cause.PROVIDER,
                  now=T0 + timedelta(hours=2))
    record(dc_staff, cause=Cause.PROVIDER, ended_at=T0 + timedelta(hours=1), now=T0 + timedelta(hours=2))
    now = T0 + timedelta(days=1)
    got = {k: service_month_downtime(service=site[k], year=2026, month=3, kind=OutageKind.POWER,
                                     now=now).counted_seconds for k in ("a1", "a2", "o1", "b1")}
    assert got == {"a1": 90 * 60, "a2": 60 * 60, "o1": 60 * 60, "b1": 0}
    # The network month is untouched by a power cut.
    assert service_month_downtime(service=site["a2"], year=2026, month=3, now=now).counted_seconds == 0


def test_classify_sets_the_cause_of_every_outage_audited(site, dc_staff, engineer):
    event = record(dc_staff)
    with pytest.raises(ForbiddenError):
        facility_event_classify(event_id=event.pk, cause=Cause.FM_NATURAL, note="台风", actor=dc_staff)
    with pytest.raises(DomainError):
        facility_event_classify(event_id=event.pk, cause=Cause.FM_NATURAL, note=" ", actor=engineer)
    facility_event_classify(event_id=event.pk, cause=Cause.AGREED_MAINTENANCE, note="客户同意的维护",
                            actor=engineer, now=T0 + timedelta(minutes=10))
    outages = list(event.outages.all())
    assert {(o.cause, o.cause_note, o.cause_set_by) for o in outages} == {
        (Cause.AGREED_MAINTENANCE, "客户同意的维护", engineer)}
    for o in outages:
        assert audit_for(o).filter(action="classify", to_state=Cause.AGREED_MAINTENANCE).count() == 1
    assert audit_for(FacilityEvent.objects.get(pk=event.pk)).filter(action="facility_event_classify").exists()


def test_end_ends_every_outage_once(site, dc_staff):
    event = record(dc_staff)
    facility_event_end(event_id=event.pk, ended_at=T0 + timedelta(minutes=40), actor=dc_staff,
                       now=T0 + timedelta(hours=1))
    assert {o.ended_at for o in event.outages.all()} == {T0 + timedelta(minutes=40)}
    with pytest.raises(ConflictError):
        facility_event_end(event_id=event.pk, ended_at=T0 + timedelta(minutes=50), actor=dc_staff,
                           now=T0 + timedelta(hours=1))


# --- Force majeure ------------------------------------------------------------------------

def c8(contract, at, subject=None):  # type: ignore[no-untyped-def]
    return clock_start(subject=subject or contract, policy_code="C8", contract=contract, now=at)


def test_ongoing_force_majeure_pauses_then_resumes_the_contracts_clocks(site, dc_staff):
    hit = c8(site["c_a"], T0 - timedelta(hours=2))       # due T0 + 22 h
    spared = c8(site["c_b"], T0 - timedelta(hours=2))    # contract of room B202: not hit
    event = record(dc_staff, cause=Cause.FM_WAR_STRIKE_GRID, note=FM_NOTE, now=T0)
    hit.refresh_from_db()
    assert hit.state == ClockState.PAUSED and hit.due_at == T0 + timedelta(hours=22)
    assert audit_for(hit).get(action="pause").reason.startswith("不可抗力：")
    assert Clock.objects.get(pk=spared.pk).state == ClockState.RUNNING
    # Held for 3 hours: the deadline moves by 3 hours.
    facility_event_end(event_id=event.pk, ended_at=T0 + timedelta(hours=3), actor=dc_staff,
                       now=T0 + timedelta(hours=3, minutes=5))
    hit.refresh_from_db()
    assert hit.state == ClockState.RUNNING and hit.due_at == T0 + timedelta(hours=25)
    assert sorted(event.clock_reliefs.values_list("action", flat=True)) == ["paused", "resumed"]


def test_an_event_recorded_after_the_fact_extends_and_exempts(site, dc_staff, django_capture_on_commit_callbacks):
    running = c8(site["c_a"], T0 - timedelta(hours=1))            # due T0 + 23 h
    # Subjects of their own (a complaint, an operation…): matched by contract, not by subject.
    breached = c8(site["c_a"], T0 - timedelta(hours=23), subject=site["a1"])        # due T0 + 1 h
    late_before = c8(site["c_a"], T0 - timedelta(hours=30), subject=site["a2"])     # due T0 - 6 h
    clocks_sweep(now=T0 + timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        event = record(dc_staff, cause=Cause.FM_NATURAL, note="台风致机房断电", ended_at=T0 + timedelta(hours=2),
                       now=T0 + timedelta(hours=4))
    running.refresh_from_db()
    assert running.state == ClockState.RUNNING and running.due_at == T0 + timedelta(hours=25)
    breached.refresh_from_db()
    assert breached.state == ClockState.CANCELLED and breached.breach_withdrawn
    assert audit_for(breached).get(action="exempt").reason.startswith("不可抗力：")
    assert Clock.objects.get(pk=late_before.pk).state == ClockState.BREACHED
    assert sorted(event.clock_reliefs.values_list("action", flat=True)) == ["exempted", "extended"]
    # Applying again (e.g. re-classified within force majeure) does nothing twice.
    facility_event_classify(event_id=event.pk, cause=Cause.FM_GOVERNMENT, note="政府限电",
                            actor=f.StaffFactory(role="manager", username="m2"), now=T0 + timedelta(hours=5))
    running.refresh_from_db()
    assert running.due_at == T0 + timedelta(hours=25)


def test_force_majeure_exempts_the_emergency_notice_and_withdraws_a_miss(
        site, dc_staff, django_capture_on_commit_callbacks):
    f.AuthorizedContactFactory(customer=site["a1"].customer, office_phone="010-1", channels=["office_phone"])
    missed = emergency_declare(service=site["a1"], source=IncidentSource.MONITOR, title="不可达",
                               outage_started_at=T0, now=T0 + timedelta(minutes=5))
    with django_capture_on_commit_callbacks(execute=True):
        clocks_sweep(now=T0 + timedelta(minutes=20))
    assert Incident.objects.get(pk=missed.incident.pk).notice_missed_at is not None
    [credit] = Credit.objects.all()
    running = emergency_declare(service=site["a2"], source=IncidentSource.MONITOR, title="不可达",
                                outage_started_at=T0, now=T0 + timedelta(minutes=25))
    with django_capture_on_commit_callbacks(execute=True):
        record(dc_staff, cause=Cause.FM_WAR_STRIKE_GRID, note=FM_NOTE, now=T0 + timedelta(minutes=30))
    inc = Incident.objects.get(pk=running.incident.pk)
    assert inc.notice_exemption == NoticeExemption.FORCE_MAJEURE
    assert Clock.objects.get(pk=running.clock.pk).state == ClockState.CANCELLED
    assert Clock.objects.get(pk=missed.clock.pk).state == ClockState.CANCELLED
    assert Incident.objects.get(pk=missed.incident.pk).notice_missed_at is None
    assert Credit.objects.get(pk=credit.pk).state == CreditState.WITHDRAWN


# --- Pages and API --------------------------------------------------------------------------

def web(user):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def api(user):  # type: ignore[no-untyped-def]
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_pages_for_staff_not_for_customers(site, dc_staff, manager, alice):
    event = record(dc_staff, cause=Cause.PROVIDER)
    for user in (dc_staff, manager):
        assert web(user).get("/incidents/facility-events/").status_code == 200
        html = web(user).get(f"/incidents/facility-events/{event.pk}/").content.decode()
        assert site["a1"].name in html and site["o1"].name in html and site["off"].name not in html
    assert web(dc_staff).get("/incidents/facility-events/new/").status_code == 200
    for url in ("/incidents/facility-events/", "/incidents/facility-events/new/"):
        assert web(alice).get(url).status_code == 403
    assert web(alice).get(f"/incidents/facility-events/{event.pk}/").status_code == 404
    r = web(alice).post(f"/incidents/facility-events/{event.pk}/end/", {"ended_at": "2026-03-10T11:00"})
    assert r.status_code == 404 and FacilityEvent.objects.get(pk=event.pk).ended_at is None
    assert Client().get("/incidents/facility-events/").status_code == 302


def test_page_form_records_and_ends(site, dc_staff):
    r = web(dc_staff).post("/incidents/facility-events/new/", {
        "title": "B202 上游电信光缆中断", "kind": "carrier_fault", "rooms": "B202", "rack_rows": "",
        "uplinks": "", "started_at": "2026-03-10T09:00", "ended_at": "", "evidence": "电信工单",
        "cause": "fm_telecom", "cause_note": "光缆被第三方施工挖断"})
    assert r.status_code == 302
    event = FacilityEvent.objects.get()
    assert [o.service_id for o in event.outages.all()] == [site["b1"].pk]
    r = web(dc_staff).post(f"/incidents/facility-events/{event.pk}/end/", {"ended_at": "2026-03-10T09:30"})
    assert r.status_code == 302
    assert event.outages.get().ended_at == datetime(2026, 3, 10, 9, 30, tzinfo=TZ)
    r = web(dc_staff).post("/incidents/facility-events/new/", {
        "title": "x", "kind": "power_cut", "rooms": "A101", "started_at": "2026-03-10T09:00",
        "cause": "fm_natural", "cause_note": ""})
    assert r.status_code == 200 and FacilityEvent.objects.count() == 1


def test_api_list_create_detail_end_classify(site, dc_staff, engineer, alice):
    body = {"title": "A101 停电", "kind": "power_cut", "scopes": [{"scope": "room", "value": "A101"}],
            "started_at": "2026-03-10T10:00:00+08:00", "evidence": "UPS 日志"}
    r = api(dc_staff).post("/api/facility-events/", body, format="json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert len(r.json()["outages"]) == 3
    assert [e["id"] for e in api(dc_staff).get("/api/facility-events/").json()["results"]] == [pk]
    assert api(dc_staff).get(f"/api/facility-events/{pk}/").json()["scopes"] == [{"scope": "room", "value": "A101"}]
    r = api(engineer).post(f"/api/facility-events/{pk}/classify/",
                           {"cause": "fm_war_strike_grid", "note": FM_NOTE}, format="json")
    assert r.status_code == 200 and {o["cause"] for o in r.json()["outages"]} == {"fm_war_strike_grid"}
    r = api(dc_staff).post(f"/api/facility-events/{pk}/end/", {"ended_at": "2026-03-10T11:00:00+08:00"},
                           format="json")
    assert r.status_code == 200 and {o["ended_at"] for o in r.json()["outages"]} == {"2026-03-10T11:00:00+08:00"}
    assert api(dc_staff).post(f"/api/facility-events/{pk}/end/", {"ended_at": "2026-03-10T11:00:00+08:00"},
                              format="json").status_code == 409
    # Customers: no event object, but their outages with cause and justification.
    for url in ("/api/facility-events/", f"/api/facility-events/{pk}/"):
        assert api(alice).get(url).status_code == 403
    assert api(alice).post("/api/facility-events/", body, format="json").status_code == 403
    mine = api(alice).get("/api/outages/").json()["results"]
    assert {(o["service"], o["cause"], o["cause_note"]) for o in mine} == {
        (site["a1"].pk, "fm_war_strike_grid", FM_NOTE), (site["a2"].pk, "fm_war_strike_grid", FM_NOTE)}


def test_a_clock_started_during_an_ongoing_event_is_extended_when_it_ends(site, dc_staff):
    event = record(dc_staff, cause=Cause.FM_NATURAL, note="台风", now=T0)
    during = c8(site["c_a"], T0 + timedelta(hours=1))  # due T0 + 25 h
    facility_event_end(event_id=event.pk, ended_at=T0 + timedelta(hours=3), actor=dc_staff,
                       now=T0 + timedelta(hours=3))
    during.refresh_from_db()
    assert during.state == ClockState.RUNNING and during.due_at == T0 + timedelta(hours=27)
    assert audit_for(during).get(action="extend").data["seconds"] == 2 * 3600


def test_reclassifying_away_from_force_majeure_resumes_what_the_event_paused(site, dc_staff, manager):
    hit = c8(site["c_a"], T0 - timedelta(hours=2))
    event = record(dc_staff, cause=Cause.FM_WAR_STRIKE_GRID, note=FM_NOTE, now=T0)
    assert Clock.objects.get(pk=hit.pk).state == ClockState.PAUSED
    facility_event_classify(event_id=event.pk, cause=Cause.PROVIDER, note="实为我方配电故障", actor=manager,
                            now=T0 + timedelta(hours=1))
    hit.refresh_from_db()
    assert hit.state == ClockState.RUNNING and hit.due_at == T0 + timedelta(hours=23)
    assert {o.cause for o in event.outages.all()} == {Cause.PROVIDER}
    # Ending it later relieves nothing more.
    facility_event_end(event_id=event.pk, ended_at=T0 + timedelta(hours=2), actor=dc_staff,
                       now=T0 + timedelta(hours=2))
    assert Clock.objects.get(pk=hit.pk).due_at == T0 + timedelta(hours=23)
