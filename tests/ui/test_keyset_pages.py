"""List pages page by keyset (slaportal.paging.keyset_page): first / previous / next / last links
that keep the filters, "rows x–y of N", a stale link shown as the first page with a message."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.utils import translation

from slaportal import paging
from tests import factories as f

from .conftest import login

pytestmark = pytest.mark.django_db


def _links(html: str) -> dict[str, str]:
    return {rel: unescape(href) for href, rel in re.findall(r'<a href="([^"]+)" rel="(first|prev|next|last)"', html)}


def _names(html: str) -> list[str]:
    return re.findall(r"分页客户 (\d{3})", html)


@pytest.fixture
def customers(db):  # type: ignore[no-untyped-def]
    for i in range(120):
        f.CustomerFactory(name=f"分页客户 {i:03d}", code=f"pg-{i}")


def test_next_and_last_walk_the_customer_list(customers, manager):
    c = login(manager)
    with translation.override("en"):
        r = c.get("/customers/", HTTP_ACCEPT_LANGUAGE="en")
    html = r.content.decode()
    assert _names(html) == [f"{i:03d}" for i in range(50)]
    links = _links(html)
    assert set(links) == {"next", "last"} and "Rows 1–50 of 120" in html
    html2 = c.get("/customers/" + links["next"]).content.decode()
    assert _names(html2) == [f"{i:03d}" for i in range(50, 100)]
    assert set(_links(html2)) == {"first", "prev", "next", "last"}
    last = c.get("/customers/" + links["last"]).content.decode()
    assert _names(last) == [f"{i:03d}" for i in range(70, 120)]
    assert set(_links(last)) == {"first", "prev"}
    prev = c.get("/customers/" + _links(last)["prev"]).content.decode()
    assert _names(prev) == [f"{i:03d}" for i in range(20, 70)]


def test_links_keep_the_search(customers, manager):
    html = login(manager).get("/customers/", {"q": "分页客户"}).content.decode()
    assert "q=" in _links(html)["next"]


def test_a_stale_link_shows_the_first_page_with_a_message(customers, manager):
    r = login(manager).get("/customers/", {"cursor": "not-a-cursor"})
    assert r.status_code == 200 and _names(r.content.decode())[:1] == ["000"]
    assert [str(m) for m in r.context["messages"]]


def test_an_old_page_number_still_works(customers, manager):
    html = login(manager).get("/customers/", {"page": "2"}).content.decode()
    assert _names(html) == [f"{i:03d}" for i in range(50, 100)]


def test_a_large_list_says_about(customers, manager, monkeypatch):
    monkeypatch.setattr(paging, "COUNT_EXACT_LIMIT", 10)
    with translation.override("en"):
        html = login(manager).get("/customers/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    from django.db import connection

    if connection.vendor == "postgresql":
        assert re.search(r"Rows 1–50 of about [\d,]+", html)
