"""API tokens (accounts.ApiToken): issued by POST /api/auth/token/, stored only as a hash, sent as
`Authorization: Token <key>`; they expire after API_TOKEN_TTL_HOURS and their owner can list and
revoke them. An expired or revoked token is a 401; another user's token id is a 404."""

from __future__ import annotations

import hashlib
import importlib
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import time_machine
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import token_create
from audit.models import AuditEntry

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"


def obtain(user: Any, **extra: Any) -> Any:
    return APIClient().post("/api/auth/token/", {"username": user.username, "password": PASSWORD, **extra},
                            format="json")


def as_token(key: str) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return c


def session(user: Any) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_obtain_returns_a_key_and_its_expiry_and_stores_only_a_hash(alice):
    before = timezone.now()
    r = obtain(alice, name="billing script")
    assert r.status_code == 200
    body = r.json()
    key = body["token"]
    assert key.startswith("slp_") and len(key) > 40
    expires_at = parse_datetime(body["expires_at"])
    assert expires_at is not None
    assert timedelta(hours=719) < expires_at - before <= timedelta(hours=720, seconds=5)
    row = ApiToken.objects.get(pk=body["id"])
    assert (row.user, row.name, row.prefix) == (alice, "billing script", key[:12])
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    stored = [str(v) for v in ApiToken.objects.filter(pk=row.pk).values().get().values()]
    assert key not in stored
    assert AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(ApiToken),
                                     object_id=row.pk, action="api_token_create", actor=alice).exists()


def test_the_key_authenticates_and_marks_last_use(alice, customer_a):
    key = obtain(alice).json()["token"]
    r = as_token(key).get("/api/customers/")
    assert r.status_code == 200 and [c["id"] for c in r.json()["results"]] == [customer_a.pk]
    assert ApiToken.objects.get().last_used_at is not None


def test_each_obtain_issues_a_new_token(alice):
    first, second = obtain(alice).json(), obtain(alice).json()
    assert first["token"] != second["token"] and ApiToken.objects.filter(user=alice).count() == 2
    assert as_token(first["token"]).get("/api/customers/").status_code == 200


@override_settings(API_TOKEN_TTL_HOURS=2)
def test_an_expired_token_is_a_401(alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        key = obtain(alice).json()["token"]
    with time_machine.travel(start + timedelta(hours=1, minutes=59), tick=False):
        assert as_token(key).get("/api/customers/").status_code == 200
    with time_machine.travel(start + timedelta(hours=2, seconds=1), tick=False):
        r = as_token(key).get("/api/customers/")
        assert r.status_code == 401 and r["WWW-Authenticate"] == "Token"
        assert session(alice).get("/api/auth/tokens/").json()["results"][0]["state"] == "expired"


def test_the_owner_revokes_a_token_and_it_is_a_401_from_then_on(alice):
    key, pk = (lambda b: (b["token"], b["id"]))(obtain(alice).json())
    other = obtain(alice).json()["token"]
    r = as_token(other).post(f"/api/auth/tokens/{pk}/revoke/")
    assert r.status_code == 200 and r.json()["state"] == "revoked" and r.json()["revoked_at"]
    assert as_token(key).get("/api/customers/").status_code == 401
    assert as_token(other).get("/api/customers/").status_code == 200
    assert AuditEntry.objects.filter(object_id=pk, action="api_token_revoke", actor=alice).count() == 1
    # Revoking again is refused and changes nothing.
    assert as_token(other).post(f"/api/auth/tokens/{pk}/revoke/").status_code == 409
    assert AuditEntry.objects.filter(object_id=pk, action="api_token_revoke").count() == 1


def test_delete_revokes_too_and_a_token_can_revoke_itself(alice):
    body = obtain(alice).json()
    c = as_token(body["token"])
    assert c.delete(f"/api/auth/tokens/{body['id']}/").status_code == 204
    assert c.get("/api/auth/tokens/").status_code == 401
    assert ApiToken.objects.get(pk=body["id"]).revoked_at is not None  # kept, with its history


def test_the_owner_lists_their_tokens_without_keys(alice, charlie):
    mine = obtain(alice, name="mine").json()
    obtain(charlie, name="charlie's")
    r = as_token(mine["token"]).get("/api/auth/tokens/")
    assert r.status_code == 200
    rows = r.json()["results"]
    assert [(t["id"], t["name"], t["state"]) for t in rows] == [(mine["id"], "mine", "active")]
    assert "token" not in rows[0] and "key_hash" not in rows[0] and mine["token"] not in r.content.decode()
    assert rows[0]["prefix"] == mine["token"][:12]


def test_another_users_token_id_is_a_404_and_changes_nothing(alice, charlie):
    theirs = obtain(charlie).json()
    mine = session(alice)
    assert mine.get(f"/api/auth/tokens/{theirs['id']}/").status_code == 404
    assert mine.post(f"/api/auth/tokens/{theirs['id']}/revoke/").status_code == 404
    assert mine.delete(f"/api/auth/tokens/{theirs['id']}/").status_code == 404
    assert ApiToken.objects.get(pk=theirs["id"]).revoked_at is None
    assert as_token(theirs["token"]).get("/api/auth/tokens/").status_code == 200
    assert mine.get("/api/auth/tokens/999999/").status_code == 404


@pytest.mark.parametrize("header", ["Token", "Token a b", "Token slp_not-a-real-key", "Token \u00e9\u00e9"])
def test_a_bad_or_unknown_key_is_a_401(alice, header):
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=header)
    assert c.get("/api/customers/").status_code == 401


def test_a_deactivated_users_token_is_a_401(alice):
    key = obtain(alice).json()["token"]
    alice.is_active = False
    alice.save()
    assert as_token(key).get("/api/customers/").status_code == 401


def test_anonymous_gets_401_with_the_token_challenge():
    r = APIClient().get("/api/auth/tokens/")
    assert r.status_code == 401 and r["WWW-Authenticate"] == "Token"


def test_token_create_service_and_ttl_setting(alice):
    now = timezone.now()
    with override_settings(API_TOKEN_TTL_HOURS=24):
        token, key = token_create(user=alice, name="  nightly export  ", now=now)
    assert token.expires_at == now + timedelta(hours=24) and token.name == "nightly export"
    assert token.is_usable(now) and not token.is_usable(now + timedelta(hours=24))


def test_keys_drf_issued_before_the_switch_keep_working_and_leave_drfs_table(alice):
    """The data migration: a DRF key (40 hex characters, stored in plain text) becomes an expiring
    ApiToken stored as a hash, and the plain-text copy is deleted."""
    legacy = "0123456789abcdef0123456789abcdef01234567"
    with connection.cursor() as cursor:
        if "authtoken_token" not in connection.introspection.table_names():
            cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
                           "user_id integer NOT NULL, created timestamp with time zone)")
        cursor.execute("INSERT INTO authtoken_token (key, user_id, created) VALUES (%s, %s, %s)",
                       [legacy, alice.pk, timezone.now()])
    migration = importlib.import_module("accounts.migrations.0002_import_drf_tokens")
    migration.import_drf_tokens(apps, SimpleNamespace(connection=connection))
    row = ApiToken.objects.get(user=alice)
    assert row.key_hash == hashlib.sha256(legacy.encode()).hexdigest() and row.expires_at > timezone.now()
    assert as_token(legacy).get("/api/auth/tokens/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
