"""Every detail endpoint (API and HTML page), found from the URL resolver, costs the same number of
queries for an object with 3 and with 30 related rows, for a staff user (manager) and a customer
user (alice, customer A's user) wherever she may see it (a 404/403 for her: then only staff).

The objects come from `_bundle()` of the list test (one of nearly everything for customer A). The
related rows are audit entries written with the audit app's service (by rotating actors, so a
per-row actor lookup would show), plus what the detail lists: through its service where that is
simple (the complaint's attachments, the service request's replies and notes), else created
directly (RELATED_ROWS: an operation's steps, a visit's visitors, a monitoring target's state
changes) or through the factories (FACTORY_ROWS: a customer's contracts, services and contacts,
a mail platform's events, a mail service's domains). A spam case's steps and an order's checklist
items are one row per step code (a fixed set, unique per object): they cannot grow to 30, so
those objects grow by their audit rows only.
A detail endpoint that cannot be covered is named in NOT_COVERED (with why): a new detail endpoint
either gets an object in API_OBJECTS/PAGE_OBJECTS or must be named there, so it cannot go
unmeasured silently."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, get_resolver

from tests.api.test_query_counts_all import T0, _bundle, _client, _related, _walk, ctx  # noqa: F401

pytestmark = pytest.mark.django_db

Ctx = dict[str, Any]


def _first(label: str, **lookup: Any) -> Callable[[Ctx], Any]:
    def get(c: Ctx) -> Any:
        model = apps.get_model(label)
        kw = {k: c["customer"] if v == "customer" else v for k, v in lookup.items()}
        return model._default_manager.filter(**kw).order_by("pk").first()
    return get


def _customer(c: Ctx) -> Any:
    return c["customer"]


# Which object each API detail URL is measured on (by its resolver pattern).
API_OBJECTS: dict[str, Callable[[Ctx], Any]] = {
    "api/auth/tokens/<int:pk>/": _first("accounts.ApiToken", user__username="qc-alice"),
    "api/customers/<int:pk>/": _customer,
    "api/contracts/<int:pk>/": _first("customers.Contract", customer="customer"),
    "api/services/<int:pk>/": _first("customers.Service", contract__customer="customer"),
    "api/contacts/<int:pk>/": _first("customers.AuthorizedContact", customer="customer"),
    "api/policies/<int:pk>/": _first("sla.SlaPolicy", code="C8"),
    "api/policy-overrides/<int:pk>/": _first("sla.ContractPolicy", contract__customer="customer"),
    "api/workday-overrides/<int:pk>/": _first("sla.WorkdayOverride"),
    "api/clocks/<int:pk>/": _first("sla.Clock", contract__customer="customer"),
    "api/credits/<int:pk>/": _first("credits.Credit", contract__customer="customer"),
    "api/complaints/<int:pk>/": _first("complaints.Complaint", customer="customer"),
    "api/visits/<int:pk>/": _first("access_requests.Visit", customer="customer"),
    "api/incidents/<int:pk>/": _first("incidents.Incident"),
    "api/outages/<int:pk>/": _first("incidents.Outage"),
    "api/downtime/<int:pk>/": _first("customers.Service", contract__customer="customer"),
    "api/facility-events/<int:pk>/": _first("incidents.FacilityEvent"),
    "api/targets/<int:pk>/": _first("monitoring.Target"),
    "api/mailboxes/<int:pk>/": _first("monitoring.Mailbox"),
    "api/operations/<int:pk>/": _first("operations.OperationRequest"),
    "api/installation-orders/<int:pk>/": _first("orders.InstallationOrder"),
    "api/provisioning-orders/<int:pk>/": _first("orders.ProvisioningOrder"),
    "api/mail/platforms/<int:pk>/": _first("mailservice.MailPlatform"),
    "api/mail/domains/<int:pk>/": _first("mailservice.MailDomain"),
    "api/mail/platform-events/<int:pk>/": _first("mailservice.PlatformEvent"),
    "api/spam-cases/<int:pk>/": _first("abuse.SpamCase"),
    "api/isc-publications/<int:pk>/": _first("abuse.IscPublication"),
    "api/blacklist-listings/<int:pk>/": _first("abuse.BlacklistListing"),
    "api/switch-ports/<int:pk>/": _first("traffic.SwitchPort"),
    "api/service-requests/<int:pk>/": _first("servicedesk.ServiceRequest", customer="customer"),
}

# Which object each detail page is measured on (by its url name).
PAGE_OBJECTS: dict[str, Callable[[Ctx], Any]] = {
    "customers:detail": _customer,
    "sla:clock_detail": API_OBJECTS["api/clocks/<int:pk>/"],
    "credits:detail": API_OBJECTS["api/credits/<int:pk>/"],
    "complaints:detail": API_OBJECTS["api/complaints/<int:pk>/"],
    "access_requests:detail": API_OBJECTS["api/visits/<int:pk>/"],
    "incidents:detail": API_OBJECTS["api/incidents/<int:pk>/"],
    "incidents:facility_event_detail": API_OBJECTS["api/facility-events/<int:pk>/"],
    "monitoring:detail": API_OBJECTS["api/targets/<int:pk>/"],
    "monitoring:mailbox-detail": API_OBJECTS["api/mailboxes/<int:pk>/"],
    "operations:detail": API_OBJECTS["api/operations/<int:pk>/"],
    "orders:detail": API_OBJECTS["api/installation-orders/<int:pk>/"],
    "orders:provisioning_detail": API_OBJECTS["api/provisioning-orders/<int:pk>/"],
    "mailservice:service_detail": _first("customers.Service", contract__customer="customer", kind="email"),
    "mailservice:platform_detail": API_OBJECTS["api/mail/platforms/<int:pk>/"],
    "abuse:detail": API_OBJECTS["api/spam-cases/<int:pk>/"],
    "traffic:detail": API_OBJECTS["api/switch-ports/<int:pk>/"],
    "servicedesk:detail": API_OBJECTS["api/service-requests/<int:pk>/"],
}

# Detail endpoints not measured here, and why.
NOT_COVERED: dict[str, str] = {
    "api/notifications/<int:pk>/": "the bundle sends no notification about an object of customer A",
    "api/judgements/<int:pk>/": "judgements come from a month close (heavy)",
    "api/statements/<int:pk>/": "statements come from a month close (heavy)",
    "api/mail/billing-figures/<int:pk>/": "billing figures come from the monthly mail figures import",
    "api/mail/locked-accounts/<int:pk>/": "locked accounts come from the guarantee import",
    "settlement:judgement_detail": "judgements come from a month close (heavy)",
    "runtime:mailbox_detail": "a str parameter (the outgoing mailbox's name), not an object",
}

# The rows the kinds with their own related lists also get (besides the audit rows).
RELATED_KIND = {
    "api/complaints/<int:pk>/": "complaint", "complaints:detail": "complaint",
    "api/service-requests/<int:pk>/": "service_request", "servicedesk:detail": "service_request",
}


def _choice(label: str, field: str, k: int) -> Any:
    choices = apps.get_model(label)._meta.get_field(field).choices
    return choices[k % len(choices)][0]


def _at(k: int) -> Any:
    return T0 + timedelta(minutes=k)


# Rows a detail lists that have no simple service of their own: created directly (model, the
# foreign key to the object, the other fields for row `k` recorded by staff user `u`).
_ROWS: dict[str, tuple[str, str, Callable[[int, Any], dict[str, Any]]]] = {
    "operation": ("operations.OperationStep", "operation", lambda k, u: {
        "done_at": _at(k), "description": f"步骤 {k}", "recorded_by": u, "recorded_at": _at(k)}),
    "visit": ("access_requests.Visitor", "visit", lambda k, u: {
        "name": f"访客{k}", "id_type": "resident_id", "id_number_masked": "1101**********1234",
        "phone": "13900000000", "id_checked_by": u}),
    "target": ("monitoring.StateChange", "target", lambda k, u: {
        "at": _at(k), "from_state": _choice("monitoring.StateChange", "from_state", k),
        "to_state": _choice("monitoring.StateChange", "to_state", k + 1),
        "method": _choice("monitoring.StateChange", "method", k), "detail": f"变化 {k}"}),
}
RELATED_ROWS = {key: _ROWS[kind] for kind, keys in {
    "operation": ("api/operations/<int:pk>/", "operations:detail"),
    "visit": ("api/visits/<int:pk>/", "access_requests:detail"),
    "target": ("api/targets/<int:pk>/", "monitoring:detail"),
}.items() for key in keys}



def _customer_rows(customer: Any, k: int, c: Ctx) -> None:
    from tests import factories as f

    contract = f.ContractFactory(customer=customer)
    f.ServiceFactory(contract=contract, specialist=c["spec"], engineer=c["eng"], name=f"托管 {k}")
    f.AuthorizedContactFactory(customer=customer, channels=["email"])


def _platform_rows(platform: Any, k: int, c: Ctx) -> None:
    apps.get_model("mailservice.PlatformEvent").objects.create(
        platform=platform, kind="fault", title=f"故障 {k}", started_at=_at(k), ended_at=_at(k + 1),
        recorded_at=_at(k), recorded_by=c["eng"])


def _mail_service_rows(service: Any, k: int, c: Ctx) -> None:
    platform = apps.get_model("mailservice.MailPlatform").objects.create(name=f"平台 {k}")
    apps.get_model("mailservice.MailDomain").objects.create(domain=f"qc{k}.example.cn", service=service,
                                                            platform=platform)


# Rows made with the factories or other objects: the customer's contracts, services and contacts,
# the mail platform's events, the mail service's domains (each on its own platform).
FACTORY_ROWS: dict[str, Callable[[Any, int, Ctx], None]] = {
    "customers:detail": _customer_rows, "api/customers/<int:pk>/": _customer_rows,
    "mailservice:platform_detail": _platform_rows, "api/mail/platforms/<int:pk>/": _platform_rows,
    "mailservice:service_detail": _mail_service_rows,
}


def api_detail_patterns() -> list[str]:
    """Every /api/ URL ending in its one `<int:pk>` parameter whose view answers GET (a retrieve)."""
    found = []
    for path, p in _walk(get_resolver().url_patterns):
        cls = getattr(p.callback, "cls", None) or getattr(p.callback, "view_class", None)
        if (path.startswith("api/") and path.count("<") == 1 and path.endswith("<int:pk>/")
                and cls is not None and (hasattr(cls, "get") or hasattr(cls, "retrieve"))):
            found.append(path)
    return sorted(set(found))


def page_detail_names() -> list[str]:
    """Every page named `<app>:detail` or `<app>:<thing>_detail`/`-detail` with one parameter."""
    found = []
    for ns, (_prefix, resolver) in get_resolver().namespace_dict.items():
        if ns == "admin":
            continue
        for p in resolver.url_patterns:
            if (isinstance(p, URLPattern) and p.name and str(p.pattern).count("<") == 1
                    and (p.name == "detail" or p.name.endswith(("_detail", "-detail")))):
                found.append(f"{ns}:{p.name}")
    return sorted(set(found))


def _url(key: str, pk: int) -> str:
    from django.urls import reverse

    if key.startswith("api/"):
        return "/" + key.replace("<int:pk>", str(pk))
    return reverse(key, kwargs={"pk": pk})


def _add_related(key: str, obj: Any, n: int, c: Ctx, start: int) -> None:
    from audit.services import audit_record

    actors = [c["manager"], c["spec"], c["eng"], c["dc"], c["alice"]]
    for k in range(n):
        audit_record(obj=obj, action=f"qc-{start + k}", actor=actors[(start + k) % len(actors)],
                     reason=f"理由 {start + k}", now=T0 + timedelta(minutes=start + k))
    if key in RELATED_KIND:
        _related(RELATED_KIND[key], obj, n, c, start)
    elif key in FACTORY_ROWS:
        for k in range(start, start + n):
            FACTORY_ROWS[key](obj, k, c)
    elif key in RELATED_ROWS:
        model, fk, make = RELATED_ROWS[key]
        staff = actors[:4]
        for k in range(start, start + n):
            apps.get_model(model).objects.create(**{fk: obj}, **make(k, staff[k % len(staff)]))


def _count(client: Client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as q:
        r = client.get(url, secure=True)
    return len(q.captured_queries), r.status_code


def _check(keys: list[str], objects: dict[str, Callable[[Ctx], Any]], c: Ctx) -> list[str]:
    problems = []
    _bundle(0, c)
    targets = {}
    for key in keys:
        if key in NOT_COVERED:
            continue
        if key not in objects:
            problems.append(f"{key}: a detail endpoint with no object here and not in NOT_COVERED")
            continue
        obj = objects[key](c)
        if obj is None:
            problems.append(f"{key}: the bundle made no object for it")
            continue
        targets[key] = obj
    for key, obj in targets.items():
        _add_related(key, obj, 3, c, 0)
    clients = {who: _client(c[who]) for who in ("manager", "alice")}
    for key, obj in targets.items():  # warm the process caches (content types) as a server has
        for client in clients.values():
            _count(client, _url(key, obj.pk))
    before = {(who, key): _count(cl, _url(key, obj.pk)) for who, cl in clients.items()
              for key, obj in targets.items()}
    for key, obj in targets.items():
        _add_related(key, obj, 27, c, 3)
    for key, obj in targets.items():
        url = _url(key, obj.pk)
        seen = []
        for who, client in clients.items():
            (q3, s3), (q30, s30) = before[(who, key)], _count(client, url)
            if s3 != s30:
                problems.append(f"{who} {url} ({key}): status {s3} then {s30}")
            elif s30 == 200:
                seen.append(who)
                if q3 != q30:
                    problems.append(f"{who} {url} ({key}): {q3} queries with 3 related rows, {q30} with 30")
            elif s30 not in (403, 404):
                problems.append(f"{who} {url} ({key}): status {s30}")
        if "manager" not in seen and "alice" not in seen:
            problems.append(f"{key}: neither the manager nor alice could open {url}")
    for key in NOT_COVERED:
        if key.startswith("api/") == keys[0].startswith("api/") and key not in keys:
            problems.append(f"NOT_COVERED names {key}, which is no longer a detail endpoint")
    return problems


def test_every_api_detail_costs_the_same_for_3_and_30_related_rows(ctx):  # noqa: F811
    keys = api_detail_patterns()
    assert "api/complaints/<int:pk>/" in keys and "api/services/<int:pk>/" in keys and len(keys) >= 25
    problems = _check(keys, API_OBJECTS, ctx)
    assert not problems, "\n".join(problems)


def test_every_detail_page_costs_the_same_for_3_and_30_related_rows(ctx):  # noqa: F811
    keys = page_detail_names()
    assert "complaints:detail" in keys and "customers:detail" in keys and len(keys) >= 12
    problems = _check(keys, PAGE_OBJECTS, ctx)
    assert not problems, "\n".join(problems)
