"""Home page per role, the language switch, the missing-calendar banner, notification list."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from notifications.models import Notification
from sla.models import WorkdayOverride
from sla.services import clocks_sweep
from tests import factories as f
from tests.ui.conftest import login, start_clock

pytestmark = pytest.mark.django_db


def test_manager_home_counts_and_lists(manager, contract_a, credit_a):  # type: ignore[no-untyped-def]
    start_clock(contract=contract_a, hours_ago=30, label="已超时的投诉")
    start_clock(contract=contract_a, hours_ago=40, label="更早超时的投诉")
    start_clock(contract=contract_a, hours_ago=20, label="即将到期的投诉")
    start_clock(contract=contract_a, hours_ago=1, label="正常的投诉")
    clocks_sweep()
    r = login(manager).get(reverse("home"))
    assert r.templates[0].name == "home/manager.html"
    assert r.context["overdue_count"] == 2 and r.context["warning_count"] == 1
    assert r.context["pending_credit_count"] == 1
    html = r.content.decode()
    assert "经理概览" in html  # Chinese by default
    assert "已超时的投诉" in html  # recent breaches
    assert reverse("credits:detail", args=[credit_a.pk]) in html


def test_engineer_home_shows_own_clocks_and_customers(engineer, specialist, contract_a, contract_c):  # type: ignore[no-untyped-def]
    f.ServiceFactory(contract=contract_a, engineer=engineer)
    start_clock(contract=contract_a, hours_ago=2, assignee=engineer, label="我的时限")
    start_clock(contract=contract_c, hours_ago=2, assignee=specialist, label="别人的时限")
    r = login(engineer).get(reverse("home"))
    assert r.templates[0].name == "home/staff.html"
    html = r.content.decode()
    assert "我的时限" in html and "别人的时限" not in html
    assert [c.pk for c in r.context["my_customers"]] == [contract_a.customer_id]


def test_dc_staff_home(dc_staff):  # type: ignore[no-untyped-def]
    r = login(dc_staff).get(reverse("home"))
    assert r.status_code == 200 and r.templates[0].name == "home/dc_staff.html"


def test_customer_home_shows_only_their_organisation(alice, contract_a, contract_c, credit_a, credit_c):  # type: ignore[no-untyped-def]
    f.ServiceFactory(contract=contract_a, name="甲的托管服务器")
    f.ServiceFactory(contract=contract_c, name="丙的托管服务器")
    f.AuthorizedContactFactory(customer=contract_a.customer, name="甲的授权人")
    f.AuthorizedContactFactory(customer=contract_c.customer, name="丙的授权人")
    start_clock(contract=contract_a, hours_ago=2, label="甲的投诉")
    start_clock(contract=contract_c, hours_ago=2, label="丙的投诉")
    r = login(alice).get(reverse("home"))
    assert r.templates[0].name == "home/customer.html"
    html = r.content.decode()
    for mine in ("甲的托管服务器", "甲的授权人", "甲的投诉", contract_a.number, "¥500.00"):
        assert mine in html
    for theirs in ("丙的托管服务器", "丙的授权人", "丙的投诉", contract_c.number, "¥800.00"):
        assert theirs not in html
    assert "指定授权人" in html


def test_language_switch_renders_english(manager):  # type: ignore[no-untyped-def]
    c = login(manager)
    assert "超时审查" in c.get(reverse("sla:overdue")).content.decode()
    r = c.post(reverse("set_language"), {"language": "en", "next": reverse("sla:overdue")})
    assert r.status_code == 302
    html = c.get(reverse("sla:overdue")).content.decode()
    assert "Overdue review" in html and "超时审查" not in html
    assert '<html lang="en">' in html
    c.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "超时审查" in c.get(reverse("sla:overdue")).content.decode()


def test_login_page_is_chinese_by_default(db):  # type: ignore[no-untyped-def]
    from django.test import Client

    html = Client().get(reverse("login")).content.decode()
    assert "登录" in html and '<html lang="zh-hans">' in html


def test_missing_calendar_banner_for_managers_only(manager, specialist):  # type: ignore[no-untyped-def]
    WorkdayOverride.objects.all().delete()
    with time_machine.travel(datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))):
        html = login(manager).get(reverse("sla:policy_list")).content.decode()
        assert "2027 年的工作日历缺失" in html
        assert "工作日历缺失" not in login(specialist).get(reverse("sla:policy_list")).content.decode()
        WorkdayOverride.objects.create(date=date(2027, 1, 1), is_working_day=False)
        assert "工作日历缺失" not in login(manager).get(reverse("sla:policy_list")).content.decode()


def test_notification_list_filters_by_status(manager, engineer, contract_a):  # type: ignore[no-untyped-def]
    start_clock(contract=contract_a, hours_ago=30, label="超时投诉")
    clocks_sweep()
    n = Notification.objects.filter(recipient=manager).first()
    assert n is not None
    Notification.objects.filter(pk=n.pk).update(status="failed", detail="SMTP 550")
    c = login(engineer)
    html = c.get(reverse("notifications:list")).content.decode()
    # The address is shown; the internal idempotency key is not (it stays in the admin).
    assert manager.email in html and n.idempotency_key not in html
    failed = c.get(reverse("notifications:list"), {"status": "failed"})
    assert [x.pk for x in failed.context["page"].object_list] == [n.pk]
    assert "SMTP 550" in failed.content.decode()
    sent = c.get(reverse("notifications:list"), {"status": "sent"})
    assert n.pk not in [x.pk for x in sent.context["page"].object_list]
