"""The e-mail guarantee's monthly figures (seed 002 §2–§3) and their verdicts against the policy
rows: latency average and messages over 1 hour, fault and adjustment totals, availability, the
fault-free days of the year (365 and 366-day years), the billing error rate."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from mailservice.aggregates import LatencyAccumulator
from mailservice.models import BillingErrorFigure, MailDomain, PlatformEvent
from mailservice.selectors import mail_month_figures
from sla.models import ContractPolicy, SlaPolicy
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
MARCH = datetime(2026, 3, 1, 0, 30, tzinfo=TZ)


def feb(day: int, h: int = 0, m: int = 0) -> datetime:
    return datetime(2026, 2, day, h, m, tzinfo=TZ)


@pytest.fixture
def mail(customer_a):  # type: ignore[no-untyped-def]
    return f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email", name="企业邮箱 甲")


@pytest.fixture
def domain(mail) -> MailDomain:  # type: ignore[no-untyped-def]
    return f.MailDomainFactory(service=mail, domain="alpha.example.cn")


def samples(domain: MailDomain, latencies_ms: list[int], *, direction: str = "send", source: str = "log",
            at: datetime | None = None, excluded: int = 0) -> None:
    acc = LatencyAccumulator()
    t = (at or feb(10, 9)).timestamp()
    for i, ms in enumerate(latencies_ms):
        acc.add(domain_id=domain.pk, at=t + i, direction=direction, source=source, latency_ms=ms)
    for i in range(excluded):
        acc.add(domain_id=domain.pk, at=t + i, direction=direction, source=source, latency_ms=9_000_000,
                excluded=True)
    acc.flush()


def figures(service, year: int = 2026, month: int = 2, now: datetime = MARCH):  # type: ignore[no-untyped-def]
    return mail_month_figures(services=[service], year=year, month=month, now=now)[service.pk]


def event(domain: MailDomain, start: datetime, minutes: float = 0, *, kind: str = "fault",
          end: datetime | None = None, open_: bool = False) -> PlatformEvent:
    return PlatformEvent.objects.create(
        platform=domain.platform, kind=kind, title="故障", started_at=start,
        ended_at=None if open_ else (end or start + timedelta(minutes=minutes)), recorded_at=start)


# --- E2 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("seconds", "kept"), [(60, True), (61, False)])
def test_average_latency_of_one_minute_keeps_e2_and_61_seconds_breaks_it(mail, domain, seconds, kept):  # type: ignore[no-untyped-def]
    samples(domain, [seconds * 1000] * 4, direction="receive")
    samples(domain, [2_000] * 10, direction="send")
    fig = figures(mail)
    assert fig.latency_source == "log"
    assert (fig.receive.messages, fig.receive.average_seconds) == (4, Decimal(seconds))
    assert fig.send.average_seconds == Decimal(2)
    # The worse direction decides: the receive average.
    assert fig.average_minutes == Decimal(seconds) / 60
    assert fig.verdicts["E2-AVG"] is kept
    m = fig.measurements["E2-AVG"]
    assert (m.unit, m.threshold, m.comparison) == ("minutes", Decimal("1"), "le")
    assert [r["id"] for r in m.counted] == ["send", "receive"]
    assert m.counted[1]["average_seconds"] == f"{seconds}.000"


@pytest.mark.parametrize(("slow", "kept"), [(2, True), (3, False)])
def test_two_messages_over_an_hour_keep_e2_slow_and_three_break_it(mail, domain, slow, kept):  # type: ignore[no-untyped-def]
    # Split across both directions; excluded messages (another provider's delay) never count.
    samples(domain, [3_600_001] + [1_000] * 100, direction="send", excluded=5)
    samples(domain, [7_200_000] * (slow - 1) + [3_600_000], direction="receive")
    fig = figures(mail)
    assert fig.over_hour == slow
    assert fig.send.excluded == 5 and fig.send.messages == 101
    assert fig.verdicts["E2-SLOW"] is kept
    assert fig.measurements["E2-SLOW"].value == Decimal(slow)
    assert fig.receive.histogram[-2:] == [1, slow - 1]  # exactly 1 h is "≤ 1 h"


def test_the_delivery_log_wins_over_the_probe_and_the_probe_is_used_alone(mail, domain):  # type: ignore[no-untyped-def]
    samples(domain, [90_000] * 3, source="probe")
    fig = figures(mail)
    assert fig.latency_source == "probe" and fig.verdicts["E2-AVG"] is False
    samples(domain, [5_000] * 3, source="log")
    fig = figures(mail)
    assert fig.latency_source == "log" and fig.send.average_seconds == Decimal(5)
    assert fig.verdicts["E2-AVG"] is True


def test_no_samples_no_latency_judgement(mail, domain):  # type: ignore[no-untyped-def]
    fig = figures(mail)
    assert fig.latency_source is None and fig.average_minutes is None
    assert fig.verdicts["E2-AVG"] is None and fig.verdicts["E2-SLOW"] is None
    assert "E2-AVG" not in fig.measurements
    # Only excluded messages: the log was read, but nothing is judged.
    samples(domain, [], excluded=3)
    fig = figures(mail)
    assert fig.latency_source == "log" and fig.send.excluded == 3 and fig.verdicts["E2-AVG"] is None


def test_samples_outside_the_month_do_not_count_and_the_daily_rows_follow_shanghai_days(mail, domain):  # type: ignore[no-untyped-def]
    samples(domain, [600_000], at=feb(1, 0, 10) - timedelta(hours=1))   # 31 Jan 23:10 Shanghai
    samples(domain, [3_000, 5_000], at=feb(1, 0, 10))                   # 1 Feb 00:10 Shanghai (Jan 31 UTC)
    samples(domain, [4_000_000], direction="receive", at=feb(28, 23, 5))
    fig = figures(mail)
    assert fig.send.messages == 2 and fig.send.max_seconds == Decimal(5)
    assert len(fig.daily) == 28
    assert fig.daily[0] == (date(2026, 2, 1), 2, Decimal(4), 0)
    assert fig.daily[27].messages == 1 and fig.daily[27].over_hour == 1
    assert fig.daily[5].average_seconds is None


def test_a_contract_override_changes_the_latency_target(mail, domain):  # type: ignore[no-untyped-def]
    samples(domain, [100_000] * 2)
    assert figures(mail).verdicts["E2-AVG"] is False
    ContractPolicy.objects.create(contract=mail.contract, policy=SlaPolicy.objects.get(code="E2-AVG"),
                                  threshold=Decimal("2"))
    assert figures(mail).verdicts["E2-AVG"] is True


# --- E3: faults, adjustments, availability --------------------------------------------------

@pytest.mark.parametrize(("minutes", "kept"), [(100, True), (101, False)])
def test_100_fault_minutes_keep_e3_fault_and_101_break_it(mail, domain, minutes, kept):  # type: ignore[no-untyped-def]
    # Two overlapping faults are merged: 60 + 50 overlapping by 10 → 100.
    event(domain, feb(5, 10), 60)
    event(domain, feb(5, 10, 50), minutes - 50)
    fig = figures(mail)
    assert fig.fault_minutes == Decimal(minutes)
    assert fig.verdicts["E3-FAULT"] is kept
    m = fig.measurements["E3-FAULT"]
    assert m.counted_seconds == minutes * 60 and len(m.counted) == 2


@pytest.mark.parametrize(("minutes", "kept"), [(100, True), (101, False)])
def test_adjustment_minutes_have_their_own_total(mail, domain, minutes, kept):  # type: ignore[no-untyped-def]
    event(domain, feb(6, 2), minutes, kind="adjustment")
    event(domain, feb(7, 2), 30)
    fig = figures(mail)
    assert (fig.adjustment_minutes, fig.fault_minutes) == (Decimal(minutes), Decimal(30))
    assert fig.verdicts["E3-ADJUST"] is kept and fig.verdicts["E3-FAULT"] is True


def test_availability_is_the_fault_free_share_of_the_month(mail, domain):  # type: ignore[no-untyped-def]
    # February 2026: 40,320 minutes; 99.99 % allows 4.032 minutes of faults.
    event(domain, feb(3, 1), 4)
    event(domain, feb(4, 1), 300, kind="adjustment")  # an adjustment is not a fault
    fig = figures(mail)
    assert fig.availability_percent == (Decimal(40320 - 4) * 100 / 40320)
    assert fig.verdicts["E3-AVAIL"] is True
    event(domain, feb(9, 1), 1)
    fig = figures(mail)
    assert fig.availability_percent < Decimal("99.99") and fig.verdicts["E3-AVAIL"] is False
    assert fig.measurements["E3-AVAIL"].unit == "percent"


def test_events_are_clipped_to_the_month_and_an_open_fault_counts_up_to_now(mail, domain):  # type: ignore[no-untyped-def]
    event(domain, feb(1) - timedelta(minutes=30), 50)        # 20 minutes in February
    open_fault = event(domain, feb(28, 23, 0), open_=True)   # 60 minutes to the month end
    assert figures(mail).fault_minutes == Decimal(80)
    # In the month, an open fault counts up to now; another platform's faults do not count.
    assert figures(mail, now=feb(28, 23, 15)).fault_minutes == Decimal(35)
    other = f.MailPlatformFactory()
    PlatformEvent.objects.create(platform=other, kind="fault", title="x", started_at=feb(2), ended_at=feb(3),
                                 recorded_at=feb(2))
    assert figures(mail).fault_minutes == Decimal(80)
    assert open_fault.pk in [e["id"] for e in figures(mail).events]


def test_a_service_without_domains_has_no_operations_verdicts(mail):  # type: ignore[no-untyped-def]
    fig = figures(mail)
    assert fig.platform_ids == [] and fig.fault_minutes == 0
    assert all(fig.verdicts[c] is None for c in ("E3-FAULT", "E3-ADJUST", "E3-AVAIL", "E3-DAYS"))


# --- E3: fault-free days of the year ----------------------------------------------------------

def fault_days(domain: MailDomain, days: list[date]) -> None:
    for d in days:
        start = datetime(d.year, d.month, d.day, 12, tzinfo=TZ)
        event(domain, start, 5)


def test_five_fault_days_keep_360_of_365_and_the_sixth_breaks_it_once(mail, domain):  # type: ignore[no-untyped-def]
    fault_days(domain, [date(2026, 1, 5), date(2026, 1, 20), date(2026, 2, 2), date(2026, 2, 3)])
    # A fault crossing midnight marks both days: 4 + 2 = 6 fault days by the end of March.
    event(domain, datetime(2026, 3, 10, 23, 50, tzinfo=TZ), 20)
    fig = figures(mail, month=2)
    assert (fig.days_in_year, fig.fault_days_year, fig.fault_free_days_year) == (365, 4, 361)
    assert fig.verdicts["E3-DAYS"] is True
    mar = figures(mail, month=3, now=datetime(2026, 4, 1, tzinfo=TZ))
    assert (mar.fault_days_year, mar.fault_free_days_year) == (6, 359)
    assert mar.verdicts["E3-DAYS"] is False and mar.days_broken_in == date(2026, 3, 1)
    # Five exactly: remove the crossing fault, add one single day → 5 days, 360: kept.
    PlatformEvent.objects.filter(started_at__month=3).delete()
    fault_days(domain, [date(2026, 3, 10)])
    mar = figures(mail, month=3, now=datetime(2026, 4, 1, tzinfo=TZ))
    assert (mar.fault_free_days_year, mar.verdicts["E3-DAYS"]) == (360, True)
    # A sixth in May breaks it in May; June is not applicable, saying May.
    fault_days(domain, [date(2026, 5, 4)])
    may = figures(mail, month=5, now=datetime(2026, 6, 1, tzinfo=TZ))
    assert (may.fault_free_days_year, may.verdicts["E3-DAYS"]) == (359, False)
    jun = figures(mail, month=6, now=datetime(2026, 7, 1, tzinfo=TZ))
    assert jun.verdicts["E3-DAYS"] is None and jun.days_broken_in == date(2026, 5, 1)
    m = jun.measurements["E3-DAYS"]
    assert m.kept is None and m.counted[0] == {"id": "broken_in", "month": "2026-05"}
    assert m.value == Decimal(359)


@pytest.mark.parametrize(("days", "kept"), [(6, True), (7, False)])
def test_a_leap_year_has_366_days(mail, domain, days, kept):  # type: ignore[no-untyped-def]
    fault_days(domain, [date(2028, 2, d) for d in range(1, days + 1)])
    fig = figures(mail, year=2028, month=2, now=datetime(2028, 3, 1, tzinfo=TZ))
    assert fig.days_in_year == 366 and fig.fault_free_days_year == 366 - days
    assert fig.verdicts["E3-DAYS"] is kept


def test_a_fault_ending_at_midnight_marks_one_day(mail, domain):  # type: ignore[no-untyped-def]
    event(domain, feb(4, 23), end=feb(5, 0))
    assert figures(mail).fault_days_year == 1


# --- E3: billing error rate -----------------------------------------------------------------

@pytest.mark.parametrize(("errors", "rate", "kept"), [
    (0, Decimal(0), True), (3, Decimal("0.003"), True), (4, Decimal("0.004"), False)])
def test_billing_error_rate_against_3_in_100000(mail, domain, errors, rate, kept):  # type: ignore[no-untyped-def]
    assert figures(mail).verdicts["E3-BILL"] is None  # no figure entered: not judged
    BillingErrorFigure.objects.create(month=date(2026, 2, 1), customers_billed=100_000,
                                      customers_with_error=errors, entered_at=MARCH)
    fig = figures(mail)
    assert fig.billing_error_rate_percent == rate
    assert fig.verdicts["E3-BILL"] is kept
    m = fig.measurements["E3-BILL"]
    assert (m.unit, m.threshold) == ("percent", Decimal("0.003"))
    assert m.counted[0]["customers_billed"] == 100_000


# --- Batch -------------------------------------------------------------------------------------

def test_figures_of_many_services_take_a_fixed_number_of_queries(customer_a, django_assert_max_num_queries):  # type: ignore[no-untyped-def]
    platform = f.MailPlatformFactory()
    services = []
    for i in range(12):
        s = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email")
        d = f.MailDomainFactory(service=s, platform=platform, domain=f"d{i}.example.cn")
        samples(d, [1_000 * (i + 1)] * 3)
        services.append(s)
    event(d, feb(3), 10)
    with django_assert_max_num_queries(12):  # 12 for 1 service or 30 (measured)
        out = mail_month_figures(services=services, year=2026, month=2, now=MARCH)
    assert len(out) == 12 and all(fig.fault_minutes == 10 for fig in out.values())
    assert out[services[4].pk].send.average_seconds == Decimal(5)


def test_hours_are_utc_hour_starts(mail, domain):  # type: ignore[no-untyped-def]
    # 2026-02-28 16:xx UTC is 1 March 00:xx in Shanghai: March, not February.
    samples(domain, [1_000], at=datetime(2026, 2, 28, 16, 30, tzinfo=UTC))
    assert figures(mail).send.messages == 0
    assert figures(mail, month=3, now=datetime(2026, 4, 1, tzinfo=TZ)).send.messages == 1


# --- E3: webmail page open time ---------------------------------------------------------------

@pytest.mark.parametrize(("total_ms", "kept"), [(10_000 * 40, True), (10_000 * 40 + 1, False)])
def test_webmail_page_open_time_from_the_webmail_probes(mail, domain, total_ms, kept):  # type: ignore[no-untyped-def]
    from monitoring.models import ProbeDaily, Target

    assert figures(mail).verdicts["E3-WEB"] is None  # no webmail probe: not judged
    web = Target.objects.create(service=mail, kind="webmail", name="webmail", url="https://mail.alpha.example.cn/")
    www = Target.objects.create(service=mail, kind="www", url="https://www.alpha.example.cn/")
    # Two days of 20 successful page loads; a failed probe's time is not a page open time, and
    # another check's latency does not count; neither does a day of another month.
    ProbeDaily.objects.create(target=web, day=date(2026, 2, 3), ok_count=20, fail_count=3, total_ms=10**9,
                              ok_total_ms=total_ms // 2)
    ProbeDaily.objects.create(target=web, day=date(2026, 2, 4), ok_count=20, ok_total_ms=total_ms - total_ms // 2)
    ProbeDaily.objects.create(target=web, day=date(2026, 3, 1), ok_count=5, ok_total_ms=10**9)
    ProbeDaily.objects.create(target=www, day=date(2026, 2, 3), ok_count=5, ok_total_ms=10**9)
    fig = figures(mail)
    assert fig.webmail_average_seconds == (Decimal(total_ms) / 40 / 1000).quantize(Decimal("0.001"))
    assert fig.verdicts["E3-WEB"] is kept
    m = fig.measurements["E3-WEB"]
    assert (m.unit, m.threshold) == ("seconds", Decimal("10"))
    assert [(r["id"], r["ok_count"]) for r in m.counted] == [(web.pk, 40)]
