"""orders.0002: existing hosting services get their orders; the C3 clocks that ran on contracts
move to the orders (re-pointed, copied for further services, or cancelled when nothing can ever
meet them), each change audited. The forward function is called with the project's models."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.contenttypes.models import ContentType

from audit.models import AuditEntry
from customers.models import Contract
from orders.models import InstallationOrder
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clock_pause, clock_start
from tests import factories as f

from .conftest import SIGNED

pytestmark = pytest.mark.django_db

forwards = importlib.import_module("orders.migrations.0002_orders_for_existing_services").forwards


def contract_clock(contract: Contract) -> Clock:
    """A C3 clock on the contract, as customers.contract_create used to start it."""
    return clock_start(subject=contract, policy_code="C3", contract=contract, started_at=SIGNED, now=SIGNED)


def audit_of(clock: Clock) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(Clock),
                                          object_id=clock.pk).order_by("id"))


def test_existing_services_get_orders_and_the_contract_clock_moves_to_them():
    contract = f.ContractFactory()
    email = f.ServiceFactory(contract=contract, kind="email")
    first = f.ServiceFactory(contract=contract, kind="rental")
    second = f.ServiceFactory(contract=contract, kind="rack")
    clock = contract_clock(contract)
    clock_pause(clock_id=clock.pk, now=SIGNED + timedelta(hours=5), reason="客户未就绪")
    clock.refresh_from_db()
    before = {k: getattr(clock, k) for k in ("state", "started_at", "due_at", "warn_at", "paused_at",
                                              "paused_seconds", "policy_id", "contract_id", "customer_id")}

    forwards(apps, None)

    assert not InstallationOrder.objects.filter(service=email).exists()
    o1 = InstallationOrder.objects.get(service=first)
    o2 = InstallationOrder.objects.get(service=second)
    assert list(o1.items.values_list("code", flat=True)) == ["hardware", "software", "power", "network"]
    assert list(o2.items.values_list("code", flat=True)) == ["power", "network"]
    ct = ContentType.objects.get_for_model(InstallationOrder)
    moved = Clock.objects.get(pk=clock.pk)
    assert (moved.content_type, moved.object_id) == (ct, o1.pk)
    assert {k: getattr(moved, k) for k in before} == before  # every time and the state kept
    copy = Clock.objects.get(content_type=ct, object_id=o2.pk)
    assert copy.pk != clock.pk and {k: getattr(copy, k) for k in before} == before
    assert not Clock.objects.filter(content_type=ContentType.objects.get_for_model(Contract)).exists()
    [repoint] = [e for e in audit_of(moved) if e.action == "repoint"]
    assert repoint.data["from"]["id"] == contract.pk and repoint.data["to"]["id"] == o1.pk
    assert [e.action for e in audit_of(copy)] == ["copy"]
    assert AuditEntry.objects.filter(content_type=ct, object_id=o1.pk, action="create").exists()


def test_a_contract_without_hosting_services_has_its_open_clock_cancelled():
    contract = f.ContractFactory()
    f.ServiceFactory(contract=contract, kind="email")
    clock = contract_clock(contract)
    forwards(apps, None)
    clock.refresh_from_db()
    assert clock.state == ClockState.CANCELLED and clock.cancelled_at is not None
    assert clock.due_at is not None and clock.started_at == SIGNED
    [cancel] = [e for e in audit_of(clock) if e.action == "cancel"]
    assert (cancel.from_state, cancel.to_state) == ("running", "cancelled")
    assert not InstallationOrder.objects.exists()


def test_a_breached_contract_clock_without_services_stays_as_history(sweep):
    contract = f.ContractFactory()
    clock = contract_clock(contract)
    sweep(clock.due_at)
    forwards(apps, None)
    clock.refresh_from_db()
    assert clock.state == ClockState.BREACHED
    assert [e.action for e in audit_of(clock)] == ["start", "breach"]


def test_running_twice_changes_nothing_more():
    contract = f.ContractFactory()
    f.ServiceFactory(contract=contract, kind="colocation")
    contract_clock(contract)
    forwards(apps, None)
    counts = (InstallationOrder.objects.count(), Clock.objects.count(), AuditEntry.objects.count())
    forwards(apps, None)
    assert (InstallationOrder.objects.count(), Clock.objects.count(), AuditEntry.objects.count()) == counts


def test_an_order_opened_by_the_migration_has_no_clock_of_its_own_when_the_contract_had_none():
    service = f.ServiceFactory(kind="colocation")
    forwards(apps, None)
    order = InstallationOrder.objects.get(service=service)
    assert order.deadline_pending_year is None
    assert not Clock.objects.exists()
