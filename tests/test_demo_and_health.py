"""`make run`'s demo data and the health endpoint."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from audit.models import AuditEntry
from customers.choices import Role
from customers.management.commands.load_demo import CUSTOMERS, DEMO_PASSWORD, LOGINS, SHORT_CLOCKS
from customers.models import AuthorizedContact, Contract, Customer, CustomerUser, Service
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clocks_sweep

pytestmark = pytest.mark.django_db

MODELS = [get_user_model(), Customer, Contract, Service, AuthorizedContact, CustomerUser, Clock,
          AuditEntry]


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in MODELS}


def load() -> None:
    call_command("load_demo", verbosity=0)


def test_load_demo_twice_creates_nothing_the_second_time():
    load()
    first = counts()
    load()
    assert counts() == first
    assert first["Customer"] == len(CUSTOMERS)
    assert first["Contract"] == len(CUSTOMERS)
    assert first["CustomerUser"] == 2
    # One C3 installation clock per contract plus the short demo clocks.
    assert first["Clock"] == len(CUSTOMERS) + len(SHORT_CLOCKS)
    assert set(Clock.objects.filter(policy__code="C3").values_list("contract__number", flat=True)) == {
        c["contract"]["number"] for c in CUSTOMERS}


def test_one_login_per_role_with_the_printed_password():
    load()
    User = get_user_model()
    for role in Role.values:
        users = User.objects.filter(groups__name=role)
        assert users.count() == 1, role
        user = users.get()
        assert user.is_staff and not user.is_superuser
        assert user.check_password(DEMO_PASSWORD)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(DEMO_PASSWORD)
    for username, role, _label in LOGINS:
        if role.startswith("customer:"):
            user = User.objects.get(username=username)
            assert not user.is_staff
            assert user.customer_link.customer.code == role.split(":", 1)[1]
            assert user.check_password(DEMO_PASSWORD)


def test_contacts_have_a_hashed_mrtg_secret():
    load()
    contact = AuthorizedContact.objects.get(name="张伟")
    assert contact.check_mrtg("huaxia-mrtg", "huaxia-mrtg-secret")
    assert not contact.check_mrtg("huaxia-mrtg", "wrong")
    assert "huaxia-mrtg-secret" not in contact.mrtg_secret_hash


def test_short_clocks_warn_and_breach_within_minutes_and_are_topped_up_once_closed():
    before = timezone.now()
    load()
    short = Clock.objects.filter(policy__code__in=[code for code, _n, _m in SHORT_CLOCKS])
    assert short.count() == 2
    for clock in short.all():
        assert clock.state == ClockState.RUNNING
        assert clock.warn_at < before + timedelta(minutes=1)
        assert before + timedelta(minutes=2) < clock.due_at < before + timedelta(minutes=6)

    # A minute in, both have warned and neither has breached.
    result = clocks_sweep(now=before + timedelta(minutes=1))
    assert set(result.warned) == set(short.values_list("pk", flat=True))
    assert result.breached == []
    # Three minutes in, the C5 clock has breached; the C4 one still runs: nothing is topped up.
    result = clocks_sweep(now=before + timedelta(minutes=3))
    assert [Clock.objects.get(pk=pk).policy.code for pk in result.breached] == ["C5"]
    load()
    assert short.count() == 2

    # Once none is open, the next start gets two fresh ones.
    clocks_sweep(now=before + timedelta(minutes=7))
    assert not short.filter(state=ClockState.RUNNING).exists()
    load()
    assert short.count() == 4
    assert short.filter(state=ClockState.RUNNING).count() == 2


def test_healthz_reports_database_and_broker(client):
    r = client.get("/healthz")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] and body["broker"]["ok"]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_healthz_is_503_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{closed_port()}/0"
    r = client.get("/healthz")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "fail"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False and body["broker"]["transport"] == "redis"
