"""Month close: every period promise judged per service and month, its remedy proposed from the
policy row, idempotent, and corrected by re-judgement as an adjustment (never a silent edit)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType

from audit.models import AuditEntry
from credits import services as credit_services
from credits.choices import CreditKind, CreditState
from credits.models import Credit
from incidents.choices import Cause, OutageKind, OutageSource
from incidents.models import Outage
from incidents.services import outage_classify
from settlement.choices import Verdict
from settlement.models import Judgement, MonthClose
from settlement.services import month_close, months_close_due
from slaportal.errors import DomainError
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
MARCH = datetime(2026, 3, 1, 0, 30, tzinfo=TZ)  # early on the 1st: February is closed


def feb(day: int, h: int, m: int = 0, s: int = 0) -> datetime:
    return datetime(2026, 2, day, h, m, s, tzinfo=TZ)


def outage(service, start, minutes=0, seconds=0, *, kind=OutageKind.NETWORK, cause=""):  # type: ignore[no-untyped-def]
    return Outage.objects.create(service=service, kind=kind, source=OutageSource.MANUAL, started_at=start,
                                 ended_at=start + timedelta(minutes=minutes, seconds=seconds), cause=cause,
                                 created_at=start, reported_at=start)


@pytest.fixture(autouse=True)
def _no_statements(settings):  # type: ignore[no-untyped-def]
    settings.SETTLEMENT_STATEMENTS = "off"  # the statements have tests of their own


@pytest.fixture
def hosting(customer_a):  # type: ignore[no-untyped-def]
    contract = f.ContractFactory(customer=customer_a, monthly_fee=Decimal("2800.00"),
                                 signed_at=datetime(2026, 1, 5, 10, tzinfo=TZ))
    return f.ServiceFactory(contract=contract, kind="colocation", name="托管 A1")


def judgement(service, code: str) -> Judgement:  # type: ignore[no-untyped-def]
    return Judgement.objects.get(service=service, policy__code=code, month="2026-02-01", current=True)


def rent_credits(contract):  # type: ignore[no-untyped-def]
    return Credit.objects.filter(contract=contract, kind=CreditKind.WAIVE_MONTH_RENT).order_by("pk")


@pytest.mark.django_db
def test_february_with_45_minutes_proposes_one_rent_waiver_and_is_corrected(
        hosting, engineer, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    outage(hosting, feb(3, 10), 35)
    ten = outage(hosting, feb(17, 22), 10)
    r = month_close(year=2026, month=2, now=MARCH)
    j = judgement(hosting, "C1")
    assert (j.verdict, j.counted_seconds, j.value) == (Verdict.BREACHED, 45 * 60, Decimal("45"))
    assert [o["id"] for o in j.counted] == sorted([ten.pk, ten.pk - 1])
    assert judgement(hosting, "C2").verdict == Verdict.MET
    [credit] = rent_credits(hosting.contract)
    assert r.proposed == [credit.pk] and r.created
    assert (credit.amount, credit.state, credit.period.isoformat()) == (Decimal("2800.00"), "proposed", "2026-02-01")
    assert credit.evidence == j and credit.policy.code == "C1" and credit.proposed_by is None

    again = month_close(year=2026, month=2, now=MARCH + timedelta(hours=1))
    assert (again.created, again.judged, again.rejudged, again.proposed) == (False, 0, 0, [])
    assert rent_credits(hosting.contract).count() == 1
    assert Judgement.objects.filter(service=hosting).count() == 2  # C1 and C2, one version each

    # The 10-minute outage turns out to be the customer's equipment: the closed month is
    # re-judged by itself (the classification's signal), 35 minutes is met, the proposal withdrawn.
    with django_capture_on_commit_callbacks(execute=True):
        outage_classify(outage_id=ten.pk, cause=Cause.CUSTOMER_EQUIPMENT, note="甲方交换机故障",
                        actor=engineer, now=MARCH + timedelta(days=2))
    j2 = judgement(hosting, "C1")
    assert (j2.version, j2.verdict, j2.counted_seconds, j2.supersedes_id) == (2, Verdict.MET, 35 * 60, j.pk)
    assert [o["id"] for o in j2.excluded] == [ten.pk] and j2.excluded[0]["reason"] == Cause.CUSTOMER_EQUIPMENT
    credit.refresh_from_db()
    assert credit.state == CreditState.WITHDRAWN and "2026-02" in credit.decision_reason
    ct = ContentType.objects.get_for_model(Judgement)
    assert AuditEntry.objects.filter(content_type=ct, object_id=j2.pk, action="rejudge",
                                     from_state="breached", to_state="met").exists()
    assert AuditEntry.objects.filter(object_id=credit.pk, action="withdraw").exists()
    # The first judgement is kept as history, not edited.
    j.refresh_from_db()
    assert (j.current, j.verdict, j.counted_seconds) == (False, Verdict.BREACHED, 45 * 60)


@pytest.mark.django_db
def test_an_applied_credit_is_never_changed_by_a_rejudgement(hosting, engineer, manager,
                                                             django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    outage(hosting, feb(3, 10), 35)
    ten = outage(hosting, feb(17, 22), 10)
    month_close(year=2026, month=2, now=MARCH)
    [credit] = rent_credits(hosting.contract)
    credit_services.credit_approve(credit_id=credit.pk, actor=manager, now=MARCH + timedelta(hours=1))
    credit_services.credit_apply(credit_id=credit.pk, actor=manager, now=MARCH + timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        outage_classify(outage_id=ten.pk, cause=Cause.CUSTOMER_EQUIPMENT, note="甲方设备",
                        actor=engineer, now=MARCH + timedelta(days=2))
    credit.refresh_from_db()
    assert (credit.state, credit.amount, credit.applied_at) == (
        CreditState.APPLIED, Decimal("2800.00"), MARCH + timedelta(hours=2))
    # The correction is a new ledger entry that reverses it, proposed for a decision.
    reversal = Credit.objects.get(reverses=credit)
    assert reversal.state == CreditState.PROPOSED and reversal.signed_amount == Decimal("-2800.00")
    # Closing again changes nothing more.
    month_close(year=2026, month=2, now=MARCH + timedelta(days=3))
    assert Credit.objects.filter(contract=hosting.contract).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(("seconds", "verdict"), [(43 * 60 + 59, Verdict.MET), (44 * 60, Verdict.BREACHED)])
def test_c1_boundary_at_month_close(hosting, seconds, verdict):  # type: ignore[no-untyped-def]
    outage(hosting, feb(10, 9), seconds=seconds)
    month_close(year=2026, month=2, now=MARCH)
    assert judgement(hosting, "C1").verdict == verdict
    assert rent_credits(hosting.contract).count() == (verdict == Verdict.BREACHED)


@pytest.mark.django_db
@pytest.mark.parametrize(("seconds", "verdict"), [(2419, Verdict.MET), (2420, Verdict.BREACHED)])
def test_c2_is_judged_against_its_own_threshold(hosting, seconds, verdict):  # type: ignore[no-untyped-def]
    # 0.1% of February 2026 (28 days) is 2,419.2 s; C2 is "≤ 0.1%", its own row, not C1's 44 min.
    outage(hosting, feb(12, 1), seconds=seconds, kind=OutageKind.POWER)
    month_close(year=2026, month=2, now=MARCH)
    j = judgement(hosting, "C2")
    assert (j.verdict, j.unit, j.threshold) == (verdict, "percent", Decimal("0.1"))
    assert judgement(hosting, "C1").verdict == Verdict.MET  # a power outage is not a network one


@pytest.mark.django_db
def test_c1_and_c2_broken_together_waive_the_rent_once(hosting):  # type: ignore[no-untyped-def]
    outage(hosting, feb(3, 10), 50)
    outage(hosting, feb(4, 10), 50, kind=OutageKind.POWER)
    month_close(year=2026, month=2, now=MARCH)
    assert judgement(hosting, "C1").breached and judgement(hosting, "C2").breached
    [credit] = rent_credits(hosting.contract)
    assert "C1" in credit.note and "C2" in credit.note


@pytest.mark.django_db
def test_email_service_is_judged_on_e1_and_owed_double_service_time(customer_a):  # type: ignore[no-untyped-def]
    mail = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email", name="企业邮箱")
    outage(mail, feb(20, 3), 44)
    month_close(year=2026, month=2, now=MARCH)
    j = judgement(mail, "E1")
    assert j.verdict == Verdict.BREACHED
    assert not Judgement.objects.filter(service=mail, policy__code__in=["C1", "C2"]).exists()
    [credit] = Credit.objects.filter(contract=mail.contract)
    assert (credit.kind, credit.days, credit.amount, credit.policy.code) == (CreditKind.EXTEND_SERVICE, 28, None, "E1")


@pytest.mark.django_db
def test_a_month_that_has_not_ended_cannot_be_closed(hosting):  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as e:
        month_close(year=2026, month=2, now=feb(28, 23, 59, 59))
    assert "month" in e.value.field_errors
    assert not MonthClose.objects.exists() and not Judgement.objects.exists()


@pytest.mark.django_db
def test_a_free_contract_breaches_without_a_zero_credit(customer_a):  # type: ignore[no-untyped-def]
    s = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a, monthly_fee=Decimal("0.00")))
    outage(s, feb(3, 10), 60)
    month_close(year=2026, month=2, now=MARCH)
    assert judgement(s, "C1").breached
    assert not Credit.objects.exists()


@pytest.mark.django_db
def test_an_outage_recorded_late_rejudges_the_closed_month(hosting, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    month_close(year=2026, month=2, now=MARCH)
    assert judgement(hosting, "C1").verdict == Verdict.MET
    with django_capture_on_commit_callbacks(execute=True):
        outage(hosting, feb(27, 23), 50)
    j = judgement(hosting, "C1")
    assert (j.version, j.verdict) == (2, Verdict.BREACHED)
    assert rent_credits(hosting.contract).count() == 1


@pytest.mark.django_db
def test_a_contract_policy_override_switches_the_promise_off(hosting):  # type: ignore[no-untyped-def]
    from sla.models import ContractPolicy, SlaPolicy

    ContractPolicy.objects.create(contract=hosting.contract, policy=SlaPolicy.objects.get(code="C1"), active=False)
    outage(hosting, feb(3, 10), 90)
    month_close(year=2026, month=2, now=MARCH)
    assert judgement(hosting, "C1").verdict == Verdict.NOT_APPLICABLE
    assert not Credit.objects.exists()


@pytest.mark.django_db
def test_scheduled_close_runs_once_then_rejudges_only_what_changed(hosting):  # type: ignore[no-untyped-def]
    outage(hosting, feb(3, 10), 50)
    [first] = months_close_due(now=MARCH)
    assert first.created and first.judged == 2
    [second] = months_close_due(now=MARCH + timedelta(days=1))
    assert (second.created, second.judged, second.rejudged) == (False, 0, 0)
    assert months_close_due(now=MARCH + timedelta(days=10)) == []
    assert rent_credits(hosting.contract).count() == 1


@pytest.mark.django_db
def test_services_not_in_force_are_not_judged(customer_a):  # type: ignore[no-untyped-def]
    later = f.ServiceFactory(contract=f.ContractFactory(
        customer=customer_a, signed_at=datetime(2026, 3, 10, tzinfo=TZ)))
    off = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), active=False)
    month_close(year=2026, month=2, now=MARCH)
    assert not Judgement.objects.filter(service__in=[later, off]).exists()


@pytest.mark.django_db
def test_monthly_breaches_sit_next_to_clock_breaches_with_filters_and_csv(client, manager, hosting, customer_a):  # type: ignore[no-untyped-def]
    from sla.models import Clock, SlaPolicy

    outage(hosting, feb(3, 10), 50)
    month_close(year=2026, month=2, now=MARCH)
    c8 = SlaPolicy.objects.get(code="C8")
    Clock.objects.create(content_type=ContentType.objects.get_for_model(hosting), object_id=hosting.pk,
                         label="投诉 TS-1", policy=c8, customer=customer_a, target=24, unit="hours",
                         calendar="24x7", state="breached", started_at=feb(20, 9), due_at=feb(21, 9),
                         warn_at=feb(20, 20), breached_at=feb(21, 9), warned_at=feb(20, 20),
                         warn_escalated_at=feb(20, 20), breach_escalated_at=feb(21, 9))
    client.force_login(manager)
    page = client.get("/sla/breaches/?since=2026-02-01&until=2026-03-31").content.decode()
    assert "投诉 TS-1" in page and "托管 A1 · 2026-02" in page and "C1" in page
    only_c1 = client.get("/sla/breaches/?since=2026-02-01&policy=C1").content.decode()
    assert "托管 A1 · 2026-02" in only_c1 and "投诉 TS-1" not in only_c1
    csv = client.get("/sla/breaches.csv?since=2026-02-01").content.decode("utf-8")
    assert csv.startswith("\ufeff") and "投诉 TS-1" in csv and "托管 A1" in csv and "2026-02" in csv
    assert client.get("/sla/breaches/?since=2026-03-01&until=2026-02-01").status_code == 200  # form error, no 500
    # The overdue review lists the month's breach while its credit awaits a decision.
    overdue = client.get("/sla/overdue/").content.decode()
    assert "托管 A1" in overdue and "2026-02" in overdue
    csv2 = client.get("/sla/overdue.csv?policy=C1").content.decode("utf-8")
    assert "托管 A1 · 2026-02" in csv2
    credit = rent_credits(hosting.contract).get()
    credit_services.credit_reject(credit_id=credit.pk, actor=manager, reason="客户同意不计")
    assert "托管 A1" not in client.get("/sla/overdue/").content.decode()


@pytest.mark.django_db
def test_month_pages_and_api_are_scoped(client, manager, specialist, alice, charlie, hosting):  # type: ignore[no-untyped-def]
    outage(hosting, feb(3, 10), 50)
    client.force_login(specialist)
    assert client.post("/settlement/close/", {"month": "2026-02"}).status_code == 403
    assert client.post("/api/months/close/", {"month": "2026-02"}, content_type="application/json").status_code == 403
    client.force_login(manager)
    bad = client.post("/api/months/close/", {"month": "2026-13"}, content_type="application/json")
    assert bad.status_code == 400 and "month" in bad.json()["errors"]
    r = client.post("/settlement/close/", {"month": "2026-02"})
    assert r.status_code == 302 and MonthClose.objects.filter(month="2026-02-01").exists()
    again = client.post("/api/months/close/", {"month": "2026-02"}, content_type="application/json").json()
    assert again["created"] is False and again["proposed"] == []
    future = client.post("/settlement/close/", {"month": "2099-01"})
    assert future.status_code == 400
    j = judgement(hosting, "C1")
    assert "50:00" in client.get(f"/settlement/judgements/{j.pk}/").content.decode()
    assert client.get("/settlement/2026-02/").status_code == 200
    client.force_login(alice)
    assert client.get(f"/api/judgements/{j.pk}/").json()["verdict"] == "breached"
    assert client.get("/api/judgements/?month=2026-02").json()["count"] == 2
    assert client.get("/api/judgements/?month=februrary").status_code == 400
    client.force_login(charlie)
    assert client.get(f"/settlement/judgements/{j.pk}/").status_code == 404
    assert client.get(f"/api/judgements/{j.pk}/").status_code == 404
    assert client.get("/api/judgements/").json()["count"] == 0


@pytest.mark.django_db
def test_e1_has_no_five_day_clause(customer_a):  # type: ignore[no-untyped-def]
    # The hosting agreement's "not reported within 5 days" exclusion is not in the e-mail
    # guarantee: an unreported mailbox outage still counts toward E1 (and one on hosting does not).
    mail = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email", name="企业邮箱")
    host = f.ServiceFactory(contract=mail.contract, kind="colocation", name="托管")
    for s in (mail, host):
        Outage.objects.create(service=s, kind=OutageKind.NETWORK, source=OutageSource.PROBE, started_at=feb(2, 3),
                              ended_at=feb(2, 3, 50), created_at=feb(2, 3), reported_at=None)
    month_close(year=2026, month=2, now=MARCH)
    assert judgement(mail, "E1").verdict == Verdict.BREACHED
    c1 = judgement(host, "C1")
    assert c1.verdict == Verdict.MET and c1.excluded[0]["reason"] == "not_reported_5_days"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_statement_the_close_could_not_queue_is_issued_by_the_hourly_job(settings, monkeypatch):  # type: ignore[no-untyped-def]
    # The broker is down at the moment of the close: the judgements and the credit stand, nothing
    # raises, and the hourly job finds the statement missing and issues it.
    from kombu.exceptions import OperationalError

    from reports.models import WrittenReport
    from settlement import tasks
    from settlement.services import statements_issue_stale, statements_stale

    customer = f.CustomerFactory(name="丁公司")
    s = f.ServiceFactory(contract=f.ContractFactory(customer=customer, monthly_fee=Decimal("2800.00")))
    outage(s, feb(3, 10), 50)
    settings.SETTLEMENT_STATEMENTS = "task"

    def broker_down(**kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.issue_statements, "delay", broker_down)
    month_close(year=2026, month=2, now=MARCH)
    assert judgement(s, "C1").breached and rent_credits(s.contract).count() == 1
    assert statements_stale(first=MARCH.date().replace(month=2)) == [customer.pk]
    settings.SETTLEMENT_STATEMENTS = "inline"
    assert statements_issue_stale(now=MARCH + timedelta(hours=1)) == [customer.pk]
    assert WrittenReport.objects.filter(customer=customer, kind="statement").count() == 1
    assert statements_issue_stale(now=MARCH + timedelta(hours=2)) == []
