"""Fixtures of the installation-order tests: a contract of customer A signed on Monday
2026-03-02 10:00 (Asia/Shanghai) with a 500.00 installation fee, and helpers that create
services the way the pages, the API and the admin do (customers.services, the signal after
commit)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from customers.services import contract_create, service_create
from orders.models import InstallationOrder

TZ = ZoneInfo("Asia/Shanghai")
SIGNED = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)  # Monday
# Three working days after Monday 2026-03-02: Tue 3, Wed 4, Thu 5 -> due at 24:00 on Thursday.
DUE = datetime(2026, 3, 6, 0, 0, tzinfo=TZ)
DAY3 = datetime(2026, 3, 5, 16, 0, tzinfo=TZ)  # Thursday, the third working day
DAY4 = datetime(2026, 3, 6, 10, 0, tzinfo=TZ)  # Friday, the fourth working day


@pytest.fixture
def contract_a(customer_a: Any, manager: Any) -> Any:
    return contract_create(customer=customer_a, number="HT-A-0001", signed_at=SIGNED,
                           monthly_fee=Decimal("3100.00"), installation_fee=Decimal("500.00"),
                           actor=manager, now=SIGNED)


@pytest.fixture
def contract_c(charlie: Any, manager: Any) -> Any:
    return contract_create(customer=charlie.customer_link.customer, number="HT-C-0001",
                           signed_at=SIGNED, monthly_fee=Decimal("1000.00"),
                           installation_fee=Decimal("300.00"), actor=manager, now=SIGNED)


@pytest.fixture
def new_service(django_capture_on_commit_callbacks: Any, manager: Any, engineer: Any) -> Any:
    """new_service(contract, kind="colocation", now=...) -> the service, created through
    customers.services with the after-commit signal delivered (as a real commit would)."""

    def make(contract: Any, kind: str = "colocation", *, name: str | None = None,
             now: datetime | None = None) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return service_create(contract=contract, kind=kind, name=name or f"{kind} {contract.number}",
                                  engineer=engineer, actor=manager, now=now or SIGNED)

    return make


@pytest.fixture
def order_a(contract_a: Any, new_service: Any) -> InstallationOrder:
    """The installation order of a colocation service of customer A (power, network)."""
    service = new_service(contract_a, "colocation", name="托管服务器 A-01")
    return InstallationOrder.objects.get(service=service)


@pytest.fixture
def order_c(contract_c: Any, new_service: Any) -> InstallationOrder:
    service = new_service(contract_c, "rack", name="机柜 C-01")
    return InstallationOrder.objects.get(service=service)


def api(user: Any = None) -> APIClient:
    c = APIClient()
    if user is not None:
        c.force_authenticate(user)
    return c



@pytest.fixture
def sweep(django_capture_on_commit_callbacks: Any) -> Any:
    """sweep(now) -> the SLA sweep with its after-commit signals delivered (clocks_breached)."""
    from sla.services import clocks_sweep

    def run(now: datetime) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return clocks_sweep(now=now)

    return run
