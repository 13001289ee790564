"""Keyset pagination (slaportal.paging, slaportal.api_query): next/previous/last visit every row
once, whatever the ties in the ordering; the last page costs what the first does; counts above
the threshold are estimates said to be; a cursor the list did not make is a 400."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.db.models.functions import Lower
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from customers.models import Service
from slaportal import paging
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def services() -> list[int]:
    """23 services whose ordering (customer name, name) has many ties: three customers, five
    names."""
    ids = []
    customers = [f.CustomerFactory(name=n) for n in ("甲", "乙", "丙")]
    contracts = [f.ContractFactory(customer=c) for c in customers]
    for i in range(23):
        ids.append(f.ServiceFactory(contract=contracts[i % 3], name=f"服务 {i % 5}").pk)
    return ids


def _expected(ids: list[int]) -> list[int]:
    return list(Service.objects.filter(pk__in=ids).order_by("customer__name", "name", "pk")
                .values_list("pk", flat=True))


def _walk(client: Any, url: str, key: str) -> tuple[list[int], int]:
    seen: list[int] = []
    pages = 0
    while url:
        r = client.get(url)
        assert r.status_code == 200, r.content
        body = r.json()
        seen.extend(row["id"] for row in (body["results"] if key == "next" else reversed(body["results"])))
        url = body[key]
        pages += 1
        assert pages < 50
    return seen, pages


def test_next_visits_every_row_once_in_order(services, manager, api):
    seen, pages = _walk(api(manager), "/api/services/?page_size=4", "next")
    assert seen == _expected(services)
    assert pages == 6


def test_previous_from_the_last_page_visits_every_row_once(services, manager, api):
    client = api(manager)
    last = client.get("/api/services/?page_size=4").json()["last"]
    seen, _ = _walk(client, last, "previous")
    assert seen == list(reversed(_expected(services)))


def test_a_customer_pages_only_their_own_rows(services, alice, customer_a, api):
    contract = f.ContractFactory(customer=customer_a)
    mine = [f.ServiceFactory(contract=contract, name="同名").pk for _ in range(7)]
    seen, pages = _walk(api(alice), "/api/services/?page_size=3", "next")
    assert seen == sorted(mine) and pages == 3


def test_links_keep_the_filters_and_page_one_has_no_previous(services, manager, api):
    body = api(manager).get("/api/services/?page_size=4&active=true").json()
    assert body["previous"] is None and body["count"] == 23 and body["count_is_estimate"] is False
    assert "active=true" in body["next"] and "cursor=" in body["next"] and "page=" not in body["next"]
    assert "cursor=" not in body["first"]
    last = api(manager).get(body["last"]).json()
    assert last["next"] is None and len(last["results"]) == 4
    assert [r["id"] for r in last["results"]] == _expected(services)[-4:]


def test_the_old_page_numbers_still_work_and_link_by_cursor(services, manager, api):
    body = api(manager).get("/api/services/?page_size=4&page=3").json()
    assert [r["id"] for r in body["results"]] == _expected(services)[8:12]
    nxt = api(manager).get(body["next"]).json()
    assert [r["id"] for r in nxt["results"]] == _expected(services)[12:16]
    prev = api(manager).get(body["previous"]).json()
    assert [r["id"] for r in prev["results"]] == _expected(services)[4:8]


def test_the_last_page_query_has_no_offset(services, manager, api):
    client = api(manager)
    last = client.get("/api/services/?page_size=4").json()["last"]
    with CaptureQueriesContext(connection) as q:
        r = client.get(last)
    assert r.status_code == 200
    selects = [x["sql"] for x in q.captured_queries if 'FROM "customers_service"' in x["sql"]]
    assert selects and not any("OFFSET" in s.upper() for s in selects), selects
    deep = client.get(client.get("/api/services/?page_size=4").json()["next"])
    assert deep.status_code == 200
    with CaptureQueriesContext(connection) as q:
        client.get(deep.json()["next"])
    assert not any("OFFSET" in x["sql"].upper() for x in q.captured_queries)


def test_a_large_list_says_its_count_is_an_estimate(services, manager, api, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_EXACT_LIMIT", 10)
    body = api(manager).get("/api/services/").json()
    if connection.vendor == "postgresql":
        assert body["count_is_estimate"] is True and body["count"] >= 11
    else:
        assert body["count_is_estimate"] is False and body["count"] == 23
    monkeypatch.setattr(paging, "COUNT_EXACT_LIMIT", 100)
    body = api(manager).get("/api/services/").json()
    assert body["count_is_estimate"] is False and body["count"] == 23


def test_a_large_list_is_remembered_and_then_only_estimated(services, manager, api, monkeypatch):
    """A list found larger than the exact-count limit is not counted again for a minute: its
    count is the planner's estimate alone (one EXPLAIN, no COUNT); on SQLite it is always exact."""
    monkeypatch.setattr(paging, "COUNT_EXACT_LIMIT", 10)
    client = api(manager)
    with CaptureQueriesContext(connection) as first:
        assert client.get("/api/services/?page_size=4").json()["count"] >= 11
    with CaptureQueriesContext(connection) as second:
        body = client.get("/api/services/?page_size=4").json()

    def counting(q):  # type: ignore[no-untyped-def]
        return [x["sql"] for x in q.captured_queries if "COUNT(" in x["sql"].upper() or "EXPLAIN" in x["sql"]]

    if connection.vendor == "postgresql":
        assert len(counting(first)) == 2 and len(counting(second)) == 1
        assert counting(second)[0].startswith("EXPLAIN") and body["count_is_estimate"] is True
        monkeypatch.setattr(paging, "LARGE_REMEMBERED_SECONDS", -1.0)  # forgotten: counted again
        paging._LARGE.clear()
        with CaptureQueriesContext(connection) as third:
            client.get("/api/services/?page_size=4")
        assert len(counting(third)) == 2
    else:
        assert body["count"] == 23 and body["count_is_estimate"] is False


@pytest.mark.parametrize("cursor", ["abc", "", "eyJrIjpbXX0", "x" * 5000, "%00", "1:2:3"])
def test_a_bad_cursor_is_a_400_on_cursor(services, manager, api, cursor):
    with translation.override("en"):
        r = api(manager).get("/api/services/", {"cursor": cursor}, HTTP_ACCEPT_LANGUAGE="en")
    if cursor == "":
        assert r.status_code == 200
        return
    assert r.status_code == 400, r.content
    assert list(r.json()["errors"]) == ["cursor"]


def test_a_cursor_from_another_list_is_a_400(services, manager, api):
    f.ContractFactory()
    nxt = api(manager).get("/api/contracts/?page_size=1").json()["next"]
    cursor = nxt.split("cursor=")[1]
    r = api(manager).get("/api/services/", {"cursor": cursor})
    assert r.status_code == 400 and list(r.json()["errors"]) == ["cursor"]


@pytest.mark.parametrize("ordering", [
    ("-specialist_id", "name"),
    ("specialist__username", "-name"),
    ("-specialist__username", "name", "-pk"),
    (F("specialist_id").desc(nulls_last=True), "name"),
    (F("specialist__username").asc(nulls_first=True), "-name"),
    (Lower("name").desc(), "pk"),
])
def test_mixed_directions_and_nulls(db, ordering):
    """Orderings mixing descending and ascending fields over nullable values (a NULL
    foreign key, a NULL through a join) page exactly, forwards and backwards."""
    staff = [f.StaffFactory(role="specialist", username=f"s{i}") for i in range(2)]
    contract = f.ContractFactory()
    for i in range(17):
        f.ServiceFactory(contract=contract, name=f"N{i % 4}", specialist=None if i % 3 == 0 else staff[i % 2])
    qs = Service.objects.order_by(*ordering)
    keyset = paging.keyset_for(qs)
    assert keyset is not None
    expected = list(keyset.ordered().values_list("pk", flat=True))
    assert sorted(expected) == sorted(Service.objects.values_list("pk", flat=True))
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        info = paging.page_of(qs, page_size=3, cursor=cursor, keyset=keyset)
        seen += [r.pk for r in info.rows]
        if not info.next_cursor:
            break
        cursor = paging.read_cursor(keyset, info.next_cursor)
    assert seen == expected
    back: list[int] = []
    cursor = paging.Cursor("l", None, 0)
    for _ in range(10):
        info = paging.page_of(qs, page_size=3, cursor=cursor, keyset=keyset)
        back = [r.pk for r in info.rows] + back
        if not info.previous_cursor:
            break
        cursor = paging.read_cursor(keyset, info.previous_cursor)
    assert back == expected
