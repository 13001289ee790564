"""Monthly counted downtime: clipped to the month in Asia/Shanghai, overlaps merged, exclusions
removed, seconds precision, and the C1/C2 breach decision read from the policy row."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from incidents.choices import Cause, OutageKind, OutageSource
from incidents.downtime import merge_intervals, month_bounds, service_month_downtime
from incidents.models import Outage
from sla.models import ContractPolicy, SlaPolicy

TZ = ZoneInfo("Asia/Shanghai")
LATER = datetime(2026, 6, 1, tzinfo=TZ)


def out(service, start, end, *, cause="", kind=OutageKind.NETWORK, reported=True):  # type: ignore[no-untyped-def]
    return Outage.objects.create(service=service, kind=kind, source=OutageSource.MANUAL, started_at=start,
                                 ended_at=end, cause=cause, created_at=start,
                                 reported_at=start if reported else None)


def t(day, h, m=0, s=0, month=3):  # type: ignore[no-untyped-def]
    return datetime(2026, month, day, h, m, s, tzinfo=TZ)


def test_month_bounds_are_local_midnights():
    start, end = month_bounds(2026, 12)
    assert start == datetime(2026, 12, 1, tzinfo=TZ) and end == datetime(2027, 1, 1, tzinfo=TZ)
    assert start.astimezone(ZoneInfo("UTC")).hour == 16  # 30 Nov 16:00 UTC


def test_merge_joins_overlaps_and_touching_intervals():
    a, b, c, d = t(1, 10), t(1, 10, 20), t(1, 10, 30), t(1, 11)
    assert merge_intervals([(c, d), (a, c), (b, c)]) == [(a, d)]
    assert merge_intervals([(a, b), (c, d)]) == [(a, b), (c, d)]


def test_overlapping_outages_are_counted_once(service_a):
    out(service_a, t(2, 10, 0), t(2, 10, 30))   # device down
    out(service_a, t(2, 10, 10), t(2, 10, 40))  # www down at the same time
    out(service_a, t(2, 10, 15), t(2, 10, 20))  # inside both
    r = service_month_downtime(service=service_a, year=2026, month=3, now=LATER)
    assert r.counted_seconds == 40 * 60
    assert r.intervals == [(t(2, 10, 0), t(2, 10, 40))]
    assert r.breached is False


def test_outage_across_the_month_boundary_is_split(service_a):
    out(service_a, t(31, 23, 50), datetime(2026, 4, 1, 0, 20, tzinfo=TZ))
    march = service_month_downtime(service=service_a, year=2026, month=3, now=LATER)
    april = service_month_downtime(service=service_a, year=2026, month=4, now=LATER)
    assert march.counted_seconds == 10 * 60
    assert april.counted_seconds == 20 * 60
    # The boundary is local midnight, not UTC midnight (which is 08:00 in Shanghai).
    assert april.intervals[0][0] == datetime(2026, 4, 1, tzinfo=TZ)


def test_excluded_causes_are_removed_but_do_not_erase_counted_time(service_a):
    out(service_a, t(3, 9), t(3, 9, 30), cause=Cause.PROVIDER)
    out(service_a, t(3, 9, 10), t(3, 10), cause=Cause.CUSTOMER_APPLICATION)
    out(service_a, t(5, 9), t(5, 12), cause=Cause.AGREED_MAINTENANCE)
    out(service_a, t(6, 9), t(6, 12), cause=Cause.FM_NATURAL)
    r = service_month_downtime(service=service_a, year=2026, month=3, now=LATER)
    assert r.counted_seconds == 30 * 60
    assert set(r.excluded.values()) == {"customer_application", "agreed_maintenance", "fm_natural"}


def test_unclassified_outage_counts(service_a):
    out(service_a, t(3, 9), t(3, 9, 5))
    assert service_month_downtime(service=service_a, year=2026, month=3, now=LATER).counted_seconds == 300


@pytest.mark.parametrize(("seconds", "breached"), [(43 * 60 + 59, False), (44 * 60, True)])
def test_c1_less_than_44_minutes(service_a, seconds, breached):
    out(service_a, t(10, 8), t(10, 8) + timedelta(seconds=seconds))
    r = service_month_downtime(service=service_a, year=2026, month=3, now=LATER)
    assert r.policy_code == "C1" and r.comparison == "lt" and r.threshold == Decimal("44")
    assert r.counted_seconds == seconds
    assert r.minutes == Decimal(seconds) / 60
    assert r.breached is breached


def test_threshold_comes_from_the_policy_row_and_contract_override(service_a):
    out(service_a, t(10, 8), t(10, 8, 30))
    assert service_month_downtime(service=service_a, year=2026, month=3, now=LATER).breached is False
    SlaPolicy.objects.filter(code="C1").update(threshold=Decimal("30"))
    assert service_month_downtime(service=service_a, year=2026, month=3, now=LATER).breached is True
    ContractPolicy.objects.create(contract=service_a.contract, policy=SlaPolicy.objects.get(code="C1"),
                                  threshold=Decimal("31"))
    assert service_month_downtime(service=service_a, year=2026, month=3, now=LATER).breached is False


def test_power_is_judged_against_c2_percent(service_a):
    # March has 31 days: 0.1 % is 2,678.4 s. 2,678 s keeps the promise, 2,679 s breaks it.
    out(service_a, t(4, 1), t(4, 1) + timedelta(seconds=2678), kind=OutageKind.POWER)
    r = service_month_downtime(service=service_a, year=2026, month=3, kind=OutageKind.POWER, now=LATER)
    assert r.policy_code == "C2" and r.breached is False
    out(service_a, t(5, 1), t(5, 1, 0, 1), kind=OutageKind.POWER)
    r = service_month_downtime(service=service_a, year=2026, month=3, kind=OutageKind.POWER, now=LATER)
    assert r.breached is True
    # Network downtime is not power downtime.
    assert service_month_downtime(service=service_a, year=2026, month=3, now=LATER).counted_seconds == 0


def test_not_reported_within_5_days_is_excluded_when_the_contract_says_so(service_a):
    o = out(service_a, t(2, 10), t(2, 11), reported=False)
    # Within the 5 days it still counts: the customer may yet report it.
    assert service_month_downtime(service=service_a, year=2026, month=3, now=t(6, 10)).counted_seconds == 3600
    r = service_month_downtime(service=service_a, year=2026, month=3, now=t(7, 10, 0, 1))
    assert r.counted_seconds == 0 and r.excluded == {o.pk: "not_reported_5_days"}
    # Reported on day 5 → counted.
    Outage.objects.filter(pk=o.pk).update(reported_at=t(7, 10))
    assert service_month_downtime(service=service_a, year=2026, month=3, now=LATER).counted_seconds == 3600
    # Switch off: never excluded for that reason.
    Outage.objects.filter(pk=o.pk).update(reported_at=None)
    service_a.contract.exclude_unreported_outages = False
    service_a.contract.save()
    assert service_month_downtime(service=service_a, year=2026, month=3, now=LATER).counted_seconds == 3600


def test_an_open_outage_counts_up_to_now(service_a):
    out(service_a, t(2, 10), None)
    r = service_month_downtime(service=service_a, year=2026, month=3, now=t(2, 10, 7))
    assert r.counted_seconds == 7 * 60


def test_another_services_outages_do_not_count(service_a, service_c):
    out(service_c, t(2, 10), t(2, 12))
    assert service_month_downtime(service=service_a, year=2026, month=3, now=LATER).counted_seconds == 0


def test_seconds_precision_is_kept_across_merged_intervals(service_a):
    # 21:59.6 + 22:00.6 = 44:00.2 of counted downtime: C1 ("less than 44 minutes") is broken.
    out(service_a, t(10, 8), t(10, 8) + timedelta(seconds=1319.6))
    out(service_a, t(11, 8), t(11, 8) + timedelta(seconds=1320.6))
    r = service_month_downtime(service=service_a, year=2026, month=3, now=LATER)
    assert r.counted_seconds == 44 * 60 and r.breached is True


@pytest.mark.parametrize(("year", "month", "days"), [(2026, 2, 28), (2028, 2, 29), (2026, 4, 30), (2026, 5, 31)])
def test_c2_is_a_tenth_of_a_percent_of_the_months_own_length(service_a, year, month, days):
    limit = days * 86400 // 1000  # 0.1 % of the month, in whole seconds (86.4 s a day)
    start = datetime(year, month, 3, 1, tzinfo=TZ)
    o = out(service_a, start, start + timedelta(seconds=limit), kind=OutageKind.POWER)
    r = service_month_downtime(service=service_a, year=year, month=month, kind=OutageKind.POWER,
                               now=datetime(2029, 1, 1, tzinfo=TZ))
    assert r.month_seconds == days * 86400 and r.breached is False
    Outage.objects.filter(pk=o.pk).update(ended_at=start + timedelta(seconds=limit + 1))
    r = service_month_downtime(service=service_a, year=year, month=month, kind=OutageKind.POWER,
                               now=datetime(2029, 1, 1, tzinfo=TZ))
    assert r.breached is True


def test_a_portal_report_during_a_probe_outage_reports_it(service_a, alice):
    from incidents.services import incident_report

    o = out(service_a, t(2, 10), t(2, 11), reported=False)  # found by the probes, never acknowledged
    incident_report(service=service_a, actor=alice, title="服务器无法访问", now=t(2, 10, 20))
    r = service_month_downtime(service=service_a, year=2026, month=3, now=LATER)
    assert r.counted_seconds == 3600 and o.pk not in r.excluded
    # A report about something else a week later does not report this outage.
    o2 = out(service_a, t(20, 10), t(20, 11), reported=False)
    incident_report(service=service_a, actor=alice, title="另一个问题", now=t(27, 10))
    r = service_month_downtime(service=service_a, year=2026, month=3, now=LATER)
    assert r.excluded == {o2.pk: "not_reported_5_days"}
