"""Every list endpoint runs a constant number of queries: 50 rows cost no more than 5."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credits.services import credit_approve, credit_propose
from notifications.models import Notification
from sla.models import ContractPolicy, SlaPolicy, WorkdayOverride
from sla.services import clock_start
from tests import factories as f

from .conftest import T0

pytestmark = pytest.mark.django_db

_seq = iter(range(10**6))


def _n() -> int:
    return next(_seq)


def _customers(n: int, ctx: dict[str, Any]) -> None:
    for _ in range(n):
        f.CustomerFactory()


def _contracts(n: int, ctx: dict[str, Any]) -> None:
    f.ContractFactory.create_batch(n)


def _services(n: int, ctx: dict[str, Any]) -> None:
    for _ in range(n):
        f.ServiceFactory(specialist=ctx["spec"], engineer=ctx["eng"])


def _contacts(n: int, ctx: dict[str, Any]) -> None:
    f.AuthorizedContactFactory.create_batch(n)


def _policies(n: int, ctx: dict[str, Any]) -> None:
    base = SlaPolicy.objects.get(code="C8")
    for _ in range(n):
        base.pk, base.code = None, f"Q{_n()}"
        base.save()


def _overrides(n: int, ctx: dict[str, Any]) -> None:
    policy = SlaPolicy.objects.get(code="C8")
    for contract in f.ContractFactory.create_batch(n):
        ContractPolicy.objects.create(contract=contract, policy=policy, threshold=Decimal("12"))


def _workdays(n: int, ctx: dict[str, Any]) -> None:
    for _ in range(n):
        WorkdayOverride.objects.create(date=date(2040, 1, 1) + timedelta(days=_n()), is_working_day=True)


def _clocks(n: int, ctx: dict[str, Any]) -> None:
    for contract in f.ContractFactory.create_batch(n):
        clock_start(subject=contract, policy_code="C8", contract=contract, assignee=ctx["eng"], now=T0)


def _credits(n: int, ctx: dict[str, Any]) -> None:
    for contract in f.ContractFactory.create_batch(n):
        clock = clock_start(subject=contract, policy_code="C8", contract=contract, now=T0)
        c = credit_propose(contract=contract, policy_code="C3", kind="refund_installation",
                           period=date(2026, 1, 1), amount=Decimal("500.00"), evidence=clock,
                           actor=ctx["spec"])
        credit_approve(credit_id=c.pk, actor=ctx["manager"])


def _notifications(n: int, ctx: dict[str, Any]) -> None:
    Notification.objects.bulk_create([
        Notification(channel="email", address="x@y.test", recipient=ctx["manager"], kind="clock_breach",
                     subject="s", body="b", idempotency_key=f"k{_n()}", created_at=timezone.now(),
                     content_type_id=None)
        for _ in range(n)])


CASES: list[tuple[str, Callable[[int, dict[str, Any]], None]]] = [
    ("/api/customers/", _customers),
    ("/api/contracts/", _contracts),
    ("/api/services/", _services),
    ("/api/contacts/", _contacts),
    ("/api/policies/", _policies),
    ("/api/policy-overrides/", _overrides),
    ("/api/workday-overrides/", _workdays),
    ("/api/clocks/", _clocks),
    ("/api/overdue/?include_on_track=true", _clocks),
    ("/api/overdue.csv?include_on_track=true", _clocks),
    ("/api/credits/", _credits),
    ("/api/notifications/", _notifications),
]


@pytest.mark.parametrize("url,build", CASES, ids=[c[0] for c in CASES])
def test_list_query_count_is_constant(manager, api, django_assert_max_num_queries, url, build):
    ctx = {"manager": manager, "spec": f.StaffFactory(role="specialist", username="qspec"),
           "eng": f.StaffFactory(role="engineer", username="qeng")}
    build(5, ctx)
    with CaptureQueriesContext(connection) as small:
        r = api(manager).get(url)
    assert r.status_code == 200
    rows_small = r.content.count(b"\n") if url.startswith("/api/overdue.csv") else r.json()["count"]
    build(45, ctx)
    with django_assert_max_num_queries(len(small.captured_queries)):
        r = api(manager).get(url)
    assert r.status_code == 200
    rows_large = r.content.count(b"\n") if url.startswith("/api/overdue.csv") else r.json()["count"]
    assert rows_large >= rows_small + 45  # the second request really saw the new rows
