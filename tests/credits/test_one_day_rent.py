"""SPEC: one day's rent is the month's rent / the days in that month, half-up to 0.01 CNY."""

from decimal import Decimal

import pytest

from customers.models import Contract


@pytest.mark.parametrize("fee, year, month, expected", [
    ("3100.00", 2026, 1, "100.00"),   # 31 days
    ("1000.00", 2026, 4, "33.33"),    # 30 days: 33.333…
    ("2000.00", 2026, 4, "66.67"),    # 30 days: 66.666…
    ("1000.00", 2026, 2, "35.71"),    # 28 days: 35.714…
    ("1000.00", 2028, 2, "34.48"),    # leap February, 29 days: 34.482…
    ("0.45", 2026, 4, "0.02"),        # 0.015 exactly → half-up to 0.02, not banker's 0.02/0.01
    ("0.75", 2026, 4, "0.03"),        # 0.025 exactly → 0.03 (banker's rounding would give 0.02)
])
def test_one_day_rent_rounds_half_up(fee, year, month, expected):
    c = Contract(monthly_fee=Decimal(fee))
    got = c.one_day_rent(year, month)
    assert isinstance(got, Decimal)
    assert got == Decimal(expected)
    assert str(got) == expected
