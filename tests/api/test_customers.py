"""Customers, contracts and services over the API: scoping, roles and bad input."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from audit.models import AuditEntry
from customers.models import Contract, Customer, Service
from sla.models import Clock
from tests import factories as f

from .conftest import ids

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Shanghai")


def test_token_obtain_then_token_auth(alice, api):
    r = api(None).post("/api/auth/token/", {"username": alice.username, "password": "pw-for-tests-1"})
    assert r.status_code == 200
    token = r.json()["token"]
    from rest_framework.test import APIClient

    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert c.get("/api/customers/").status_code == 200
    assert api(None).post("/api/auth/token/", {"username": alice.username,
                                               "password": "wrong"}).status_code == 400


def test_session_auth_works(alice, customer_a, client):
    client.force_login(alice)
    r = client.get("/api/customers/")
    assert r.status_code == 200
    assert ids_of(r) == {customer_a.pk}


def ids_of(r):  # type: ignore[no-untyped-def]
    return {row["id"] for row in r.json()["results"]}


@pytest.mark.parametrize("url", ["/api/customers/", "/api/contracts/", "/api/services/",
                                 "/api/contacts/", "/api/policies/", "/api/policy-overrides/",
                                 "/api/workday-overrides/", "/api/clocks/", "/api/overdue/",
                                 "/api/overdue.csv", "/api/credits/", "/api/notifications/"])
def test_anonymous_is_refused_everywhere(api, url):
    r = api(None).get(url)
    assert r.status_code in (401, 403)


def test_customer_list_and_detail_are_scoped(alice, charlie, customer_a, customer_c, manager, api):
    assert ids(api(alice).get("/api/customers/")) == {customer_a.pk}
    assert ids(api(charlie).get("/api/customers/")) == {customer_c.pk}
    assert ids(api(manager).get("/api/customers/")) == {customer_a.pk, customer_c.pk}
    assert api(alice).get(f"/api/customers/{customer_a.pk}/").json()["name"] == customer_a.name
    assert api(charlie).get(f"/api/customers/{customer_a.pk}/").status_code == 404
    assert api(manager).get(f"/api/customers/{customer_a.pk}/").status_code == 200


def test_customer_create_for_managers_only(manager, specialist, alice, api):
    body = {"name": "乙公司 Beta", "code": "beta"}
    assert api(specialist).post("/api/customers/", body).status_code == 403
    assert api(alice).post("/api/customers/", body).status_code == 403
    assert not Customer.objects.filter(code="beta").exists()
    r = api(manager).post("/api/customers/", body)
    assert r.status_code == 201, r.content
    c = Customer.objects.get(code="beta")
    assert r.json()["id"] == c.pk
    assert AuditEntry.objects.filter(object_id=c.pk, action="create", actor=manager).exists()


def test_customer_create_duplicate_code_is_400(manager, customer_a, api):
    before = Customer.objects.count()
    r = api(manager).post("/api/customers/", {"name": "Other", "code": customer_a.code})
    assert r.status_code == 400
    assert "code" in r.json()["errors"]
    assert Customer.objects.count() == before


def test_contract_list_scoped_and_filtered(alice, charlie, manager, dc_staff, contract_a, contract_c, api):
    assert ids(api(alice).get("/api/contracts/")) == {contract_a.pk}
    assert contract_a.pk not in ids(api(charlie).get("/api/contracts/"))
    assert api(charlie).get(f"/api/contracts/{contract_a.pk}/").status_code == 404
    assert ids(api(manager).get(f"/api/contracts/?customer={contract_c.customer_id}")) == {contract_c.pk}
    body = api(alice).get(f"/api/contracts/{contract_a.pk}/").json()
    assert body["monthly_fee"] == "3100.00" and body["currency"] == "CNY"
    # Data-centre staff have no business reading contracts (least privilege, roles.py).
    assert api(dc_staff).get("/api/contracts/").status_code == 403


def _contract_body(customer, **kw):  # type: ignore[no-untyped-def]
    body = {"customer": customer.pk, "number": "HT-NEW-1", "signed_at": "2026-03-02T10:00:00+08:00",
            "monthly_fee": "3100.00", "installation_fee": "500.00"}
    body.update(kw)
    return body


def test_contract_create_starts_no_clock_its_services_orders_do(manager, customer_a, api,
                                                                django_capture_on_commit_callbacks):
    r = api(manager).post("/api/contracts/", _contract_body(customer_a), format="json")
    assert r.status_code == 201, r.content
    contract = Contract.objects.get(number="HT-NEW-1")
    assert not Clock.objects.filter(contract=contract).exists()
    with django_capture_on_commit_callbacks(execute=True):
        r = api(manager).post("/api/services/", {"contract": contract.pk, "kind": "rental", "name": "整机 N-1"},
                              format="json")
    assert r.status_code == 201, r.content
    clock = Clock.objects.get(contract=contract, policy__code="C3")
    assert clock.subject.service.name == "整机 N-1"
    # The service came today, long after the first window after signing: counted from today.
    assert clock.started_at > datetime(2026, 3, 6, 0, 0, tzinfo=TZ)


def test_contract_create_refused_for_non_managers(specialist, alice, customer_a, api):
    for user in (specialist, alice):
        assert api(user).post("/api/contracts/", _contract_body(customer_a), format="json").status_code == 403
    assert not Contract.objects.filter(number="HT-NEW-1").exists()


def test_contract_negative_fee_is_400_and_nothing_saved(manager, customer_a, api):
    before = (Contract.objects.count(), Clock.objects.count(), AuditEntry.objects.count())
    r = api(manager).post("/api/contracts/", _contract_body(customer_a, monthly_fee="-1.00"), format="json")
    assert r.status_code == 400
    assert "monthly_fee" in r.json()["errors"]
    r = api(manager).post("/api/contracts/", _contract_body(customer_a, installation_fee="-0.01"),
                          format="json")
    assert r.status_code == 400
    assert "installation_fee" in r.json()["errors"]
    assert (Contract.objects.count(), Clock.objects.count(), AuditEntry.objects.count()) == before


def test_contract_signed_in_unknown_calendar_year_is_recorded(manager, customer_a, api):
    r = api(manager).post("/api/contracts/", _contract_body(customer_a, signed_at="2031-03-03T10:00:00+08:00"),
                          format="json")
    assert r.status_code == 201, r.content
    assert Contract.objects.get(number="HT-NEW-1").signed_at.year == 2031
    assert not Clock.objects.exists()


def test_contract_for_unknown_customer_is_400(manager, customer_c, api):
    body = _contract_body(customer_c)
    body["customer"] = 999999
    r = api(manager).post("/api/contracts/", body, format="json")
    assert r.status_code == 400 and "customer" in r.json()["errors"]


def test_service_list_scoped_and_create(manager, alice, charlie, contract_a, api):
    spec = f.StaffFactory(role="specialist", username="spec2")
    svc = f.ServiceFactory(contract=contract_a, specialist=spec)
    assert ids(api(alice).get("/api/services/")) == {svc.pk}
    assert api(alice).get(f"/api/services/{svc.pk}/").json()["specialist"]["username"] == "spec2"
    assert ids(api(charlie).get("/api/services/")) == set()
    assert api(charlie).get(f"/api/services/{svc.pk}/").status_code == 404
    body = {"contract": contract_a.pk, "kind": "rack", "name": "机柜 A-12", "specialist": spec.pk}
    assert api(alice).post("/api/services/", body).status_code == 403
    r = api(manager).post("/api/services/", body)
    assert r.status_code == 201, r.content
    assert Service.objects.get(pk=r.json()["id"]).customer_id == contract_a.customer_id


def test_service_create_refuses_a_non_specialist_as_specialist(manager, contract_a, api):
    r = api(manager).post("/api/services/", {"contract": contract_a.pk, "kind": "rack", "name": "x",
                                             "specialist": manager.pk})
    assert r.status_code == 400 and "specialist" in r.json()["errors"]
    assert Service.objects.count() == 0
