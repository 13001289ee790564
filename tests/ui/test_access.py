"""Who may open which page: owner, staff of the right role, another customer (404), anonymous."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.ui.conftest import login, start_clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(contract_a, credit_a, engineer):  # type: ignore[no-untyped-def]
    clock = start_clock(contract=contract_a, hours_ago=30, assignee=engineer)
    return {"customer": contract_a.customer, "clock": clock, "credit": credit_a}


def page_urls(o: dict) -> list[str]:
    return [
        reverse("home"),
        reverse("customers:list"),
        reverse("customers:detail", args=[o["customer"].pk]),
        reverse("customers:contact_create", args=[o["customer"].pk]),
        reverse("customers:contract_create", args=[o["customer"].pk]),
        reverse("sla:overdue"),
        reverse("sla:overdue_csv"),
        reverse("sla:breaches"),
        reverse("sla:clock_list"),
        reverse("sla:clock_detail", args=[o["clock"].pk]),
        reverse("sla:policy_list"),
        reverse("credits:list"),
        reverse("credits:detail", args=[o["credit"].pk]),
        reverse("notifications:list"),
    ]


def test_anonymous_is_sent_to_login_everywhere(objects):  # type: ignore[no-untyped-def]
    c = Client()
    for url in page_urls(objects):
        r = c.get(url)
        assert r.status_code == 302, url
        assert r["Location"].startswith(reverse("login") + "?next="), url


def test_anonymous_cannot_post_a_credit_decision(objects):  # type: ignore[no-untyped-def]
    r = Client().post(reverse("credits:approve", args=[objects["credit"].pk]))
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))


def test_login_page_renders(db):  # type: ignore[no-untyped-def]
    r = Client().get(reverse("login"))
    assert r.status_code == 200
    assert b'name="password"' in r.content


def test_manager_opens_every_page(objects, manager):  # type: ignore[no-untyped-def]
    c = login(manager)
    for url in page_urls(objects):
        assert c.get(url).status_code == 200, url


def test_another_customer_gets_404_on_a_customers_objects(objects, charlie):  # type: ignore[no-untyped-def]
    c = login(charlie)
    for url in [
        reverse("customers:detail", args=[objects["customer"].pk]),
        reverse("customers:contact_create", args=[objects["customer"].pk]),
        reverse("customers:contract_create", args=[objects["customer"].pk]),
        reverse("sla:clock_detail", args=[objects["clock"].pk]),
        reverse("credits:detail", args=[objects["credit"].pk]),
    ]:
        assert c.get(url).status_code == 404, url
    assert c.post(reverse("credits:approve", args=[objects["credit"].pk])).status_code == 404


def test_customer_user_sees_own_objects(objects, alice):  # type: ignore[no-untyped-def]
    c = login(alice)
    for url in [
        reverse("home"),
        reverse("customers:detail", args=[objects["customer"].pk]),
        reverse("sla:clock_list"),
        reverse("sla:clock_detail", args=[objects["clock"].pk]),
        reverse("sla:policy_list"),
        reverse("credits:list"),
        reverse("credits:detail", args=[objects["credit"].pk]),
    ]:
        assert c.get(url).status_code == 200, url
    # The customer list sends a customer user to their own organisation.
    r = c.get(reverse("customers:list"))
    assert r.status_code == 302 and r["Location"] == reverse("customers:detail", args=[objects["customer"].pk])


def test_customer_user_is_refused_staff_pages(objects, alice):  # type: ignore[no-untyped-def]
    c = login(alice)
    for url in [reverse("sla:overdue"), reverse("sla:overdue_csv"), reverse("sla:breaches"),
                reverse("notifications:list"),
                reverse("customers:contract_create", args=[objects["customer"].pk]),
                # alice is not her organisation's administrator
                reverse("customers:contact_create", args=[objects["customer"].pk])]:
        assert c.get(url).status_code == 403, url


def test_customer_lists_show_only_their_own_rows(objects, alice, contract_c, credit_c):  # type: ignore[no-untyped-def]
    other_clock = start_clock(contract=contract_c, hours_ago=30, label="丙公司的投诉")
    c = login(alice)
    clocks = c.get(reverse("sla:clock_list")).content.decode()
    assert objects["clock"].label in clocks and other_clock.label not in clocks
    credits = c.get(reverse("credits:list")).content.decode()
    assert reverse("credits:detail", args=[objects["credit"].pk]) in credits
    assert reverse("credits:detail", args=[credit_c.pk]) not in credits


def test_staff_roles(objects, specialist, engineer, dc_staff):  # type: ignore[no-untyped-def]
    customer = objects["customer"]
    # Every staff role reads the overdue review and the customer pages.
    for user in (specialist, engineer, dc_staff):
        c = login(user)
        assert c.get(reverse("sla:overdue")).status_code == 200
        assert c.get(reverse("customers:detail", args=[customer.pk])).status_code == 200
    # The specialist may change contacts; the engineer and dc staff may not.
    assert login(specialist).get(reverse("customers:contact_create", args=[customer.pk])).status_code == 200
    assert login(engineer).get(reverse("customers:contact_create", args=[customer.pk])).status_code == 403
    assert login(dc_staff).get(reverse("customers:contact_create", args=[customer.pk])).status_code == 403
    # Only managers record contracts and decide on credits.
    assert login(specialist).get(reverse("customers:contract_create", args=[customer.pk])).status_code == 403
    r = login(specialist).post(reverse("credits:approve", args=[objects["credit"].pk]))
    assert r.status_code == 403
    # dc staff have no access to notification attempts; the engineer has.
    assert login(dc_staff).get(reverse("notifications:list")).status_code == 403
    assert login(engineer).get(reverse("notifications:list")).status_code == 200


def test_customer_does_not_see_escalation_notifications_on_a_clock(objects, alice, manager):  # type: ignore[no-untyped-def]
    from sla.services import clocks_sweep

    clocks_sweep()
    staff_page = login(manager).get(reverse("sla:clock_detail", args=[objects["clock"].pk])).content.decode()
    assert manager.email in staff_page
    customer_page = login(alice).get(reverse("sla:clock_detail", args=[objects["clock"].pk])).content.decode()
    assert manager.email not in customer_page
