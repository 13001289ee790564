"""Pages and API: the owner sees their incidents, notice attempts and downtime; another customer
gets 404; anonymous users are sent to log in; roles gate the staff actions."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from rest_framework.test import APIClient

from incidents.choices import IncidentSource
from incidents.models import Outage
from incidents.services import ack_token, emergency_declare
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 10, 14, 0, tzinfo=TZ)


@pytest.fixture
def declared(service_a):
    contact = f.AuthorizedContactFactory(customer=service_a.customer, office_phone="010-1",
                                        channels=["office_phone"])
    d = emergency_declare(service=service_a, source=IncidentSource.MONITOR, title="设备不可达",
                          outage_started_at=T0 - timedelta(minutes=5), now=T0)
    d.contact = contact
    return d


def web(user):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def api(user):  # type: ignore[no-untyped-def]
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_owner_sees_incident_attempts_and_downtime(alice, declared, service_a):
    inc = declared.incident
    r = web(alice).get(f"/incidents/{inc.pk}/")
    assert r.status_code == 200 and "010-1" in r.content.decode()
    assert web(alice).get("/incidents/").status_code == 200
    r = web(alice).get(f"/incidents/services/{service_a.pk}/downtime/?month=2026-03")
    assert r.status_code == 200
    data = api(alice).get(f"/api/incidents/{inc.pk}/").json()
    assert data["notice_attempts"][0]["channel"] == "office_phone"
    assert data["outages"][0]["started_at"].startswith("2026-03-10T13:55")


def test_another_customer_gets_404_everywhere(charlie, declared, service_a):
    inc, outage = declared.incident, declared.outage
    attempt = inc.notice_attempts.get()
    for url in (f"/incidents/{inc.pk}/", f"/incidents/services/{service_a.pk}/downtime/"):
        assert web(charlie).get(url).status_code == 404
    assert web(charlie).post(f"/incidents/{inc.pk}/acknowledge/").status_code == 404
    for url in (f"/api/incidents/{inc.pk}/", f"/api/outages/{outage.pk}/", f"/api/downtime/{service_a.pk}/"):
        assert api(charlie).get(url).status_code == 404
    assert api(charlie).post(f"/api/incidents/{inc.pk}/acknowledge/", {}).status_code == 404
    assert api(charlie).post(f"/api/notice-attempts/{attempt.pk}/record-call/", {"reached": True}).status_code == 404
    assert api(charlie).get("/api/incidents/").json()["results"] == []


def test_anonymous_is_sent_to_log_in(declared):
    r = Client().get(f"/incidents/{declared.incident.pk}/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    assert APIClient().get("/api/incidents/").status_code in (401, 403)


def test_customer_acknowledges_in_the_portal(alice, declared):
    r = web(alice).post(f"/incidents/{declared.incident.pk}/acknowledge/")
    assert r.status_code == 302
    declared.incident.refresh_from_db()
    assert declared.incident.acknowledged_at is not None and declared.incident.reported_via == "acknowledgement"


def test_email_link_get_shows_post_acknowledges(declared):
    url = f"/incidents/ack/{ack_token(incident=declared.incident, contact=declared.contact)}/"
    assert Client().get(url).status_code == 200
    declared.incident.refresh_from_db()
    assert declared.incident.acknowledged_at is None   # a mail scanner's GET changes nothing
    assert Client().post(url).status_code == 200
    declared.incident.refresh_from_db()
    assert declared.incident.acknowledged_by == declared.contact.name
    assert Client().get("/incidents/ack/forged:token/").status_code == 400


def test_customer_cannot_classify_engineer_can_and_it_is_audited(alice, engineer, declared):
    o = declared.outage
    body = {"cause": "customer_application", "note": ""}
    assert api(alice).post(f"/api/outages/{o.pk}/classify/", body).status_code == 403
    r = api(engineer).post(f"/api/outages/{o.pk}/classify/", body)
    assert r.status_code == 400 and "note" in r.json()["errors"]   # an exclusion needs a justification
    r = api(engineer).post(f"/api/outages/{o.pk}/classify/", {**body, "note": "客户升级应用导致"})
    assert r.status_code == 200 and r.json()["counted_cause"] is False
    r = api(engineer).post(f"/api/outages/{o.pk}/classify/", {"cause": "provider", "note": "复核：交换机故障"})
    from audit.services import audit_for

    assert [a.action for a in audit_for(Outage.objects.get(pk=o.pk))][:2] == ["reclassify", "classify"]


def test_dc_staff_enter_a_power_outage_and_the_downtime_api_reports_it(dc_staff, alice, service_a):
    body = {"service": service_a.pk, "kind": "power", "started_at": "2026-03-05T10:00:00+08:00",
            "ended_at": "2026-03-05T11:00:00+08:00", "evidence": "市电及UPS同时失电，UPS日志见附件"}
    assert api(alice).post("/api/outages/", body).status_code == 403
    r = api(dc_staff).post("/api/outages/", {**body, "evidence": ""})
    assert r.status_code == 400 and "evidence" in r.json()["errors"]
    r = api(dc_staff).post("/api/outages/", body)
    assert r.status_code == 201, r.content
    Outage.objects.filter(pk=r.json()["id"]).update(reported_at=datetime(2026, 3, 5, 11, tzinfo=TZ))
    d = api(alice).get(f"/api/downtime/{service_a.pk}/?month=2026-03&kind=power").json()
    assert d["counted_seconds"] == 3600 and d["policy_code"] == "C2" and d["breached"] is True
    d = api(alice).get(f"/api/downtime/{service_a.pk}/?month=2026-03").json()
    assert d["counted_seconds"] == 0 and d["policy_code"] == "C1" and d["breached"] is False


def test_resolve_is_refused_while_an_outage_is_open(engineer, declared):
    r = api(engineer).post(f"/api/incidents/{declared.incident.pk}/resolve/", {})
    assert r.status_code == 409
