"""Secure by default with DEBUG off: the settings are read in a fresh process with a controlled
environment (nothing inherited from the test run: no DATABASE_URL, no SECRET_KEY), SQLite under a
temporary SLAPORTAL_VAR_DIR."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

READ = """
import json, django
django.setup()
from django.conf import settings as s
names = ["DEBUG", "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS",
         "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD", "SESSION_COOKIE_SECURE",
         "CSRF_COOKIE_SECURE", "SECURE_PROXY_SSL_HEADER", "TRUSTED_PROXY_COUNT",
         "LOGIN_LOCKOUT_USER_FAILURES", "LOGIN_LOCKOUT_IP_FAILURES", "LOGIN_LOCKOUT_MINUTES",
         "API_TOKEN_TTL_HOURS", "SECRET_KEY"]
out = {n: getattr(s, n) for n in names}
out["csp"] = s.CONTENT_SECURITY_POLICY["DIRECTIVES"]["upgrade-insecure-requests"]
print(json.dumps(out, default=str))
"""


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    full = {**base, "DJANGO_SETTINGS_MODULE": "slaportal.settings", "SLAPORTAL_VAR_DIR": str(tmp_path),
            "PYTHONDONTWRITEBYTECODE": "1", **env}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=full, capture_output=True, text=True,
                          timeout=120)


def read(tmp_path: Path, **env: str) -> dict[str, Any]:
    p = run(["-c", READ], tmp_path, **env)
    assert p.returncode == 0, p.stderr
    return dict(json.loads(p.stdout.strip().splitlines()[-1]))


KEY = secrets.token_urlsafe(50)


def test_check_deploy_passes_with_only_debug_secret_key_and_allowed_hosts(tmp_path: Path) -> None:
    p = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path,
            DEBUG="0", SECRET_KEY=KEY, ALLOWED_HOSTS="portal.example.com")
    assert p.returncode == 0, p.stdout + p.stderr


@pytest.mark.parametrize("key", [None, "", "dev-only-insecure-key-change-me"])
def test_without_a_secret_key_debug_off_refuses_to_start(tmp_path: Path, key: str | None) -> None:
    env = {"DEBUG": "0", "ALLOWED_HOSTS": "portal.example.com"}
    if key is not None:
        env["SECRET_KEY"] = key
    p = run(["manage.py", "check"], tmp_path, **env)
    assert p.returncode != 0
    assert "ImproperlyConfigured" in p.stderr and "SECRET_KEY is not set" in p.stderr


def test_debug_on_runs_without_a_secret_key_on_local_host_names_only(tmp_path: Path) -> None:
    s = read(tmp_path, DEBUG="1")
    assert s["SECRET_KEY"] == "dev-only-insecure-key-change-me"
    assert s["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]
    assert (s["SECURE_SSL_REDIRECT"], s["SECURE_HSTS_SECONDS"], s["SESSION_COOKIE_SECURE"]) == (False, 0, False)


def test_debug_off_defaults_are_the_secure_ones(tmp_path: Path) -> None:
    s = read(tmp_path, DEBUG="0", SECRET_KEY=KEY)
    assert s["ALLOWED_HOSTS"] == []  # no "*"
    assert s["SECURE_SSL_REDIRECT"] is True and s["csp"] is True
    assert s["SECURE_HSTS_SECONDS"] == 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True and s["SECURE_HSTS_PRELOAD"] is True
    assert s["SESSION_COOKIE_SECURE"] is True and s["CSRF_COOKIE_SECURE"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] is None and s["TRUSTED_PROXY_COUNT"] == 0
    assert (s["LOGIN_LOCKOUT_USER_FAILURES"], s["LOGIN_LOCKOUT_IP_FAILURES"], s["LOGIN_LOCKOUT_MINUTES"],
            s["API_TOKEN_TTL_HOURS"]) == (10, 50, 15.0, 720.0)


def test_each_default_is_relaxed_by_its_variable(tmp_path: Path) -> None:
    """What `make run` on plain HTTP at 127.0.0.1 sets."""
    s = read(tmp_path, DEBUG="0", SECRET_KEY=KEY, ALLOWED_HOSTS="127.0.0.1,localhost,[::1]",
             SECURE_SSL_REDIRECT="0", SECURE_HSTS_SECONDS="0", SESSION_COOKIE_SECURE="0",
             CSRF_COOKIE_SECURE="0", SECURE_HSTS_INCLUDE_SUBDOMAINS="0", SECURE_HSTS_PRELOAD="0",
             SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https", TRUSTED_PROXY_COUNT="1",
             LOGIN_LOCKOUT_USER_FAILURES="5", LOGIN_LOCKOUT_IP_FAILURES="100", LOGIN_LOCKOUT_MINUTES="30",
             API_TOKEN_TTL_HOURS="24")
    assert s["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost", "[::1]"]
    assert (s["SECURE_SSL_REDIRECT"], s["SECURE_HSTS_SECONDS"], s["SESSION_COOKIE_SECURE"],
            s["CSRF_COOKIE_SECURE"], s["SECURE_HSTS_INCLUDE_SUBDOMAINS"], s["SECURE_HSTS_PRELOAD"],
            s["csp"]) == (False, 0, False, False, False, False, False)
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]  # a tuple, in JSON
    assert (s["TRUSTED_PROXY_COUNT"], s["LOGIN_LOCKOUT_USER_FAILURES"], s["LOGIN_LOCKOUT_IP_FAILURES"],
            s["LOGIN_LOCKOUT_MINUTES"], s["API_TOKEN_TTL_HOURS"]) == (1, 5, 100, 30.0, 24.0)


def test_a_malformed_proxy_ssl_header_is_refused_clearly(tmp_path: Path) -> None:
    p = run(["-c", READ], tmp_path, DEBUG="0", SECRET_KEY=KEY, SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO")
    assert p.returncode != 0 and "SECURE_PROXY_SSL_HEADER must be two comma-separated values" in p.stderr
