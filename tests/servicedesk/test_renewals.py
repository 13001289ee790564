"""Renewals: 60 and 30 days before a contract ends the specialist and the contacts are reminded
and a renewal request is opened, exactly once even when the daily task runs twice; the
manager's page lists contracts expiring in the next 90 days and warns about services without a
dedicated specialist or engineer."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse

from notifications.models import Notification
from servicedesk.models import RenewalReminder, ServiceRequest
from servicedesk.services import renewal_reminders_run, renewal_threshold
from servicedesk.tasks import renewal_reminders
from tests import factories as f

from .conftest import TZ, login

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(customer_a, specialist, engineer, contact_a):  # type: ignore[no-untyped-def]
    c = f.ContractFactory(customer=customer_a, starts_on=date(2025, 6, 1), term_months=12)
    f.ServiceFactory(contract=c, specialist=specialist, engineer=engineer)
    return c  # ends 2026-06-01


def at(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, 8, 5, tzinfo=TZ)


def test_thresholds():
    assert [renewal_threshold(d) for d in (61, 60, 45, 31, 30, 1, 0)] == [None, 60, 60, 60, 30, 30, None]


def test_renewal_request_opens_once_60_days_before_even_if_the_task_runs_twice(contract, specialist, contact_a):
    assert contract.ends_on == date(2026, 6, 1)
    day = contract.ends_on - timedelta(days=61)
    assert renewal_reminders_run(now=at(day)) == []
    day = contract.ends_on - timedelta(days=60)
    first = renewal_reminders_run(now=at(day))
    second = renewal_reminders_run(now=at(day) + timedelta(hours=3))
    assert len(first) == 1 and second == []
    sr = ServiceRequest.objects.get()
    assert sr.kind == "payment_renewal" and sr.contract == contract and sr.assignee == specialist
    assert RenewalReminder.objects.get().threshold == 60
    notes = Notification.objects.filter(kind="renewal_reminder")
    assert sorted(n.address for n in notes) == sorted([specialist.email, contact_a.email])
    # the next day nothing more; at 30 days the second reminder reuses the open request
    assert renewal_reminders_run(now=at(day + timedelta(days=1))) == []
    thirty = renewal_reminders_run(now=at(contract.ends_on - timedelta(days=30)))
    assert [r.threshold for r in thirty] == [30] and thirty[0].request == sr
    assert ServiceRequest.objects.count() == 1
    assert Notification.objects.filter(kind="renewal_reminder").count() == 4


def test_the_beat_task_is_idempotent_too(contract, time_machine):  # type: ignore[no-untyped-def]
    time_machine.move_to(at(contract.ends_on - timedelta(days=60)), tick=False)
    assert renewal_reminders() == 1
    assert renewal_reminders() == 0
    assert ServiceRequest.objects.count() == 1


def test_manager_page_lists_expiring_contracts_and_warns_about_uncovered_services(
        contract, manager, specialist, time_machine):  # type: ignore[no-untyped-def]
    far = f.ContractFactory(customer=contract.customer, starts_on=date(2026, 1, 1), term_months=12)
    lonely = f.ServiceFactory(name="无人负责的托管", specialist=specialist)  # no engineer
    time_machine.move_to(at(date(2026, 3, 15)), tick=False)
    page = login(manager).get(reverse("servicedesk:manager")).content.decode()
    assert contract.number in page and far.number not in page
    assert "无人负责的托管" in page and lonely.customer.name in page
    assert login(specialist).get(reverse("servicedesk:manager")).status_code == 403
