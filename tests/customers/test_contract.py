"""Contracts: fees are non-negative Decimals; creating one starts no clock (C3 runs on the
installation order of each hosting service, orders app), so any signing date can be recorded."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from customers.models import Contract
from customers.services import contract_create
from sla.models import Clock
from slaportal.errors import DomainError
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_negative_fee_is_refused_and_nothing_saved():
    cust = f.CustomerFactory()
    with pytest.raises(DomainError) as e:
        contract_create(customer=cust, number="HT-NEG", signed_at=datetime(2026, 3, 2, tzinfo=TZ),
                        monthly_fee=Decimal("-1.00"))
    assert "monthly_fee" in e.value.field_errors
    assert not Contract.objects.exists() and not Clock.objects.exists()


@pytest.mark.django_db
def test_contract_in_an_unknown_calendar_year_is_recorded_without_a_clock():
    cust = f.CustomerFactory()
    contract = contract_create(customer=cust, number="HT-2031", signed_at=datetime(2031, 6, 2, tzinfo=TZ),
                               monthly_fee=Decimal("1000.00"))
    assert Contract.objects.get(pk=contract.pk).number == "HT-2031"
    assert not Clock.objects.exists()
