"""List pages run a constant number of queries however many rows they show."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from credits.services import credit_propose
from sla.services import clocks_sweep
from tests import factories as f
from tests.ui.conftest import login, start_clock

pytestmark = pytest.mark.django_db


def add_rows(n: int) -> None:
    for _ in range(n):
        contract = f.ContractFactory(customer=f.CustomerFactory())
        f.ServiceFactory(contract=contract, specialist=f.StaffFactory(role="specialist"))
        f.AuthorizedContactFactory(customer=contract.customer)
        start_clock(contract=contract, hours_ago=30, assignee=f.StaffFactory(role="engineer"))
        credit_propose(contract=contract, policy_code="C3", kind="refund_installation",
                       amount=Decimal("100.00"), period=date(2026, 1, 1),
                       evidence=contract)
    clocks_sweep()


@pytest.mark.parametrize("url_name", [
    "home", "customers:list", "sla:overdue", "sla:overdue_csv", "sla:breaches", "sla:clock_list",
    "credits:list", "notifications:list",
])
def test_constant_queries(manager, url_name):  # type: ignore[no-untyped-def]
    c = login(manager)
    add_rows(2)
    url = reverse(url_name)
    c.get(url)  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert c.get(url).status_code == 200
    add_rows(4)
    with CaptureQueriesContext(connection) as many:
        assert c.get(url).status_code == 200
    assert len(many) == len(few), [q["sql"][:120] for q in many.captured_queries]


def test_customer_page_constant_queries(alice, customer_a):  # type: ignore[no-untyped-def]
    c = login(alice)
    url = reverse("customers:detail", args=[customer_a.pk])

    def add(n: int) -> None:
        for _ in range(n):
            contract = f.ContractFactory(customer=customer_a)
            f.ServiceFactory(contract=contract, specialist=f.StaffFactory(role="specialist"),
                             engineer=f.StaffFactory(role="engineer"))
            f.AuthorizedContactFactory(customer=customer_a)
            start_clock(contract=contract, hours_ago=2, assignee=f.StaffFactory(role="engineer"))
            credit_propose(contract=contract, policy_code="C3", kind="refund_installation",
                           amount=Decimal("100.00"), period=date(2026, 1, 1))

    add(1)
    c.get(url)
    with CaptureQueriesContext(connection) as few:
        c.get(url)
    add(3)
    with CaptureQueriesContext(connection) as many:
        c.get(url)
    assert len(many) == len(few)
