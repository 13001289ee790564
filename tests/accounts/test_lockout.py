"""Sign-in throttling (django-axes, accounts/lockout.py): a user name locks after repeated failures
from anywhere, a client address after (more) failures for any user names; while locked even the
right password is refused, on the login page, the admin login and the token API alike; the lock
ends by itself after the cool-off, or when a manager lifts it (managers only, audited)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.contenttypes.models import ContentType
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.lockout import client_ip
from accounts.models import LockoutRelease
from audit.models import AuditEntry
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-1"
LOGIN = "/accounts/login/"
TOKEN = "/api/auth/token/"


def login(username: str, password: str, ip: str = "127.0.0.1", client: Client | None = None) -> Any:
    return (client or Client()).post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def token(username: str, password: str, ip: str = "127.0.0.1") -> Any:
    return APIClient().post(TOKEN, {"username": username, "password": password}, format="json",
                            REMOTE_ADDR=ip)


def signed_in(response: Any) -> bool:
    return response.status_code == 302 and response.wsgi_request.user.is_authenticated


def manager_client(manager: Any) -> Client:
    c = Client()
    c.force_login(manager)
    return c


# --- the acceptance scenario --------------------------------------------------------------------

def test_login_page_31_failures_lock_even_the_right_password_until_a_manager_lifts_it(alice, manager):
    for _ in range(31):
        r = login(alice.username, "wrong")
        assert r.status_code in (200, 429)  # the form again, then the lockout page; never a 500
    refused = login(alice.username, PASSWORD)
    assert refused.status_code == 429 and not refused.wsgi_request.user.is_authenticated
    assert "Retry-After" in refused

    page = manager_client(manager).get("/accounts/lockouts/")
    assert page.status_code == 200 and alice.username in page.content.decode()
    lifted = manager_client(manager).post("/accounts/lockouts/lift/", {
        "kind": "username", "value": alice.username, "reason": "called from her office, verified"})
    assert lifted.status_code == 302

    assert signed_in(login(alice.username, PASSWORD))
    release = LockoutRelease.objects.get()
    assert (release.kind, release.value, release.released_by, release.failures) == (
        "username", alice.username, manager, 10)
    entry = AuditEntry.objects.get(content_type=ContentType.objects.get_for_model(LockoutRelease),
                                   object_id=release.pk)
    assert (entry.action, entry.actor, entry.reason) == ("login_lockout_lift", manager,
                                                         "called from her office, verified")


def test_token_api_31_failures_lock_even_the_right_password_until_a_manager_lifts_it(alice, manager):
    for _ in range(31):
        assert token(alice.username, "wrong").status_code in (400, 429)
    refused = token(alice.username, PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["code"] == "login_locked_out" and refused.json()["detail"]
    assert "token" not in refused.json() and "Retry-After" in refused

    api = APIClient()
    api.force_authenticate(manager)
    assert [(lo["kind"], lo["value"]) for lo in api.get("/api/auth/lockouts/").json()] == [
        ("username", alice.username), ]
    r = api.post("/api/auth/lockouts/lift/", {"kind": "username", "value": alice.username}, format="json")
    assert r.status_code == 200 and r.json()["released_by"] == manager.username

    ok = token(alice.username, PASSWORD)
    assert ok.status_code == 200 and ok.json()["token"]
    assert AuditEntry.objects.filter(action="login_lockout_lift", actor=manager).count() == 1


def test_failures_on_the_page_and_the_api_count_together(alice):
    for _ in range(5):
        login(alice.username, "wrong")
    for _ in range(5):
        token(alice.username, "wrong")
    assert token(alice.username, PASSWORD).status_code == 429
    assert login(alice.username, PASSWORD).status_code == 429


def test_the_admin_login_is_locked_too(alice, manager):
    for _ in range(10):
        login(manager.username, "wrong")
    r = Client().post("/admin/login/", {"username": manager.username, "password": PASSWORD},
                      REMOTE_ADDR="127.0.0.1")
    assert r.status_code == 429 and not r.wsgi_request.user.is_authenticated


# --- limits, windows, counting --------------------------------------------------------------------

def test_the_tenth_failure_locks_the_ninth_does_not(alice):
    for _ in range(9):
        assert login(alice.username, "wrong").status_code == 200
    assert signed_in(login(alice.username, PASSWORD))
    # A successful sign-in forgets the user's failures: nine more do not lock either.
    for _ in range(9):
        login(alice.username, "wrong")
    assert signed_in(login(alice.username, PASSWORD))
    for _ in range(9):
        login(alice.username, "wrong")
    assert login(alice.username, "wrong").status_code == 429  # the 10th answers with the lock
    assert login(alice.username, PASSWORD).status_code == 429


def test_a_user_name_locks_whatever_address_the_guesses_come_from(alice):
    for i in range(10):
        login(alice.username, "wrong", ip=f"198.51.100.{i + 1}")
    assert login(alice.username, PASSWORD, ip="203.0.113.9").status_code == 429
    # Another user from those addresses is not affected: each address made only one failure.
    bob = f.UserFactory(username="bob")
    assert signed_in(login(bob.username, PASSWORD, ip="198.51.100.1"))


def test_an_address_locks_after_its_own_higher_limit_across_user_names(alice):
    bob = f.UserFactory(username="bob")
    for i in range(49):
        login(f"guess{i}", "wrong", ip="192.0.2.7")
    # 49 failures from one office address: its people still sign in (the limit is 50).
    assert signed_in(login(bob.username, PASSWORD, ip="192.0.2.7"))
    login("guess-last", "wrong", ip="192.0.2.7")
    assert login(alice.username, PASSWORD, ip="192.0.2.7").status_code == 429
    assert token(alice.username, PASSWORD, ip="192.0.2.7").status_code == 429
    # The same user from another address is not locked.
    assert signed_in(login(alice.username, PASSWORD, ip="192.0.2.8"))


def test_bob_signing_in_does_not_reset_the_count_of_the_address_he_guesses_from(alice):
    bob = f.UserFactory(username="bob")
    for i in range(30):
        login(f"guess{i}", "wrong", ip="192.0.2.7")
    assert signed_in(login(bob.username, PASSWORD, ip="192.0.2.7"))
    for i in range(20):
        login(f"more{i}", "wrong", ip="192.0.2.7")
    assert login(alice.username, PASSWORD, ip="192.0.2.7").status_code == 429


@override_settings(LOGIN_LOCKOUT_USER_FAILURES=3, LOGIN_LOCKOUT_IP_FAILURES=5, LOGIN_LOCKOUT_MINUTES=5)
def test_limits_and_cool_off_come_from_settings(alice):
    for _ in range(3):
        login(alice.username, "wrong")
    assert login(alice.username, PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=5)):
        assert signed_in(login(alice.username, PASSWORD))


def test_the_lock_ends_by_itself_and_trying_while_locked_does_not_extend_it(alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(10):
            login(alice.username, "wrong")
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        for _ in range(5):
            assert login(alice.username, "wrong").status_code == 429
        assert login(alice.username, PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=14, seconds=50), tick=False):
        assert login(alice.username, PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=15, seconds=10), tick=False):
        assert signed_in(login(alice.username, PASSWORD))


def test_failures_older_than_the_window_are_forgotten(alice):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(9):
            login(alice.username, "wrong")
    with time_machine.travel(start + timedelta(minutes=16), tick=False):
        for _ in range(9):
            login(alice.username, "wrong")
        assert signed_in(login(alice.username, PASSWORD))


# --- the lockout answer ---------------------------------------------------------------------------

def test_the_lockout_page_explains_in_the_users_language(alice):
    for _ in range(10):
        login(alice.username, "wrong")
    r = login(alice.username, PASSWORD)
    assert r.status_code == 429 and r["Content-Type"].startswith("text/html")
    assert '<html lang="zh-hans">' in r.content.decode()  # Chinese first: the default language
    r = Client().post(LOGIN, {"username": alice.username, "password": PASSWORD},
                      HTTP_ACCEPT_LANGUAGE="en", REMOTE_ADDR="127.0.0.1")
    html = r.content.decode()
    assert r.status_code == 429 and '<html lang="en">' in html
    assert "Sign-in temporarily locked" in html and "even the correct password is refused" in html
    assert "ask a manager" in html


def test_the_api_lockout_body_is_the_projects_error_body(alice):
    for _ in range(10):
        token(alice.username, "wrong")
    r = token(alice.username, PASSWORD)
    assert r.status_code == 429 and r["Content-Type"].startswith("application/json")
    assert set(r.json()) == {"detail", "code"}
    assert 60 <= int(r["Retry-After"]) <= 15 * 60


def test_wrong_password_on_the_api_is_a_400_with_the_error_body(alice):
    r = token(alice.username, "wrong")
    assert r.status_code == 400 and r.json()["code"] == "invalid_credentials"


# --- who may see and lift locks ---------------------------------------------------------------------

def test_only_managers_see_and_lift_locks(alice, specialist, charlie, manager):
    for _ in range(10):
        login(alice.username, "wrong")
    for user in (specialist, charlie):
        c = Client()
        c.force_login(user)
        assert c.get("/accounts/lockouts/").status_code == 403
        assert c.post("/accounts/lockouts/lift/", {"kind": "username", "value": alice.username}).status_code == 403
        api = APIClient()
        api.force_authenticate(user)
        assert api.get("/api/auth/lockouts/").status_code == 403
        assert api.post("/api/auth/lockouts/lift/", {"kind": "username", "value": alice.username},
                        format="json").status_code == 403
    anon = Client().get("/accounts/lockouts/")
    assert anon.status_code == 302 and anon["Location"].startswith("/accounts/login/")
    assert APIClient().get("/api/auth/lockouts/").status_code == 401
    assert not LockoutRelease.objects.exists()
    assert login(alice.username, PASSWORD).status_code == 429


def test_lifting_a_lock_that_is_not_in_force_changes_nothing(alice, manager):
    for _ in range(3):
        login(alice.username, "wrong")
    api = APIClient()
    api.force_authenticate(manager)
    r = api.post("/api/auth/lockouts/lift/", {"kind": "username", "value": alice.username}, format="json")
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    assert api.post("/api/auth/lockouts/lift/", {"kind": "ip_address", "value": "not an ip"},
                    format="json").status_code == 400
    page = manager_client(manager).post("/accounts/lockouts/lift/",
                                        {"kind": "username", "value": alice.username}, follow=True)
    assert page.status_code == 200 and not LockoutRelease.objects.exists()
    assert AccessAttempt.objects.filter(username=alice.username).exists()  # the 3 failures stay


def test_a_manager_lifts_an_address_lock(alice, manager):
    for i in range(50):
        login(f"guess{i}", "wrong", ip="192.0.2.7")
    assert login(alice.username, PASSWORD, ip="192.0.2.7").status_code == 429
    page = manager_client(manager).get("/accounts/lockouts/").content.decode()
    assert "192.0.2.7" in page
    r = manager_client(manager).post("/accounts/lockouts/lift/", {"kind": "ip_address", "value": "192.0.2.7"})
    assert r.status_code == 302
    assert signed_in(login(alice.username, PASSWORD, ip="192.0.2.7"))
    assert LockoutRelease.objects.get().failures == 50


# --- the client address -------------------------------------------------------------------------------

@pytest.mark.parametrize(("proxies", "xff", "expected"), [
    (0, "203.0.113.5", "10.0.0.1"),  # no trusted proxy: the header is the client's word, ignored
    (1, "203.0.113.5", "203.0.113.5"),
    (1, "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # a forged entry on the left changes nothing
    (2, "6.6.6.6, 203.0.113.5, 10.0.0.9", "203.0.113.5"),
    (1, "", "10.0.0.1"),
    (1, "garbage", "10.0.0.1"),
])
def test_client_address_behind_trusted_proxies(proxies, xff, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=xff)
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(request) == expected


def test_test_clients_log_in_with_a_request_or_force_login(alice):
    """Axes needs the request to count a sign-in: Client.login() must be given one (or use
    force_login, which authenticates nothing)."""
    from axes.exceptions import AxesBackendRequestParameterRequired
    from django.http import HttpRequest

    with pytest.raises(AxesBackendRequestParameterRequired):
        Client().login(username=alice.username, password=PASSWORD)
    assert Client().login(request=HttpRequest(), username=alice.username, password=PASSWORD) is True
