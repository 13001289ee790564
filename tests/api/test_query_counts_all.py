"""Every API list endpoint, found from the URL resolver, costs the same number of queries with 3
and with 30 rows, and at most 6, for a staff user (manager) and a customer user (alice), signed
in with a session as a browser is (so the session, the user and the roles are counted too).

The rows come from `_bundle()`, which makes one of (nearly) everything a list shows for customer
A; it runs 3 times, every list is measured, it runs 27 more times, every list is measured again.
A list whose row count does not grow is named in NOT_GROWN (with why): a new list endpoint
either grows with the bundle or must be named there, so it cannot go unmeasured silently.
Detail endpoints: the same for an object with 3 and with 30 related rows (the complaint's
attachments, the service request's replies and notes)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
NOW = timezone.now().replace(second=0, microsecond=0)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MAX_LIST_QUERIES = 6

# Lists the bundle does not grow, and why (they are still measured: equal and at most 6).
NOT_GROWN: dict[str, str] = {
    "/api/months/": "a month row needs a month close (heavy); one month is closed once",
    "/api/judgements/": "judgements come from a month close",
    "/api/statements/": "statements come from a month close",
    "/api/auth/tokens/": "grown for alice only (her own tokens)",
    "/api/inbox/": "each user's own items; grown only where the bundle notifies that user",
    "/api/mail/billing-figures/": "one row per month",
    "/api/workday-overrides/": "shared calendar, grown for staff only",
    "alice /api/customers/": "a customer user sees their own customer only",
}


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _walk(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def api_list_urls() -> list[str]:
    """Every /api/ URL without a path parameter whose view is paginated (a list)."""
    urls = []
    for path, p in _walk(get_resolver().url_patterns):
        cls = getattr(p.callback, "cls", None)
        if (path.startswith("api/") and "<" not in path and cls is not None
                and hasattr(cls, "list") and getattr(cls, "pagination_class", None) is not None):
            urls.append("/" + path)
    return urls


def _bundle(i: int, ctx: dict[str, Any]) -> None:
    """One of each listed object for customer A (index `i` keeps unique fields unique)."""
    from abuse.services import case_open_by_staff, listing_record, publication_record
    from access_requests.services import VisitorInput, visit_book
    from accounts.services import token_create
    from complaints.services import complaint_create
    from credits.services import credit_propose
    from incidents.choices import IncidentSource
    from incidents.services import emergency_declare, facility_event_record
    from mailservice.models import MailDomain, MailPlatform, PlatformEvent
    from monitoring.services import mailbox_save, target_save
    from operations import services as ops
    from orders.services import order_open_for_service, provisioning_open_for_service
    from servicedesk.services import request_create
    from sla.models import ContractPolicy, SlaPolicy, WorkdayOverride
    from sla.services import clock_start
    from traffic.services import switchport_save

    customer, spec, eng, dc = ctx["customer"], ctx["spec"], ctx["eng"], ctx["dc"]
    f.CustomerFactory()
    contract = f.ContractFactory(customer=customer)
    service = f.ServiceFactory(contract=contract, specialist=spec, engineer=eng)
    contact = f.AuthorizedContactFactory(customer=customer, channels=["email"])
    complaint_create(customer=customer, actor=spec, channel="complaint_line", subject="network",
                     title=f"网络时断时续 {i}", description="中断", complainant_contact=contact,
                     received_at=T0, now=T0)
    emergency_declare(service=service, source=IncidentSource.MONITOR, title=f"设备不可达 {i}",
                      description="x", outage_started_at=T0 - timedelta(minutes=5), now=T0)
    ops.operation_create(service=service, requested_by=contact, title=f"重启 {i}", description="x",
                         actor=eng, now=T0)
    order_open_for_service(service_id=service.pk, now=T0)
    email = f.ServiceFactory(contract=contract, kind="email", name=f"企业邮箱 {i}", specialist=spec, engineer=eng)
    provisioning_open_for_service(service_id=email.pk, now=T0)
    target_save(service=service, actor=eng, data={"kind": "device", "host": f"10.9.{i // 200}.{i % 200 + 1}",
                                                  "port": 22, "name": f"db{i}"})
    mailbox_save(service=email, actor=eng, now=T0, data={
        "address": f"probe{i}@d{i}.example.cn", "password": "pw", "smtp_host": "127.0.0.1",
        "smtp_port": 2587, "smtp_security": "none", "imap_host": "127.0.0.1", "imap_port": 2143,
        "imap_security": "none"})
    facility_event_record(title=f"停电 {i}", kind="power_cut", scopes=[("room", f"A{i}")], started_at=T0,
                          evidence="x", actor=dc, now=T0 + timedelta(minutes=5))
    visit_book(customer=customer, actor=ctx["alice"], room=ctx["room"], reason=f"更换硬盘 {i}",
               activity="operation", expected_entry_at=NOW + timedelta(days=3),
               expected_exit_at=NOW + timedelta(days=3, hours=3),
               visitors=[VisitorInput(name=f"张三{i}", id_type="resident_id", id_number="110101199001011234",
                                      phone="13900000000")], contact_email="ops@alpha.test", now=NOW)
    credit_propose(contract=contract, policy_code="C3", kind="refund_installation", amount=Decimal("5.00"),
                   period=date(2026, 1, 1), note="x")
    clock_start(subject=contract, policy_code="C8", contract=contract, now=T0, label=f"clock {i}")
    ContractPolicy.objects.create(contract=contract, policy=SlaPolicy.objects.get(code="C8"),
                                  threshold=Decimal("12"))
    base = SlaPolicy.objects.get(code="C8")
    base.pk, base.code = None, f"Q{i}"
    base.save()
    WorkdayOverride.objects.create(date=date(2040, 1, 1) + timedelta(days=i), is_working_day=True)
    token_create(user=ctx["alice"], name=f"token {i}", now=NOW)
    platform = MailPlatform.objects.create(name=f"邮件平台 {i}")
    MailDomain.objects.create(domain=f"d{i}.example.cn", service=email, platform=platform)
    PlatformEvent.objects.create(platform=platform, kind="fault", title=f"故障 {i}", started_at=T0,
                                 ended_at=T0 + timedelta(minutes=5), recorded_at=T0)
    case_open_by_staff(actor=eng, kind="inbound", title=f"垃圾邮件 {i}", description="x", customer=customer,
                       complainant_name="王经理", complainant_email="wang@alpha.example.cn",
                       opened_at=T0, now=T0)
    publication_record(reference=f"ISC-2026-{i}", published_at=T0, url="https://isc.example.cn/list/1",
                       actor=eng, now=T0)
    listing_record(organisation=f"反垃圾组织 {i}", listed_item=f"203.0.113.{i % 250 + 1}", listed_at=T0,
                   actor=eng, now=T0)
    request_create(customer=customer, actor=spec, kind="payment_renewal", channel="phone", service=service,
                   contact=contact, title=f"续费咨询 {i}", description="x", opened_at=T0, now=T0)
    switchport_save(service=service, actor=eng, now=T0,
                    data={"name": f"端口 {i}", "device_address": "192.0.2.7", "interface": str(i + 1),
                          "community": "c"})


@pytest.fixture
def ctx(db: Any) -> Iterator[dict[str, Any]]:
    from access_requests.models import DataCentre, Room

    alice = f.CustomerUserFactory(user__username="qc-alice", customer__name="甲公司 QC").user
    with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
        yield {
            "alice": alice, "customer": alice.customer_link.customer,
            "manager": f.StaffFactory(role="manager", username="qc-mia"),
            "spec": f.StaffFactory(role="specialist", username="qc-sam"),
            "eng": f.StaffFactory(role="engineer", username="qc-eve"),
            "dc": f.StaffFactory(role="dc_staff", username="qc-dan"),
            "room": Room.objects.create(data_centre=DataCentre.objects.create(name="北京一号", code="qc-bj1"),
                                        name="A301", code="qc-a301"),
        }


def _measure(client: Client, url: str) -> tuple[int, int | None, int]:
    with CaptureQueriesContext(connection) as q:
        r = client.get(url, secure=True)
    count = None
    if r.status_code == 200 and r["Content-Type"].startswith("application/json"):
        count = r.json().get("count")
    elif r.status_code == 200 and r["Content-Type"].startswith("text/csv"):
        count = r.content.count(b"\n") - 1  # rows after the header line
    return len(q.captured_queries), count, r.status_code


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_every_api_list_costs_the_same_small_number_of_queries_for_3_and_30_rows(ctx):
    urls = api_list_urls()
    assert len(urls) >= 30 and "/api/complaints/" in urls and "/api/services/" in urls
    users = {"manager": ctx["manager"], "alice": ctx["alice"]}
    for i in range(3):
        _bundle(i, ctx)
    for u in users.values():  # warm the process caches (content types) as a running server has
        for url in urls:
            _measure(_client(u), url)
    before = {(who, url): _measure(_client(u), url) for who, u in users.items() for url in urls}
    for i in range(3, 30):
        _bundle(i, ctx)
    problems = []
    for who, u in users.items():
        client = _client(u)
        for url in urls:
            q3, n3, s3 = before[(who, url)]
            q30, n30, s30 = _measure(client, url)
            if s3 != s30:
                problems.append(f"{who} {url}: status {s3} then {s30}")
                continue
            if s30 != 200:
                continue  # closed to this user (403): nothing listed
            if q3 != q30:
                problems.append(f"{who} {url}: {q3} queries with 3 rows, {q30} with 30")
            if q30 > MAX_LIST_QUERIES:
                problems.append(f"{who} {url}: {q30} queries (at most {MAX_LIST_QUERIES})")
            if (n3 is None or n30 is None or n30 < n3 + 27) and url not in NOT_GROWN and f"{who} {url}" not in NOT_GROWN:
                problems.append(f"{who} {url}: rows {n3} then {n30}: the bundle did not grow this list")
    assert not problems, "\n".join(problems)


DETAIL_CASES = ["complaint", "service_request"]


def _related(kind: str, obj: Any, n: int, ctx: dict[str, Any], start: int) -> None:
    """`n` more related rows of `obj` (what its detail shows as a list)."""
    if kind == "complaint":
        from complaints.services import complaint_attach

        for k in range(n):
            complaint_attach(complaint_id=obj.pk, actor=ctx["alice"], now=T0,
                             f=SimpleUploadedFile(f"a{start + k}.png", PNG, content_type="image/png"))
    elif kind == "service_request":
        from servicedesk.services import note_add, reply_add

        for k in range(n):
            reply_add(request_id=obj.pk, actor=ctx["spec"], body=f"答复 {start + k}",
                      now=T0 + timedelta(minutes=start + k))
            note_add(request_id=obj.pk, actor=ctx["spec"], body=f"备注 {start + k}",
                     now=T0 + timedelta(minutes=start + k))


def _detail_object(kind: str, ctx: dict[str, Any]) -> tuple[Any, str]:
    from complaints.models import Complaint
    from servicedesk.models import ServiceRequest

    model, url = {"complaint": (Complaint, "/api/complaints/{}/"),
                  "service_request": (ServiceRequest, "/api/service-requests/{}/")}[kind]
    obj = model.objects.filter(customer=ctx["customer"]).order_by("pk").first()
    return obj, url.format(obj.pk)


@pytest.mark.parametrize("kind", DETAIL_CASES)
def test_a_detail_costs_the_same_with_3_and_30_related_rows(ctx, kind):
    _bundle(0, ctx)
    obj, url = _detail_object(kind, ctx)
    _related(kind, obj, 3, ctx, 0)
    counts = {}
    for who in ("manager", "alice"):
        q, _, status = _measure(_client(ctx[who]), url)
        assert status == 200, (who, url)
        counts[who] = q
    _related(kind, obj, 27, ctx, 3)
    for who in ("manager", "alice"):
        q, _, _ = _measure(_client(ctx[who]), url)
        assert q == counts[who], f"{who} {url}: {counts[who]} queries with 3 related rows, {q} with 30"


def test_every_list_url_is_a_known_shape():
    """The enumeration finds lists by their view, not by a hand-kept table."""
    urls = api_list_urls()
    assert all(re.fullmatch(r"/api/[a-z0-9/._-]+", u) for u in urls)
    assert "/api/complaints/1/" not in urls


# --- The pages -----------------------------------------------------------------------------------
# A page has fixed costs on top of the API's (base.html's unread count and calendar check, the
# filter form's choices); what matters here is that they do not grow with the rows.
MAX_PAGE_QUERIES = 16
# Known exceptions, with why (each still bounded):
PAGE_LIMITS = {
    # The month's figures of the page's services: a fixed set of aggregate queries, not per row.
    "/mail/": 24,
}
# One query per KIND of subject the page's notifications are about (GenericForeignKey prefetch):
# bounded by the number of kinds (about ten), not by the rows; 3 rows show fewer kinds than 30.
GROWS_WITH_KINDS = {"/notifications/": 30}


def html_list_urls() -> list[str]:
    """Every list page: a URL without parameters named `<app>:list` or `<app>:<thing>_list`."""
    from django.urls import NoReverseMatch, reverse

    found = []
    for ns, (_prefix, resolver) in get_resolver().namespace_dict.items():
        if ns == "admin":
            continue
        for p in resolver.url_patterns:
            if isinstance(p, URLPattern) and p.name and (p.name == "list" or p.name.endswith("_list")):
                try:
                    found.append(reverse(f"{ns}:{p.name}"))
                except NoReverseMatch:
                    continue  # takes a parameter: not a top-level list
    return sorted(set(found))


def test_every_list_page_costs_the_same_for_3_and_30_rows(ctx, monkeypatch):
    from sla import calendars

    # The calendar banner's answer is kept a minute per process and forgotten when an override
    # is saved (the bundle saves some): both warm-ups below refill it, and it must outlast the
    # bundling, else the first page measured after pays a query the others do not.
    monkeypatch.setattr(calendars, "MISSING_YEARS_KEPT_SECONDS", 3600.0)
    urls = html_list_urls()
    assert "/complaints/" in urls and "/customers/" in urls and len(urls) >= 12
    users = {"manager": ctx["manager"], "alice": ctx["alice"]}
    for i in range(3):
        _bundle(i, ctx)

    clients = {who: _client(u) for who, u in users.items()}

    def measure(who: str, url: str) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as q:
            r = clients[who].get(url, secure=True)
        return len(q.captured_queries), r.status_code

    for who in users:
        for url in urls:
            measure(who, url)
    before = {(who, url): measure(who, url) for who in users for url in urls}
    for i in range(3, 30):
        _bundle(i, ctx)
    for who in users:
        clients[who].get("/", secure=True)
    problems = []
    for who in users:
        for url in urls:
            (q3, s3), (q30, s30) = before[(who, url)], measure(who, url)
            if s3 != s30 or s30 != 200:
                continue
            limit = GROWS_WITH_KINDS.get(url) or PAGE_LIMITS.get(url, MAX_PAGE_QUERIES)
            if q3 != q30 and url not in GROWS_WITH_KINDS:
                problems.append(f"{who} {url}: {q3} queries with 3 rows, {q30} with 30")
            if q30 > limit:
                problems.append(f"{who} {url}: {q30} queries (at most {limit})")
    assert not problems, "\n".join(problems)
