"""Seed 002 §7 backups: reports from the backup system (token, idempotent, 400 storing nothing),
the daily check per platform and day, and the month close's E6 judgements (re-judged by a late
report for a closed month)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from audit.models import AuditEntry
from credits.models import Credit
from mailservice.backups import backup_days_daily, backup_run_record, reporter_token_create
from mailservice.guarantee import guarantee_month
from mailservice.models import BackupDay, BackupRun
from settlement.models import Judgement
from settlement.services import month_close
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
MARCH = datetime(2026, 3, 1, 0, 30, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _no_statements(settings):  # type: ignore[no-untyped-def]
    settings.SETTLEMENT_STATEMENTS = "off"


@pytest.fixture
def mail(customer_a):  # type: ignore[no-untyped-def]
    return f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email", name="企业邮箱 甲")


@pytest.fixture
def platform(mail):  # type: ignore[no-untyped-def]
    return f.MailDomainFactory(service=mail, domain="alpha.example.cn").platform


def run(platform, engineer, day: date, kind: str, *, status: str = "ok", now: datetime = MARCH,  # type: ignore[no-untyped-def]
        run_id: str | None = None):
    start = datetime(day.year, day.month, day.day, 2, 0, tzinfo=TZ)
    return backup_run_record(platform=platform, actor=engineer, now=now, data={
        "run_id": run_id or f"{day.isoformat()}-{kind}", "kind": kind, "status": status, "started_at": start,
        "ended_at": start + timedelta(minutes=40), "size_bytes": 10_000, "retention_days": 40})


def feb_days(skip: set[int] = frozenset(), full_every: int = 2):  # type: ignore[no-untyped-def,assignment]
    """(day, kind) for February 2026: a full on day 1 and every `full_every` days, else incremental."""
    for d in range(1, 29):
        if d in skip:
            continue
        yield date(2026, 2, d), "full" if (d - 1) % full_every == 0 else "incremental"


def test_a_month_with_one_missing_incremental_has_exactly_one_breached_day(mail, platform, engineer):  # type: ignore[no-untyped-def]
    for day, kind in feb_days(skip={10}):
        run(platform, engineer, day, kind)
    g = guarantee_month(services=[mail], year=2026, month=2, now=MARCH)[mail.pk]
    assert g.breached_days == [date(2026, 2, 10)]
    m = g.measurements["E6-INCR"]
    assert m.kept is False and m.value == 2
    assert [c["day"] for c in m.counted] == ["2026-02-10"]
    assert g.measurements["E6-FULL"].kept is True
    # The stored daily rows say the same (the reports stored them; the nightly run changes nothing).
    assert list(BackupDay.objects.filter(platform=platform, breached=True).values_list("day", flat=True)) == [
        date(2026, 2, 10)]
    assert BackupDay.objects.filter(platform=platform, day__month=2).count() == 28
    assert backup_days_daily(now=MARCH) == {platform.pk: 0}

    month_close(year=2026, month=2, now=MARCH)
    j = Judgement.objects.get(service=mail, policy__code="E6-INCR", month="2026-02-01", current=True)
    assert j.verdict == "breached" and [c["day"] for c in j.counted] == ["2026-02-10"]
    credit = Credit.objects.get(contract=mail.contract, period="2026-02-01")
    assert credit.kind == "extend_service" and credit.days == 28


def test_a_failed_run_is_a_breached_day(mail, platform, engineer):  # type: ignore[no-untyped-def]
    for day, kind in feb_days(skip={18}):
        run(platform, engineer, day, kind)
    run(platform, engineer, date(2026, 2, 18), "incremental", status="failed")
    g = guarantee_month(services=[mail], year=2026, month=2, now=MARCH)[mail.pk]
    assert g.breached_days == [date(2026, 2, 18)]


def test_a_full_backup_every_4_days_breaks_the_rule(mail, platform, engineer):  # type: ignore[no-untyped-def]
    for day, kind in feb_days(full_every=4):
        run(platform, engineer, day, kind)
    g = guarantee_month(services=[mail], year=2026, month=2, now=MARCH)[mail.pk]
    full = g.measurements["E6-FULL"]
    assert full.kept is False and full.value == 4
    # Fulls on 1, 5, 9 ...: the 4th day of each cycle has had none within 3 days.
    assert [c["day"][-2:] for c in full.counted] == ["04", "08", "12", "16", "20", "24", "28"]
    assert g.measurements["E6-INCR"].kept is True


def test_a_full_backup_every_3_days_keeps_it(mail, platform, engineer):  # type: ignore[no-untyped-def]
    for day, kind in feb_days(full_every=3):
        run(platform, engineer, day, kind)
    g = guarantee_month(services=[mail], year=2026, month=2, now=MARCH)[mail.pk]
    assert g.measurements["E6-FULL"].kept is True and g.measurements["E6-FULL"].value == 3
    assert g.breached_days == []


def test_retention_is_judged_once_the_platform_has_been_checked_a_month(mail, platform, engineer):  # type: ignore[no-untyped-def]
    # Daily fulls kept only 20 days, from January 1st: from January 31st the oldest is too young.
    for d in range(59):
        day = date(2026, 1, 1) + timedelta(days=d)
        start = datetime(day.year, day.month, day.day, 2, tzinfo=TZ)
        backup_run_record(platform=platform, actor=engineer, now=MARCH, data={
            "run_id": f"r{d}", "kind": "full", "status": "ok", "started_at": start,
            "ended_at": start + timedelta(hours=1), "kept_until": start + timedelta(days=20)})
    jan = guarantee_month(services=[mail], year=2026, month=1, now=MARCH)[mail.pk]
    assert [c["day"] for c in jan.measurements["E6-KEEP"].counted] == ["2026-01-31"]
    feb = guarantee_month(services=[mail], year=2026, month=2, now=MARCH)[mail.pk]
    keep = feb.measurements["E6-KEEP"]
    assert keep.kept is False and keep.value == 19 and len(keep.counted) == 28


@pytest.fixture
def token(platform, engineer):  # type: ignore[no-untyped-def]
    return reporter_token_create(actor=engineer, platform=platform, name="backup01 restic")[1]


def post(token: str, body, url: str = "api-mail-report-backup-run"):  # type: ignore[no-untyped-def]
    client = APIClient()
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(reverse(url), data=raw, content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")


def report(run_id: str = "5f3a9c1e", **over):  # type: ignore[no-untyped-def]
    now = datetime.now(TZ).replace(microsecond=0) - timedelta(days=1)
    return {"run_id": run_id, "kind": "incremental", "status": "ok", "started_at": now.isoformat(),
            "ended_at": (now + timedelta(minutes=12)).isoformat(), "size_bytes": 123456,
            "kept_until": (now + timedelta(days=40)).isoformat(), "tool": "restic", **over}


def test_posting_the_same_report_twice_changes_nothing(token, platform):  # type: ignore[no-untyped-def]
    body = report()  # built once: the same bytes twice, whatever second the clock turns over in
    r1 = post(token, body)
    assert r1.status_code == 201, r1.content
    days = list(BackupDay.objects.filter(platform=platform).values_list("day", "computed_at", "breached"))
    audits = AuditEntry.objects.count()
    r2 = post(token, dict(body))
    assert r2.status_code == 200 and r2.json()["outcome"] == "unchanged"
    assert BackupRun.objects.filter(platform=platform).count() == 1
    assert list(BackupDay.objects.filter(platform=platform).values_list("day", "computed_at", "breached")) == days
    assert AuditEntry.objects.count() == audits
    # The same run id with other content is a correction of the run, not a second run.
    r3 = post(token, {**body, "status": "failed"})
    assert r3.status_code == 200 and r3.json()["outcome"] == "changed"
    assert BackupRun.objects.get(platform=platform).status == "failed"


def test_a_bad_token_is_401_and_stores_nothing(token, platform):  # type: ignore[no-untyped-def]
    for bad in ("", "x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B")):
        r = post(bad, report())
        assert r.status_code == 401, bad
        assert r.json()["code"] == "not_authenticated"
    r = APIClient().post(reverse("api-mail-report-backup-run"), data=report(), format="json")
    assert r.status_code == 401
    assert not BackupRun.objects.exists()


@pytest.mark.parametrize("body, field", [
    (b"{not json", None),
    (b"", None),
    ("[1, 2]", None),
    ({**report(), "kind": "weekly"}, "kind"),
    ({**report(), "status": "maybe"}, "status"),
    ({k: v for k, v in report().items() if k != "run_id"}, "run_id"),
    ({**report(), "started_at": "yesterday"}, "started_at"),
    ({**{k: v for k, v in report().items() if k != "kept_until"}}, "kept_until"),
    ({**report(), "ended_at": "2020-01-01T00:00:00+08:00"}, "ended_at"),
    ({**report(), "size_bytes": -1}, "size_bytes"),
    ({**report(), "platform": "another platform"}, "platform"),
])
def test_a_malformed_report_is_400_and_stores_nothing(token, platform, body, field):  # type: ignore[no-untyped-def]
    r = post(token, body)
    assert r.status_code == 400, r.content
    if field:
        assert field in r.json()["errors"], r.json()
    assert not BackupRun.objects.exists()
    assert not BackupDay.objects.exists()
    platform.refresh_from_db()
    assert platform.backup_checks_from is None


def test_a_report_for_a_closed_month_re_judges_it(mail, platform, engineer, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    for day, kind in feb_days(skip={10}):
        run(platform, engineer, day, kind)
    month_close(year=2026, month=2, now=MARCH)
    first = Judgement.objects.get(service=mail, policy__code="E6-INCR", month="2026-02-01", current=True)
    assert first.verdict == "breached"
    credit = Credit.objects.get(contract=mail.contract, period="2026-02-01")
    # The backup system's report of February 10th arrives late, on March 3rd.
    with django_capture_on_commit_callbacks(execute=True):
        r = run(platform, engineer, date(2026, 2, 10), "incremental", now=MARCH + timedelta(days=2))
    assert "2026-02-10" in r.rejudged_days
    now = Judgement.objects.get(service=mail, policy__code="E6-INCR", month="2026-02-01", current=True)
    assert now.verdict == "met" and now.version == 2 and now.supersedes_id == first.pk
    credit.refresh_from_db()
    assert credit.state == "withdrawn"


def test_staff_enter_a_run_on_the_page_and_customers_may_not(client, alice, engineer, platform):  # type: ignore[no-untyped-def]
    url = reverse("mailservice:backup_run_create")
    client.force_login(alice)
    assert client.get(url).status_code == 403
    client.force_login(engineer)
    start = datetime.now(TZ) - timedelta(hours=3)
    r = client.post(url, {"platform": platform.pk, "run_id": "borg-2026", "kind": "full", "status": "ok",
                          "started_at": start.strftime("%Y-%m-%dT%H:%M"),
                          "ended_at": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
                          "kept_until": (start + timedelta(days=35)).strftime("%Y-%m-%dT%H:%M")})
    assert r.status_code == 302, r.content
    assert BackupRun.objects.get().origin == "staff"
    page = client.get(reverse("mailservice:guarantee_queue"))
    assert page.status_code == 200 and "borg-2026" not in page.content.decode()  # runs show kind and time
    assert platform.name in page.content.decode()


def test_the_token_is_shown_once_on_the_staff_page(client, engineer, platform):  # type: ignore[no-untyped-def]
    client.force_login(engineer)
    r = client.post(reverse("mailservice:reporter_create"), {"platform": platform.pk, "name": "freshclam mx1"})
    assert r.status_code == 200
    raw = r.context["raw_token"]
    assert raw in r.content.decode()
    assert raw not in client.get(reverse("mailservice:guarantee_queue")).content.decode()
    assert post(raw, {"scanner": "clamav", "version": "daily 27500",
                      "updated_at": datetime.now(TZ).isoformat()}, "api-mail-report-signature-update").status_code == 201


def test_the_statement_section_lists_the_breached_days(mail, platform, engineer):  # type: ignore[no-untyped-def]
    from mailservice.guarantee import statement_section
    from settlement.statement_sections import _SECTIONS

    assert "mail_guarantee" in _SECTIONS
    for day, kind in feb_days(skip={10}):
        run(platform, engineer, day, kind)
    out = statement_section(customer=mail.customer, first=date(2026, 2, 1), start=datetime(2026, 2, 1, tzinfo=TZ),
                            end=datetime(2026, 3, 1, tzinfo=TZ), services=[mail], now=MARCH)
    assert out is not None and out["breached"] == 1
    assert out["rows"][0][0] == mail.name and "02-10" in out["rows"][0][1]
