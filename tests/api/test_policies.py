"""Policies, per-contract overrides and working-day overrides over the API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from audit.models import AuditEntry
from customers.models import Contract
from sla.models import ContractPolicy, SlaPolicy, WorkdayOverride

from .conftest import ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def c8():  # type: ignore[no-untyped-def]
    return SlaPolicy.objects.get(code="C8")


def test_policies_readable_by_staff_only(specialist, manager, alice, dc_staff, c8, api):
    r = api(specialist).get("/api/policies/?code=C8")
    assert r.status_code == 200
    assert [p["code"] for p in r.json()["results"]] == ["C8"]
    assert r.json()["results"][0]["threshold"] == "24.0000"
    assert api(manager).get(f"/api/policies/{c8.pk}/").json()["calendar"] == "24x7"
    assert api(alice).get("/api/policies/").status_code == 403
    assert api(dc_staff).get("/api/policies/").status_code == 403


def test_manager_changes_target_and_it_is_audited(manager, c8, api):
    r = api(manager).patch(f"/api/policies/{c8.pk}/", {"threshold": "12"}, format="json")
    assert r.status_code == 200, r.content
    c8.refresh_from_db()
    assert c8.threshold == Decimal("12")
    entry = AuditEntry.objects.get(content_type__model="slapolicy", object_id=c8.pk, action="change")
    assert entry.actor == manager and "threshold" in entry.data["changed"]


def test_non_manager_cannot_change_policy(specialist, c8, api):
    assert api(specialist).patch(f"/api/policies/{c8.pk}/", {"threshold": "1"}, format="json").status_code == 403
    c8.refresh_from_db()
    assert c8.threshold == Decimal("24")


def test_policy_without_target_is_400(manager, c8, api):
    before = (SlaPolicy.objects.count(), AuditEntry.objects.count())
    r = api(manager).patch(f"/api/policies/{c8.pk}/", {"threshold": None}, format="json")
    assert r.status_code == 400
    assert "threshold" in r.json()["errors"]
    body = {"code": "X1", "name_zh": "测试", "name_en": "Test", "kind": "deadline", "metric": "m",
            "comparison": "le", "threshold": None, "unit": "hours", "calendar": "24x7",
            "remedy": "escalate", "clause": "§1"}
    r = api(manager).post("/api/policies/", body, format="json")
    assert r.status_code == 400 and "threshold" in r.json()["errors"]
    body.pop("threshold")
    r = api(manager).post("/api/policies/", body, format="json")
    assert r.status_code == 400 and "threshold" in r.json()["errors"]
    c8.refresh_from_db()
    assert c8.threshold == Decimal("24")
    assert (SlaPolicy.objects.count(), AuditEntry.objects.count()) == before


def test_policy_unit_calendar_mismatch_is_400(manager, c8, api):
    r = api(manager).patch(f"/api/policies/{c8.pk}/", {"unit": "working_days"}, format="json")
    assert r.status_code == 400 and "unit" in r.json()["errors"]
    r = api(manager).patch(f"/api/policies/{c8.pk}/", {"calendar": "month"}, format="json")
    assert r.status_code == 400 and "calendar" in r.json()["errors"]
    c8.refresh_from_db()
    assert (c8.unit, c8.calendar) == ("hours", "24x7")


def test_manager_creates_policy(manager, api):
    body = {"code": "S1", "name_zh": "服务请求首次响应", "name_en": "Service request first response",
            "kind": "deadline", "metric": "first response", "comparison": "le", "threshold": "4",
            "unit": "hours", "calendar": "24x7", "remedy": "escalate", "clause": "product default"}
    r = api(manager).post("/api/policies/", body, format="json")
    assert r.status_code == 201, r.content
    assert SlaPolicy.objects.get(code="S1").warning_percent == 80


def test_policy_overrides_scoped_and_manager_writes(manager, alice, charlie, contract_a, contract_c, api):
    r = api(alice).post("/api/policy-overrides/", {"contract": contract_a.pk, "policy": "C8",
                                                   "threshold": "12"}, format="json")
    assert r.status_code == 403
    r = api(manager).post("/api/policy-overrides/", {"contract": contract_a.pk, "policy": "C8",
                                                     "threshold": "12"}, format="json")
    assert r.status_code == 201, r.content
    ov = ContractPolicy.objects.get(contract=contract_a)
    assert r.json()["policy"] == "C8" and ov.threshold == Decimal("12")
    other = ContractPolicy.objects.create(contract=contract_c, policy=ov.policy, threshold=Decimal("6"))
    assert ids(api(alice).get("/api/policy-overrides/")) == {ov.pk}
    assert ids(api(charlie).get("/api/policy-overrides/")) == {other.pk}
    assert api(charlie).get(f"/api/policy-overrides/{ov.pk}/").status_code == 404
    assert api(charlie).patch(f"/api/policy-overrides/{ov.pk}/", {"threshold": "1"},
                              format="json").status_code == 403  # not a manager: refused first
    r = api(manager).patch(f"/api/policy-overrides/{ov.pk}/", {"threshold": "8"}, format="json")
    assert r.status_code == 200
    ov.refresh_from_db()
    assert ov.threshold == Decimal("8")


def test_policy_override_bad_target_and_duplicate_are_400(manager, contract_a, api):
    r = api(manager).post("/api/policy-overrides/", {"contract": contract_a.pk, "policy": "C3",
                                                     "threshold": "1.5"}, format="json")
    assert r.status_code == 400 and "threshold" in r.json()["errors"]  # half a working day
    r = api(manager).post("/api/policy-overrides/", {"contract": contract_a.pk, "policy": "C8",
                                                     "threshold": "0"}, format="json")
    assert r.status_code == 400 and "threshold" in r.json()["errors"]
    assert ContractPolicy.objects.count() == 0
    api(manager).post("/api/policy-overrides/", {"contract": contract_a.pk, "policy": "C8",
                                                 "threshold": "2"}, format="json")
    r = api(manager).post("/api/policy-overrides/", {"contract": contract_a.pk, "policy": "C8",
                                                     "threshold": "3"}, format="json")
    assert r.status_code == 400 and "non_field_errors" in r.json()["errors"]
    assert ContractPolicy.objects.get().threshold == Decimal("2")


def test_workday_overrides_read_by_all_written_by_managers(manager, alice, specialist, customer_a, api):
    body = {"date": "2031-01-01", "is_working_day": False, "note": "元旦"}
    assert api(specialist).post("/api/workday-overrides/", body, format="json").status_code == 403
    assert api(alice).post("/api/workday-overrides/", body, format="json").status_code == 403
    r = api(manager).post("/api/workday-overrides/", body, format="json")
    assert r.status_code == 201, r.content
    assert ids(api(alice).get("/api/workday-overrides/?year=2031")) == {r.json()["id"]}
    assert ids(api(alice).get("/api/workday-overrides/?year=2030")) == set()
    dup = api(manager).post("/api/workday-overrides/", body, format="json")
    assert dup.status_code == 400 and "date" in dup.json()["errors"]
    assert WorkdayOverride.objects.count() == 1
    # With the year now covered, a contract signed in 2031 gets its installation deadline.
    r = api(manager).post("/api/contracts/", {
        "customer": customer_a.pk, "number": "HT-2031", "signed_at": "2031-03-03T10:00:00+08:00",
        "monthly_fee": "1000.00"}, format="json")
    assert r.status_code == 201, r.content
    assert Contract.objects.filter(number="HT-2031").exists()


def test_workday_override_patch(manager, api):
    o = WorkdayOverride.objects.create(date="2031-02-01", is_working_day=True)
    r = api(manager).patch(f"/api/workday-overrides/{o.pk}/", {"is_working_day": False}, format="json")
    assert r.status_code == 200
    o.refresh_from_db()
    assert o.is_working_day is False
