"""The monthly SLA statement 月度服务品质报告: a closed February with a broken C1 lists the breach,
its outage and its credit in a Chinese PDF with an embedded CJK font; issuing twice issues one
version; a re-judgement issues version 2 that supersedes version 1 and is e-mailed to the
contacts who opted in; another customer's user gets a 404 everywhere; a month that has not ended
cannot be requested; an English customer gets an English statement."""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from credits.models import Credit
from incidents.choices import Cause, OutageKind, OutageSource
from incidents.models import Outage
from incidents.services import outage_classify
from notifications.models import Notification
from reports.models import WrittenReport
from settlement.models import MonthlyStatement
from settlement.services import month_close
from settlement.statements import (
    statement_content,
    statement_issue,
    statement_reports,
    statements_issue,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
FEB = date(2026, 2, 1)
CLOSE_AT = datetime(2026, 3, 1, 2, 0, tzinfo=TZ)
LATER = datetime(2026, 3, 10, 9, 0, tzinfo=TZ)
ROOT = Path(__file__).resolve().parents[2]


def _pdf(tool, path):  # type: ignore[no-untyped-def]
    args = [tool, str(path), "-"] if tool == "pdftotext" else [tool, str(path)]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _outage(service, start, minutes, *, cause=Cause.PROVIDER):  # type: ignore[no-untyped-def]
    return Outage.objects.create(service=service, kind=OutageKind.NETWORK, source=OutageSource.MANUAL,
                                 started_at=start, ended_at=start + timedelta(minutes=minutes), cause=cause,
                                 created_at=start, reported_at=start + timedelta(minutes=5))


@pytest.fixture
def hosting(customer_a, engineer):
    contract = f.ContractFactory(customer=customer_a, number="HT-2026-0042", monthly_fee=Decimal("2800.00"))
    return f.ServiceFactory(contract=contract, name="托管服务器 A1", engineer=engineer)


@pytest.fixture
def feb_breach(hosting, manager):
    """February 2026: 45 counted minutes of a provider-fault outage (C1 target < 44 min), closed."""
    o1 = _outage(hosting, datetime(2026, 2, 10, 10, 0, tzinfo=TZ), 30)
    o2 = _outage(hosting, datetime(2026, 2, 20, 22, 0, tzinfo=TZ), 15)
    month_close(year=2026, month=2, actor=manager, now=CLOSE_AT)
    return o1, o2


@pytest.fixture
def contacts(customer_a):
    yes = f.AuthorizedContactFactory(customer=customer_a, name="王经理", email="wang@alpha.test",
                                     receives_statements=True)
    no = f.AuthorizedContactFactory(customer=customer_a, name="李工", email="li@alpha.test",
                                    receives_statements=False)
    return yes, no


def test_content_lists_the_breach_outages_and_credit(feb_breach, customer_a):
    c = statement_content(customer=customer_a, first=FEB, now=LATER)
    assert c["provisional"] is False
    [svc] = c["services"]
    c1 = next(p for p in svc["promises"] if p["code"] == "C1")
    assert c1["verdict"] == "breached" and c1["measured"].startswith("45:00")
    assert c1["summary"] == "45:00 分钟 ≥ 44 分钟"
    c2 = next(p for p in svc["promises"] if p["code"] == "C2")
    assert c2["verdict"] == "met" and c2["measured"].startswith("0.0000")
    assert [o["id"] for o in svc["outages"]] == [o.pk for o in feb_breach]
    assert all(o["counted"] for o in svc["outages"])
    [credit] = c["credits"]
    assert credit["amount"] == "2800.00" and credit["state"] == "proposed"
    assert c["totals"]["amount_owed"] == "2,800.00"


def test_statement_pdf_lists_the_breach_and_its_credit_with_an_embedded_cjk_font(feb_breach, customer_a):
    report = statement_issue(customer_id=customer_a.pk, first=FEB, now=LATER)
    assert report.kind == "statement" and report.version == 1 and report.language == "zh-hans"
    text = _pdf("pdftotext", report.file.path)
    for expected in ("月度服务品质报告", "甲公司 Alpha", "2026-02", "HT-2026-0042", report.number,
                     "网络联通性", "45:00", "已违约", "2,800.00", "免收当月租用费"):
        assert expected in text, expected
    fonts = _pdf("pdffonts", report.file.path)
    cjk = [line for line in fonts.splitlines() if "Noto" in line and "CJK" in line]
    assert cjk, fonts
    assert all(" yes " in line for line in cjk)  # embedded


def test_issuing_twice_issues_one_version(feb_breach, customer_a):
    first = statement_issue(customer_id=customer_a.pk, first=FEB, now=LATER)
    again = statement_issue(customer_id=customer_a.pk, first=FEB, now=LATER + timedelta(days=1))
    assert again.pk == first.pk
    statement = MonthlyStatement.objects.get(customer=customer_a, month=FEB)
    assert list(statement_reports(statement)) == [first]
    # Closing the month again changes nothing, so it issues nothing either.
    assert statements_issue(month=FEB, customer_ids=[customer_a.pk]) == [first]
    assert WrittenReport.objects.filter(kind="statement").count() == 1


@override_settings(SETTLEMENT_STATEMENTS="inline")  # what the worker's task does, here and now
def test_rejudgement_issues_version_2_that_supersedes_version_1_and_mails_it(
        feb_breach, customer_a, contacts, engineer, django_capture_on_commit_callbacks):
    yes, no = contacts
    [v1] = statements_issue(month=FEB, customer_ids=[customer_a.pk])
    _o1, o2 = feb_breach
    # Re-classifying after the close re-judges February (after commit) and re-issues its statement.
    with django_capture_on_commit_callbacks(execute=True):
        outage_classify(outage_id=o2.pk, cause=Cause.CUSTOMER_EQUIPMENT, note="甲方交换机故障", actor=engineer,
                        now=LATER)
    statement = MonthlyStatement.objects.get(customer=customer_a, month=FEB)
    v1_, v2 = statement_reports(statement)
    assert v1_.pk == v1.pk and v2.version == 2 and v2.supersedes_id == v1.pk
    assert v2.number == f"{v1.number}-v2"
    c1 = next(p for p in v2.content["services"][0]["promises"] if p["code"] == "C1")
    assert c1["verdict"] == "met" and c1["summary"] == "30:00 分钟 < 44 分钟" and c1["version"] == 2
    excluded = next(o for o in v2.content["services"][0]["outages"] if o["id"] == o2.pk)
    assert excluded["counted"] is False and "设备" in excluded["reason_display"]
    [credit] = v2.content["credits"]
    assert credit["state"] == "withdrawn" and v2.content["totals"]["amount_owed"] == "0.00"
    text = _pdf("pdftotext", v2.file.path)
    assert "本报告为第 2 版，更正第 1 版" in text
    assert Credit.objects.get().state == "withdrawn"
    # One e-mail per version to the contact who opted in, none to the other.
    mails = Notification.objects.filter(kind="monthly_statement").order_by("pk")
    assert [(n.address, n.object_id) for n in mails] == [(yes.email, statement.pk)] * 2
    assert not Notification.objects.filter(address=no.email).exists()
    assert [a["name"] for a in mails[1].attachments] == [v2.filename]


def test_opted_in_contact_gets_the_pdf_once(feb_breach, customer_a, contacts):
    from django.core import mail

    from notifications.services import notification_send

    yes, no = contacts
    f.AuthorizedContactFactory(customer=customer_a, email="gone@alpha.test", receives_statements=True,
                               active=False)
    statements_issue(month=FEB, customer_ids=[customer_a.pk])
    statements_issue(month=FEB, customer_ids=[customer_a.pk])  # the task run twice: nothing new
    [row] = Notification.objects.filter(kind="monthly_statement")
    assert row.address == yes.email and row.idempotency_key.startswith("statement:")
    mail.outbox.clear()
    notification_send(notification_id=row.pk)
    [msg] = mail.outbox
    assert msg.to == [yes.email] and "2026-02" in msg.subject
    [(name, data, mimetype)] = msg.attachments
    assert name.endswith(".pdf") and data.startswith(b"%PDF-") and mimetype == "application/pdf"


def test_one_failing_customer_does_not_stop_the_others(feb_breach, customer_a, monkeypatch):
    reports = statements_issue(month=FEB, customer_ids=[999_999, customer_a.pk])
    assert [r.customer_id for r in reports] == [customer_a.pk]


def test_english_customer_gets_an_english_statement(manager):
    customer = f.CustomerFactory(name="Acme Hosting Ltd", language="en")
    contract = f.ContractFactory(customer=customer, monthly_fee=Decimal("2800.00"))
    service = f.ServiceFactory(contract=contract, name="Rack R7")
    _outage(service, datetime(2026, 2, 3, 8, 0, tzinfo=TZ), 50)
    month_close(year=2026, month=2, actor=manager, now=CLOSE_AT)
    report = statement_issue(customer_id=customer.pk, first=FEB, now=LATER)
    assert report.language == "en"
    text = _pdf("pdftotext", report.file.path)
    for expected in ("Monthly service quality report", "Network connectivity 99.9%", "50:00 minutes",
                     "breached", "2,800.00", "Credits of the month"):
        assert expected in text, expected
    assert "月度服务品质报告" not in text


# --- A month not closed yet, and months that cannot be asked for ---------------------------------

def test_a_month_not_closed_yet_is_stated_provisionally_without_storing_judgements(hosting, customer_a):
    from settlement.models import Judgement

    _outage(hosting, datetime(2026, 4, 2, 9, 0, tzinfo=TZ), 50)
    from settlement.statements import statement_request

    _statement, report = statement_request(customer_id=customer_a.pk, first=date(2026, 4, 1), actor=None,
                                           now=datetime(2026, 5, 1, 0, 30, tzinfo=TZ))
    assert report.content["provisional"] is True
    c1 = next(p for p in report.content["services"][0]["promises"] if p["code"] == "C1")
    assert c1["status"] == "live" and c1["verdict"] == "breached"
    assert not Judgement.objects.exists() and not Credit.objects.exists()
    assert "月度结算前的临时报告" in _pdf("pdftotext", report.file.path)


@pytest.mark.parametrize("first", [date(2026, 5, 1), date(2026, 6, 1)])
def test_current_or_future_month_cannot_be_requested(hosting, customer_a, first):
    from settlement.statements import statement_request
    from slaportal.errors import DomainError

    with pytest.raises(DomainError) as e:
        statement_request(customer_id=customer_a.pk, first=first, actor=None,
                          now=datetime(2026, 5, 31, 23, 59, tzinfo=TZ))
    assert "month" in e.value.field_errors
    assert not MonthlyStatement.objects.exists()


def test_email_service_lists_promises_not_measured_yet(customer_a, manager):
    contract = f.ContractFactory(customer=customer_a)
    f.ServiceFactory(contract=contract, kind="email", name="企业邮箱")
    month_close(year=2026, month=2, actor=manager, now=CLOSE_AT)
    c = statement_content(customer=customer_a, first=FEB, now=LATER)
    promises = {p["code"]: p for p in c["services"][0]["promises"]}
    assert promises["E1"]["status"] == "judged" and promises["E1"]["verdict"] == "met"
    for code in ("E2-AVG", "E3-AVAIL", "E6-KEEP"):
        assert promises[code]["status"] == "not_measured" and promises[code]["verdict"] == ""
        assert promises[code]["target"]  # the target from the policy row, shown even so
    assert c["summary"]["not_measured"] >= 3


# --- Pages and API: the owner, staff, another customer (404), anonymous ---------------------------

def _api(user=None):  # type: ignore[no-untyped-def]
    from rest_framework.test import APIClient

    c = APIClient()
    if user is not None:
        c.force_login(user)
    return c


@pytest.fixture
def issued(feb_breach, customer_a):
    return statement_issue(customer_id=customer_a.pk, first=FEB, now=LATER)


def test_owner_reads_the_statement_page_and_downloads_every_version(client, alice, customer_a, issued):
    client.force_login(alice)
    r = client.get("/settlement/statements/")
    assert r.status_code == 200 and issued.number in r.content.decode()
    r = client.get(f"/settlement/statements/{customer_a.pk}/2026-02/")
    assert r.status_code == 200
    page = r.content.decode()
    assert issued.number in page and "45:00" in page and issued.sha256 in page
    assert '<a href="/settlement/statements/">月度报告</a>' in page  # the nav link
    r = client.get(f"/settlement/statements/{customer_a.pk}/2026-02/pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r["Content-Disposition"].startswith("attachment") and r["X-Content-SHA256"] == issued.sha256
    assert b"".join(r.streaming_content).startswith(b"%PDF-")
    r = client.get(f"/settlement/statements/{customer_a.pk}/2026-02/versions/{issued.pk}/pdf")
    assert r.status_code == 200


def test_another_customers_user_gets_404_on_the_page_the_pdf_and_the_api(client, charlie, customer_a, issued):
    client.force_login(charlie)
    base = f"/settlement/statements/{customer_a.pk}/2026-02/"
    for url in (base, base + "pdf", f"{base}versions/{issued.pk}/pdf"):
        assert client.get(url).status_code == 404, url
    r = client.get("/settlement/statements/")
    assert r.status_code == 200 and issued.number not in r.content.decode()
    statement = MonthlyStatement.objects.get()
    api = _api(charlie)
    for url in (f"/api/statements/{statement.pk}/", f"/api/statements/{statement.pk}/pdf",
                f"/api/statements/{statement.pk}/versions/{issued.pk}/pdf"):
        r = api.get(url)
        assert r.status_code == 404 and r.json()["code"] == "not_found", url
    assert api.get("/api/statements/").json()["results"] == []
    # For charlie, A does not exist: a 400 on the field, like an unknown id, and nothing issued.
    r = api.post("/api/statements/request/", {"customer": customer_a.pk, "month": "2026-02"}, format="json")
    assert r.status_code == 400 and "customer" in r.json()["errors"]
    assert WrittenReport.objects.filter(kind="statement").count() == 1


def test_anonymous_and_data_centre_staff_are_refused(client, dc_staff, customer_a, issued):
    r = client.get(f"/settlement/statements/{customer_a.pk}/2026-02/pdf")
    assert r.status_code == 302 and "/login" in r["Location"]
    assert _api().get("/api/statements/").status_code in (401, 403)
    client.force_login(dc_staff)  # reads no credits, so no statements either
    assert client.get("/settlement/statements/").status_code == 403
    assert _api(dc_staff).get("/api/statements/").status_code == 403


def test_staff_filter_the_list_by_customer_and_month(client, manager, customer_a, charlie, issued):
    client.force_login(manager)
    r = client.get(f"/settlement/statements/?customer={customer_a.pk}&month=2026-02")
    assert r.status_code == 200 and issued.number in r.content.decode()
    r = client.get("/settlement/statements/?month=2026-03")
    assert issued.number not in r.content.decode()
    api = _api(manager)
    body = api.get(f"/api/statements/?customer={customer_a.pk}&month=2026-02").json()
    [row] = body["results"]
    assert row["month"] == "2026-02" and row["current"]["number"] == issued.number and row["versions"] == 1
    assert api.get("/api/statements/?month=2026-13").status_code == 400
    r = api.get("/api/statements/?month=feb")
    assert r.status_code == 400 and "month" in r.json()["errors"]


def test_api_detail_lists_versions_with_download_links(manager, customer_a, issued):
    statement = MonthlyStatement.objects.get()
    api = _api(manager)
    body = api.get(f"/api/statements/{statement.pk}/").json()
    [v] = body["all_versions"]
    assert v["number"] == issued.number and v["sha256"] == issued.sha256 and v["size"] == issued.size
    r = api.get(v["download_url"])
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert body["content"]["services"][0]["promises"][0]["code"] == "C1"
    r = api.get(body["pdf_url"])
    assert r.status_code == 200 and r["X-Content-SHA256"] == issued.sha256


def test_customer_requests_a_past_month_and_gets_it_once(client, alice, customer_a, hosting):
    client.force_login(alice)
    r = client.post("/settlement/statements/request/", {"month": "2026-03"})
    assert r.status_code == 302 and r["Location"] == f"/settlement/statements/{customer_a.pk}/2026-03/"
    [report] = WrittenReport.objects.filter(kind="statement")
    assert report.content["provisional"] is True and report.issued_by == alice
    r = client.post("/settlement/statements/request/", {"month": "2026-03"})
    assert r.status_code == 302 and WrittenReport.objects.filter(kind="statement").count() == 1
    r = _api(alice).post("/api/statements/request/", {"month": "2026-03"}, format="json")
    assert r.status_code == 201 and r.json()["current"]["number"] == report.number
    assert r.json()["provisional"] is True


def test_request_for_the_current_or_a_future_month_is_refused(client, alice, manager, customer_a, hosting):
    from django.utils import timezone

    today = timezone.localdate()
    current = f"{today:%Y-%m}"
    nxt = f"{today.year + (today.month == 12)}-{today.month % 12 + 1:02d}"
    client.force_login(alice)
    for month in (current, nxt):
        r = client.post("/settlement/statements/request/", {"month": month})
        assert r.status_code == 400 and "请选择已结束的月份" in r.content.decode()
        r = _api(alice).post("/api/statements/request/", {"month": month}, format="json")
        assert r.status_code == 400 and "month" in r.json()["errors"], r.json()
    for bad in ("2026-13", "26-02", "", "2026-02-01"):
        r = _api(manager).post("/api/statements/request/", {"customer": customer_a.pk, "month": bad}, format="json")
        assert r.status_code == 400 and "month" in r.json()["errors"], bad
    r = _api(manager).post("/api/statements/request/", {"month": "2026-02"}, format="json")
    assert r.status_code == 400 and "customer" in r.json()["errors"]
    assert not MonthlyStatement.objects.exists()


def test_staff_request_names_the_customer(client, manager, customer_a, hosting):
    client.force_login(manager)
    r = client.post("/settlement/statements/request/", {"customer": customer_a.pk, "month": "2026-02"})
    assert r.status_code == 302
    assert MonthlyStatement.objects.get().customer == customer_a


def test_deadline_promises_and_missed_notices_of_the_month(feb_breach, customer_a, hosting):
    from django.contrib.contenttypes.models import ContentType

    from incidents.models import Incident
    from sla.models import Clock, SlaPolicy

    def clock(code, due, *, state, breached=None, completed=None, label="投诉 TS-1"):  # type: ignore[no-untyped-def]
        policy = SlaPolicy.objects.get(code=code)
        return Clock.objects.create(
            content_type=ContentType.objects.get_for_model(hosting), object_id=hosting.pk, label=label,
            policy=policy, customer=customer_a, contract=hosting.contract, target=policy.threshold,
            unit=policy.unit, calendar=policy.calendar, state=state, started_at=due - timedelta(hours=24),
            due_at=due, warn_at=due - timedelta(hours=4), breached_at=breached, completed_at=completed,
            met_at=completed if state == "met" else None)

    due = datetime(2026, 2, 5, 10, 0, tzinfo=TZ)
    clock("C8", due, state="breached", breached=due, completed=due + timedelta(hours=3))
    clock("C8", due + timedelta(days=3), state="met", completed=due + timedelta(days=2))
    clock("C8", datetime(2026, 3, 5, tzinfo=TZ), state="breached", breached=datetime(2026, 3, 5, tzinfo=TZ))
    clock("C4", due, state="met", breached=due, completed=due - timedelta(minutes=1), label="紧急情况")
    Incident.objects.create(customer=customer_a, service=hosting, source="monitor", title="设备不可达",
                            detected_at=due, declared_at=due, notice_missed_at=due + timedelta(minutes=15))
    c = statement_content(customer=customer_a, first=FEB, now=LATER)
    d = {x["code"]: x for x in c["deadlines"]}
    assert set(d) >= {"C3", "C4", "C5", "C6", "C7", "C8"} and not any(k.startswith("E") for k in d)
    assert (d["C8"]["met"], d["C8"]["breached"]) == (1, 1)  # March's breach is March's
    [b] = d["C8"]["breaches"]
    assert (b["due"], b["breached"], b["completed"]) == ("2026-02-05 10:00", "2026-02-05 10:00",
                                                          "2026-02-05 13:00")
    assert (d["C4"]["met"], d["C4"]["met_recorded_late"], d["C4"]["breached"]) == (1, 1, 0)
    assert d["C8"]["target"] == "≤ 24 小时"  # from the policy row
    [n] = c["missed_notices"]
    assert n["missed"] == "2026-02-05 10:15" and n["service"] == hosting.name
    text = _pdf("pdftotext", statement_issue(customer_id=customer_a.pk, first=FEB, now=LATER).file.path)
    assert "2026-02-05 13:00" in text and "设备不可达" in text
