"""Staff record an incident themselves (a customer's phone report, or their own detection) and
declare the emergency from it: the outage starts when they say, C4 starts at the declaration and
the first authorized contact is notified exactly as for a probe; saved as detected, it is
declared later from its page. Customers and data-centre staff may not; an outage start in the
future and another customer's service are refused, creating nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client, override_settings
from rest_framework.test import APIClient

from audit.models import AuditEntry
from incidents.choices import IncidentSource, IncidentState, NoticeOutcome, OutageSource
from incidents.models import Incident, NoticeAttempt, Outage
from incidents.services import emergency_declare, incident_record, notices_advance
from notifications.services import notification_send
from sla.choices import ClockState
from sla.models import Clock
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from tests import factories as f
from tests.notifications.servers import SmtpServer

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 10, 14, 0, tzinfo=TZ)
SMTP = "django.core.mail.backends.smtp.EmailBackend"

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(customer_a):  # type: ignore[no-untyped-def]
    return f.AuthorizedContactFactory(customer=customer_a, name="王经理", email="wang@alpha.test",
                                      channels=["email"])


def web(user):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def api(user):  # type: ignore[no-untyped-def]
    c = APIClient()
    c.force_authenticate(user)
    return c


def form(service, **over):  # type: ignore[no-untyped-def]
    data = {"service": service.pk, "source": "customer", "caller_name": "李四", "caller_phone": "010-88886666",
            "title": "托管服务器无法访问", "description": "客户来电：网站打不开", "outage_started_at": "2026-03-10T13:40",
            "declare": "on"}
    data.update(over)
    return {k: v for k, v in data.items() if v is not None}


def c4(inc):  # type: ignore[no-untyped-def]
    return Clock.objects.get(object_id=inc.pk, policy__code="C4")


def test_phone_report_declares_the_emergency_and_the_notice_reaches_the_contact(
        specialist, service_a, contact):  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        r = web(specialist).post("/incidents/new/", form(service_a))
    assert r.status_code == 302
    inc = Incident.objects.get()
    assert r["Location"] == f"/incidents/{inc.pk}/"
    assert (inc.source, inc.state, inc.service, inc.customer) == (
        IncidentSource.CUSTOMER, IncidentState.DECLARED, service_a, service_a.customer)
    assert inc.detected_at == T0 - timedelta(minutes=20) and inc.declared_at == T0
    assert "李四" in inc.description and "010-88886666" in inc.description
    # The call is the customer's report (the 5-day clause), on the complaint line.
    assert (inc.reported_at, inc.reported_via) == (T0, "complaint_line")
    [outage] = Outage.objects.all()
    assert (outage.incident, outage.source, outage.started_at, outage.ended_at, outage.reported_at) == (
        inc, OutageSource.MANUAL, T0 - timedelta(minutes=20), None, T0)
    clock = c4(inc)
    assert clock.state == ClockState.RUNNING and clock.started_at == T0
    assert clock.due_at == T0 + timedelta(minutes=15)
    [attempt] = NoticeAttempt.objects.filter(incident=inc)
    assert (attempt.seq, attempt.contact, attempt.channel, attempt.address, attempt.outcome) == (
        1, contact, "email", "wang@alpha.test", NoticeOutcome.PENDING)
    assert attempt.notification is not None and attempt.notification.address == "wang@alpha.test"
    # The notice says we declared it (staff did, on the customer's call), not "our monitoring".
    assert "我方于" in attempt.notification.body and "监控" not in attempt.notification.body
    entry = AuditEntry.objects.get(action="staff_record")
    assert entry.data["caller_name"] == "李四" and entry.data["caller_phone"] == "010-88886666"
    # As for a probe: the e-mail is accepted by a real SMTP server and that meets C4.
    with SmtpServer() as smtp, override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="127.0.0.1",
                                                 EMAIL_PORT=smtp.port):
        with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
            notification_send(notification_id=attempt.notification_id)
        got = smtp.sink.snapshot()
    assert [rcpts for rcpts, _ in got] == [["wang@alpha.test"]]
    notices_advance(now=T0 + timedelta(minutes=2, seconds=5))
    assert c4(inc).state == ClockState.MET
    assert Incident.objects.get(pk=inc.pk).state == IncidentState.NOTIFIED


def test_own_detection_by_the_engineer_has_no_customer_report(engineer, service_a, contact):  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        page = web(engineer).get("/incidents/new/")
        r = web(engineer).post("/incidents/new/", form(service_a, source="staff", caller_name="", caller_phone="",
                                                       outage_started_at="2026-03-10T14:00"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="2026-03-10T14:00"' in html  # the outage start defaults to now
    assert f"甲公司 Alpha · {service_a}" in html  # each service labelled with its customer
    assert r.status_code == 302
    inc = Incident.objects.get()
    assert inc.source == IncidentSource.STAFF and inc.reported_at is None and inc.reported_via == ""
    assert inc.outages.get().started_at == T0 and c4(inc).started_at == T0
    assert NoticeAttempt.objects.filter(incident=inc).count() == 1


def test_an_email_service_is_declared_without_a_notice_clock(manager, customer_a, contact):  # type: ignore[no-untyped-def]
    mail = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email", name="企业邮箱")
    with time_machine.travel(T0, tick=False):
        r = web(manager).post("/incidents/new/", form(mail), follow=True)
    inc = Incident.objects.get()
    assert inc.state == IncidentState.DECLARED and inc.outages.count() == 1
    assert not Clock.objects.filter(object_id=inc.pk, policy__code="C4").exists()
    assert not NoticeAttempt.objects.exists()
    assert "没有紧急情况通知承诺" in r.content.decode() or "no emergency notice" in r.content.decode()


def test_outage_start_now_is_accepted_and_one_minute_later_refused(specialist, service_a, contact):  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        r = web(specialist).post("/incidents/new/", form(service_a, outage_started_at="2026-03-10T14:01"))
    assert r.status_code == 400
    assert r.context["form"].errors["outage_started_at"]
    assert not Incident.objects.exists() and not Outage.objects.exists() and not Clock.objects.exists()
    with time_machine.travel(T0, tick=False):
        r = web(specialist).post("/incidents/new/", form(service_a, outage_started_at="2026-03-10T14:00"))
    assert r.status_code == 302 and Incident.objects.get().outages.get().started_at == T0


def test_the_service_refuses_a_start_one_second_ahead(specialist, service_a):  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as e:
        incident_record(service=service_a, actor=specialist, source="staff", title="x",
                        outage_started_at=T0 + timedelta(seconds=1), now=T0)
    assert "outage_started_at" in e.value.field_errors and not Incident.objects.exists()


def test_a_phone_report_needs_the_caller(specialist, service_a):  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        r = web(specialist).post("/incidents/new/", form(service_a, caller_name="", caller_phone="",
                                                         outage_started_at="2026-03-10T14:05"))
    assert r.status_code == 400
    assert set(r.context["form"].errors) >= {"caller_name", "caller_phone", "outage_started_at"}
    assert not Incident.objects.exists()


def test_saved_as_detected_then_declared_from_its_page(specialist, engineer, service_a, contact):  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        r = web(specialist).post("/incidents/new/", form(service_a, declare=None))
    assert r.status_code == 302
    inc = Incident.objects.get()
    assert inc.state == IncidentState.DETECTED and not inc.outages.exists()
    assert not Clock.objects.exists() and not NoticeAttempt.objects.exists()
    # The page's declare action keeps its roles: engineer and manager.
    assert web(specialist).post(f"/incidents/{inc.pk}/declare/").status_code == 403
    later = T0 + timedelta(minutes=30)
    with time_machine.travel(later, tick=False):
        r = web(engineer).post(f"/incidents/{inc.pk}/declare/", {"reason": "确认故障"})
    assert r.status_code == 302
    inc.refresh_from_db()
    assert inc.state == IncidentState.DECLARED and inc.declared_at == later
    # The outage starts when the caller said it did; C4 at the declaration.
    assert inc.outages.get().started_at == T0 - timedelta(minutes=20)
    assert c4(inc).started_at == later and NoticeAttempt.objects.filter(incident=inc).count() == 1


def test_a_service_with_an_open_outage_is_refused_pointing_to_its_incident(specialist, service_a, contact):  # type: ignore[no-untyped-def]
    d = emergency_declare(service=service_a, source=IncidentSource.MONITOR, title="设备不可达",
                          outage_started_at=T0 - timedelta(minutes=10), now=T0 - timedelta(minutes=5))
    with pytest.raises(ConflictError):
        incident_record(service=service_a, actor=specialist, source="staff", title="x",
                        outage_started_at=T0, now=T0)
    with time_machine.travel(T0, tick=False):
        r = web(specialist).post("/incidents/new/", form(service_a))
    assert r.status_code == 400 and d.incident.number in r.content.decode()
    assert Incident.objects.count() == 1 and Outage.objects.count() == 1


def test_roles_customers_and_data_centre_staff_may_not(alice, dc_staff, specialist, service_a):  # type: ignore[no-untyped-def]
    for user in (alice, dc_staff):
        assert web(user).get("/incidents/new/").status_code == 403
        assert web(user).post("/incidents/new/", form(service_a)).status_code == 403
        assert "/incidents/new/" not in web(user).get("/incidents/").content.decode()
        with pytest.raises(ForbiddenError):
            incident_record(service=service_a, actor=user, source="staff", title="x", outage_started_at=T0, now=T0)
    assert "/incidents/new/" in web(specialist).get("/incidents/").content.decode()
    r = Client().get("/incidents/new/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    assert not Incident.objects.exists()


def test_api_records_and_declares(engineer, service_a, contact):  # type: ignore[no-untyped-def]
    body = {"service": service_a.pk, "source": "customer", "caller_name": "李四", "caller_phone": "010-1",
            "title": "无法访问", "outage_started_at": (T0 - timedelta(minutes=5)).isoformat()}
    with time_machine.travel(T0, tick=False):
        r = api(engineer).post("/api/incidents/", body, format="json")
    assert r.status_code == 201, r.content
    data = r.json()
    assert data["state"] == "declared" and data["source"] == "customer"
    assert data["outages"][0]["started_at"].startswith("2026-03-10T13:55")
    assert data["notice_attempts"][0]["channel"] == "email"
    assert c4(Incident.objects.get(pk=data["id"])).started_at == T0


def test_api_field_errors_create_nothing(engineer, service_a, contact):  # type: ignore[no-untyped-def]
    with time_machine.travel(T0, tick=False):
        r = api(engineer).post("/api/incidents/", {"service": service_a.pk, "source": "phone"}, format="json")
        assert r.status_code == 400 and {"source", "title"} <= set(r.json()["errors"])
        r = api(engineer).post("/api/incidents/", {"service": service_a.pk, "source": "customer", "title": "x",
                                                   "outage_started_at": (T0 + timedelta(seconds=1)).isoformat()},
                               format="json")
        assert r.status_code == 400
        assert {"outage_started_at", "caller_name", "caller_phone"} <= set(r.json()["errors"])
        r = api(engineer).post("/api/incidents/", {"service": 999999, "source": "staff", "title": "x"}, format="json")
        assert r.status_code == 400 and "service" in r.json()["errors"]
    assert not Incident.objects.exists() and not Outage.objects.exists() and not Clock.objects.exists()


def test_api_another_customers_service_creates_nothing(charlie, alice, dc_staff, service_a, service_c):  # type: ignore[no-untyped-def]
    body = {"source": "staff", "title": "x"}
    r = api(charlie).post("/api/incidents/", {**body, "service": service_a.pk}, format="json")
    assert r.status_code == 400 and "service" in r.json()["errors"]
    # Their own service: a customer user may not record one (the portal report is theirs).
    assert api(charlie).post("/api/incidents/", {**body, "service": service_c.pk}, format="json").status_code == 403
    assert api(alice).post("/api/incidents/", {**body, "service": service_a.pk}, format="json").status_code == 403
    assert api(dc_staff).post("/api/incidents/", {**body, "service": service_a.pk}, format="json").status_code == 403
    assert not Incident.objects.exists() and not Outage.objects.exists()


def test_api_declares_a_detected_incident_from_its_recorded_start(engineer, charlie, service_a, contact):  # type: ignore[no-untyped-def]
    rec = incident_record(service=service_a, actor=engineer, source="staff", title="丢包",
                          outage_started_at=T0 - timedelta(minutes=7), declare=False, now=T0)
    assert api(charlie).post(f"/api/incidents/{rec.incident.pk}/declare/", {}).status_code == 404
    with time_machine.travel(T0 + timedelta(minutes=3), tick=False):
        r = api(engineer).post(f"/api/incidents/{rec.incident.pk}/declare/", {"reason": "确认"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "declared" and r.json()["outages"][0]["started_at"].startswith("2026-03-10T13:53")
    assert c4(rec.incident).started_at == T0 + timedelta(minutes=3)


def test_no_contact_on_file_is_audited_and_the_clock_still_runs(specialist, service_a):  # type: ignore[no-untyped-def]
    rec = incident_record(service=service_a, actor=specialist, source="staff", title="x",
                          outage_started_at=T0, now=T0)
    assert rec.clock is not None and rec.clock.state == ClockState.RUNNING
    assert AuditEntry.objects.filter(action="notice_no_contact").exists()
    assert not NoticeAttempt.objects.exists()
