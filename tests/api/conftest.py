"""Fixtures for the API tests: an authenticated client per user, and objects of customer A
(alice's) and of customer C (charlie's)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from sla.services import clock_start
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)


@pytest.fixture
def api() -> Callable[[Any], APIClient]:
    """api(user) -> a client authenticated as a freshly loaded `user` (None: anonymous)."""

    def make(user: Any) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(get_user_model().objects.get(pk=user.pk))
        return client

    return make


@pytest.fixture
def contract_a(customer_a):  # type: ignore[no-untyped-def]
    return f.ContractFactory(customer=customer_a, number="HT-A-0001")


@pytest.fixture
def customer_c(charlie):  # type: ignore[no-untyped-def]
    return charlie.customer_link.customer


@pytest.fixture
def contract_c(customer_c):  # type: ignore[no-untyped-def]
    return f.ContractFactory(customer=customer_c, number="HT-C-0001")


@pytest.fixture
def clock_a(contract_a):  # type: ignore[no-untyped-def]
    """A running C8 clock (24 h) of customer A, started at T0."""
    return clock_start(subject=contract_a, policy_code="C8", contract=contract_a, now=T0)


@pytest.fixture
def clock_c(contract_c):  # type: ignore[no-untyped-def]
    return clock_start(subject=contract_c, policy_code="C8", contract=contract_c, now=T0)


def ids(response: Any) -> set[int]:
    return {row["id"] for row in response.json()["results"]}
