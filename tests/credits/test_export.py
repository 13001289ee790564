"""Billing's export of a month: exactly the approved and applied credits whose period falls in
that month (not proposed, rejected or withdrawn ones, not other months), reversals negative; a
CSV with a BOM and Chinese headers, times in Asia/Shanghai; a bad month is a form error or a 400;
managers and billing only, never customers."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from credits.services import credit_reject, credit_reverse, credit_withdraw
from tests.credits.conftest import NOW, applied, approved, login, propose

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def ledger(contract_a, contract_c, manager, manager2):  # type: ignore[no-untyped-def]
    """Credits for March 2026 in every state, and approved ones in February and April."""
    in_march = {
        "approved": approved(contract_a, by=manager, period=date(2026, 3, 1)),
        "applied": applied(contract_c, by=manager, period=date(2026, 3, 1), amount=Decimal("800.00")),
        "daily": approved(contract_a, by=manager, policy_code="C4", kind="deduct_day_rent",
                          period=date(2026, 3, 31), amount=Decimal("100.00")),
        "days": applied(contract_a, by=manager, policy_code="E1", kind="extend_service", amount=None,
                        days=31, period=date(2026, 3, 1)),
    }
    rev = credit_reverse(credit_id=in_march["applied"].pk, reason="改判", actor=manager, now=NOW)
    from credits.services import credit_approve

    in_march["reversal"] = credit_approve(credit_id=rev.pk, actor=manager2, now=NOW)
    out = {
        "proposed": propose(contract_a, period=date(2026, 3, 1)),
        "rejected": propose(contract_a, period=date(2026, 3, 1)),
        "withdrawn": approved(contract_a, by=manager, period=date(2026, 3, 1)),
        "february": approved(contract_a, by=manager, period=date(2026, 2, 28)),
        "april": approved(contract_a, by=manager, period=date(2026, 4, 1)),
    }
    credit_reject(credit_id=out["rejected"].pk, actor=manager, reason="客户原因", now=NOW)
    credit_withdraw(credit_id=out["withdrawn"].pk, reason="重判为达标", now=NOW)
    return in_march, out


def _csv(response) -> tuple[bytes, list[list[str]]]:  # type: ignore[no-untyped-def]
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_page_csv_lists_exactly_the_months_approved_and_applied(ledger, manager):
    in_march, _out = ledger
    r = login(manager).get(reverse("credits:export_csv"), {"month": "2026-03"})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    assert 'attachment; filename="credits-2026-03.csv"' == r["Content-Disposition"]
    raw, rows = _csv(r)
    assert raw.startswith("\ufeff".encode())
    header, body = rows[0], rows[1:]
    for title in ("编号", "客户", "合同", "承诺名称", "违约补偿", "金额（元）", "天数", "所属期间", "状态",
                  "提出时间", "审批时间", "执行时间", "依据"):
        assert title in header, title
    ids = {int(row[0]) for row in body}
    assert ids == {c.pk for c in in_march.values()}
    by_id = {int(row[0]): dict(zip(header, row, strict=True)) for row in body}
    rev = by_id[in_march["reversal"].pk]
    assert rev["金额（元）"] == "-800.00" and rev[header[16]] == str(in_march["applied"].pk)
    assert by_id[in_march["applied"].pk]["金额（元）"] == "800.00"
    assert by_id[in_march["days"].pk]["天数"] == "31" and by_id[in_march["days"].pk]["金额（元）"] == ""
    assert by_id[in_march["applied"].pk]["状态"] == "已执行"
    assert by_id[in_march["approved"].pk]["客户"] == "甲公司 Alpha"
    # Times are Asia/Shanghai wall-clock.
    assert by_id[in_march["approved"].pk]["审批时间"] == "2026-03-02 10:00:00"


def test_api_json_lists_the_same_credits(ledger, manager, api):
    in_march, _out = ledger
    r = api(manager).get("/api/credits/export/", {"month": "2026-03"})
    assert r.status_code == 200, r.content
    rows = r.json()
    assert {row["id"] for row in rows} == {c.pk for c in in_march.values()}
    rev = next(row for row in rows if row["id"] == in_march["reversal"].pk)
    assert rev["signed_amount"] == "-800.00" and rev["reverses"] == in_march["applied"].pk
    assert rev["kind_label"] and rev["policy"] == "C3" and rev["policy_name"]
    days = next(row for row in rows if row["id"] == in_march["days"].pk)
    assert days["signed_days"] == 31 and days["signed_amount"] is None
    assert datetime.fromisoformat(rev["decided_at"]).utcoffset().total_seconds() == 8 * 3600


def test_api_csv_format(ledger, manager, api):
    in_march, _out = ledger
    r = api(manager).get("/api/credits/export/", {"month": "2026-03", "format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    raw, rows = _csv(r)
    assert raw.startswith("\ufeff".encode()) and "客户" in rows[0]
    assert {int(row[0]) for row in rows[1:]} == {c.pk for c in in_march.values()}


def test_an_empty_month_is_just_the_header(ledger, manager, api):
    _raw, rows = _csv(login(manager).get(reverse("credits:export_csv"), {"month": "2025-12"}))
    assert len(rows) == 1
    assert api(manager).get("/api/credits/export/", {"month": "2025-12"}).json() == []


@pytest.mark.parametrize("month", [" ", "2026-13", "2026-3", "10000-01", "9999-12", "abc", "2026-03-01", "\x00",
                                   "0000-00"])
def test_a_bad_month_is_a_form_error_or_a_400(manager, api, month):
    r = login(manager).get(reverse("credits:export_csv"), {"month": month})
    assert r.status_code == 400 and r["Content-Type"].startswith("text/html")
    assert r.context["form"].errors["month"]
    r = api(manager).get("/api/credits/export/", {"month": month})
    assert r.status_code == 400 and list(r.json()["errors"]) == ["month"]


def test_no_month_is_the_current_month(contract_a, manager, api):
    import time_machine

    with time_machine.travel(datetime(2026, 5, 31, 23, 30, tzinfo=TZ), tick=False):  # 15:30 UTC
        may = approved(contract_a, by=manager, period=date(2026, 5, 1))
        approved(contract_a, by=manager, period=date(2026, 6, 1))
        r = login(manager).get(reverse("credits:export_csv"))
        assert r.status_code == 200 and r["Content-Disposition"].endswith('credits-2026-05.csv"')
        assert [int(row[0]) for row in _csv(r)[1][1:]] == [may.pk]
        assert [row["id"] for row in api(manager).get("/api/credits/export/").json()] == [may.pk]
        # An empty ?month= is no month named.
        assert [int(row[0]) for row in _csv(login(manager).get(reverse("credits:export_csv"),
                                                               {"month": ""}))[1][1:]] == [may.pk]
        assert [row["id"] for row in api(manager).get("/api/credits/export/", {"month": ""}).json()] == [may.pk]


@pytest.mark.parametrize("who", ["alice", "charlie", "specialist", "engineer", "dc_staff"])
def test_only_managers_and_billing_export(ledger, who, api, request):
    user = request.getfixturevalue(who)
    assert login(user).get(reverse("credits:export_csv"), {"month": "2026-03"}).status_code == 403
    r = api(user).get("/api/credits/export/", {"month": "2026-03"})
    assert r.status_code == 403 and "甲公司" not in r.content.decode()
    assert api(None).get("/api/credits/export/", {"month": "2026-03"}).status_code in (401, 403)


def test_list_page_offers_the_export_to_managers_only(manager, specialist, alice):
    url = reverse("credits:export_csv")
    assert url in login(manager).get(reverse("credits:list")).content.decode()
    assert url not in login(specialist).get(reverse("credits:list")).content.decode()
    assert url not in login(alice).get(reverse("credits:list")).content.decode()
