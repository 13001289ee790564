"""E-mail provisioning orders on the pages, the API and the monthly statement: the staff queue with
the time left (red once late) next to the installation orders, the order page with its checklist
and forms, the customer's own orders read-only, another customer's a 404, anonymous sent away;
the API's POST sub-routes with 400 field errors, 403 roles and 409 states; the statement section."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from orders import services
from orders.choices import ProvisioningState
from orders.models import ProvisioningOrder
from orders.selectors import provisioning_clock
from settlement.statements import statement_content
from sla.choices import ClockState
from tests import factories as f

from .conftest import TZ, api

pytestmark = pytest.mark.django_db

PAID = datetime(2026, 3, 10, 9, 0, tzinfo=TZ)
H24 = timedelta(hours=24)
S1 = timedelta(seconds=1)
BASE = "/api/provisioning-orders/"


def web(user: Any) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None:
        c.force_login(user)
    return c


def _order(service: Any, engineer: Any, domain: str) -> ProvisioningOrder:
    o = ProvisioningOrder.objects.get(service=service)
    return services.provisioning_update(order_id=o.pk, domain=domain, new_domain=False, actor=engineer,
                                        now=PAID - H24)


@pytest.fixture
def prov_a(contract_a: Any, new_service: Any, engineer: Any) -> ProvisioningOrder:
    f.AuthorizedContactFactory(customer=contract_a.customer, email="wang@alpha.example.cn")
    return _order(new_service(contract_a, "email", name="企业邮箱 A"), engineer, "alpha.example.cn")


@pytest.fixture
def prov_c(contract_c: Any, new_service: Any, engineer: Any) -> ProvisioningOrder:
    return _order(new_service(contract_c, "email", name="企业邮箱 C"), engineer, "charlie.example.cn")


def pay(order: ProvisioningOrder, specialist: Any) -> None:
    services.provisioning_payment_confirm(order_id=order.pk, actor=specialist, paid_at=PAID, now=PAID)


def finish(order: ProvisioningOrder, engineer: Any, at: datetime) -> None:
    for code in ("dns_records", "mailboxes", "admin_handover"):
        services.provisioning_item_done(order_id=order.pk, item_code=code, actor=engineer, now=PAID)
    services.provisioning_complete(order_id=order.pk, actor=engineer, confirm=True, completed_at=at, now=at)


# --- Pages -------------------------------------------------------------------------------------

def test_the_staff_queue_lists_open_orders_with_the_time_left_red_when_late(prov_a, prov_c, specialist,
                                                                           engineer):
    pay(prov_a, specialist)  # paid in March 2026: long overdue today
    body = web(engineer).get("/orders/provisioning/").content.decode()
    assert f"/orders/provisioning/{prov_a.pk}/" in body and f"/orders/provisioning/{prov_c.pk}/" in body
    row_a = body.split(f"/orders/provisioning/{prov_a.pk}/")[1].split("</tr>")[0]
    assert "2026-03-11 09:00" in row_a and 'class="late"' in row_a and "overdue by" in row_a
    row_c = body.split(f"/orders/provisioning/{prov_c.pk}/")[1].split("</tr>")[0]
    assert "starts when the payment is confirmed" in row_c and 'class="late"' not in row_c
    # Completed orders leave the queue (the default filter) and show under "all".
    finish(prov_a, engineer, PAID + H24 - S1)
    assert f"/orders/provisioning/{prov_a.pk}/" not in web(engineer).get("/orders/provisioning/").content.decode()
    assert f"/orders/provisioning/{prov_a.pk}/" in web(engineer).get(
        "/orders/provisioning/?state=all").content.decode()
    assert f"/orders/provisioning/{prov_c.pk}/" not in web(engineer).get(
        f"/orders/provisioning/?customer={prov_a.customer_id}&state=all").content.decode()


def test_the_installation_list_and_the_queue_link_each_other(engineer, prov_a):
    assert 'href="/orders/provisioning/"' in web(engineer).get("/orders/").content.decode()
    assert 'href="/orders/"' in web(engineer).get("/orders/provisioning/").content.decode()


def test_the_customer_sees_their_own_orders_read_only_and_404_on_anothers(prov_a, prov_c, alice, charlie):
    body = web(alice).get("/orders/provisioning/").content.decode()
    assert f"/orders/provisioning/{prov_a.pk}/" in body and f"/orders/provisioning/{prov_c.pk}/" not in body
    page = web(alice).get(f"/orders/provisioning/{prov_a.pk}/")
    assert page.status_code == 200 and "alpha.example.cn" in page.content.decode()
    assert "/confirm-payment/" not in page.content.decode() and "/complete/" not in page.content.decode()
    assert web(alice).post(f"/orders/provisioning/{prov_a.pk}/complete/", {"confirm": "on"}).status_code == 403
    assert web(charlie).get(f"/orders/provisioning/{prov_a.pk}/").status_code == 404
    for path in ("confirm-payment/", "complete/", "cancel/", "update/", "items/mailboxes/done/"):
        assert web(charlie).post(f"/orders/provisioning/{prov_a.pk}/{path}", {"reason": "x"}).status_code == 404
    prov_a.refresh_from_db()
    assert prov_a.state == ProvisioningState.AWAITING_PAYMENT
    for url in ("/orders/provisioning/", f"/orders/provisioning/{prov_a.pk}/"):
        r = web(None).get(url)
        assert r.status_code == 302 and "/accounts/login/" in r["Location"]


def test_staff_confirm_the_payment_tick_items_and_complete_on_the_page(prov_a, specialist, engineer):
    r = web(specialist).post(f"/orders/provisioning/{prov_a.pk}/confirm-payment/",
                             {"paid_at": "2026-03-10T09:00:00", "reference": "TX-9"})
    assert r.status_code == 302
    clock = provisioning_clock(prov_a)
    assert (clock.started_at, clock.due_at) == (PAID, PAID + H24)
    c = web(engineer)
    page = c.get(f"/orders/provisioning/{prov_a.pk}/").content.decode()
    assert '<dd id="e5-due">2026-03-11 09:00:00' in page and "/items/mailboxes/done/" in page
    # Completing with items open is a form error and nothing changes.
    r = c.post(f"/orders/provisioning/{prov_a.pk}/complete/", {"confirm": "on"})
    assert r.status_code == 400 and "Not done yet" in r.content.decode()
    for code in ("dns_records", "mailboxes", "admin_handover"):
        assert c.post(f"/orders/provisioning/{prov_a.pk}/items/{code}/done/", {"note": "ok"}).status_code == 302
    r = c.post(f"/orders/provisioning/{prov_a.pk}/complete/",
               {"confirm": "on", "completed_at": "2026-03-11T09:00:01"})
    assert r.status_code == 302
    prov_a.refresh_from_db()
    assert prov_a.state == ProvisioningState.COMPLETED
    assert provisioning_clock(prov_a).state == ClockState.BREACHED
    page = c.get(f"/orders/provisioning/{prov_a.pk}/").content.decode()
    assert "that month&#x27;s fee waiver proposed" in page and "late: that month" in page


def test_a_wrong_state_is_a_message_and_roles_are_403(prov_a, specialist, engineer, manager):
    assert web(engineer).post(f"/orders/provisioning/{prov_a.pk}/confirm-payment/", {}).status_code == 403
    assert web(specialist).post(f"/orders/provisioning/{prov_a.pk}/cancel/", {"reason": "x"}).status_code == 403
    pay(prov_a, specialist)
    r = web(specialist).post(f"/orders/provisioning/{prov_a.pk}/confirm-payment/", {}, follow=True)
    assert r.status_code == 200 and "cannot be confirmed" in r.content.decode()
    assert web(manager).post(f"/orders/provisioning/{prov_a.pk}/cancel/", {"reason": "撤单"}).status_code == 302
    prov_a.refresh_from_db()
    assert prov_a.state == ProvisioningState.CANCELLED


def test_staff_open_an_order_from_the_queue(contract_a, new_service, specialist, alice):
    service = new_service(contract_a, "email")
    assert web(alice).get("/orders/provisioning/new/").status_code == 403
    r = web(specialist).post("/orders/provisioning/new/", {"service": service.pk, "domain": "bad domain"})
    assert r.status_code == 400 and "example.cn" in r.content.decode()
    r = web(specialist).post("/orders/provisioning/new/", {"service": service.pk, "domain": "new.example.cn",
                                                           "new_domain": "on"})
    order = ProvisioningOrder.objects.get(domain="new.example.cn")
    assert r.status_code == 302 and r["Location"] == f"/orders/provisioning/{order.pk}/"
    assert order.new_domain and order.items.filter(code="domain_registration").exists()


# --- API ---------------------------------------------------------------------------------------

def ids(r: Any) -> set[int]:
    return {row["id"] for row in r.json()["results"]}


def test_the_api_list_and_detail_are_scoped(prov_a, prov_c, alice, charlie, specialist, manager):
    assert ids(api(alice).get(BASE)) == {prov_a.pk}
    assert ids(api(charlie).get(BASE)) == {prov_c.pk}
    assert ids(api(specialist).get(BASE)) == {prov_a.pk, prov_c.pk}
    assert ids(api(manager).get(BASE, {"customer": prov_a.customer_id})) == {prov_a.pk}
    pay(prov_a, specialist)
    assert ids(api(manager).get(BASE, {"overdue": "true"})) == {prov_a.pk}
    r = api(manager).get(BASE, {"state": "nope"})
    assert r.status_code == 400 and "state" in r.json()["errors"]
    d = api(alice).get(f"{BASE}{prov_a.pk}/").json()
    assert (d["domain"], d["state"], d["policy"], d["clock_state"]) == (
        "alpha.example.cn", "in_progress", "E5-EXIST", "running")
    assert d["due_at"].startswith("2026-03-11T09:00:00") and d["clock"]["started_at"].startswith("2026-03-10T09:00")
    assert [i["code"] for i in d["items"]] == ["dns_records", "mailboxes", "admin_handover", "customer_notified"]
    assert api(charlie).get(f"{BASE}{prov_a.pk}/").status_code == 404
    assert api(None).get(BASE).status_code in (401, 403)
    assert api(None).get(f"{BASE}{prov_a.pk}/").status_code in (401, 403)


def test_the_api_transitions_with_400_403_404_409(prov_a, alice, charlie, specialist, engineer, manager):
    url = f"{BASE}{prov_a.pk}/"
    r = api(specialist).post(f"{url}confirm-payment/", {"paid_at": "yesterday"}, format="json")
    assert r.status_code == 400 and "paid_at" in r.json()["errors"]
    assert api(alice).post(f"{url}confirm-payment/", {}, format="json").status_code == 403
    assert api(charlie).post(f"{url}confirm-payment/", {}, format="json").status_code == 404
    assert api(engineer).post(f"{url}complete/", {"confirm": True}, format="json").status_code == 409
    r = api(specialist).post(f"{url}confirm-payment/", {"paid_at": PAID.isoformat(), "reference": "TX"},
                             format="json")
    assert r.status_code == 200 and r.json()["state"] == "in_progress"
    assert api(specialist).post(f"{url}confirm-payment/", {}, format="json").status_code == 409
    for code in ("dns_records", "mailboxes", "admin_handover"):
        assert api(engineer).post(f"{url}items/{code}/done/", {"note": "ok"}, format="json").status_code == 200
    assert api(engineer).post(f"{url}items/nope/done/", {}, format="json").status_code == 404
    r = api(engineer).post(f"{url}complete/", {"confirm": False}, format="json")
    assert r.status_code == 400 and "confirm" in r.json()["errors"]
    r = api(engineer).post(f"{url}complete/", {"confirm": True, "completed_at": (PAID + H24 + S1).isoformat()},
                           format="json")
    assert r.status_code == 200 and r.json()["state"] == "completed" and r.json()["clock_state"] == "breached"
    assert api(manager).post(f"{url}cancel/", {"reason": "x"}, format="json").status_code == 409
    r = api(engineer).post(f"{url}update/", {"domain": "x.cn", "new_domain": True}, format="json")
    assert r.status_code == 409


def test_the_api_opens_an_order_for_an_email_service_in_scope(contract_a, contract_c, new_service, specialist,
                                                             alice):
    mine = new_service(contract_a, "email")
    hosting = new_service(contract_a, "rack")
    r = api(specialist).post(BASE, {"service": mine.pk, "domain": "api.example.cn"}, format="json")
    assert r.status_code == 201 and r.json()["domain"] == "api.example.cn" and r.json()["due_at"] is None
    r = api(specialist).post(BASE, {"service": hosting.pk, "domain": "h.example.cn"}, format="json")
    assert r.status_code == 400 and "service" in r.json()["errors"]
    assert api(alice).post(BASE, {"service": mine.pk, "domain": "b.example.cn"}, format="json").status_code == 403


# --- The monthly statement ---------------------------------------------------------------------

def test_the_statement_lists_the_months_provisioning_orders_with_the_verdict(prov_a, customer_a, specialist,
                                                                           engineer):
    pay(prov_a, specialist)
    finish(prov_a, engineer, PAID + H24 + S1)
    content = statement_content(customer=customer_a, first=date(2026, 3, 1), now=PAID + timedelta(days=30))
    [section] = [s for s in content["sections"] if s["key"] == "provisioning"]
    assert section["title"] == "邮件服务开通" and section["breached"] == 1
    [row] = section["rows"]
    assert row[:2] == [str(prov_a), "alpha.example.cn"]
    assert row[3:6] == ["2026-03-10 09:00", "2026-03-11 09:00", "2026-03-11 09:00"]
    assert "免收当月之费用" in row[6]
    # A month with no provisioning has no such section.
    april = statement_content(customer=customer_a, first=date(2026, 5, 1), now=PAID + timedelta(days=90))
    assert all(s["key"] != "provisioning" for s in april.get("sections", []))
