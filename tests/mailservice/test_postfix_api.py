"""POST /api/mail/delivery-log/: engineers and managers (by API token too) send log batches; the
same fixture through the API gives the same aggregates as through the command; a gap is a 409
naming the line to send from; bad input is a 400 with field errors; others are 401/403."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.services import token_create
from mailservice.api.ingest import MAX_LINES
from mailservice.models import DeliveryLogSource, LatencyHourly
from tests.factories import MailDomainFactory
from tests.mailservice.test_postfix_ingest import aggregates, expected
from tests.mailservice.test_postfix_parser import FIXTURE, fixture_lines

pytestmark = pytest.mark.django_db
URL = "/api/mail/delivery-log/"


@pytest.fixture
def domains(db: Any) -> None:
    MailDomainFactory(domain="alpha.cn")
    MailDomainFactory(domain="beta.cn")


def token_client(user: Any) -> APIClient:
    _token, key = token_create(user=user, name="log shipper")
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return c


def post(c: APIClient, lines: list[str], start: int, **extra: Any) -> Any:
    return c.post(URL, {"source": "mx1", "start_line": start, "lines": lines, **extra}, format="json")


def test_an_engineer_ships_the_log_in_batches_with_a_replay(domains: None, engineer: Any) -> None:
    c = token_client(engineer)
    lines = [line.rstrip("\n") for line in fixture_lines()]
    r = post(c, lines[:40], 0)
    assert r.status_code == 200, r.content
    assert r.json()["next_line"] == 40
    r = post(c, lines[30:], 30)  # the shipper did not see the answer and resends from 30
    assert r.status_code == 200
    body = r.json()
    assert (body["skipped"], body["accepted"], body["next_line"], body["in_flight"]) == (10, 31, 71, 1)
    assert aggregates() == expected()


def test_the_api_and_the_command_give_the_same_aggregates(domains: None, manager: Any, tmp_path: Path) -> None:
    assert post(token_client(manager), fixture_lines(), 0).status_code == 200
    through_api = aggregates()
    LatencyHourly.objects.all().delete()
    log = tmp_path / "mail.log"
    log.write_bytes(FIXTURE.read_bytes())
    call_command("maillog_ingest", str(log), source="mx1-file")
    assert aggregates() == through_api == expected()


def test_a_gap_is_a_409_with_the_line_to_send_from(domains: None, engineer: Any) -> None:
    c = token_client(engineer)
    post(c, fixture_lines()[:10], 0)
    r = post(c, fixture_lines()[20:], 20)
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "gap" and body["expected_start_line"] == 10
    assert "10" in body["errors"]["start_line"][0]
    assert DeliveryLogSource.objects.get(name="mx1").next_line == 10


def test_bad_input_is_a_400_with_field_errors(engineer: Any) -> None:
    c = token_client(engineer)
    r = c.post(URL, {"source": "", "start_line": -1, "lines": "not a list"}, format="json")
    assert r.status_code == 400
    assert set(r.json()["errors"]) == {"source", "start_line", "lines"}
    r = c.post(URL, {"source": "mx1", "start_line": 0, "lines": ["ok", 5]}, format="json")
    assert r.status_code == 400 and "lines" in r.json()["errors"]
    r = c.post(URL, {"source": "mx1", "start_line": 0, "lines": ["x"] * (MAX_LINES + 1)}, format="json")
    assert r.status_code == 400 and str(MAX_LINES) in r.json()["errors"]["lines"][0]
    r = c.post(URL, {"source": "mx1", "start_line": 0, "lines": ["x" * 20_000]}, format="json")
    assert r.status_code == 400
    assert not DeliveryLogSource.objects.exists()


def test_customers_and_other_staff_are_refused_and_anonymous_must_sign_in(
        alice: Any, specialist: Any, dc_staff: Any) -> None:
    for user in (alice, specialist, dc_staff):
        r = post(token_client(user), ["x"], 0)
        assert r.status_code == 403, user
    assert post(APIClient(), ["x"], 0).status_code == 401
    assert not DeliveryLogSource.objects.exists()
