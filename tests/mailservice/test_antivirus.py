"""Seed 002 §5 anti-virus: virus-signature updates recorded from the scanner's hook (or staff);
more than 7 days without one breaks AV-SIG for every e-mail customer on the platform (that
month's fee waived); the customer's /mail/ page shows the last update and the days since."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from credits.models import Credit
from mailservice.backups import reporter_token_create, signature_update_record
from mailservice.guarantee import guarantee_month
from mailservice.models import SignatureUpdate
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
def platform(db):  # type: ignore[no-untyped-def]
    return f.MailPlatformFactory(name="mx 平台")


@pytest.fixture
def mail_a(customer_a, platform):  # type: ignore[no-untyped-def]
    s = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email", name="企业邮箱 甲")
    f.MailDomainFactory(service=s, platform=platform, domain="alpha.example.cn")
    return s


@pytest.fixture
def mail_c(charlie, platform):  # type: ignore[no-untyped-def]
    s = f.ServiceFactory(contract=f.ContractFactory(customer=charlie.customer_link.customer), kind="email",
                         name="企业邮箱 丙")
    f.MailDomainFactory(service=s, platform=platform, domain="charlie.example.cn")
    return s


def update(platform, engineer, at: datetime, version: str):  # type: ignore[no-untyped-def]
    return signature_update_record(platform=platform, scanner="clamav", version=version, updated_at=at,
                                   actor=engineer, now=MARCH)


def test_more_than_7_days_without_an_update_breaks_it_for_every_customer_on_the_platform(
        mail_a, mail_c, platform, engineer):  # type: ignore[no-untyped-def]
    # Feb 1, Feb 8 (exactly 7 days: kept), then nothing until Feb 16 10:00 (8 days 0 h: broken).
    for at, v in ((datetime(2026, 2, 1, 10, tzinfo=TZ), "27000"), (datetime(2026, 2, 8, 10, tzinfo=TZ), "27001"),
                  (datetime(2026, 2, 16, 10, tzinfo=TZ), "27002"), (datetime(2026, 2, 22, 10, tzinfo=TZ), "27003")):
        update(platform, engineer, at, v)
    months = guarantee_month(services=[mail_a, mail_c], year=2026, month=2, now=MARCH)
    for s in (mail_a, mail_c):
        m = months[s.pk].measurements["AV-SIG"]
        assert m.kept is False and m.value == Decimal(8)
        assert [c["from"][:10] for c in m.counted] == ["2026-02-08"]
    month_close(year=2026, month=2, now=MARCH)
    for s in (mail_a, mail_c):
        j = Judgement.objects.get(service=s, policy__code="AV-SIG", month="2026-02-01", current=True)
        assert j.verdict == "breached"
        assert Credit.objects.get(contract=s.contract, period="2026-02-01").kind == "waive_month_rent"


def test_exactly_7_days_is_kept_and_the_gap_runs_to_month_end(mail_a, platform, engineer):  # type: ignore[no-untyped-def]
    for d in (1, 8, 15, 22):
        update(platform, engineer, datetime(2026, 2, d, 10, tzinfo=TZ), f"v{d}")
    m = guarantee_month(services=[mail_a], year=2026, month=2, now=MARCH)[mail_a.pk].measurements["AV-SIG"]
    assert m.kept is True and m.value == Decimal(7)
    # Nothing after Feb 22 10:00: by the month's end (Mar 1 00:00) that is 6 days 14 h; in March
    # the same gap goes on, and reaches 7 days on Mar 1 10:00.
    march = guarantee_month(services=[mail_a], year=2026, month=3, now=datetime(2026, 3, 1, 10, 0, 1, tzinfo=TZ))
    assert march[mail_a.pk].measurements["AV-SIG"].kept is False


def test_a_gap_crossing_into_the_next_month_counts_only_up_to_month_end(mail_a, platform, engineer):  # type: ignore[no-untyped-def]
    for at in (datetime(2026, 1, 25, tzinfo=TZ), datetime(2026, 1, 31, tzinfo=TZ), datetime(2026, 2, 6, tzinfo=TZ)):
        update(platform, engineer, at, at.isoformat())
    jan = guarantee_month(services=[mail_a], year=2026, month=1, now=MARCH)[mail_a.pk].measurements["AV-SIG"]
    assert jan.kept is True and jan.value == Decimal(6)


def test_the_scanner_hook_posts_with_its_token_and_twice_is_once(platform, engineer):  # type: ignore[no-untyped-def]
    raw = reporter_token_create(actor=engineer, platform=platform, name="freshclam")[1]
    body = {"scanner": "clamav", "version": "daily 27500", "updated_at": datetime.now(TZ).isoformat()}
    client = APIClient()
    url = reverse("api-mail-report-signature-update")
    r = client.post(url, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 201
    r = client.post(url, data=json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 200 and r.json()["outcome"] == "unchanged"
    assert SignatureUpdate.objects.count() == 1
    assert client.post(url, data=json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    r = client.post(url, data=b"{", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 400
    r = client.post(url, data=json.dumps({**body, "version": "", "updated_at": "soon"}),
                    content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert r.status_code == 400 and {"version", "updated_at"} <= set(r.json()["errors"])
    assert SignatureUpdate.objects.count() == 1


def test_the_customer_page_shows_the_last_update_and_another_customer_gets_404(
        client, alice, charlie, mail_a, platform, engineer):  # type: ignore[no-untyped-def]
    signature_update_record(platform=platform, scanner="clamav", version="daily 27612",
                            updated_at=datetime.now(TZ) - timedelta(days=2, hours=1), actor=engineer)
    client.force_login(alice)
    page = client.get(reverse("mailservice:service_detail", args=[mail_a.pk])).content.decode()
    assert "daily 27612" in page and 'id="card-av"' in page and "2.0" in page
    assert client.get(reverse("mailservice:service_guarantee", args=[mail_a.pk])).status_code == 200
    api = APIClient()
    api.force_authenticate(alice)
    body = api.get(reverse("api-mail-service-guarantee", args=[mail_a.pk])).json()
    assert body["signatures"][0]["version"] == "daily 27612"
    client.force_login(charlie)
    assert client.get(reverse("mailservice:service_guarantee", args=[mail_a.pk])).status_code == 404
    api.force_authenticate(charlie)
    assert api.get(reverse("api-mail-service-guarantee", args=[mail_a.pk])).status_code == 404
    assert client.get(reverse("mailservice:guarantee_queue")).status_code == 403
