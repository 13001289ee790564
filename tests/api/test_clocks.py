"""Clocks over the API (scoped list, filters, manager transitions, 409 on an illegal move) and
the overdue review (staff only, filters, CSV export)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine

from audit.models import AuditEntry
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clock_pause, clock_start, clocks_sweep
from tests import factories as f

from .conftest import T0, ids

pytestmark = pytest.mark.django_db


def test_clock_list_scoped(alice, charlie, specialist, clock_a, clock_c, api):
    assert ids(api(alice).get("/api/clocks/")) == {clock_a.pk}
    assert ids(api(charlie).get("/api/clocks/")) == {clock_c.pk}
    assert ids(api(specialist).get("/api/clocks/")) == {clock_a.pk, clock_c.pk}
    assert api(charlie).get(f"/api/clocks/{clock_a.pk}/").status_code == 404
    body = api(alice).get(f"/api/clocks/{clock_a.pk}/").json()
    assert body["policy"] == "C8" and body["state"] == "running"
    assert body["due_at"] == "2026-03-03T10:00:00+08:00"
    assert body["subject_type"] == "customers.contract"


def test_clock_filters(manager, clock_a, clock_c, contract_a, api):
    engineer = f.StaffFactory(role="engineer", username="eng2")
    assigned = clock_start(subject=contract_a, policy_code="C6", contract=contract_a, assignee=engineer,
                           now=T0)
    clock_pause(clock_id=clock_c.pk, now=T0 + timedelta(hours=1))
    c = api(manager)
    assert ids(c.get(f"/api/clocks/?customer={contract_a.customer_id}")) == {clock_a.pk, assigned.pk}
    assert ids(c.get("/api/clocks/?state=paused")) == {clock_c.pk}
    assert ids(c.get(f"/api/clocks/?assignee={engineer.pk}")) == {assigned.pk}
    assert ids(c.get("/api/clocks/?policy=C6")) == {assigned.pk}
    assert c.get("/api/clocks/?state=nonsense").status_code == 400


@pytest.mark.parametrize("action,start_state,end_state", [
    ("pause", ClockState.RUNNING, ClockState.PAUSED),
    ("cancel", ClockState.RUNNING, ClockState.CANCELLED),
])
def test_manager_transitions(manager, clock_a, api, action, start_state, end_state):
    r = api(manager).post(f"/api/clocks/{clock_a.pk}/{action}/", {"reason": "waiting on customer"})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == end_state
    clock_a.refresh_from_db()
    assert clock_a.state == end_state
    entry = AuditEntry.objects.get(content_type__model="clock", object_id=clock_a.pk, action=action)
    assert (entry.from_state, entry.to_state, entry.actor, entry.reason) == (
        start_state, end_state, manager, "waiting on customer")


def test_resume_moves_deadline(manager, clock_a, api):
    clock_pause(clock_id=clock_a.pk, now=T0 + timedelta(hours=1))
    with time_machine.travel(T0 + timedelta(hours=3), tick=False):
        r = api(manager).post(f"/api/clocks/{clock_a.pk}/resume/")
    assert r.status_code == 200, r.content
    clock_a.refresh_from_db()
    assert clock_a.state == ClockState.RUNNING
    assert clock_a.due_at == T0 + timedelta(hours=26)


def test_illegal_transition_is_409_and_changes_nothing(manager, clock_a, api):
    audit_before = AuditEntry.objects.count()
    r = api(manager).post(f"/api/clocks/{clock_a.pk}/resume/")
    assert r.status_code == 409
    assert r.json()["code"] == "conflict"
    api(manager).post(f"/api/clocks/{clock_a.pk}/cancel/")
    r = api(manager).post(f"/api/clocks/{clock_a.pk}/pause/")
    assert r.status_code == 409
    clock_a.refresh_from_db()
    assert clock_a.state == ClockState.CANCELLED
    assert AuditEntry.objects.count() == audit_before + 1


def test_transitions_refused_to_others(alice, charlie, specialist, clock_a, api):
    assert api(specialist).post(f"/api/clocks/{clock_a.pk}/pause/").status_code == 403
    assert api(alice).post(f"/api/clocks/{clock_a.pk}/pause/").status_code == 403
    assert api(charlie).post(f"/api/clocks/{clock_a.pk}/pause/").status_code == 404
    assert api(None).post(f"/api/clocks/{clock_a.pk}/pause/").status_code in (401, 403)
    clock_a.refresh_from_db()
    assert clock_a.state == ClockState.RUNNING


# --- Overdue review -----------------------------------------------------------------------

def test_overdue_buckets_and_filters(manager, clock_a, clock_c, contract_a, api):
    later = clock_start(subject=contract_a, policy_code="C6", contract=contract_a,
                        now=T0 + timedelta(hours=20))
    with time_machine.travel(T0 + timedelta(hours=20), tick=False):
        r = api(manager).get("/api/overdue/")
        assert r.status_code == 200
        rows = {row["id"]: row for row in r.json()["results"]}
        assert set(rows) == {clock_a.pk, clock_c.pk}  # inside the warning window (80% of 24 h)
        assert rows[clock_a.pk]["bucket"] == "warning"
        assert rows[clock_a.pk]["seconds_left"] == 4 * 3600
        assert later.pk in ids(api(manager).get("/api/overdue/?include_on_track=true"))
    clocks_sweep(now=T0 + timedelta(hours=24))
    with time_machine.travel(T0 + timedelta(hours=25), tick=False):
        c = api(manager)
        assert ids(c.get("/api/overdue/?bucket=overdue")) == {clock_a.pk, clock_c.pk}
        assert ids(c.get(f"/api/overdue/?customer={contract_a.customer_id}")) == {clock_a.pk}
        assert ids(c.get("/api/overdue/?policy=C6")) == set()
        row = c.get(f"/api/overdue/?customer={contract_a.customer_id}").json()["results"][0]
        assert row["state"] == "breached" and row["seconds_left"] == -3600
        assert c.get("/api/overdue/?bucket=bogus").status_code == 400


def test_overdue_filter_by_assignee(manager, contract_a, api):
    eng = f.StaffFactory(role="engineer", username="eng3")
    mine = clock_start(subject=contract_a, policy_code="C8", contract=contract_a, assignee=eng, now=T0)
    clock_start(subject=f.ContractFactory(), policy_code="C8", now=T0)
    with time_machine.travel(T0 + timedelta(hours=30), tick=False):
        assert ids(api(manager).get(f"/api/overdue/?assignee={eng.pk}")) == {mine.pk}


def test_overdue_is_staff_only(alice, charlie, dc_staff, specialist, clock_a, api):
    # Documented choice: a customer user is refused (403), not shown an empty "nothing is late".
    assert api(alice).get("/api/overdue/").status_code == 403
    assert api(charlie).get("/api/overdue/").status_code == 403
    assert api(alice).get("/api/overdue.csv").status_code == 403
    assert api(specialist).get("/api/overdue/").status_code == 200
    assert api(dc_staff).get("/api/overdue/").status_code == 200


@pytest.mark.parametrize("url", ["/api/overdue.csv", "/api/overdue/?format=csv"])
def test_overdue_csv_export(manager, clock_a, contract_a, api, url):
    with time_machine.travel(T0 + timedelta(hours=25), tick=False):
        clocks_sweep()
        r = api(manager).get(url)
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"]
    raw = r.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(rows) == 2
    header, row = rows
    assert len(header) == len(row) == 12
    assert row[0] == str(clock_a.pk) and row[1] == "C8"
    assert row[4] == contract_a.customer.name  # Chinese survives the round trip
    # Local (Asia/Shanghai) wall-clock times, not UTC ISO strings.
    assert row[8] == "2026-03-02 10:00:00"
    assert row[9] == "2026-03-03 10:00:00"
    assert row[10] == "2026-03-03 11:00:00"
    assert row[11] == "-60"


def test_overdue_csv_is_not_paginated(manager, contract_a, api, monkeypatch):
    from rest_framework.pagination import PageNumberPagination

    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    for _ in range(3):
        clock_start(subject=f.ContractFactory(customer=contract_a.customer), policy_code="C8", now=T0)
    with time_machine.travel(T0 + timedelta(hours=25), tick=False):
        r = api(manager).get("/api/overdue.csv")
        assert len(api(manager).get("/api/overdue/").json()["results"]) == 2  # JSON pages
    assert len(r.content.decode("utf-8-sig").strip().splitlines()) == 1 + Clock.objects.count()
