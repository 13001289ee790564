"""A signing date whose installation window reaches a year the working-day calendar does not know
yet: the contract and the service are recorded (never a 500), the order opens with its deadline
pending and says which year is missing, and the periodic task starts the clock once that year
is entered."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from customers.models import Contract, Service
from customers.services import contract_create
from orders import tasks
from orders.models import InstallationOrder
from orders.selectors import order_c3_clock
from sla.choices import ClockState
from sla.models import WorkdayOverride
from tests import factories as f

from .conftest import TZ

pytestmark = pytest.mark.django_db

# Tuesday 2026-12-29: the third working day after it falls in 2027, which the calendar library
# does not know (this checkout's holidays library ends with 2026).
SIGNED_LATE_2026 = datetime(2026, 12, 29, 10, 0, tzinfo=TZ)


@pytest.fixture
def admin_client(client):  # type: ignore[no-untyped-def]
    root = get_user_model().objects.create_superuser("root", "root@example.test", "pw-root-123")
    client.force_login(root)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def _contract_post(customer, number, signed):  # type: ignore[no-untyped-def]
    return {"customer": customer.pk, "number": number, "signed_at_0": signed, "signed_at_1": "10:00:00",
            "starts_on": signed, "term_months": 12, "monthly_fee": "3000.00",
            "installation_fee": "500.00", "exclude_unreported_outages": "on"}


def _service_post(contract, name):  # type: ignore[no-untyped-def]
    return {"contract": contract.pk, "kind": "rental", "name": name, "specialist": "", "engineer": "",
            "room": "", "rack_row": "", "uplink": "", "active": "on"}


@pytest.mark.parametrize(("signed", "year"), [("2031-12-29", 2031), ("2026-12-29", 2027)])
def test_admin_add_of_a_contract_and_a_service_in_an_unknown_year_is_no_500(
        admin_client, django_capture_on_commit_callbacks, signed, year):
    customer = f.CustomerFactory()
    r = admin_client.post("/admin/customers/contract/add/", _contract_post(customer, "HT-ADM-Y", signed))
    assert r.status_code == 302, r.content.decode()[:2000]
    contract = Contract.objects.get(number="HT-ADM-Y")
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post("/admin/customers/service/add/", _service_post(contract, "整机 Y-01"))
    assert r.status_code == 302, r.content.decode()[:2000]
    order = InstallationOrder.objects.get(service=Service.objects.get(name="整机 Y-01"))
    assert order.deadline_pending_year == year and order_c3_clock(order) is None
    assert order.items.count() == 4
    page = admin_client.get(f"/orders/{order.pk}/")
    assert page.status_code == 200
    assert f"deadline pending: working-day calendar of {year} missing" in page.content.decode()


def test_admin_add_of_a_service_through_the_contract_inline_is_no_500(admin_client,
                                                                     django_capture_on_commit_callbacks):
    from tests.admin.conftest import admin_form

    contract = f.ContractFactory(signed_at=datetime(2031, 12, 29, 10, 0, tzinfo=TZ))
    url = f"/admin/customers/contract/{contract.pk}/change/"
    data = admin_form(admin_client, url)
    n = int(data["services-TOTAL_FORMS"])
    data |= {"services-TOTAL_FORMS": str(n + 1), f"services-{n}-kind": "colocation",
             f"services-{n}-name": "托管 Y-02", f"services-{n}-active": "on",
             f"services-{n}-contract": str(contract.pk)}
    with django_capture_on_commit_callbacks(execute=True):
        r = admin_client.post(url, data)
    assert r.status_code == 302, r.content.decode()[:2000]
    order = InstallationOrder.objects.get(service__name="托管 Y-02")
    assert order.deadline_pending_year == 2031


def test_the_task_starts_the_clock_once_the_year_is_entered(customer_a, manager, new_service):
    contract = contract_create(customer=customer_a, number="HT-A-2027", signed_at=SIGNED_LATE_2026,
                               monthly_fee=Decimal("1000.00"), installation_fee=Decimal("800.00"),
                               actor=manager, now=SIGNED_LATE_2026)
    order = InstallationOrder.objects.get(service=new_service(contract, "rack", now=SIGNED_LATE_2026))
    assert order.deadline_pending_year == 2027 and order_c3_clock(order) is None
    assert tasks.reconcile() == {"opened": 0, "clocks_started": 0}  # still unknown: nothing guessed
    WorkdayOverride.objects.create(date=date(2027, 1, 1), is_working_day=False, note="元旦")
    assert tasks.reconcile() == {"opened": 0, "clocks_started": 1}
    order.refresh_from_db()
    clock = order_c3_clock(order)
    assert order.deadline_pending_year is None
    # From the signing (the service came the same day): Wed 30, Thu 31, (New Year off), Mon 4.
    assert (clock.state, clock.started_at) == (ClockState.RUNNING, SIGNED_LATE_2026)
    assert clock.due_at == datetime(2027, 1, 5, 0, 0, tzinfo=TZ)
    assert tasks.reconcile() == {"opened": 0, "clocks_started": 0}


def test_an_order_completed_while_pending_is_judged_by_its_completion_time(customer_a, manager, engineer,
                                                                          new_service):
    from orders import services

    contract = contract_create(customer=customer_a, number="HT-A-2027B", signed_at=SIGNED_LATE_2026,
                               monthly_fee=Decimal("1000.00"), actor=manager, now=SIGNED_LATE_2026)
    order = InstallationOrder.objects.get(service=new_service(contract, "rack", now=SIGNED_LATE_2026))
    done = datetime(2026, 12, 31, 18, 0, tzinfo=TZ)
    for code in ("power", "network"):
        services.order_item_done(order_id=order.pk, item_code=code, actor=engineer, now=done)
    services.order_complete(order_id=order.pk, actor=engineer, confirm=True, now=done)
    WorkdayOverride.objects.create(date=date(2027, 1, 1), is_working_day=False)
    tasks.reconcile()
    clock = order_c3_clock(order)
    assert clock.state == ClockState.MET and clock.met_at == done


def test_the_task_opens_a_missing_order(contract_a):
    service = f.ServiceFactory(contract=contract_a, kind="rental")  # saved without the service layer
    f.ServiceFactory(contract=contract_a, kind="email")
    assert tasks.reconcile() == {"opened": 1, "clocks_started": 0}
    order = InstallationOrder.objects.get(service=service)
    assert order.items.count() == 4 and order_c3_clock(order) is not None
    assert InstallationOrder.objects.count() == 1
