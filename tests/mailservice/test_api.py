"""The e-mail measurement API: a service's monthly figures (owner and staff; another customer: 404;
a bad month: 400), and the staff records behind them with the API's one error body."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from mailservice.aggregates import LatencyAccumulator
from mailservice.choices import PlatformEventKind
from mailservice.models import BillingErrorFigure, MailDomain, MailPlatform, PlatformEvent
from settlement.models import Judgement
from settlement.services import month_close
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 9, tzinfo=TZ)


def api(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(get_user_model().objects.get(pk=user.pk))
    return client


@pytest.fixture(autouse=True)
def _clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def _no_statements(settings):  # type: ignore[no-untyped-def]
    settings.SETTLEMENT_STATEMENTS = "off"


@pytest.fixture
def platform():  # type: ignore[no-untyped-def]
    return f.MailPlatformFactory(name="主邮件系统")


@pytest.fixture
def mail_a(customer_a, platform):  # type: ignore[no-untyped-def]
    s = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email", name="企业邮箱 甲")
    f.MailDomainFactory(service=s, platform=platform, domain="alpha.example.cn")
    return s


@pytest.fixture
def mail_c(charlie, platform):  # type: ignore[no-untyped-def]
    s = f.ServiceFactory(contract=f.ContractFactory(customer=charlie.customer_link.customer), kind="email")
    f.MailDomainFactory(service=s, platform=platform, domain="charlie.example.cn")
    return s


def figures_url(service) -> str:  # type: ignore[no-untyped-def]
    return f"/api/mail/services/{service.pk}/figures/"


# --- Figures --------------------------------------------------------------------------------------

def test_figures_for_the_owner_and_staff_another_customer_404_bad_month_400(
        mail_a, mail_c, alice, charlie, specialist):  # type: ignore[no-untyped-def]
    d = MailDomain.objects.get(service=mail_a)
    acc = LatencyAccumulator()
    for i in range(4):
        acc.add(domain_id=d.pk, at=datetime(2026, 2, 5, 10, tzinfo=TZ).timestamp() + i, direction="send",
                source="log", latency_ms=61_000)
    acc.flush()
    PlatformEvent.objects.create(platform=d.platform, kind="fault", title="故障",
                                 started_at=datetime(2026, 2, 9, 3, tzinfo=TZ),
                                 ended_at=datetime(2026, 2, 9, 4, tzinfo=TZ), recorded_at=NOW)
    r = api(alice).get(figures_url(mail_a), {"month": "2026-02"})
    assert r.status_code == 200, r.json()
    body = r.json()
    assert (body["service"], body["month"], body["latency_source"]) == (mail_a.pk, "2026-02", "log")
    assert body["send"]["messages"] == 4 and body["send"]["average_seconds"] == "61.000000"
    assert body["send"]["histogram"]["le_5m"] == 4
    assert body["verdicts"]["E2-AVG"] is False and body["verdicts"]["E3-FAULT"] is True
    assert body["verdicts"]["E3-BILL"] is None
    assert body["fault_minutes"] == "60.000000" and body["days_in_year"] == 365
    assert len(body["daily"]) == 28 and body["daily"][4]["messages"] == 4
    promise = next(p for p in body["promises"] if p["code"] == "E2-AVG")
    assert (promise["verdict"], promise["threshold"], promise["unit"]) == ("breached", "1.000000", "minutes")
    assert body["events"][0]["title"] == "故障"

    assert api(specialist).get(figures_url(mail_a), {"month": "2026-02"}).status_code == 200
    r = api(charlie).get(figures_url(mail_a), {"month": "2026-02"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    for bad in ("2026-13", "26-02", "2026-2-1", "x"):
        r = api(alice).get(figures_url(mail_a), {"month": bad})
        assert r.status_code == 400 and "month" in r.json()["errors"], bad
    # Without a month: the current one.
    assert api(alice).get(figures_url(mail_a)).json()["month"] == "2026-03"
    # A hosting service has no e-mail figures.
    hosting = f.ServiceFactory(contract=mail_a.contract, kind="colocation")
    assert api(alice).get(figures_url(hosting)).status_code == 404
    assert api(None).get(figures_url(mail_a)).status_code in (401, 403)


def test_the_figures_agree_with_the_month_close(mail_a, alice):  # type: ignore[no-untyped-def]
    BillingErrorFigure.objects.create(month=date(2026, 2, 1), customers_billed=20_000, customers_with_error=1,
                                      entered_at=NOW)
    month_close(year=2026, month=2, now=NOW)
    j = Judgement.objects.get(service=mail_a, policy__code="E3-BILL", current=True)
    body = api(alice).get(figures_url(mail_a), {"month": "2026-02"}).json()
    promise = next(p for p in body["promises"] if p["code"] == "E3-BILL")
    assert Decimal(promise["value"]) == j.value == Decimal("0.005")
    assert promise["verdict"] == j.verdict == "breached"
    assert body["billing_error_rate_percent"] == "0.005000"


# --- Platforms -------------------------------------------------------------------------------------

def test_platforms_crud(platform, engineer, specialist, alice):  # type: ignore[no-untyped-def]
    r = api(engineer).post("/api/mail/platforms/", {"name": "上海邮件系统", "description": "mx3"}, format="json")
    assert r.status_code == 201 and r.json()["name"] == "上海邮件系统"
    pk = r.json()["id"]
    r = api(engineer).post("/api/mail/platforms/", {"name": ""}, format="json")
    assert r.status_code == 400 and "name" in r.json()["errors"]
    r = api(engineer).post("/api/mail/platforms/", {"name": "上海邮件系统"}, format="json")
    assert r.status_code == 400 and "name" in r.json()["errors"]
    assert {p["name"] for p in api(specialist).get("/api/mail/platforms/").json()["results"]} == {
        "主邮件系统", "上海邮件系统"}
    assert api(specialist).post("/api/mail/platforms/", {"name": "x"}, format="json").status_code == 403
    assert api(alice).get("/api/mail/platforms/").status_code == 403
    r = api(engineer).patch(f"/api/mail/platforms/{pk}/", {"description": "mx3, mx4"}, format="json")
    assert r.status_code == 200 and r.json()["description"] == "mx3, mx4" and r.json()["name"] == "上海邮件系统"
    assert api(engineer).delete(f"/api/mail/platforms/{pk}/").status_code == 204
    assert not MailPlatform.objects.filter(pk=pk).exists()
    assert api(engineer).get(f"/api/mail/platforms/{pk}/").status_code == 404


def test_a_platform_hosting_domains_is_not_deleted(mail_a, platform, engineer):  # type: ignore[no-untyped-def]
    r = api(engineer).delete(f"/api/mail/platforms/{platform.pk}/")
    assert r.status_code == 409 and r.json()["code"] == "conflict"


# --- Domains -----------------------------------------------------------------------------------------

def test_domains_scoped_and_written_by_engineers(mail_a, mail_c, platform, alice, charlie, engineer, specialist):  # type: ignore[no-untyped-def]
    assert [d["domain"] for d in api(alice).get("/api/mail/domains/").json()["results"]] == ["alpha.example.cn"]
    assert len(api(specialist).get("/api/mail/domains/").json()["results"]) == 2
    theirs = MailDomain.objects.get(service=mail_c)
    assert api(alice).get(f"/api/mail/domains/{theirs.pk}/").status_code == 404
    assert api(alice).patch(f"/api/mail/domains/{theirs.pk}/", {"domain": "x.cn"}, format="json").status_code == 404
    assert api(alice).post("/api/mail/domains/", {"domain": "a2.cn", "service": mail_a.pk,
                                                  "platform": platform.pk}, format="json").status_code == 403
    assert api(specialist).post("/api/mail/domains/", {"domain": "a2.cn", "service": mail_a.pk,
                                                       "platform": platform.pk}, format="json").status_code == 403
    r = api(engineer).post("/api/mail/domains/", {"domain": "A2.Example.cn", "service": mail_a.pk,
                                                  "platform": platform.pk}, format="json")
    assert r.status_code == 201 and r.json()["domain"] == "a2.example.cn" and r.json()["customer"] == mail_a.customer_id
    r = api(engineer).post("/api/mail/domains/", {"domain": "bad domain", "service": 999999,
                                                  "platform": platform.pk}, format="json")
    assert r.status_code == 400 and "service" in r.json()["errors"]
    r = api(engineer).post("/api/mail/domains/", {"domain": "bad domain", "service": mail_a.pk,
                                                  "platform": platform.pk}, format="json")
    assert r.status_code == 400 and "domain" in r.json()["errors"]
    pk = MailDomain.objects.get(domain="a2.example.cn").pk
    other = f.MailPlatformFactory(name="备用邮件系统")
    r = api(engineer).patch(f"/api/mail/domains/{pk}/", {"platform": other.pk}, format="json")
    assert r.status_code == 200 and r.json()["platform_name"] == "备用邮件系统"
    assert api(engineer).delete(f"/api/mail/domains/{pk}/", {"reason": "录入错误"}, format="json").status_code == 204
    assert [d["domain"] for d in api(engineer).get("/api/mail/domains/", {"service": mail_a.pk}).json()["results"]] \
        == ["alpha.example.cn"]


# --- Platform events -----------------------------------------------------------------------------------

def test_platform_events_crud_and_end(platform, engineer, specialist, alice):  # type: ignore[no-untyped-def]
    base = "/api/mail/platform-events/"
    start = NOW - timedelta(hours=3)
    r = api(engineer).post(base, {"platform": platform.pk, "kind": "fault", "title": "存储故障",
                                  "started_at": start.isoformat()}, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["ended_at"], body["kind_label"], body["recorded_by"]["username"]) == (
        None, str(PlatformEventKind.FAULT.label), "eve")
    pk = body["id"]
    r = api(engineer).post(base, {"platform": platform.pk, "kind": "fault", "title": "x",
                                  "started_at": start.isoformat(), "ended_at": (start - timedelta(minutes=5)).isoformat()},
                           format="json")
    assert r.status_code == 400 and "ended_at" in r.json()["errors"]
    r = api(engineer).post(base, {"platform": 999999, "kind": "flood", "title": "x"}, format="json")
    assert r.status_code == 400 and {"platform", "kind", "started_at"} <= set(r.json()["errors"])
    assert api(specialist).post(base, {"platform": platform.pk, "kind": "fault", "title": "x",
                                       "started_at": start.isoformat()}, format="json").status_code == 403
    assert api(alice).get(base).status_code == 403
    assert api(alice).get(f"{base}{pk}/").status_code == 403

    r = api(engineer).post(f"{base}{pk}/end/", {"ended_at": (NOW - timedelta(hours=1)).isoformat(),
                                                "note": "控制器已更换"}, format="json")
    assert r.status_code == 200 and r.json()["ended_at"] is not None and "控制器已更换" in r.json()["note"]
    r = api(engineer).post(f"{base}{pk}/end/", {"ended_at": NOW.isoformat()}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    r = api(engineer).patch(f"{base}{pk}/", {"title": "存储阵列故障"}, format="json")
    assert r.status_code == 200 and r.json()["title"] == "存储阵列故障"
    assert [e["id"] for e in api(specialist).get(base, {"month": "2026-03"}).json()["results"]] == [pk]
    assert api(specialist).get(base, {"month": "2026-02"}).json()["results"] == []
    assert api(specialist).get(base, {"month": "2026-99"}).status_code == 400
    r = api(engineer).delete(f"{base}{pk}/", {"reason": ""}, format="json")
    assert r.status_code == 400 and "reason" in r.json()["errors"]
    assert api(engineer).delete(f"{base}{pk}/", {"reason": "重复录入"}, format="json").status_code == 204
    assert not PlatformEvent.objects.exists()
    assert api(engineer).post(f"{base}{pk}/end/", {"ended_at": NOW.isoformat()}, format="json").status_code == 404


# --- Billing figures ------------------------------------------------------------------------------------

def test_billing_figures_entered_by_a_manager(manager, engineer, alice):  # type: ignore[no-untyped-def]
    base = "/api/mail/billing-figures/"
    data = {"month": "2026-02", "customers_billed": 40000, "customers_with_error": 1, "note": "二月"}
    assert api(engineer).post(base, data, format="json").status_code == 403
    assert api(alice).get(base).status_code == 403
    r = api(manager).post(base, data, format="json")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert (body["month"], body["error_rate_percent"], body["entered_by"]["username"]) == ("2026-02", "0.002500", "mia")
    r = api(manager).post(base, {**data, "customers_with_error": 40001}, format="json")
    assert r.status_code == 400 and "customers_with_error" in r.json()["errors"]
    r = api(manager).post(base, {**data, "month": "2026-4"}, format="json")
    assert r.status_code == 400 and "month" in r.json()["errors"]
    r = api(manager).patch(f"{base}{body['id']}/", {"customers_with_error": 2}, format="json")
    assert r.status_code == 200 and r.json()["customers_with_error"] == 2 and r.json()["note"] == "二月"
    assert [x["month"] for x in api(engineer).get(base).json()["results"]] == ["2026-02"]
    assert BillingErrorFigure.objects.count() == 1
