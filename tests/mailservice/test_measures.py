"""The month close judges the e-mail guarantee's figures (E2, E3) with no change in settlement:
judgements from the policy rows, one double-service-time credit however many are broken, and a
platform fault corrected after the close re-judges the month as a new version."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from credits.choices import CreditKind, CreditState
from credits.models import Credit
from mailservice import services
from mailservice.aggregates import LatencyAccumulator
from mailservice.models import BillingErrorFigure, PlatformEvent
from settlement.choices import Verdict
from settlement.measures import REGISTRY
from settlement.models import Judgement
from settlement.services import month_close
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
MARCH = datetime(2026, 3, 1, 0, 30, tzinfo=TZ)


def feb(day: int, h: int = 0, m: int = 0) -> datetime:
    return datetime(2026, 2, day, h, m, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _no_statements(settings):  # type: ignore[no-untyped-def]
    settings.SETTLEMENT_STATEMENTS = "off"


@pytest.fixture
def mail(customer_a):  # type: ignore[no-untyped-def]
    return f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email", name="企业邮箱 甲")


@pytest.fixture
def domain(mail):  # type: ignore[no-untyped-def]
    return f.MailDomainFactory(service=mail, domain="alpha.example.cn")


def latency(domain, ms: list[int], direction: str = "send") -> None:  # type: ignore[no-untyped-def]
    acc = LatencyAccumulator()
    for i, v in enumerate(ms):
        acc.add(domain_id=domain.pk, at=feb(12, 8).timestamp() + i, direction=direction, source="log", latency_ms=v)
    acc.flush()


def judgement(service, code: str) -> Judgement:  # type: ignore[no-untyped-def]
    return Judgement.objects.get(service=service, policy__code=code, month="2026-02-01", current=True)


def test_every_figure_is_registered_for_email_services_only() -> None:
    for code in ("E2-AVG", "E2-SLOW", "E3-FAULT", "E3-ADJUST", "E3-AVAIL", "E3-DAYS", "E3-BILL", "E3-WEB"):
        pm = REGISTRY[code]
        assert pm.applies(f.ServiceFactory.build(kind="email"))
        assert not pm.applies(f.ServiceFactory.build(kind="colocation"))


def test_month_close_judges_the_mail_figures_and_proposes_one_double_service_time(mail, domain):  # type: ignore[no-untyped-def]
    hosting = f.ServiceFactory(contract=f.ContractFactory(customer=mail.customer), kind="colocation")
    latency(domain, [61_000] * 5)                                # E2-AVG broken (61 s)
    # E2-SLOW kept (2 over an hour); the receive average (40.6 s) is the better one.
    latency(domain, [4_000_000] * 2 + [1_000] * 200, direction="receive")
    PlatformEvent.objects.create(platform=domain.platform, kind="fault", title="存储故障", started_at=feb(9, 3),
                                 ended_at=feb(9, 4, 41), recorded_at=feb(9, 5))  # 101 min: E3-FAULT broken
    PlatformEvent.objects.create(platform=domain.platform, kind="adjustment", title="升级", started_at=feb(10, 1),
                                 ended_at=feb(10, 2), recorded_at=feb(9, 5))
    BillingErrorFigure.objects.create(month=date(2026, 2, 1), customers_billed=50_000, customers_with_error=1,
                                      entered_at=MARCH)
    r = month_close(year=2026, month=2, now=MARCH)

    verdicts = {j.policy.code: j.verdict for j in Judgement.objects.filter(service=mail, current=True)
                .select_related("policy")}
    assert verdicts == {
        "E1": Verdict.MET, "E2-AVG": Verdict.BREACHED, "E2-SLOW": Verdict.MET, "E3-FAULT": Verdict.BREACHED,
        "E3-ADJUST": Verdict.MET, "E3-AVAIL": Verdict.BREACHED, "E3-DAYS": Verdict.MET, "E3-BILL": Verdict.MET}
    avg = judgement(mail, "E2-AVG")
    assert (avg.value, avg.unit, avg.threshold) == (Decimal("1.016667"), "minutes", Decimal("1"))
    assert [row["id"] for row in avg.counted] == ["send", "receive"]
    assert avg.counted[0]["average_seconds"] == "61.000"
    fault = judgement(mail, "E3-FAULT")
    assert (fault.value, fault.counted_seconds, fault.counted[0]["title"]) == (Decimal(101), 101 * 60, "存储故障")
    assert judgement(mail, "E3-BILL").value == Decimal("0.002")
    assert judgement(mail, "E3-DAYS").value == Decimal(364)
    # The hosting service is judged on the hosting promises only.
    assert not Judgement.objects.filter(service=hosting, policy__code__startswith="E").exists()

    [credit] = Credit.objects.filter(contract=mail.contract)
    assert (credit.kind, credit.days, credit.amount, credit.state) == (
        CreditKind.EXTEND_SERVICE, 28, None, CreditState.PROPOSED)
    assert r.proposed == [credit.pk]
    assert "E2-AVG" in credit.note and "E3-FAULT" in credit.note and "三、运维保障" not in credit.note

    again = month_close(year=2026, month=2, now=MARCH + timedelta(hours=1))
    assert (again.judged, again.rejudged, again.proposed) == (0, 0, [])


def test_a_platform_fault_corrected_after_the_close_rejudges_the_month(
        mail, domain, engineer, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    other = f.ServiceFactory(contract=f.ContractFactory(customer=mail.customer), kind="email")
    f.MailDomainFactory(service=other, platform=domain.platform, domain="beta.example.cn")
    ev = PlatformEvent.objects.create(platform=domain.platform, kind="fault", title="网关故障",
                                      started_at=feb(20, 10), ended_at=feb(20, 11, 41), recorded_at=feb(20, 12))
    month_close(year=2026, month=2, now=MARCH)
    before = judgement(mail, "E3-FAULT")
    assert before.verdict == Verdict.BREACHED
    [credit] = Credit.objects.filter(contract=mail.contract)

    # It really ended after 90 minutes: the month is re-judged for every e-mail service on the platform.
    with django_capture_on_commit_callbacks(execute=True):
        services.platform_event_save(actor=engineer, event=ev, data={"ended_at": feb(20, 11, 30)},
                                     now=MARCH + timedelta(days=2))
    for s in (mail, other):
        j = judgement(s, "E3-FAULT")
        assert (j.version, j.verdict, j.value) == (2, Verdict.MET, Decimal(90))
    assert judgement(mail, "E3-FAULT").supersedes_id == before.pk
    # E3-AVAIL is still broken (90 min of a 40,320-minute month is 99.78 %): the credit stands.
    credit.refresh_from_db()
    assert credit.state == CreditState.PROPOSED


def test_the_sixth_fault_day_breaks_e3_days_in_its_month_and_later_months_are_not_applicable(mail, domain):  # type: ignore[no-untyped-def]
    for day in (2, 3, 4, 5, 6):
        PlatformEvent.objects.create(platform=domain.platform, kind="fault", title="短暂故障",
                                     started_at=feb(day, 9), ended_at=feb(day, 9) + timedelta(seconds=30),
                                     recorded_at=feb(day, 10))
    # 2.5 minutes of faults: availability (99.99 %: 4.03 minutes in February) is kept.
    month_close(year=2026, month=2, now=MARCH)
    assert judgement(mail, "E3-DAYS").verdict == Verdict.MET
    PlatformEvent.objects.create(platform=domain.platform, kind="fault", title="短暂故障",
                                 started_at=datetime(2026, 3, 5, 9, tzinfo=TZ),
                                 ended_at=datetime(2026, 3, 5, 9, 1, tzinfo=TZ), recorded_at=MARCH)
    month_close(year=2026, month=3, now=datetime(2026, 4, 1, 1, tzinfo=TZ))
    month_close(year=2026, month=4, now=datetime(2026, 5, 1, 1, tzinfo=TZ))
    mar = Judgement.objects.get(service=mail, policy__code="E3-DAYS", month="2026-03-01")
    apr = Judgement.objects.get(service=mail, policy__code="E3-DAYS", month="2026-04-01")
    assert (mar.verdict, mar.value) == (Verdict.BREACHED, Decimal(359))
    assert apr.verdict == Verdict.NOT_APPLICABLE and apr.counted[0] == {"id": "broken_in", "month": "2026-03"}
    # The remedy for the year's fault-free days is proposed once (March), not again in April.
    credits = Credit.objects.filter(contract=mail.contract, kind=CreditKind.EXTEND_SERVICE).order_by("period")
    assert [c.period for c in credits] == [date(2026, 3, 1)]


def test_billing_figures_entered_after_the_close_rejudge_every_email_service(
        mail, domain, manager, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    month_close(year=2026, month=2, now=MARCH)
    assert not Judgement.objects.filter(service=mail, policy__code="E3-BILL").exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.billing_figure_save(actor=manager, month=date(2026, 2, 1), customers_billed=10_000,
                                     customers_with_error=1, now=MARCH + timedelta(days=3))
    j = judgement(mail, "E3-BILL")
    assert (j.verdict, j.value) == (Verdict.BREACHED, Decimal("0.01"))
    assert Credit.objects.filter(contract=mail.contract, kind=CreditKind.EXTEND_SERVICE).count() == 1
