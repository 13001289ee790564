"""The customer's live status page (/monitoring/status/): who sees which targets, the numbers of the
90-day uptime bar, Chinese on the Chinese page, and a bounded number of queries at 200 targets."""

from __future__ import annotations

import re
import subprocess
import time as clock
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings as dj_settings
from django.test import Client
from django.utils import timezone

from incidents.models import Incident, Outage
from monitoring.models import ProbeDaily, Target
from monitoring.selectors import STATUS_DAYS, last_result_text, status_uptime
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=TZ)


def web(user):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def make_target(service, name: str, *, created_at: datetime = datetime(2026, 1, 1, tzinfo=TZ),
                **kw) -> Target:  # type: ignore[no-untyped-def]
    """A target monitored since `created_at` (before the test's days, unless a test says otherwise)."""
    fields = {"kind": "device", "host": "10.0.0.1", "port": 22, **kw}
    t = Target.objects.create(service=service, name=name, **fields)
    Target.objects.filter(pk=t.pk).update(created_at=created_at)
    t.refresh_from_db()
    return t


@pytest.fixture
def service_a(customer_a):
    return f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), name="甲的托管服务器", room="A101")


@pytest.fixture
def target_a(service_a) -> Target:
    return make_target(service_a, "甲的主机")


@pytest.fixture
def target_c(charlie) -> Target:
    service = f.ServiceFactory(contract=f.ContractFactory(customer=charlie.customer_link.customer),
                               name="丙的托管服务器")
    return make_target(service, "丙的机密主机")


def _row_ids(html: str) -> set[int]:
    return {int(x) for x in re.findall(r'data-target-id="(\d+)"', html)}


# --- who sees what -------------------------------------------------------------------------------

def test_owner_sees_own_targets_only_and_staff_see_all(alice, charlie, engineer, target_a, target_c):
    page = web(alice).get("/monitoring/status/")
    assert page.status_code == 200
    html = page.content.decode()
    assert _row_ids(html) == {target_a.pk}
    assert "丙的机密主机" not in html and "丙的托管服务器" not in html

    html_c = web(charlie).get("/monitoring/status/").content.decode()
    assert _row_ids(html_c) == {target_c.pk}
    assert "甲的主机" not in html_c

    # Another customer named in the query string: a 404, never their data.
    assert web(alice).get(f"/monitoring/status/?customer={target_c.customer_id}").status_code == 404
    assert web(alice).get("/monitoring/status/?customer=abc").status_code == 404

    html_s = web(engineer).get("/monitoring/status/").content.decode()
    assert _row_ids(html_s) == {target_a.pk, target_c.pk}
    one = web(engineer).get(f"/monitoring/status/?customer={target_a.customer_id}").content.decode()
    assert _row_ids(one) == {target_a.pk}


def test_anonymous_is_sent_to_the_login_page(db):
    r = Client().get("/monitoring/status/")
    assert r.status_code == 302 and r.headers["Location"] == "/accounts/login/?next=/monitoring/status/"


def test_staff_filter_by_state(engineer, target_a, target_c):
    Target.objects.filter(pk=target_c.pk).update(state="down")
    html = web(engineer).get("/monitoring/status/?state=down").content.decode()
    assert _row_ids(html) == {target_c.pk}


def test_inactive_targets_are_not_shown(alice, target_a):
    Target.objects.filter(pk=target_a.pk).update(active=False)
    assert _row_ids(web(alice).get("/monitoring/status/").content.decode()) == set()


# --- the uptime bar ----------------------------------------------------------------------------------

def test_uptime_bar_numbers_for_a_day_with_a_known_outage(target_a, service_a, target_c):
    d18, d19, d20 = date(2026, 11, 18), date(2026, 11, 19), date(2026, 11, 20)
    ProbeDaily.objects.create(target=target_a, day=d18, ok_count=286, fail_count=2)
    ProbeDaily.objects.create(target=target_a, day=d19, ok_count=288, fail_count=0)
    ProbeDaily.objects.create(target=target_a, day=d20, ok_count=144, fail_count=0)
    # 30 minutes on the 18th, on this target.
    Outage.objects.create(service=service_a, target=target_a, source="probe", created_at=NOW,
                          started_at=datetime(2026, 11, 18, 10, 0, tzinfo=TZ),
                          ended_at=datetime(2026, 11, 18, 10, 30, tzinfo=TZ))
    # An outage of the whole service (no target) across midnight: 10 min on the 19th, 20 on the 20th.
    Outage.objects.create(service=service_a, source="manual", created_at=NOW,
                          started_at=datetime(2026, 11, 19, 23, 50, tzinfo=TZ),
                          ended_at=datetime(2026, 11, 20, 0, 20, tzinfo=TZ))
    # Neither another target of the same service nor another customer's outage counts.
    other = make_target(service_a, "甲的网站", kind="www", url="https://www.example.test/", host="")
    Outage.objects.create(service=service_a, target=other, source="probe", created_at=NOW,
                          started_at=datetime(2026, 11, 18, 0, 0, tzinfo=TZ),
                          ended_at=datetime(2026, 11, 18, 12, 0, tzinfo=TZ))
    Outage.objects.create(service=target_c.service, target=target_c, source="probe", created_at=NOW,
                          started_at=datetime(2026, 11, 18, 0, 0, tzinfo=TZ), ended_at=None)

    [row] = status_uptime(targets=[target_a], now=NOW)
    assert len(row.days) == STATUS_DAYS and row.days[-1].day == d20 and row.days[0].day == d20 - timedelta(89)
    by_day = {c.day: c for c in row.days}
    c18 = by_day[d18]
    # Probes: 286/288 = 99.30 %; time: 1 − 1800/86400 = 97.916… %: the stricter, rounded down.
    assert (c18.ok, c18.fail, c18.outage_seconds, c18.outage_minutes) == (286, 2, 1800, 30)
    assert c18.uptime == Decimal("97.91") and c18.level == "bad"
    c19 = by_day[d19]
    assert (c19.outage_minutes, c19.uptime, c19.level) == (10, Decimal("99.30"), "major")
    # Today counts up to now (12 hours): 1 − 1200/43200 = 97.22 %.
    c20 = by_day[d20]
    assert (c20.outage_minutes, c20.uptime) == (20, Decimal("97.22"))
    assert by_day[date(2026, 11, 17)].uptime is None and by_day[date(2026, 11, 17)].level == "nodata"
    # 90 days: probes 718/720 = 99.72 %, time 1 − 3600/216000 = 98.33 %.
    assert row.uptime == Decimal("98.33")


def test_a_full_day_without_failures_is_100_and_an_open_outage_runs_until_now(target_a, service_a):
    ProbeDaily.objects.create(target=target_a, day=date(2026, 11, 19), ok_count=288, fail_count=0)
    Outage.objects.create(service=service_a, target=target_a, source="probe", created_at=NOW,
                          started_at=datetime(2026, 11, 20, 11, 0, tzinfo=TZ), ended_at=None)
    [row] = status_uptime(targets=[target_a], now=NOW)
    by_day = {c.day: c for c in row.days}
    assert by_day[date(2026, 11, 19)].uptime == Decimal("100.00")
    assert by_day[date(2026, 11, 19)].level == "full"
    today = by_day[date(2026, 11, 20)]
    assert today.outage_minutes == 60 and today.ok == 0
    assert today.uptime == Decimal("91.66")  # 1 − 3600/43200


def test_outages_before_the_target_existed_do_not_count(target_a, service_a):
    Target.objects.filter(pk=target_a.pk).update(created_at=datetime(2026, 11, 19, 12, 0, tzinfo=TZ))
    target_a.refresh_from_db()
    # A service outage on the 18th (before the target) and one across its creation on the 19th.
    Outage.objects.create(service=service_a, source="manual", created_at=NOW,
                          started_at=datetime(2026, 11, 18, 10, 0, tzinfo=TZ),
                          ended_at=datetime(2026, 11, 18, 11, 0, tzinfo=TZ))
    Outage.objects.create(service=service_a, source="manual", created_at=NOW,
                          started_at=datetime(2026, 11, 19, 11, 0, tzinfo=TZ),
                          ended_at=datetime(2026, 11, 19, 12, 15, tzinfo=TZ))
    [row] = status_uptime(targets=[target_a], now=NOW)
    by_day = {c.day: c for c in row.days}
    assert by_day[date(2026, 11, 18)].uptime is None
    assert by_day[date(2026, 11, 19)].outage_minutes == 15


def test_the_page_shows_the_day_tooltip(zh_catalogue, alice, target_a, service_a):
    today = timezone.localtime(timezone.now(), TZ).date()
    day = today - timedelta(days=2)
    ProbeDaily.objects.create(target=target_a, day=day, ok_count=286, fail_count=2)
    Outage.objects.create(service=service_a, target=target_a, source="probe", created_at=timezone.now(),
                          started_at=datetime.combine(day, datetime.min.time(), tzinfo=TZ) + timedelta(hours=10),
                          ended_at=datetime.combine(day, datetime.min.time(), tzinfo=TZ) + timedelta(hours=10,
                                                                                                       minutes=30))
    html = web(alice).get("/monitoring/status/").content.decode()
    assert f'class="u-bad" title="{day.isoformat()} · 可用率 97.91% · 故障 30 分钟"' in html
    assert f'class="u-nodata" title="{(day - timedelta(days=1)).isoformat()} · 无数据"' in html
    assert html.count('class="u-') >= STATUS_DAYS


# --- Chinese first ---------------------------------------------------------------------------------

PENDING = Path(dj_settings.BASE_DIR) / "locale" / "pending" / "status.po"
CATALOGUE = Path(dj_settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.fixture
def zh_catalogue(settings, tmp_path):
    """The Chinese catalogue as it will be once this part's pending translations are merged:
    locale/pending/status.po (while it is still pending) over the project's django.po."""
    out = tmp_path / "zh_Hans" / "LC_MESSAGES"
    out.mkdir(parents=True)
    merged = tmp_path / "merged.po"
    sources = [str(PENDING)] if PENDING.exists() else []
    subprocess.run(["msgcat", "--use-first", "-o", str(merged), *sources, str(CATALOGUE)], check=True)
    subprocess.run(["msgfmt", "-o", str(out / "django.mo"), str(merged)], check=True)
    settings.LOCALE_PATHS = [str(tmp_path)]
    yield


# Names that are English in any language: protocols and the test customers' own names.
ALLOWED = {"ICMP", "TCP", "HTTP", "HTTPS", "TLS", "SMTP", "FTP", "IMAP", "POP3", "WWW", "Alpha", "Charlie"}


def _visible_english(html: str) -> set[str]:
    main = html.split("<main>", 1)[1].split("</main>", 1)[0]
    main = re.sub(r"<script.*?</script>", " ", main, flags=re.S)
    attrs = " ".join(re.findall(r'(?:title|aria-label|data-label-[\w-]+)="([^"]*)"', main))
    text = re.sub(r"<[^>]+>", " ", main) + " " + attrs
    # Placeholders the script fills in (data-label-updated="更新于 %(time)s") and entities.
    text = re.sub(r"%\(\w+\)s|&\w+;", " ", text)
    return {w for w in re.findall(r"[A-Za-z][A-Za-z-]+", text) if w not in ALLOWED}


def test_chinese_page_has_no_english_labels_or_state_codes(zh_catalogue, alice, customer_a, service_a, target_a):
    now = timezone.now()
    down = make_target(service_a, "甲的网站", kind="www", url="https://www.example.test/", host="")
    failing = make_target(service_a, "甲的邮件", kind="smtp", host="mail.example.test", port=25)
    Target.objects.filter(pk=target_a.pk).update(state="up", last_probe_at=now, last_ok_at=now, last_method="icmp",
                                                 last_detail="echo reply")
    Target.objects.filter(pk=down.pk).update(state="down", last_probe_at=now, last_method="http",
                                             last_detail="ConnectionRefusedError: [Errno 111] Connection refused")
    Target.objects.filter(pk=failing.pk).update(state="failing", last_probe_at=now, last_method="smtp",
                                                last_detail="timed out after 10s")
    ProbeDaily.objects.create(target=target_a, day=timezone.localtime(now, TZ).date(), ok_count=10, fail_count=1)
    Incident.objects.create(customer=customer_a, service=service_a, target=down, source="monitor",
                            title="网站无法访问", detected_at=now - timedelta(minutes=5))

    html = web(alice).get("/monitoring/status/").content.decode()
    assert _visible_english(html) == set()
    for label in ("正常", "异常（一次探测失败）", "中断（已宣布紧急情况）", "未知", "实时状态", "当前故障事件", "计划维护",
                  "连接被拒绝", "10 秒内无应答", "ICMP 回显：收到回显应答", "更新于"):
        assert label in html, label
    for code in ("up", "down", "failing", "unknown", "detected"):
        assert f">{code}<" not in html

    # The same page in English carries the English labels (the Chinese one is not a fallback).
    en = web(alice).get("/monitoring/status/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Live status" in en and "connection refused" in en


def test_last_result_text_never_passes_unknown_english_through(zh_catalogue, target_a):
    from django.utils import translation

    t = target_a
    t.last_probe_at = t.last_ok_at = NOW
    with translation.override("zh-hans"):
        for detail, expected in [("HTTP 503 (expected 200)", "HTTP 状态码 503（应为 200）"),
                                 ("220 mx.example.test ESMTP Postfix", "收到服务器欢迎标语（代码 220）"),
                                 ("connected to port 22", "已连接端口 22"),
                                 ("something we never saw", "探测成功")]:
            t.last_detail, t.last_method = detail, "tcp"
            assert last_result_text(t) == f"TCP 连接：{expected}"
        t.last_ok_at = None
        t.last_detail = "gaierror: [Errno -2] Name or service not known"
        assert last_result_text(t) == "TCP 连接：域名无法解析"
        t.last_detail = "登录失败：用户名或密码错误"
        assert last_result_text(t) == "TCP 连接：登录失败：用户名或密码错误"


# --- fast at depth -----------------------------------------------------------------------------------

def _many_targets(customer, n: int, *, days: int = STATUS_DAYS) -> list[Target]:
    contract = f.ContractFactory(customer=customer)
    services = [f.ServiceFactory(contract=contract, name=f"服务{i}") for i in range(10)]
    targets = Target.objects.bulk_create([
        Target(service=services[i % 10], customer=customer, kind="device", name=f"主机{i:03d}", host=f"10.1.0.{i}",
               port=22, state="up") for i in range(n)])
    Target.objects.filter(pk__in=[t.pk for t in targets]).update(created_at=timezone.now() - timedelta(days=365))
    today = timezone.localtime(timezone.now(), TZ).date()
    ProbeDaily.objects.bulk_create([ProbeDaily(target=t, day=today - timedelta(days=d), ok_count=287, fail_count=1)
                                    for t in targets for d in range(days)])
    start = timezone.now() - timedelta(days=3)
    Outage.objects.bulk_create([Outage(service=t.service, customer=customer, target=t, source="probe",
                                       started_at=start, ended_at=start + timedelta(minutes=7), created_at=start)
                                for t in targets[::5]])
    return targets


def test_200_targets_render_in_a_bounded_number_of_queries(alice, customer_a, django_assert_max_num_queries):
    small = web(alice)
    _many_targets(customer_a, 2)
    with django_assert_max_num_queries(20) as few:
        assert small.get("/monitoring/status/").status_code == 200
    _many_targets(customer_a, 198)
    c = web(alice)
    started = clock.perf_counter()
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        r = c.get("/monitoring/status/")
    elapsed = clock.perf_counter() - started
    assert r.status_code == 200
    assert len(_row_ids(r.content.decode())) == 200
    # Same number of queries for 200 targets as for 2: nothing is read per target or per day.
    assert len(many.captured_queries) == len(few.captured_queries)
    print(f"\nstatus page, 200 targets × {STATUS_DAYS} days: {len(many.captured_queries)} queries, "
          f"{elapsed * 1000:.0f} ms, {len(r.content) // 1024} KiB")


def test_the_poll_of_200_targets_is_bounded_too(alice, customer_a, django_assert_max_num_queries):
    from rest_framework.test import APIClient

    _many_targets(customer_a, 200)
    c = APIClient()
    c.force_authenticate(alice)
    timings = {}
    for query in ("", "?history=1"):
        started = clock.perf_counter()
        with django_assert_max_num_queries(15):
            r = c.get("/api/status/" + query)
        timings[query or "poll"] = (clock.perf_counter() - started) * 1000
        assert r.status_code == 200 and len(r.json()["targets"]) == 200
    print(f"\n/api/status/ with 200 targets: poll {timings['poll']:.0f} ms, "
          f"?history=1 {timings['?history=1']:.0f} ms")
