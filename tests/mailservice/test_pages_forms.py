"""The staff pages behind the e-mail figures: mail platforms with their domains, faults and
adjustments (engineers and managers record, end, correct and delete them), adding a platform and a
domain to an e-mail service, and the monthly billing figures (managers) with their rate. A refused
save shows the service's field errors and writes nothing; customers cannot open these pages."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from audit.models import AuditEntry
from mailservice.models import BillingErrorFigure, MailDomain, MailPlatform, PlatformEvent
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 10, 9, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _clock():  # type: ignore[no-untyped-def]
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def domain(customer_a) -> MailDomain:  # type: ignore[no-untyped-def]
    service = f.ServiceFactory(contract=f.ContractFactory(customer=customer_a), kind="email", name="企业邮箱 甲")
    return f.MailDomainFactory(service=service, domain="alpha.example.cn", platform__name="邮件平台甲")


def test_platform_pages_are_staff_only(alice, charlie, specialist, domain):
    p = domain.platform
    ev = PlatformEvent.objects.create(platform=p, kind="fault", title="故障", started_at=NOW - timedelta(hours=1),
                                      recorded_at=NOW)
    staff_pages = ["/mail/platforms/", "/mail/billing/", "/mail/platforms/new/",
                   *[u.format(p=p.pk) for u in ("/mail/platforms/{p}/", "/mail/platforms/{p}/edit/",
                                                 "/mail/platforms/{p}/events/new/")],
                   *[u.format(e=ev.pk) for u in ("/mail/events/{e}/edit/", "/mail/events/{e}/end/",
                                                 "/mail/events/{e}/delete/")],
                   f"/mail/services/{domain.service_id}/domains/new/"]
    for user in (alice, charlie):
        c = client_for(user)
        for url in staff_pages:
            assert c.get(url).status_code == 403, url
            assert c.post(url, {"reason": "x", "name": "x", "ended_at": "2026-03-10T08:00"}).status_code == 403, url
            # The same answer for an id that does not exist: the refusal tells nothing.
            assert c.get(re.sub(r"/\d+/", "/999999/", url)).status_code == 403, url
    assert PlatformEvent.objects.get(pk=ev.pk).ended_at is None and MailPlatform.objects.count() == 1
    c = client_for(specialist)
    r = c.get("/mail/platforms/")
    assert r.status_code == 200 and "邮件平台甲" in r.content.decode()
    r = c.get(f"/mail/platforms/{p.pk}/")
    assert r.status_code == 200 and "alpha.example.cn" in r.content.decode()
    assert 'id="event-form"' not in r.content.decode()  # a specialist reads, does not record
    assert c.post(f"/mail/platforms/{p.pk}/events/new/", {}).status_code == 403


def test_engineer_records_a_fault_that_counts_in_the_month(engineer, alice, domain):
    p = domain.platform
    c = client_for(engineer)
    r = c.post(f"/mail/platforms/{p.pk}/events/new/", {
        "kind": "fault", "title": "存储节点宕机", "started_at": "2026-03-02T03:00",
        "ended_at": "2026-03-02T03:45", "note": "RAID 控制器故障"})
    assert r.status_code == 302 and r["Location"].endswith(f"/mail/platforms/{p.pk}/?month=2026-03")
    ev = PlatformEvent.objects.get()
    assert (ev.kind, ev.recorded_by, ev.ended_at - ev.started_at) == ("fault", engineer, timedelta(minutes=45))
    page = c.get(r["Location"]).content.decode()
    assert "存储节点宕机" in page and "45.00" in page
    # The customer's service page counts it.
    html = client_for(alice).get(f"/mail/services/{domain.service_id}/?month=2026-03").content.decode()
    assert "存储节点宕机" in html and "45.00 分钟" in html


def test_a_refused_fault_shows_the_field_error_and_saves_nothing(engineer, domain):
    p = domain.platform
    c = client_for(engineer)
    r = c.post(f"/mail/platforms/{p.pk}/events/new/", {
        "kind": "fault", "title": "倒序", "started_at": "2026-03-02T03:00", "ended_at": "2026-03-02T02:00"})
    assert r.status_code == 400
    assert r.context["event_form"].errors["ended_at"]
    assert "errorlist" in r.content.decode()
    # A fault cannot lie in the future either.
    r = c.post(f"/mail/platforms/{p.pk}/events/new/", {
        "kind": "fault", "title": "未来", "started_at": "2026-03-12T03:00"})
    assert r.status_code == 400 and r.context["event_form"].errors["started_at"]
    # A form error of the form itself (no title).
    r = c.post(f"/mail/platforms/{p.pk}/events/new/", {"kind": "fault", "started_at": "2026-03-02T03:00"})
    assert r.status_code == 400 and r.context["event_form"].errors["title"]
    assert not PlatformEvent.objects.exists()


def test_end_correct_and_delete_an_event_with_a_reason(manager, domain):
    ev = PlatformEvent.objects.create(platform=domain.platform, kind="adjustment", title="系统升级",
                                      started_at=datetime(2026, 3, 5, 1, tzinfo=TZ), recorded_at=NOW)
    c = client_for(manager)
    page = c.get(f"/mail/platforms/{domain.platform_id}/").content.decode()
    assert "持续中" in page and f"/mail/events/{ev.pk}/end/" in page
    # Ending before the start is refused, with the error on the field.
    r = c.post(f"/mail/events/{ev.pk}/end/", {"ended_at": "2026-03-05T00:30"})
    assert r.status_code == 400 and r.context["form"].errors["ended_at"]
    r = c.post(f"/mail/events/{ev.pk}/end/", {"ended_at": "2026-03-05T01:40"})
    assert r.status_code == 302
    ev.refresh_from_db()
    assert ev.ended_at == datetime(2026, 3, 5, 1, 40, tzinfo=TZ)
    # Ending twice is refused (the service's conflict), shown on the form.
    r = c.post(f"/mail/events/{ev.pk}/end/", {"ended_at": "2026-03-05T01:50"})
    assert r.status_code == 400 and r.context["form"].non_field_errors()
    # Correct its title.
    r = c.post(f"/mail/events/{ev.pk}/edit/", {"kind": "adjustment", "title": "系统升级（已通知）",
                                                "started_at": "2026-03-05T01:00", "ended_at": "2026-03-05T01:40"})
    assert r.status_code == 302
    ev.refresh_from_db()
    assert ev.title == "系统升级（已通知）"
    # Deleting needs a reason; with one it is gone and the audit keeps why.
    r = c.post(f"/mail/events/{ev.pk}/delete/", {"reason": ""})
    assert r.status_code == 400 and PlatformEvent.objects.filter(pk=ev.pk).exists()
    r = c.post(f"/mail/events/{ev.pk}/delete/", {"reason": "重复录入"})
    assert r.status_code == 302 and not PlatformEvent.objects.filter(pk=ev.pk).exists()
    assert AuditEntry.objects.filter(reason="重复录入").exists()


def test_add_a_platform_and_a_domain_to_an_email_service(manager, domain):
    c = client_for(manager)
    r = c.post("/mail/platforms/new/", {"name": "企业邮件平台二号", "description": "上海机房"})
    assert r.status_code == 302
    platform = MailPlatform.objects.get(name="企业邮件平台二号")
    # The same name again is refused on the field.
    r = c.post("/mail/platforms/new/", {"name": "企业邮件平台二号"})
    assert r.status_code == 400 and MailPlatform.objects.filter(name="企业邮件平台二号").count() == 1
    service = domain.service
    r = c.post(f"/mail/services/{service.pk}/domains/new/", {"domain": "不是域名", "platform": platform.pk})
    assert r.status_code == 400 and r.context["form"].errors["domain"]
    r = c.post(f"/mail/services/{service.pk}/domains/new/", {"domain": "Beta.Example.CN.", "platform": platform.pk})
    assert r.status_code == 302
    assert MailDomain.objects.get(domain="beta.example.cn").platform == platform
    assert "beta.example.cn" in c.get(f"/mail/services/{service.pk}/").content.decode()
    # A hosting service has no mail domains: not found here.
    hosting = f.ServiceFactory(contract=service.contract, kind="colocation")
    assert c.get(f"/mail/services/{hosting.pk}/domains/new/").status_code == 404


def test_billing_figures_managers_enter_them_and_the_rate_is_judged(manager, engineer):
    c = client_for(manager)
    r = c.post("/mail/billing/", {"month": "2026-02", "customers_billed": "50000", "customers_with_error": "1"})
    assert r.status_code == 302
    html = c.get("/mail/billing/").content.decode()
    assert "2×10⁻⁵" in html and "≤ 3×10⁻⁵" in html and "达标" in html
    # Corrected: 2 of 50 000 is 4×10⁻⁵, over the target.
    c.post("/mail/billing/", {"month": "2026-02", "customers_billed": "50000", "customers_with_error": "2"})
    html = c.get("/mail/billing/").content.decode()
    assert "4×10⁻⁵" in html and "未达标" in html
    assert BillingErrorFigure.objects.get().customers_with_error == 2
    # More errors than customers billed: refused on the field, nothing saved.
    r = c.post("/mail/billing/", {"month": "2026-01", "customers_billed": "10", "customers_with_error": "11"})
    assert r.status_code == 400 and r.context["form"].errors["customers_with_error"]
    assert not BillingErrorFigure.objects.filter(month=date(2026, 1, 1)).exists()
    # An engineer reads the figures but does not enter them.
    e = client_for(engineer)
    r = e.get("/mail/billing/")
    assert r.status_code == 200 and 'id="billing-form"' not in r.content.decode()
    assert e.post("/mail/billing/", {"month": "2026-01", "customers_billed": "10",
                                     "customers_with_error": "0"}).status_code == 403
