"""Calendars: `24x7` (elapsed time) and `cn-workdays` (mainland-China working days, with the
State Council's make-up working weekends 调休).

"Within N working days after T" is the end (24:00 Asia/Shanghai) of the N-th working day strictly
after T's local date. A year neither the holidays library's official schedule nor the override
table covers raises CalendarYearUnknown: guessing a year's 调休 would move deadlines silently.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from django.utils.translation import gettext as _

from slaportal.errors import DomainError

from .choices import CalendarCode, Unit

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# Sanity bound: a deadline of more than this many working days is a data error, not a loop.
MAX_WORKING_DAYS = 3660


class CalendarYearUnknown(DomainError):
    """The working-day schedule of a year is not known yet."""

    def __init__(self, year: int) -> None:
        super().__init__(
            _("The working-day calendar for %(year)s is not known yet. Enter that year's "
              "holidays and make-up working days under SLA → Working-day overrides.") % {"year": year},
            field_errors={"calendar": [_("Year %(year)s is not covered.") % {"year": year}]},
            code="calendar_year_unknown",
        )
        self.year = year


def library_years() -> frozenset[int]:
    """Years for which the holidays library carries the official 调休 schedule."""
    from holidays.countries.china import ChinaStaticHolidays

    return frozenset(ChinaStaticHolidays.special_public_holidays.keys())


@lru_cache(maxsize=64)
def _library_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    cn = holidays.China(years=year)
    days_off = frozenset(d for d in cn if d.year == year)
    make_up = frozenset(d for d in cn.weekend_workdays if d.year == year)
    return days_off, make_up


def _overrides(year: int) -> dict[date, bool]:
    from .models import WorkdayOverride

    return dict(WorkdayOverride.objects.filter(date__year=year).values_list("date", "is_working_day"))


class WorkdayCalendar:
    """cn-workdays for a span of dates; loads each year's overrides once."""

    def __init__(self) -> None:
        self._years: dict[int, tuple[dict[date, bool], bool]] = {}

    def _year(self, year: int) -> tuple[dict[date, bool], bool]:
        if year not in self._years:
            ov = _overrides(year)
            self._years[year] = (ov, year in library_years())
        return self._years[year]

    def is_working_day(self, d: date) -> bool:
        ov, known = self._year(d.year)
        if d in ov:
            return ov[d]
        if not known and not ov:
            raise CalendarYearUnknown(d.year)
        days_off, make_up = _library_year(d.year)
        if d in make_up:
            return True
        return d.weekday() < 5 and d not in days_off

    def nth_working_day_after(self, d: date, n: int) -> date:
        if n < 1 or n > MAX_WORKING_DAYS:
            raise DomainError(_("A working-day count must be between 1 and %(max)s.") % {"max": MAX_WORKING_DAYS})
        found = 0
        cur = d
        while found < n:
            cur += timedelta(days=1)
            if self.is_working_day(cur):
                found += 1
        return cur


def is_working_day(d: date) -> bool:
    return WorkdayCalendar().is_working_day(d)


def local_date(t: datetime) -> date:
    return t.astimezone(LOCAL_TZ).date()


def end_of_local_day(d: date) -> datetime:
    """24:00 of local date d, i.e. 00:00 of the next day, Asia/Shanghai."""
    return datetime.combine(d + timedelta(days=1), time.min, tzinfo=LOCAL_TZ)


def add_working_days(start: datetime, n: int) -> datetime:
    """The end (24:00 local) of the n-th working day strictly after start's local date."""
    return end_of_local_day(WorkdayCalendar().nth_working_day_after(local_date(start), n))


def compute_due(*, start: datetime, target: Decimal, unit: str, calendar: str) -> datetime:
    """The deadline of a clock started at `start`. Units the calendar cannot count are refused."""
    if calendar == CalendarCode.H24:
        seconds = {Unit.MINUTES: 60, Unit.HOURS: 3600, Unit.DAYS: 86400}.get(Unit(unit))
        if seconds is None:
            raise DomainError(_("The 24x7 calendar counts minutes, hours or days."))
        return start + timedelta(seconds=int((Decimal(target) * seconds).to_integral_value()))
    if calendar == CalendarCode.CN_WORKDAYS:
        if unit != Unit.WORKING_DAYS or Decimal(target) != int(target):
            raise DomainError(_("The cn-workdays calendar counts whole working days."))
        return add_working_days(start, int(target))
    raise DomainError(_("A clock cannot run on the %(cal)s calendar.") % {"cal": calendar})


def missing_years(today: date | None = None) -> list[int]:
    """The current and next year, where neither the library nor the override table covers them.
    Every page a manager opens asks (the banner of base.html): the answer for the years the
    library does not know is kept for a minute per process, and forgotten at once in the process
    that saves or deletes an override (sla.apps connects forget_missing_years)."""
    from .models import WorkdayOverride

    today = today or datetime.now(LOCAL_TZ).date()
    known = library_years()
    unknown = tuple(y for y in (today.year, today.year + 1) if y not in known)
    if not unknown:
        return []
    hit = _MISSING.get(unknown)
    if hit is not None and hit[0] > monotonic():
        return list(hit[1])
    covered = set(WorkdayOverride.objects.filter(date__year__in=unknown).dates("date", "year"))
    covered_years = {d.year for d in covered}
    result = [y for y in unknown if y not in covered_years]
    _MISSING[unknown] = (monotonic() + MISSING_YEARS_KEPT_SECONDS, tuple(result))
    return result


MISSING_YEARS_KEPT_SECONDS = 60.0
_MISSING: dict[tuple[int, ...], tuple[float, tuple[int, ...]]] = {}


def forget_missing_years(**_: Any) -> None:
    _MISSING.clear()
