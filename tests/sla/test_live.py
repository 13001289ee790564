"""Live clocks: GET /api/clocks/live/?ids=… (what static/js/live.js polls) answers, in one query,
the state and time left of the clocks of the ids the user may see; another customer's id is
simply absent; bad ids are a 400 with the field's errors. The time_left tag renders the countdown
markup live.js ticks, and <body> carries the server's time and the wordings."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from rest_framework.test import APIClient

from sla.choices import ClockState
from sla.models import Clock
from sla.services import clock_pause, clock_start, clocks_sweep
from sla.templatetags.sla_ui import time_left
from tests import factories as f

URL = "/api/clocks/live/"


def _api(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(get_user_model().objects.get(pk=user.pk))
    return client


def _start(customer: Any, *, minutes_left: float = 120) -> Clock:
    """A C8 (24-hour) clock of `customer` due in `minutes_left` minutes."""
    contract = f.ContractFactory(customer=customer)
    t0 = timezone.now() - timedelta(hours=24) + timedelta(minutes=minutes_left)
    return clock_start(subject=contract, policy_code="C8", contract=contract, started_at=t0, now=t0)


@pytest.fixture
def clock_a(customer_a: Any) -> Clock:
    return _start(customer_a)


@pytest.fixture
def clock_c(charlie: Any) -> Clock:
    return _start(charlie.customer_link.customer)


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [c["id"] for c in response.json()["clocks"]]


def test_the_owner_sees_their_clock_and_another_customers_id_is_absent(alice, clock_a, clock_c):
    r = _api(alice).get(URL, {"ids": f"{clock_a.pk},{clock_c.pk}"})
    assert _ids(r) == [clock_a.pk]
    row = r.json()["clocks"][0]
    assert row["state"] == "running" and row["late"] is False and row["warned"] is False
    assert row["due_at"].endswith("+08:00") and row["warn_at"] and row["paused_at"] is None
    assert row["time_left"] and row["state_label"]
    assert _ids(_api(alice).get(URL, {"ids": str(clock_c.pk)})) == []


def test_anonymous_is_refused_like_the_rest_of_the_api(clock_a):
    assert _api(None).get(URL, {"ids": str(clock_a.pk)}).status_code in (401, 403)


def test_staff_see_every_customers_clocks(manager, clock_a, clock_c):
    assert _ids(_api(manager).get(URL, {"ids": f"{clock_c.pk},{clock_a.pk},{clock_a.pk}"})) == sorted(
        [clock_a.pk, clock_c.pk])


@pytest.mark.parametrize("ids", ["", "abc", "1,,2", "-1", "0", "1.5", "99999999999999999999",
                                 "9999999999999999999", ",".join(str(i) for i in range(1, 202))])
def test_bad_ids_are_a_400_with_the_fields_errors(alice, ids):
    r = _api(alice).get(URL, {"ids": ids})
    assert r.status_code == 400, (ids, r.content)
    assert list(r.json()["errors"]) == ["ids"]


def test_missing_ids_is_a_400(alice):
    r = _api(alice).get(URL)
    assert r.status_code == 400 and "ids" in r.json()["errors"]


def test_two_hundred_ids_are_one_query(manager, clock_a, clock_c):
    client = _api(manager)
    client.get(URL, {"ids": str(clock_a.pk)})  # warm up (content types, permissions)
    with CaptureQueriesContext(connection) as one:
        client.get(URL, {"ids": str(clock_a.pk)})
    with CaptureQueriesContext(connection) as many:
        r = client.get(URL, {"ids": ",".join([str(clock_a.pk), str(clock_c.pk),
                                              *(str(i) for i in range(10**6, 10**6 + 198))])})
    assert _ids(r) == sorted([clock_a.pk, clock_c.pk])
    assert len(many.captured_queries) == len(one.captured_queries)


def test_a_breach_by_the_sweep_shows_in_the_next_answer(alice, clock_a):
    with translation.override("en"):
        before = _api(alice).get(URL, {"ids": str(clock_a.pk)}, HTTP_ACCEPT_LANGUAGE="en").json()["clocks"][0]
        assert before["state"] == "running" and before["time_left"].endswith(" left")
        assert clocks_sweep(now=clock_a.warn_at).warned == [clock_a.pk]
        warned = _api(alice).get(URL, {"ids": str(clock_a.pk)}, HTTP_ACCEPT_LANGUAGE="en").json()["clocks"][0]
        assert warned["warned"] is True and warned["warning"] is True and warned["state"] == "running"
        assert clocks_sweep(now=clock_a.due_at).breached == [clock_a.pk]
        after = _api(alice).get(URL, {"ids": str(clock_a.pk)}, HTTP_ACCEPT_LANGUAGE="en").json()["clocks"][0]
    assert after["state"] == ClockState.BREACHED and after["late"] is True and after["warning"] is False
    assert after["state_label"] == "breached" and after["time_left"].startswith("overdue by")


def test_a_paused_clock_says_so(alice, clock_a):
    clock_pause(clock_id=clock_a.pk)
    with translation.override("en"):
        row = _api(alice).get(URL, {"ids": str(clock_a.pk)}, HTTP_ACCEPT_LANGUAGE="en").json()["clocks"][0]
    assert row["state"] == "paused" and row["paused_at"] and row["time_left"].startswith("paused, ")


def test_the_time_left_tag_renders_a_countdown(clock_a):
    now = clock_a.due_at - timedelta(hours=10, minutes=30, seconds=30)
    with translation.override("en"):
        html = str(time_left(clock_a, now))
    assert html.startswith(f'<span class="countdown" data-clock="{clock_a.pk}"')
    assert 'data-state="running"' in html and ">10 h 30 min left</span>" in html
    assert re.search(r'data-due="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00"', html)
    assert re.search(r'data-warn="[^"]+\+08:00"', html)
    assert 'class="countdown soon"' in str(time_left(clock_a, clock_a.warn_at))
    assert 'class="countdown late"' in str(time_left(clock_a, clock_a.due_at + timedelta(seconds=1)))


def test_pages_carry_what_live_js_needs(alice, charlie, clock_a):
    c = Client()
    c.force_login(alice)
    html = c.get(f"/sla/clocks/{clock_a.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'src="/static/js/live.js"' in html or "js/live." in html
    body = re.search(r"<body ([^>]*)>", html)
    assert body is not None
    attrs = body.group(1)
    assert 'data-live-endpoint="/api/clocks/live/"' in attrs and "data-server-now=" in attrs
    assert 'data-label-left="剩余 %(span)s"' in attrs and 'data-label-minutes="%(m)d 分钟"' in attrs
    assert f'data-clock-pill="{clock_a.pk}"' in html and f'data-clock="{clock_a.pk}"' in html
    # No endpoint for someone who may not read clocks (signed out: the login page).
    anon = Client().get("/accounts/login/").content.decode()
    assert "data-live-endpoint" not in anon and "data-label-left" in anon
