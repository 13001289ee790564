"""The overdue review page: buckets, filters, time left, pagination, CSV export."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sla.services import clock_meet
from tests import factories as f
from tests.ui.conftest import login, start_clock

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(contract_a, contract_c, engineer, specialist):  # type: ignore[no-untyped-def]
    clocks = {
        "late": start_clock(contract=contract_a, hours_ago=30, assignee=engineer, label="甲 逾期投诉"),
        "soon": start_clock(contract=contract_a, hours_ago=20, assignee=specialist, label="甲 即将到期"),
        "fine": start_clock(contract=contract_a, hours_ago=1, assignee=engineer, label="甲 正常"),
        "other": start_clock(contract=contract_c, hours_ago=26, assignee=specialist, label="丙 逾期投诉"),
        "done": start_clock(contract=contract_c, hours_ago=30, label="丙 已完成"),
    }
    clock_meet(clock_id=clocks["done"].pk)  # kept (late is still late only if breached first)
    return clocks


def test_lists_overdue_and_warning_not_on_track(board, manager):  # type: ignore[no-untyped-def]
    html = login(manager).get(reverse("sla:overdue")).content.decode()
    for key in ("late", "soon", "other"):
        assert board[key].label in html
    assert board["fine"].label not in html
    assert board["done"].label not in html
    # Time overdue / remaining is shown (Chinese by default).
    assert "超时 6 小时" in html  # the 30-hour-old clock of a 24-hour promise


def test_filters(board, manager, engineer, contract_c):  # type: ignore[no-untyped-def]
    c = login(manager)
    url = reverse("sla:overdue")
    by_customer = c.get(url, {"customer": contract_c.customer_id}).content.decode()
    assert board["other"].label in by_customer and board["late"].label not in by_customer
    by_assignee = c.get(url, {"assignee": engineer.pk}).content.decode()
    assert board["late"].label in by_assignee and board["soon"].label not in by_assignee
    warning = c.get(url, {"bucket": "warning"}).content.decode()
    assert board["soon"].label in warning and board["late"].label not in warning
    overdue = c.get(url, {"bucket": "overdue"}).content.decode()
    assert board["late"].label in overdue and board["other"].label in overdue
    assert board["soon"].label not in overdue
    by_policy = c.get(url, {"policy": "C5"}).content.decode()
    assert board["late"].label not in by_policy


def test_csv_has_bom_and_the_filtered_rows_in_local_time(board, manager, engineer):  # type: ignore[no-untyped-def]
    r = login(manager).get(reverse("sla:overdue_csv"), {"assignee": engineer.pk})
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"]
    raw = r.content
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[0] == "承诺"
    assert [row[2] for row in body] == [board["late"].label]
    row = body[0]
    assert row[0] == "C8" and row[1] == "首份书面投诉处理情况报告"
    assert row[3] == board["late"].customer.name
    assert row[5] == engineer.username
    due_local = datetime.strptime(row[9], "%Y-%m-%d %H:%M:%S")
    expected = board["late"].due_at.astimezone(ZoneInfo("Asia/Shanghai"))
    assert due_local == expected.replace(tzinfo=None, microsecond=0)
    assert -361 <= int(row[10]) <= -359  # six hours overdue, in minutes


def test_csv_without_filters_has_every_row_of_the_page(board, manager):  # type: ignore[no-untyped-def]
    r = login(manager).get(reverse("sla:overdue_csv"))
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))[1:]
    assert {row[2] for row in rows} == {board[k].label for k in ("late", "soon", "other")}
    # Most urgent first.
    dues = [row[9] for row in rows]
    assert dues == sorted(dues)


def test_paginated_by_50_with_constant_queries(manager, contract_a):  # type: ignore[no-untyped-def]
    c = login(manager)
    for _ in range(3):
        start_clock(contract=contract_a, hours_ago=30, assignee=f.StaffFactory(role="engineer"))
    c.get(reverse("sla:overdue"))  # what the process keeps (content types, the calendar banner)
    with CaptureQueriesContext(connection) as few:
        c.get(reverse("sla:overdue"))
    for _ in range(55):
        start_clock(contract=contract_a, hours_ago=30, assignee=f.StaffFactory(role="engineer"))
    with CaptureQueriesContext(connection) as many:
        r = c.get(reverse("sla:overdue"))
    assert len(many) == len(few), "\n".join(q["sql"][:150] for q in many.captured_queries)
    assert r.context["page"].paginator.count == 58
    assert len(r.context["page"].object_list) == 50
    r2 = c.get(reverse("sla:overdue"), {"page": 2})
    assert len(r2.context["page"].object_list) == 8


def test_breach_history_lists_breached_clocks(board, manager):  # type: ignore[no-untyped-def]
    from sla.services import clocks_sweep

    clocks_sweep()
    html = login(manager).get(reverse("sla:breaches")).content.decode()
    assert board["late"].label in html and board["other"].label in html
    assert board["soon"].label not in html


def test_policy_list_shows_targets_and_clauses(manager):  # type: ignore[no-untyped-def]
    html = login(manager).get(reverse("sla:policy_list")).content.decode()
    assert "首份书面投诉处理情况报告" in html
    assert "网络资源服务及相关客户服务品质协议 第八条" in html
    assert "≤ 100 " in html  # E3 monthly fault total, not 1E+2


def test_clock_detail_shows_audit_trail(board, manager):  # type: ignore[no-untyped-def]
    from sla.services import clock_pause

    clock_pause(clock_id=board["fine"].pk, actor=manager, reason="等待客户回复")
    html = login(manager).get(reverse("sla:clock_detail", args=[board["fine"].pk])).content.decode()
    assert "等待客户回复" in html
    assert "已暂停" in html
