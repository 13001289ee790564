"""`make run`'s demo data and the health endpoint."""

from __future__ import annotations

import socket
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.utils import timezone

from access_requests.choices import VisitState
from access_requests.models import DataCentre, Room, Visit, Visitor
from audit.models import AuditEntry
from complaints.choices import ComplaintChannel, ComplaintState
from complaints.models import Complaint
from credits.models import Credit
from customers.choices import Role
from customers.management.commands.load_demo import (
    COMPLAINT_RESOLVED,
    COMPLAINT_RUNNING,
    CUSTOMERS,
    DEMO_PASSWORD,
    INCIDENT_CUSTOMER,
    INCIDENT_PROVIDER,
    LOGINS,
    OPERATION_TITLE,
    SHORT_CLOCKS,
    TARGET_FAILING,
    TARGET_SELF,
    VISIT_APPROVED,
    VISIT_REQUESTED,
)
from customers.models import AuthorizedContact, Contract, Customer, CustomerUser, Service
from incidents.choices import Cause, IncidentState
from incidents.downtime import TZ, service_month_downtime
from incidents.models import Incident, NoticeAttempt, Outage
from monitoring.choices import CheckKind
from monitoring.models import StateChange, Target
from monitoring.probes import ProbeResult
from monitoring.services import probe_results_record
from notifications.models import Notification
from operations.choices import AuthorizationMethod, AuthorizationStatus, OperationState
from operations.models import Authorization, OperationMessage, OperationRequest, OperationStep
from orders.models import InstallationOrder
from reports.models import WrittenReport
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clocks_sweep

pytestmark = pytest.mark.django_db

MODELS = [get_user_model(), Customer, Contract, Service, AuthorizedContact, CustomerUser, Clock,
          AuditEntry, Complaint, WrittenReport, Incident, Outage, NoticeAttempt, Target, StateChange,
          OperationRequest, Authorization, OperationStep, OperationMessage, DataCentre, Room, Visit,
          Visitor, Notification, Credit]


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in MODELS}


def clock_of(obj, code: str) -> Clock:
    return Clock.objects.get(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk,
                             policy__code=code)


def load() -> None:
    call_command("load_demo", verbosity=0)


def test_load_demo_twice_creates_nothing_the_second_time():
    load()
    first = counts()
    load()
    assert counts() == first
    assert first["Customer"] == len(CUSTOMERS)
    assert first["Contract"] == len(CUSTOMERS)
    assert first["CustomerUser"] == 2
    # One installation order per hosting service (none for e-mail: E5), each with its C3 clock
    # (or its deadline pending when the window after signing reaches a year the working-day
    # calendar does not know yet), plus the short demo clocks on services.
    service_clocks = Clock.objects.filter(content_type=ContentType.objects.get_for_model(Service))
    assert service_clocks.count() == len(SHORT_CLOCKS)
    hosting = [(c["contract"]["number"], name) for c in CUSTOMERS for kind, name in c["services"]
               if kind != "email"]
    orders = InstallationOrder.objects.select_related("contract", "service")
    assert {(o.contract.number, o.service.name) for o in orders} == set(hosting)
    c3 = Clock.objects.filter(policy__code="C3", content_type=ContentType.objects.get_for_model(InstallationOrder))
    pending = orders.filter(deadline_pending_year__isnull=False).count()
    assert c3.count() + pending == len(hosting)
    assert not Clock.objects.filter(policy__code="C3").exclude(pk__in=c3.values("pk")).exists()
    # Each workflow's demo objects, once.
    # A complaint report, and last month's statement of the long-standing customer.
    assert first["Complaint"] == 2 and first["WrittenReport"] == 2
    # Two incidents' outages, and last month's two outages of the long-standing customer.
    assert first["Incident"] == 2 and first["Outage"] == 4
    assert first["Target"] == 2 and first["OperationRequest"] == 1 and first["Visit"] == 2
    # C3 of the orders, C8 of the network complaint, E4-RESP and E4-RESULT of the spam one's
    # case, C5 of the operation.
    assert first["Clock"] == c3.count() + len(SHORT_CLOCKS) + 4
    # Last month is closed: its C1 breach (52 counted minutes; the customer-caused 18 excluded)
    # proposes that month's rent waived, once however often the demo loads.
    from settlement.models import Judgement, MonthClose

    assert MonthClose.objects.count() == 1
    breach = Judgement.objects.get(verdict="breached")
    assert (breach.policy.code, breach.counted_seconds, len(breach.excluded)) == ("C1", 52 * 60, 1)
    [credit] = Credit.objects.filter(kind="waive_month_rent")
    assert credit.amount == Decimal("2800.00") and credit.evidence == breach


def test_one_login_per_role_with_the_printed_password():
    load()
    User = get_user_model()
    for role in Role.values:
        users = User.objects.filter(groups__name=role)
        assert users.count() == 1, role
        user = users.get()
        assert user.is_staff and not user.is_superuser
        assert user.check_password(DEMO_PASSWORD)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(DEMO_PASSWORD)
    for username, role, _label in LOGINS:
        if role.startswith("customer:"):
            user = User.objects.get(username=username)
            assert not user.is_staff
            assert user.customer_link.customer.code == role.split(":", 1)[1]
            assert user.check_password(DEMO_PASSWORD)


def test_contacts_have_a_hashed_mrtg_secret():
    load()
    contact = AuthorizedContact.objects.get(name="张伟")
    assert contact.check_mrtg("huaxia-mrtg", "huaxia-mrtg-secret")
    assert not contact.check_mrtg("huaxia-mrtg", "wrong")
    assert "huaxia-mrtg-secret" not in contact.mrtg_secret_hash


def test_short_clocks_warn_and_breach_within_minutes_and_are_topped_up_once_closed():
    before = timezone.now()
    load()
    short = Clock.objects.filter(policy__code__in=[code for code, _n, _m in SHORT_CLOCKS],
                                 content_type=ContentType.objects.get_for_model(Service))
    assert short.count() == 2
    for clock in short.all():
        assert clock.state == ClockState.RUNNING
        assert clock.warn_at < before + timedelta(minutes=1)
        assert before + timedelta(minutes=2) < clock.due_at < before + timedelta(minutes=6)

    # A minute in, both have warned and neither has breached.
    result = clocks_sweep(now=before + timedelta(minutes=1))
    assert set(result.warned) == set(short.values_list("pk", flat=True))
    assert result.breached == []
    # Three minutes in, the C5 clock has breached; the C4 one still runs: nothing is topped up.
    result = clocks_sweep(now=before + timedelta(minutes=3))
    assert [Clock.objects.get(pk=pk).policy.code for pk in result.breached] == ["C5"]
    load()
    assert short.count() == 2

    # Once none is open, the next start gets two fresh ones.
    clocks_sweep(now=before + timedelta(minutes=7))
    assert not short.filter(state=ClockState.RUNNING).exists()
    load()
    assert short.count() == 4
    assert short.filter(state=ClockState.RUNNING).count() == 2


def test_complaints_one_accepted_on_the_complaint_line_one_reported_and_resolved():
    load()
    running = Complaint.objects.get(title=COMPLAINT_RUNNING)
    assert running.customer.code == "demo-huaxia"
    assert running.channel == ComplaintChannel.COMPLAINT_LINE
    assert running.state == ComplaintState.ACCEPTED
    assert clock_of(running, "C8").state == ClockState.RUNNING

    resolved = Complaint.objects.get(title=COMPLAINT_RESOLVED)
    assert resolved.customer.code == "demo-jinlong"
    assert resolved.state == ComplaintState.RESOLVED
    assert resolved.accepted_at < resolved.first_report_at < resolved.resolved_at <= timezone.now()
    report = WrittenReport.objects.get(object_id=resolved.pk, sequence=1)
    assert report.file.read(5) == b"%PDF-"
    # A spam complaint runs the anti-spam promise (E4), not the generic complaint report clock.
    assert not Clock.objects.filter(content_type=ContentType.objects.get_for_model(resolved),
                                    object_id=resolved.pk).exists()
    case = resolved.spam_case
    assert clock_of(case, "E4-RESP").state == ClockState.MET
    assert clock_of(case, "E4-RESULT").state == ClockState.MET
    assert Notification.objects.filter(kind="complaint_report", address="zhaolei@jinlong.example").exists()


def test_incidents_closed_with_classified_outages_show_on_the_downtime_page():
    before = timezone.now()
    load()
    excluded = Incident.objects.get(title=INCIDENT_CUSTOMER)
    counted = Incident.objects.get(title=INCIDENT_PROVIDER)
    for inc in (excluded, counted):
        assert inc.state == IncidentState.CLOSED
        assert inc.reported_at is not None and inc.closed_at < before
        assert inc.outages.get().ended_at is not None
    out = excluded.outages.get()
    assert out.cause == Cause.CUSTOMER_EQUIPMENT and out.cause_note and out.cause_set_by.username == "engineer"
    assert counted.outages.get().cause == Cause.PROVIDER
    assert counted.reported_via == "portal"
    # Past events send nothing now: no emergency notices, no clocks on the incidents.
    assert not NoticeAttempt.objects.exists()
    assert not Clock.objects.filter(content_type=ContentType.objects.get_for_model(Incident)).exists()

    month = timezone.localtime(counted.outages.get().started_at, TZ)
    result = service_month_downtime(service=counted.service, year=month.year, month=month.month)
    assert result.counted_seconds == 14 * 60
    assert list(result.excluded.values()) == [Cause.CUSTOMER_EQUIPMENT]
    assert result.breached is False


def test_monitoring_targets_probe_the_portal_itself_and_a_failing_port(monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    load()
    own = Target.objects.get(name=TARGET_SELF)
    assert own.kind == CheckKind.WWW and own.url == "http://127.0.0.1:8123/healthz"
    assert own.interval_seconds == 60 and own.active and own.next_due_at is not None
    failing = Target.objects.get(name=TARGET_FAILING)
    assert (failing.host, failing.port, failing.interval_seconds) == ("127.0.0.1", 9, 60)

    # Another PORT on the next start: the same target follows it, nothing new is made.
    monkeypatch.setenv("PORT", "9000")
    load()
    assert Target.objects.count() == 2
    assert Target.objects.get(pk=own.pk).url == "http://127.0.0.1:9000/healthz"

    # Two failed probes declare the emergency; its C4 notice goes to the demo contact.
    now = timezone.now()
    for i in range(2):
        probe_results_record(results=[ProbeResult(failing.pk, False, "smtp", "refused", 0)],
                             now=now + timedelta(minutes=i))
    inc = Incident.objects.get(target=failing)
    assert inc.state == IncidentState.DECLARED
    assert clock_of(inc, "C4").state == ClockState.RUNNING
    attempt = NoticeAttempt.objects.get(incident=inc)
    assert attempt.contact.customer.code == "demo-jinlong"
    assert attempt.address.endswith(".example") or attempt.channel != "email"
    # The next start makes no second target, incident or notice.
    first = counts()
    load()
    assert counts() == first


def test_operation_authorized_in_writing_and_in_progress_with_a_step():
    load()
    op = OperationRequest.objects.get(title=OPERATION_TITLE)
    assert op.state == OperationState.IN_PROGRESS
    auth = op.authorizations.get()
    assert auth.method == AuthorizationMethod.WRITTEN and auth.status == AuthorizationStatus.ACCEPTED
    assert auth.contact.name == "张伟" and auth.content_type == "application/pdf"
    assert auth.file.read(5) == b"%PDF-"
    assert op.steps.count() == 1
    assert op.authorized_at <= op.started_at <= op.steps.get().done_at
    assert clock_of(op, "C5").state == ClockState.MET


def test_visits_one_approved_with_an_escort_one_awaiting_approval():
    now = timezone.now()
    load()
    approved = Visit.objects.get(reason=VISIT_APPROVED)
    assert approved.state == VisitState.APPROVED
    assert approved.escort.username == "dcstaff"
    assert now + timedelta(days=1) < approved.expected_entry_at < now + timedelta(days=4)
    assert approved.visitors.count() == 2
    requested = Visit.objects.get(reason=VISIT_REQUESTED)
    assert requested.state == VisitState.REQUESTED and requested.escort is None
    assert requested.expected_entry_at > now + timedelta(days=1)
    assert {approved.customer.code, requested.customer.code} == {"demo-huaxia", "demo-jinlong"}


def _beat(name: str, ago: float = 0.0) -> None:
    from runtime.services import heartbeat_beat

    heartbeat_beat(name=name, duration_ms=1.5, iterations=7,
                   now=timezone.now() - timedelta(seconds=ago))


def test_healthz_reports_database_broker_sweep_and_backlog(client):
    from notifications.services import Message, notifications_enqueue

    _beat("sweep", ago=2)
    _beat("sender", ago=1)
    notifications_enqueue(messages=[Message(channel="email", address="a@example.test", kind="t",
                                            subject="s", body="b", idempotency_key="hz-1")],
                          now=timezone.now() - timedelta(seconds=90))
    r = client.get("/healthz")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["broker"]["ok"]
    assert body["sweep"]["ok"] is True and 1.5 < body["sweep"]["lag_seconds"] < 30
    assert body["loops"]["sender"]["iterations"] == 7
    assert body["notifications"]["waiting"] == 1
    assert 89 < body["notifications"]["oldest_pending_seconds"] < 200


def test_healthz_is_503_when_the_sweep_has_not_run_for_30_s(client):
    r = client.get("/healthz")  # never ran
    assert r.status_code == 503 and r.json()["sweep"]["ok"] is False
    _beat("sweep", ago=31)
    r = client.get("/healthz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "fail" and body["sweep"]["lag_seconds"] > 30
    _beat("sweep", ago=29)
    assert client.get("/healthz").status_code == 200


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_healthz_says_degraded_when_the_broker_is_unreachable(client, settings):
    """Deadlines and notices do not depend on the broker: still 200, but it says so."""
    _beat("sweep")
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "degraded"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False and body["broker"]["transport"] == "redis"


@pytest.mark.django_db
def test_error_pages_are_chinese_first(client, alice):
    client.force_login(alice)
    r = client.get("/no-such-page/")
    assert r.status_code == 404
    body = r.content.decode()
    assert "页面不存在" in body and "返回首页" in body and "Not Found" not in body
