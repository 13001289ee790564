"""Test settings: PostgreSQL and Redis when they answer on this machine (or DATABASE_URL /
CELERY_BROKER_URL say where they are), the embedded ones otherwise. The session header says
which were used; SLAPORTAL_REQUIRE_SERVICES=1 (set by .ci/run) turns a fallback into an error."""

import os
import socket


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


if "DATABASE_URL" not in os.environ and _answers("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/slaportal"
if ("CELERY_BROKER_URL" not in os.environ and "REDIS_URL" not in os.environ
        and _answers("127.0.0.1", 6379)):
    os.environ["CELERY_BROKER_URL"] = "redis://127.0.0.1:6379/13"

os.environ.setdefault("SLAPORTAL_VAR_DIR", os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "var", "test"))
# settings.py refuses to start without a secret key when DEBUG is off (as in the tests). Set in the
# environment, so that the worker/beat subprocesses some tests start inherit it too.
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "x" * 40)

from .settings import *  # noqa: E402,F401,F403
from .settings import CELERY_BROKER_URL, DATABASES  # noqa: E402

# The test client and the live servers speak plain HTTP to testserver / 127.0.0.1 / localhost.
# The rest of the security settings stay as in production (HSTS is only sent over HTTPS anyway).
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost", "[::1]"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
CONTENT_SECURITY_POLICY["DIRECTIVES"]["upgrade-insecure-requests"] = False  # noqa: F405

if os.environ.get("SLAPORTAL_REQUIRE_SERVICES") == "1":
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("SLAPORTAL_REQUIRE_SERVICES=1 but PostgreSQL is not in use")
    if not CELERY_BROKER_URL.startswith("redis"):
        raise RuntimeError("SLAPORTAL_REQUIRE_SERVICES=1 but Redis is not the broker")

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                    "django.contrib.auth.hashers.PBKDF2PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
# Month close issues the statements in the closing process, not through the shared test broker
# (a task left there would be run by another test's worker against its own database).
SETTLEMENT_STATEMENTS = "inline"
LANGUAGE_CODE = "zh-hans"
# A developer's merged copy of the catalogue (the pending translations applied, compiled), so a
# test can see translations not yet merged into locale/. Unset in CI: the real catalogue is used.
if os.environ.get("SLAPORTAL_TEST_LOCALE_DIR"):
    from pathlib import Path

    LOCALE_PATHS = [Path(os.environ["SLAPORTAL_TEST_LOCALE_DIR"])]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not pytest-django's in-memory default: the worker/beat test's subprocesses and the
    # concurrent-sweep test's processes must open the same test database.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.path.join(
        os.environ["SLAPORTAL_VAR_DIR"], "test_db.sqlite3")
