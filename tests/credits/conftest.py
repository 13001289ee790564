"""Fixtures of the credit workflow tests: customer A's contract (alice's) and customer C's
(charlie's), a second manager (max) for the four-eyes rule, clients for pages and the API, and
helpers that take a credit to a given state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.test import APIClient

from credits.models import Credit
from credits.services import credit_apply, credit_approve, credit_propose
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)


@pytest.fixture
def manager2(db):  # type: ignore[no-untyped-def]
    """A second manager: approves what mia proposed."""
    return f.StaffFactory(role="manager", username="max")


@pytest.fixture
def contract_a(customer_a):  # type: ignore[no-untyped-def]
    return f.ContractFactory(customer=customer_a, number="HT-A-0001")


@pytest.fixture
def customer_c(charlie):  # type: ignore[no-untyped-def]
    return charlie.customer_link.customer


@pytest.fixture
def contract_c(customer_c):  # type: ignore[no-untyped-def]
    return f.ContractFactory(customer=customer_c, number="HT-C-0001")


def propose(contract: Any, *, actor: Any = None, **kw: Any) -> Credit:
    args: dict[str, Any] = dict(contract=contract, policy_code="C3", kind="refund_installation",
                                period=date(2026, 3, 1), amount=Decimal("500.00"), note="初装超时",
                                actor=actor, now=NOW)
    args.update(kw)
    return credit_propose(**args)


def approved(contract: Any, *, by: Any, **kw: Any) -> Credit:
    c = propose(contract, **kw)
    return credit_approve(credit_id=c.pk, actor=by, now=NOW)


def applied(contract: Any, *, by: Any, **kw: Any) -> Credit:
    c = approved(contract, by=by, **kw)
    return credit_apply(credit_id=c.pk, actor=by, now=NOW)


def login(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def api() -> Callable[[Any], APIClient]:
    def make(user: Any) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(get_user_model().objects.get(pk=user.pk))
        return client

    return make


def messages_of(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]
