"""The header search: a number fragment, a contact's phone and a Chinese word each find the
item, on the page and in the API; another customer's items are never found; bad input is an
empty page or a 400, never a 500."""

from __future__ import annotations

import pytest

from tests.search.conftest import api, web


def hits(body: dict, kind: str) -> list[int]:  # type: ignore[type-arg]
    return [h["id"] for g in body["groups"] if g["kind"] == kind for h in g["hits"]]


def test_a_fragment_of_a_complaint_number_finds_it(items_a, items_c, specialist, alice):
    number = items_a.complaint.number  # TS20260302-00000N
    fragment = number[-6:]
    assert fragment not in items_c.complaint.number
    for user in (specialist, alice):
        body = api(user).get("/api/search/", {"q": fragment}).json()
        assert hits(body, "complaint") == [items_a.complaint.pk]
        html = web(user).get("/search/", {"q": fragment}).content.decode()
        assert f"/complaints/{items_a.complaint.pk}/" in html and number in html


def test_a_contacts_phone_number_finds_the_contact_written_any_way(items_a, items_c, alice, specialist):
    for q in ("13800138000", "138-0013-8000", "0013-8000", "138 0013 8000"):
        body = api(specialist).get("/api/search/", {"q": q}).json()
        assert hits(body, "contact") == [items_a.contact.pk], q
        assert hits(body, "visit") == [items_a.visit.pk], q  # the booking's contact phone
    html = web(alice).get("/search/", {"q": "13800138000"}).content.decode()
    assert "王alpha经理" in html and f"/customers/{items_a.customer.pk}/" in html


def test_a_chinese_word_in_a_title_finds_the_item(items_a, alice):
    body = api(alice).get("/api/search/", {"q": "时断时续"}).json()
    assert hits(body, "complaint") == [items_a.complaint.pk]
    assert hits(api(alice).get("/api/search/", {"q": "网络"}).json(), "complaint") == [items_a.complaint.pk]
    assert hits(api(alice).get("/api/search/", {"q": "联通性"}).json(), "incident") == [items_a.incident.pk]
    assert hits(api(alice).get("/api/search/", {"q": "防火墙"}).json(), "operation") == [items_a.operation.pk]
    html = web(alice).get("/search/", {"q": "时断时续"}).content.decode()
    assert f"/complaints/{items_a.complaint.pk}/" in html


def test_every_kind_is_found_by_its_number_or_name(items_a, manager):
    body = api(manager).get("/api/search/", {"q": "20260302-000901"}).json()
    assert hits(body, "incident") == [items_a.incident.pk]
    assert hits(body, "operation") == [items_a.operation.pk]
    assert hits(api(manager).get("/api/search/", {"q": "JF20260303"}).json(), "visit") == [items_a.visit.pk]
    assert hits(api(manager).get("/api/search/", {"q": "张alpha"}).json(), "visit") == [items_a.visit.pk]
    assert hits(api(manager).get("/api/search/", {"q": "甲公司"}).json(), "customer") == [items_a.customer.pk]
    assert hits(api(manager).get("/api/search/", {"q": "WANG@ALPHA"}).json(), "contact") == [items_a.contact.pk]


@pytest.mark.parametrize("q", ["时断时续", "网络", "0013", "138", "王", "丙公司", "甲公司", "TS2026", "20260302",
                               "charlie", "alpha", "JF", "张"])
def test_a_customer_user_never_finds_another_customers_items(items_a, items_c, charlie, q):
    body = api(charlie).get("/api/search/", {"q": q, "limit": 20}).json()
    mine = {("complaint", items_c.complaint.pk), ("incident", items_c.incident.pk),
            ("operation", items_c.operation.pk), ("visit", items_c.visit.pk),
            ("contact", items_c.contact.pk), ("customer", items_c.customer.pk)}
    found = {(g["kind"], h["id"]) for g in body["groups"] for h in g["hits"]}
    assert found <= mine, found - mine
    html = web(charlie).get("/search/", {"q": q}).content.decode()
    for url in (f"/complaints/{items_a.complaint.pk}/", f"/incidents/{items_a.incident.pk}/",
                f"/operations/{items_a.operation.pk}/", f"/visits/{items_a.visit.pk}/",
                f"/customers/{items_a.customer.pk}/"):
        assert url not in html
    assert "甲公司 Alpha" not in html and "王alpha经理" not in html  # the query itself is echoed in the box


def test_staff_search_only_the_kinds_their_role_may_read(items_a, dc_staff):
    body = api(dc_staff).get("/api/search/", {"q": "13800138000"}).json()
    kinds = {g["kind"] for g in body["groups"]}
    assert "visit" in kinds and "complaint" not in kinds and "contact" not in kinds and "operation" not in kinds
    assert hits(body, "visit") == [items_a.visit.pk]


def test_at_most_limit_hits_per_kind_and_more_is_flagged(items_a, customer_a, specialist, alice):
    from complaints.services import complaint_create
    from tests.search.conftest import NOW

    for i in range(7):
        complaint_create(customer=customer_a, actor=specialist, channel="complaint_line", subject="network",
                         title=f"网络抖动 {i}", description="-", complainant_contact=items_a.contact,
                         received_at=NOW, now=NOW)
    [group] = [g for g in api(alice).get("/api/search/", {"q": "网络"}).json()["groups"]
               if g["kind"] == "complaint"]
    assert len(group["hits"]) == 6 and group["more"] is True
    body = api(alice).get("/api/search/", {"q": "网络", "limit": 20, "kind": "complaint"}).json()
    assert [g["kind"] for g in body["groups"]] == ["complaint"]
    assert len(body["groups"][0]["hits"]) == 8 and body["groups"][0]["more"] is False
    html = web(alice).get("/search/", {"q": "网络"}).content.decode()
    assert html.count("/complaints/") - html.count('href="/complaints/"') >= 6


def test_an_empty_query_is_an_empty_page_and_the_box_is_in_the_header(items_a, alice):
    r = web(alice).get("/search/")
    assert r.status_code == 200 and "/complaints/" not in r.content.decode().split("<main>", 1)[1]
    assert web(alice).get("/search/", {"q": "   "}).status_code == 200
    assert api(alice).get("/api/search/", {"q": ""}).json()["groups"] == []
    home = web(alice).get("/").content.decode()
    assert 'action="/search/"' in home and 'name="q"' in home


@pytest.mark.parametrize("params", [{"q": "x", "limit": 0}, {"q": "x", "limit": 21}, {"q": "x", "limit": "abc"},
                                    {"q": "x", "kind": "invoice"}, {"q": "x" * 101}, {"q": "a\x00b"}])
def test_out_of_range_api_parameters_are_400(alice, params):
    r = api(alice).get("/api/search/", params)
    assert r.status_code == 400, r.content


def test_overlong_or_nul_queries_on_the_page_are_an_empty_page_with_a_message(items_a, alice):
    for q in ("网" * 101, "网\x00络"):
        r = web(alice).get("/search/", {"q": q})
        assert r.status_code == 200
        assert f"/complaints/{items_a.complaint.pk}/" not in r.content.decode()


def test_search_needs_a_login(client):
    assert client.get("/search/?q=1").status_code == 302
    assert client.get("/api/search/?q=1").status_code in (401, 403)


@pytest.mark.parametrize("kind", ["complaint", "incident", "operation", "visit", "customer", "contact"])
def test_postgresql_can_answer_each_kind_from_its_trigram_index(items_a, manager, kind):
    """The query's search document must stay the exact expression search/migrations/0001
    indexed; if the two drift apart the index is silently never used (a scan at 100,000 rows)."""
    from django.db import connection, transaction

    from search.selectors import KINDS, _condition

    spec = KINDS[kind]
    qs = spec.queryset(manager).filter(_condition(spec, "13800138000")).order_by().values_list("pk", flat=True)
    if connection.vendor != "postgresql":
        # SQLite has no trigram index: the same query is a scan there, and must still work.
        assert list(qs) or kind in ("complaint", "incident", "operation", "customer")
        return
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SET LOCAL enable_seqscan = off")  # a handful of rows: otherwise a scan is cheaper
        plan = qs.explain()
    table = spec.queryset(manager).model._meta.db_table
    assert f"search_{table}_trgm" in plan, plan
