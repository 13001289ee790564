"""Fixtures of the page tests: two customers' contracts, clocks in each bucket, a credit."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from credits.services import credit_propose
from sla.models import Clock, WorkdayOverride
from sla.services import clock_start
from tests import factories as f


@pytest.fixture(autouse=True)
def _calendar_known(db):  # type: ignore[no-untyped-def]
    """Cover next year's working-day calendar so the missing-calendar banner only shows in the
    tests that ask for it."""
    year = timezone.localdate().year
    for y in (year, year + 1):
        WorkdayOverride.objects.get_or_create(date=date(y, 1, 1), defaults={"is_working_day": False})


def login(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def start_clock(*, contract: Any, hours_ago: float, policy: str = "C8", assignee: Any = None,
                label: str = "") -> Clock:
    """A 24-hour clock started `hours_ago`: 30 → overdue, 20 → warning (80 %), 1 → on track."""
    subject = f.ServiceFactory(contract=contract)
    t0 = timezone.now() - timedelta(hours=hours_ago)
    return clock_start(subject=subject, policy_code=policy, contract=contract, assignee=assignee,
                       started_at=t0, now=t0, label=label or f"投诉 {subject.name}")


@pytest.fixture
def contract_a(customer_a):  # type: ignore[no-untyped-def]
    return f.ContractFactory(customer=customer_a, number="HT-A-001")


@pytest.fixture
def customer_c(charlie):  # type: ignore[no-untyped-def]
    return charlie.customer_link.customer


@pytest.fixture
def contract_c(customer_c):  # type: ignore[no-untyped-def]
    return f.ContractFactory(customer=customer_c, number="HT-C-001")


@pytest.fixture
def credit_a(contract_a):  # type: ignore[no-untyped-def]
    return credit_propose(contract=contract_a, policy_code="C3", kind="refund_installation",
                          amount=Decimal("500.00"), period=date(2026, 1, 1), note="初装超时")


@pytest.fixture
def credit_c(contract_c):  # type: ignore[no-untyped-def]
    return credit_propose(contract=contract_c, policy_code="C3", kind="refund_installation",
                          amount=Decimal("800.00"), period=date(2026, 1, 1))
