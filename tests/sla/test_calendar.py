from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from sla.calendars import (
    CalendarYearUnknown,
    WorkdayCalendar,
    add_working_days,
    is_working_day,
    missing_years,
)
from sla.models import WorkdayOverride

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_third_working_day_after_national_day_2025_is_the_make_up_saturday():
    assert WorkdayCalendar().nth_working_day_after(date(2025, 9, 30), 3) == date(2025, 10, 11)
    due = add_working_days(datetime(2025, 9, 30, 16, 30, tzinfo=TZ), 3)
    # By the end (24:00 local) of 2025-10-11.
    assert due == datetime(2025, 10, 12, 0, 0, tzinfo=TZ)


@pytest.mark.django_db
def test_third_working_day_after_spring_festival_eve_2026():
    assert WorkdayCalendar().nth_working_day_after(date(2026, 2, 13), 3) == date(2026, 2, 25)


@pytest.mark.django_db
def test_counting_starts_strictly_after_the_local_date():
    # 2026-03-02 23:30 local is 15:30 UTC the same day; 2026-03-02 01:00 local is 17:00 UTC the day before.
    late = datetime(2026, 3, 2, 23, 30, tzinfo=TZ)
    early = datetime(2026, 3, 2, 1, 0, tzinfo=TZ)
    assert add_working_days(late, 1) == datetime(2026, 3, 4, tzinfo=TZ)
    assert add_working_days(early.astimezone(ZoneInfo("UTC")), 1) == datetime(2026, 3, 4, tzinfo=TZ)


@pytest.mark.django_db
def test_make_up_weekend_and_holiday_flags():
    assert is_working_day(date(2026, 2, 14))  # make-up Saturday
    assert not is_working_day(date(2026, 2, 17))  # Spring Festival
    assert not is_working_day(date(2026, 3, 7))  # ordinary Saturday
    assert is_working_day(date(2026, 3, 9))


@pytest.mark.django_db
def test_unknown_year_raises_instead_of_guessing():
    with pytest.raises(CalendarYearUnknown) as e:
        is_working_day(date(2031, 3, 3))
    assert "2031" in str(e.value)


@pytest.mark.django_db
def test_override_table_covers_a_year_and_wins_over_the_library():
    WorkdayOverride.objects.create(date=date(2031, 1, 1), is_working_day=False, note="元旦")
    assert is_working_day(date(2031, 3, 3))  # a Monday, year now covered
    assert not is_working_day(date(2031, 1, 1))
    WorkdayOverride.objects.create(date=date(2026, 3, 9), is_working_day=False, note="test")
    assert not is_working_day(date(2026, 3, 9))


@pytest.mark.django_db
def test_missing_years_lists_current_and_next_when_uncovered():
    assert missing_years(date(2026, 11, 23)) == [2027]
    WorkdayOverride.objects.create(date=date(2027, 1, 1), is_working_day=False)
    assert missing_years(date(2026, 11, 23)) == []
    assert missing_years(date(2030, 6, 1)) == [2030, 2031]


def test_the_breach_charts_month_on_sqlite_is_asia_shanghais():
    """make run's SQLite has no AT TIME ZONE: the breach chart's month is the UTC time plus 8
    hours there (run on a real SQLite database, as the chart's query would)."""
    import sqlite3

    from sla.breaches import local_month_sql

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE b (at TEXT, month TEXT)")
    db.executemany("INSERT INTO b VALUES (?, ?)", [
        ("2026-03-31 15:59:59.999999", None),  # 23:59:59 on 31 March in Shanghai
        ("2026-03-31 16:00:00", None),         # midnight, 1 April
        ("2025-12-31 16:00:00.5", None),       # new year in Shanghai, still 2025 in UTC
        (None, "2026-02-01"),                  # a monthly breach: its own month
    ])
    got = [r[0] for r in db.execute(f"SELECT {local_month_sql('sqlite')} FROM b b")]
    assert got == ["2026-03", "2026-04", "2026-01", "2026-02"]
