"""The e-mail measurement pages (seed 002 §1–§3): /mail/ lists the month's figures of the e-mail
services the user may see with a verdict per promise; a service's month shows connectivity,
latency per direction with the histogram and the daily chart, and the operations figures against
their targets; another customer's service is a 404, anonymous users go to the login page; a bad
month is a form error (400), never a 500; every label is Chinese."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from mailservice.aggregates import LatencyAccumulator
from mailservice.models import MailDomain, PlatformEvent
from mailservice.selectors import mail_month_figures
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 9, tzinfo=TZ)
FEB = "2026-02"


@pytest.fixture(autouse=True)
def _clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def samples(domain: MailDomain, latencies_ms: list[int], *, direction: str, at: datetime,
            excluded: int = 0) -> None:
    acc = LatencyAccumulator()
    for i, ms in enumerate(latencies_ms):
        acc.add(domain_id=domain.pk, at=at.timestamp() + i, direction=direction, source="log", latency_ms=ms)
    for i in range(excluded):
        acc.add(domain_id=domain.pk, at=at.timestamp() + i, direction=direction, source="log",
                latency_ms=7_200_000, excluded=True)
    acc.flush()


@pytest.fixture
def mail(customer_a):  # type: ignore[no-untyped-def]
    """Customer A's e-mail service in February 2026: 4 sent messages (one over 1 hour, one
    excluded), 4 received (two over 1 hour: three in all, E2-SLOW broken), a 101-minute fault
    (E3-FAULT broken) and a 30-minute adjustment of its platform."""
    service = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email", name="企业邮箱 甲")
    domain = f.MailDomainFactory(service=service, domain="alpha.example.cn", platform__name="邮件平台甲")
    samples(domain, [2_000, 4_000, 6_000, 3_700_000], direction="send",
            at=datetime(2026, 2, 10, 9, tzinfo=TZ), excluded=1)
    samples(domain, [1_000, 3_000], direction="receive", at=datetime(2026, 2, 11, 10, tzinfo=TZ))
    samples(domain, [3_800_000, 3_900_000], direction="receive", at=datetime(2026, 2, 20, 22, tzinfo=TZ))
    start = datetime(2026, 2, 15, 3, 0, tzinfo=TZ)
    PlatformEvent.objects.create(platform=domain.platform, kind="fault", title="存储节点宕机", started_at=start,
                                 ended_at=start + timedelta(minutes=101), recorded_at=start)
    adj = datetime(2026, 2, 18, 1, 0, tzinfo=TZ)
    PlatformEvent.objects.create(platform=domain.platform, kind="adjustment", title="系统升级", started_at=adj,
                                 ended_at=adj + timedelta(minutes=30), recorded_at=adj)
    return service


@pytest.fixture
def other_mail(charlie):  # type: ignore[no-untyped-def]
    customer = charlie.customer_link.customer
    service = f.ServiceFactory(contract=f.ContractFactory(customer=customer), kind="email", name="企业邮箱 丙")
    f.MailDomainFactory(service=service, domain="charlie.example.cn")
    return service


def visible_text(html: str) -> str:
    """What a reader sees: no tags, attributes, scripts or styles."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<title>.*?</title>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


# Stored codes that must never reach a Chinese page.
ENGLISH_CODES = re.compile(r"\b(send|receive|fault|adjustment|log|probe|met|breached|None|True|False|"
                           r"minutes|percent|count|days|seconds)\b", re.I)


# --- /mail/ ------------------------------------------------------------------------------------

def test_list_owner_sees_own_services_with_the_selectors_figures(alice, mail, other_mail):
    r = client_for(alice).get(f"/mail/?month={FEB}")
    assert r.status_code == 200
    html = r.content.decode()
    assert "企业邮箱 甲" in html and "alpha.example.cn" in html
    assert "企业邮箱 丙" not in html and "charlie.example.cn" not in html
    fig = mail_month_figures(services=[mail], year=2026, month=2, now=NOW)[mail.pk]
    [row] = r.context["rows"]
    assert row["f"].over_hour == fig.over_hour == 3
    assert row["f"].verdicts == fig.verdicts
    row_html = re.search(rf'<tr data-service="{mail.pk}">(.*?)</tr>', html, flags=re.S).group(1)
    # Fault total 101.00 min, adjustment 30.00 min, 3 messages over 1 hour, one fault day of 365.
    for expected in ("101.00", "30.00", ">3<", "364 / 365"):
        assert expected in row_html.replace("<br>", "<"), expected
    # E2-SLOW and E3-FAULT broken, E3-ADJUST kept, the billing rate not entered.
    assert row_html.count("未达标") == sum(1 for v in fig.verdicts.values() if v is False) >= 2
    assert row_html.count("达标") - row_html.count("未达标") == sum(1 for v in fig.verdicts.values() if v is True)
    assert "未测量" in row_html


def test_list_staff_sees_every_customer(manager, mail, other_mail):
    r = client_for(manager).get(f"/mail/?month={FEB}")
    assert r.status_code == 200
    html = r.content.decode()
    assert "企业邮箱 甲" in html and "企业邮箱 丙" in html and "甲公司 Alpha" in html
    # Staff may search by domain.
    r = client_for(manager).get(f"/mail/?month={FEB}&q=charlie.example")
    assert [row["service"].pk for row in r.context["rows"]] == [other_mail.pk]


def test_list_anonymous_goes_to_the_login_page(mail):
    r = client_for(None).get("/mail/")
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("month", ["2026-13", "bad", "2026-4", "2026-04"])
def test_a_bad_or_future_month_is_a_form_error_not_a_server_error(alice, mail, month):
    r = client_for(alice).get(f"/mail/?month={month}")
    assert r.status_code == 400
    assert 'class="errorlist"' in r.content.decode()
    r = client_for(alice).get(f"/mail/services/{mail.pk}/?month={month}")
    assert r.status_code == 400 and 'class="errorlist"' in r.content.decode()


def test_the_list_is_paginated_and_its_queries_do_not_grow_with_the_page(manager, customer_a,
                                                                          django_assert_max_num_queries):
    contract = f.ContractFactory(customer=customer_a)
    for i in range(55):
        s = f.ServiceFactory(contract=contract, kind="email", name=f"企业邮箱 {i:03d}")
        f.MailDomainFactory(service=s, domain=f"d{i:03d}.example.cn")
    c = client_for(manager)
    with django_assert_max_num_queries(40):
        r = c.get(f"/mail/?month={FEB}")
    assert r.status_code == 200 and len(r.context["rows"]) == 50
    assert r.context["page"].paginator.num_pages == 2
    r = c.get(f"/mail/?month={FEB}&page=2")
    assert len(r.context["rows"]) == 5


def test_the_current_month_is_the_default(alice, mail):
    r = client_for(alice).get("/mail/")
    assert r.status_code == 200 and r.context["first"] == date(2026, 3, 1)
    assert "2026-03" in r.content.decode()


# --- /mail/services/<pk>/ -------------------------------------------------------------------------

def test_service_month_shows_latency_histogram_daily_chart_and_operations_figures(alice, mail):
    r = client_for(alice).get(f"/mail/services/{mail.pk}/?month={FEB}")
    assert r.status_code == 200
    html = r.content.decode()
    fig = mail_month_figures(services=[mail], year=2026, month=2, now=NOW)[mail.pk]
    # Latency per direction: messages, over 1 hour, excluded.
    latency = re.search(r'<table class="list" id="latency">(.*?)</table>', html, flags=re.S).group(1)
    cells = re.findall(r'<td class="num">(.*?)</td>', latency)
    send_row, receive_row = cells[:5], cells[5:10]
    assert send_row[0] == str(fig.send.messages) == "4" and send_row[4] == str(fig.send.excluded) == "1"
    assert receive_row[0] == "4" and "2" in receive_row[3]
    # Maximum of the sending side: 3 700 s = 1 h 1 min.
    assert send_row[2] == "1 小时 1 分钟"
    # Two histograms of nine buckets each, labelled from BUCKET_LABELS; the over-1-hour bar red.
    assert html.count("<svg") == 4
    for label in ("≤ 1 秒", "≤ 5 秒", "≤ 1 分钟", "≤ 15 分钟", "&gt; 1 小时"):
        assert f">{label}</text>" in html, label
    assert 'fill="#c0392b"' in html
    # The daily chart: one bar per day of February, and the 1-minute target line.
    daily = r.context["avg_chart"]
    assert len(daily.bars) == 28 and daily.line_y is not None
    assert "目标 ≤ 1 分钟" in html
    days_with_mail = [b for b in daily.bars if b.height > 0]
    assert {b.label for b in days_with_mail} == {"10", "11", "20"}
    # The operations figures with their targets from the policy rows and their verdicts.
    ops = {row["code"]: row for row in r.context["operations"]}
    assert ops["E3-FAULT"]["value"] == "101.00 分钟" and ops["E3-FAULT"]["target"] == "≤ 100 分钟"
    assert ops["E3-FAULT"]["verdict"] is False and ops["E3-ADJUST"]["verdict"] is True
    assert ops["E3-DAYS"]["value"] == "364 / 365" and ops["E3-AVAIL"]["target"] == "≥ 99.99%"
    assert ops["E3-BILL"]["value"] == "尚未录入" and ops["E3-BILL"]["target"] == "≤ 3×10⁻⁵"
    assert '<tr data-code="E3-FAULT"><td>每月故障总历时</td>' in html
    # The E1 connectivity card links to the month's outages; previous and next month.
    assert f"/incidents/services/{mail.pk}/downtime/?month=2026-02" in html
    assert "?month=2026-01" in html and "?month=2026-03" in html
    # The platform's events of the month.
    assert "存储节点宕机" in html and "系统升级" in html


def test_service_month_page_is_chinese_only(alice, mail):
    html = client_for(alice).get(f"/mail/services/{mail.pk}/?month={FEB}").content.decode()
    text = visible_text(html)
    found = ENGLISH_CODES.findall(text)
    assert not found, found
    for label in ("邮箱联通性", "邮件收发延迟", "发送延迟", "接收延迟", "每月故障总历时", "每月调整总历时",
                  "系统可用率", "全年无故障天数", "计费差错率", "未达标", "达标"):
        assert label in text, label
    listing = visible_text(client_for(alice).get(f"/mail/?month={FEB}").content.decode())
    assert not ENGLISH_CODES.findall(listing), ENGLISH_CODES.findall(listing)


def test_service_month_staff_sees_it_another_customer_gets_404_anonymous_the_login(
        manager, charlie, mail):
    url = f"/mail/services/{mail.pk}/?month={FEB}"
    assert client_for(manager).get(url).status_code == 200
    assert client_for(charlie).get(url).status_code == 404
    r = client_for(None).get(url)
    assert r.status_code == 302 and r["Location"].startswith("/accounts/login/")
    # A hosting service is not an e-mail service: 404 for its own customer too.
    hosting = f.ServiceFactory(contract=mail.contract, kind="colocation")
    assert client_for(manager).get(f"/mail/services/{hosting.pk}/").status_code == 404


def test_a_service_without_domains_says_so_and_measures_nothing(alice, customer_a):
    service = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email", name="企业邮箱 空")
    r = client_for(alice).get(f"/mail/services/{service.pk}/?month={FEB}")
    assert r.status_code == 200
    html = r.content.decode()
    assert "该服务尚未关联邮件域名" in html and "本月没有测量到邮件" in html
    verdicts = r.context["f"].verdicts
    assert verdicts["E2-AVG"] is None and verdicts["E3-FAULT"] is None and "未测量" in html
