from __future__ import annotations

import pytest
from django.test import Client

from monitoring.services import target_save
from tests import factories as f


@pytest.fixture
def target(customer_a, engineer):
    service = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a))
    return target_save(service=service, data={"kind": "device", "host": "10.0.0.1", "port": 22},
                       actor=engineer)


def web(user):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def test_owner_and_staff_see_the_target_another_customer_gets_404(alice, charlie, engineer, target):
    assert web(alice).get(f"/monitoring/{target.pk}/").status_code == 200
    assert web(engineer).get(f"/monitoring/{target.pk}/").status_code == 200
    assert web(charlie).get(f"/monitoring/{target.pk}/").status_code == 404
    assert web(alice).get("/monitoring/new/").status_code == 403


def test_engineer_adds_a_target_from_the_form(engineer, target):
    r = web(engineer).post("/monitoring/new/", {
        "service": target.service_id, "kind": "www", "url": "https://www.example.test/",
        "expected_status": 200, "interval_seconds": 300, "timeout_seconds": 10, "active": "on", "host": ""})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert target.service.targets.count() == 2


def test_targets_api_scoping_and_roles(alice, charlie, engineer, target):
    from rest_framework.test import APIClient

    def api(u):  # type: ignore[no-untyped-def]
        c = APIClient()
        c.force_authenticate(u)
        return c

    assert api(alice).get(f"/api/targets/{target.pk}/").json()["last_method"] == ""
    assert api(charlie).get(f"/api/targets/{target.pk}/").status_code == 404
    body = {"service": target.service_id, "kind": "smtp", "host": "mail.example.test", "port": 25}
    assert api(alice).post("/api/targets/", body).status_code == 403
    assert api(charlie).post("/api/targets/", body).status_code in (400, 403)
    r = api(engineer).post("/api/targets/", body)
    assert r.status_code == 201 and r.json()["next_due_at"]
