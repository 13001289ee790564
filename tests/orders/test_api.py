"""The installation-orders API: scoped list and detail (another customer: 404), the actions as
POSTs (item done, pause, resume, complete, cancel) with the API's one error body: 400 with field
errors, 403 for a role that may not act, 409 for a state that does not allow it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import time_machine

from orders.choices import OrderState
from sla.choices import ClockState

from .conftest import DUE, SIGNED, TZ, api

pytestmark = pytest.mark.django_db

BASE = "/api/installation-orders/"


def ids(r) -> set[int]:  # type: ignore[no-untyped-def]
    return {row["id"] for row in r.json()["results"]}


def test_list_is_scoped_and_filtered(order_a, order_c, alice, charlie, manager, specialist):
    assert ids(api(alice).get(BASE)) == {order_a.pk}
    assert ids(api(charlie).get(BASE)) == {order_c.pk}
    assert ids(api(specialist).get(BASE)) == {order_a.pk, order_c.pk}
    assert ids(api(manager).get(BASE, {"customer": order_a.customer_id})) == {order_a.pk}
    assert ids(api(manager).get(BASE, {"contract": order_c.contract_id})) == {order_c.pk}
    assert ids(api(manager).get(BASE, {"state": "completed"})) == set()
    assert ids(api(manager).get(BASE, {"overdue": "true"})) == {order_a.pk, order_c.pk}
    r = api(manager).get(BASE, {"state": "nope"})
    assert r.status_code == 400 and r.json()["code"] == "invalid" and "state" in r.json()["errors"]
    row = next(x for x in api(manager).get(BASE).json()["results"] if x["id"] == order_a.pk)
    assert row["clock_state"] == "running" and row["service_kind"] == "colocation"
    assert row["due_at"].startswith("2026-03-06T00:00:00")


def test_detail_has_items_and_clock_and_another_customers_is_404(order_a, order_c, alice):
    r = api(alice).get(f"{BASE}{order_a.pk}/")
    assert r.status_code == 200
    body = r.json()
    assert [i["code"] for i in body["items"]] == ["power", "network"]
    assert body["clock"]["state"] == "running" and body["deadline_pending_year"] is None
    r = api(alice).get(f"{BASE}{order_c.pk}/")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = api(alice).post(f"{BASE}{order_c.pk}/items/power/done/", {})
    assert r.status_code == 404


def test_anonymous_is_401(order_a):
    assert api(None).get(BASE).status_code in (401, 403)


def test_engineer_completes_through_the_api(order_a, engineer):
    c = api(engineer)
    r = c.post(f"{BASE}{order_a.pk}/items/power/done/", {"note": "UPS 双路"}, format="json")
    assert r.status_code == 200 and r.json()["items"][0]["done"] is True
    assert r.json()["items"][0]["done_by"]["username"] == "eve"
    r = c.post(f"{BASE}{order_a.pk}/items/power/done/", {}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert c.post(f"{BASE}{order_a.pk}/items/hardware/done/", {}, format="json").status_code == 404
    r = c.post(f"{BASE}{order_a.pk}/complete/", {"confirm": True}, format="json")
    assert r.status_code == 400 and "items" in r.json()["errors"]
    c.post(f"{BASE}{order_a.pk}/items/network/done/", {}, format="json")
    r = c.post(f"{BASE}{order_a.pk}/complete/", {"confirm": False}, format="json")
    assert r.status_code == 400 and list(r.json()["errors"]) == ["confirm"]
    r = c.post(f"{BASE}{order_a.pk}/complete/", {"confirm": True, "note": "验收完成"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == OrderState.COMPLETED
    assert r.json()["completion_note"] == "验收完成"
    r = c.post(f"{BASE}{order_a.pk}/complete/", {"confirm": True}, format="json")
    assert r.status_code == 409


def test_pause_and_resume_through_the_api(order_a, engineer):
    c = api(engineer)
    with time_machine.travel(datetime(2026, 3, 3, 9, 0, tzinfo=TZ), tick=False):
        r = c.post(f"{BASE}{order_a.pk}/pause/", {"reason": "customer_not_ready"}, format="json")
        assert r.status_code == 400 and "note" in r.json()["errors"]
        r = c.post(f"{BASE}{order_a.pk}/pause/", {"reason": "other_customer_cause", "note": "客户要求延后"},
                   format="json")
        assert r.status_code == 200 and r.json()["state"] == "paused"
        assert r.json()["pause_reason"] == "other_customer_cause"
        assert r.json()["clock"]["state"] == ClockState.PAUSED
        assert c.post(f"{BASE}{order_a.pk}/pause/", {"reason": "other_customer_cause", "note": "x"},
                      format="json").status_code == 409
    with time_machine.travel(datetime(2026, 3, 4, 9, 0, tzinfo=TZ), tick=False):
        r = c.post(f"{BASE}{order_a.pk}/resume/", {}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "open"
    # Paused one day on the customer's account: the deadline moved by one day.
    assert r.json()["clock"]["paused_seconds"] == 86400
    assert datetime.fromisoformat(r.json()["clock"]["due_at"]) == DUE + timedelta(days=1)


@pytest.mark.parametrize("who", ["alice", "specialist", "dc_staff"])
def test_roles_that_may_not_act_get_403(order_a, request, who):
    user = request.getfixturevalue(who)
    c = api(user)
    for path, body in (("items/power/done/", {}), ("pause/", {"reason": "customer_not_ready", "note": "x"}),
                       ("complete/", {"confirm": True}), ("cancel/", {"reason": "x"})):
        r = c.post(f"{BASE}{order_a.pk}/{path}", body, format="json")
        assert r.status_code == 403, (who, path)
        assert r.json()["code"] in ("forbidden", "permission_denied")
    order_a.refresh_from_db()
    assert order_a.state == OrderState.OPEN


def test_cancel_through_the_api(order_a, manager):
    r = api(manager).post(f"{BASE}{order_a.pk}/cancel/", {"reason": "录入错误"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "cancelled"
    assert r.json()["clock"]["state"] == "cancelled"


def test_the_order_starts_from_the_signing(order_a, manager):
    body = api(manager).get(f"{BASE}{order_a.pk}/").json()
    assert datetime.fromisoformat(body["clock"]["started_at"]) == SIGNED
    assert datetime.fromisoformat(body["clock"]["due_at"]) == DUE
