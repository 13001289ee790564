"""Out-of-range and malformed query values are a 400 with field errors in the API and a form
error / ignored filter with a message on the pages, never a 500.

The API walk reads every GET operation and its query parameters from the generated OpenAPI
schema, so an endpoint or parameter added later is walked too."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

from tests import factories as f

# Each a value some real client or attacker sends to a page: a year past 9999, negative, a month
# 13, a date that does not exist, a number past 64 bits, not a number at all, a NUL byte
# (PostgreSQL refuses it in a string), extreme but valid dates whose day bounds cannot be computed.
HOSTILE = ["10000", "-1", "2026-02-30", "2026-13", "99999999999999999999999", "abc", "\x00",
           "0001-01-01", "9999-12-31"]


# The hostile values worth sending to an API query parameter of each type.
BY_TYPE = {
    "integer": ["10000", "-1", "0", "99999999999999999999999", "1.5", "NaN", "abc", ""],
    "number": ["-1", "99999999999999999999999", "NaN", "abc"],
    "boolean": ["maybe", "2", ""],
    "date": ["2026-02-30", "0001-01-01", "9999-12-31", "2026-13", "abc"],
    "string": ["10000", "-1", "2026-13", "9999-12", "\x00", "abc", ""],
}


def _kind(param: dict[str, Any]) -> str:
    schema = param.get("schema", {})
    if schema.get("format") == "date":
        return "date"
    return schema.get("type") if schema.get("type") in BY_TYPE else "string"


def _get_operations() -> list[tuple[str, dict[str, list[str]]]]:
    """(path, {query parameter: hostile values}) of every GET operation with query parameters."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    ops = []
    for path, methods in schema["paths"].items():
        get = methods.get("get")
        if not get:
            continue
        query = {p["name"]: BY_TYPE[_kind(p)] for p in get.get("parameters", []) if p["in"] == "query"}
        if query:
            ops.append((path, query))
    return ops


@pytest.fixture
def world(alice, manager, customer_a):  # type: ignore[no-untyped-def]
    """One service of customer A: a real id for the paths that name one."""
    contract = f.ContractFactory(customer=customer_a)
    service = f.ServiceFactory(customer=customer_a, contract=contract)
    return {"id": service.pk}


def assert_error_body(r: Any, *, status: int | None = None) -> dict[str, Any]:
    body = r.json()
    assert isinstance(body.get("detail"), str) and body["detail"], body
    assert isinstance(body.get("code"), str) and body["code"], body
    if r.status_code == 400:
        assert isinstance(body["errors"], dict), body
        for field, messages in body["errors"].items():
            assert isinstance(field, str) and messages and all(isinstance(m, str) for m in messages), body
    if status is not None:
        assert r.status_code == status, body
    return body


def test_every_list_endpoint_answers_hostile_query_values_without_a_server_error(world, alice, manager, api):
    ops = _get_operations()
    assert len(ops) >= 20  # the walk reaches the list endpoints (a broken schema would walk nothing)
    clients = {"manager": api(manager), "customer": api(alice)}
    server_errors = []
    for path, params in ops:
        url = path.replace("{id}", str(world["id"]))
        for who, client in clients.items():
            for param, values in params.items():
                for value in values:
                    r = client.get(url, {param: value})
                    if r.status_code >= 500:
                        server_errors.append(f"{who} GET {url}?{param}={value!r}: {r.status_code}")
                        continue
                    assert r.status_code in (200, 400, 403, 404), (who, url, param, value, r.status_code)
                    if r.status_code >= 400:
                        body = assert_error_body(r)
                        if r.status_code == 400:
                            # The 400 names the parameter that was wrong.
                            assert param in body["errors"], (url, param, value, body)
    assert server_errors == []


@pytest.mark.parametrize(("url", "param", "value"), [
    ("/api/workday-overrides/", "year", "10000"),
    ("/api/workday-overrides/", "year", "-1"),
    ("/api/workday-overrides/", "year", "2026.5"),
    ("/api/workday-overrides/", "is_working_day", "maybe"),
    ("/api/clocks/", "customer", "99999999999999999999999"),
    ("/api/clocks/", "customer", "1.5"),
    ("/api/clocks/", "state", "haywire"),
    ("/api/visits/", "date_from", "2026-02-30"),
    ("/api/visits/", "date_from", "0001-01-01"),
    ("/api/visit-log/csv/", "date_to", "9999-12-31"),
    ("/api/incidents/", "state", "on-fire"),
    ("/api/incidents/", "service", "abc"),
    ("/api/outages/", "kind", "gas"),
    ("/api/targets/", "service", "-1"),
    ("/api/customers/", "page", "0"),
    ("/api/customers/", "page", "999999"),
    ("/api/customers/", "page", "abc"),
    ("/api/customers/", "page_size", "0"),
    ("/api/customers/", "page_size", "100000"),
    ("/api/overdue/", "format", "xml"),
])
def test_a_bad_query_value_is_a_400_naming_the_parameter(world, manager, api, url, param, value):
    with translation.override("en"):
        r = api(manager).get(url, {param: value}, HTTP_ACCEPT_LANGUAGE="en")
    body = assert_error_body(r, status=400)
    assert body["code"] == "invalid"
    assert list(body["errors"]) == [param], body


def test_the_downtime_month_is_checked(world, alice, api):
    url = f"/api/downtime/{world['id']}/"
    for month in ("2026-13", "10000-01", "-1-01", "2026-1", "0000-00", "9999-12"):
        body = assert_error_body(api(alice).get(url, {"month": month}), status=400)
        assert list(body["errors"]) == ["month"], (month, body)
    assert api(alice).get(url, {"month": "2026-02"}).status_code == 200
    body = assert_error_body(api(alice).get(url, {"kind": "gas"}), status=400)
    assert list(body["errors"]) == ["kind"]


def test_a_date_range_ending_before_it_starts_is_a_400(manager, api):
    r = api(manager).get("/api/visits/", {"date_from": "2026-03-02", "date_to": "2026-03-01"})
    assert list(assert_error_body(r, status=400)["errors"]) == ["date_to"]


def test_valid_values_still_filter(world, manager, customer_a, api):
    r = api(manager).get("/api/services/", {"customer": customer_a.pk, "active": "true", "page": "1",
                                            "page_size": "1"})
    assert r.status_code == 200 and [s["id"] for s in r.json()["results"]] == [world["id"]]
    assert api(manager).get("/api/services/", {"active": "false"}).json()["results"] == []
    assert api(manager).get("/api/customers/", {"page": "last"}).status_code == 200


# --- The pages ---------------------------------------------------------------------------------

def _page_urls(service_id: int) -> dict[str, list[str]]:
    """Every page with query parameters, and the parameters it reads."""
    return {
        reverse("complaints:list"): ["state", "subject", "overdue", "customer", "page"],
        reverse("credits:list"): ["state", "page"],
        reverse("operations:list"): ["state", "page"],
        reverse("access_requests:list"): ["state", "room", "date_from", "date_to", "q", "page"],
        reverse("access_requests:schedule"): ["start", "days", "room"],
        reverse("access_requests:door"): ["q"],
        reverse("access_requests:log_csv"): ["date_from", "date_to", "room"],
        reverse("incidents:list"): ["state", "page"],
        reverse("incidents:downtime", args=[service_id]): ["month"],
        reverse("customers:list"): ["q", "page"],
        reverse("sla:overdue"): ["customer", "assignee", "policy", "bucket", "page"],
        reverse("sla:overdue_csv"): ["customer", "assignee", "policy", "bucket"],
        reverse("sla:clock_list"): ["state", "page"],
        reverse("monitoring:list"): ["state", "page"],
        reverse("notifications:list"): ["status", "channel", "page"],
    }


def test_every_page_answers_hostile_query_values_without_a_server_error(world, client, manager, alice,
                                                                        dc_staff):
    client.raise_request_exception = False  # count the 500s instead of stopping at the first
    server_errors = []
    door = reverse("access_requests:door")
    for user in (manager, alice, dc_staff):
        client.force_login(user)
        for url, params in _page_urls(world["id"]).items():
            if (user == dc_staff) != (url == door):  # only data-centre staff work at the door
                continue
            for param in params:
                for value in HOSTILE:
                    r = client.get(url, {param: value})
                    if r.status_code >= 500:
                        server_errors.append(f"{user.username} GET {url}?{param}={value!r}: {r.status_code}")
    assert server_errors == []


@pytest.mark.parametrize(("name", "param", "value"), [
    ("access_requests:list", "date_from", "0001-01-01"),
    ("access_requests:list", "date_to", "2026-02-30"),
    ("access_requests:schedule", "start", "9999-12-31"),
    ("complaints:list", "state", "on-fire"),
    ("incidents:list", "state", "on-fire"),
    ("monitoring:list", "state", "\x00"),
    ("credits:list", "state", "lost"),
])
def test_a_bad_filter_on_a_page_is_ignored_with_a_message(client, manager, name, param, value):
    client.force_login(manager)
    with translation.override("en"):
        r = client.get(reverse(name), {param: value}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
    texts = [str(m) for m in get_messages(r.wsgi_request)]
    assert any("ignored" in t for t in texts), texts


def test_a_bad_downtime_month_shows_the_current_month_with_a_message(world, client, alice):
    client.force_login(alice)
    r = client.get(reverse("incidents:downtime", args=[world["id"]]), {"month": "10000-01"},
                   HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 200
    assert [m.level_tag for m in get_messages(r.wsgi_request)] == ["error"]


def test_a_visit_log_download_with_a_bad_date_goes_back_to_the_list(client, manager):
    client.force_login(manager)
    r = client.get(reverse("access_requests:log_csv"), {"date_from": "0001-01-01"})
    assert r.status_code == 302 and r["Location"].startswith(reverse("access_requests:list"))
    assert "date_from=0001-01-01" in r["Location"]  # the list shows the same filters and why
