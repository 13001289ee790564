"""The Content-Security-Policy (django-csp) and the HTTPS headers: no inline script runs without
the request's nonce, the pages that need inline code carry it (Swagger UI at /api/docs/, the
periodic-task admin form), and no template brings inline script or event handlers back."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def csp(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def nonce_of(response: Any) -> str:
    sources = [s for s in csp(response)["script-src"] if s.startswith("'nonce-")]
    assert len(sources) == 1
    return sources[0][len("'nonce-"):-1]


def inline_scripts(html: str) -> list[str]:
    """The opening tags of <script> elements without src (executable ones: not JSON data)."""
    tags = re.findall(r"<script\b[^>]*>", html, flags=re.I)
    return [t for t in tags if "src=" not in t and "application/json" not in t]


def test_pages_forbid_inline_script_and_framing(alice) -> None:
    c = Client()
    c.force_login(alice)
    r = c.get("/")
    assert r.status_code == 200
    policy = csp(r)
    assert policy["default-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert inline_scripts(r.content.decode()) == []
    # The language switch works without inline script: a data attribute and the portal's own JS.
    assert "data-autosubmit" in r.content.decode() and "/static/js/portal.js" in r.content.decode()
    assert finders.find("js/portal.js")


def test_the_login_page_and_the_admin_login_are_under_the_policy() -> None:
    for url in ("/accounts/login/", "/admin/login/"):
        r = Client().get(url)
        assert r.status_code == 200 and "Content-Security-Policy" in r
        assert inline_scripts(r.content.decode()) == []


def test_swagger_ui_inline_script_and_style_carry_the_nonce(manager) -> None:
    c = Client()
    c.force_login(manager)
    r = c.get("/api/docs/")
    assert r.status_code == 200
    nonce = nonce_of(r)
    html = r.content.decode()
    scripts = inline_scripts(html)
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)
    assert f"'nonce-{nonce}'" in csp(r)["style-src-elem"]
    assert re.search(rf'<style nonce="{re.escape(nonce)}">', html)
    assert "SwaggerUIBundle(" in html  # the script is really there, not left out
    # A fresh nonce per response.
    assert nonce_of(c.get("/api/docs/")) != nonce


def test_the_periodic_task_admin_form_script_carries_the_nonce(db) -> None:
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "root@example.test", "pw-for-tests-1")
    c = Client()
    c.force_login(admin)
    r = c.get("/admin/django_celery_beat/periodictask/add/")
    assert r.status_code == 200
    nonce = nonce_of(r)
    scripts = inline_scripts(r.content.decode())
    assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)


# Printed to PDF by WeasyPrint or sent by e-mail, never served to a browser as a page.
NOT_PAGES = ("reports/", "emails/")


def test_no_template_has_inline_script_without_a_nonce_or_an_event_handler() -> None:
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        rel = path.relative_to(TEMPLATES).as_posix()
        if rel.startswith(NOT_PAGES):
            continue
        text = path.read_text(encoding="utf-8")
        for tag in inline_scripts(text):
            if "nonce=" not in tag:
                offenders.append(f"{rel}: {tag}")
        for m in re.finditer(r"<[a-z][^>]*\s(on[a-z]+)\s*=", text, flags=re.I):
            offenders.append(f"{rel}: inline handler {m.group(1)}")
        if re.search(r"""href\s*=\s*["']\s*javascript:""", text, flags=re.I):
            offenders.append(f"{rel}: javascript: URL")
    assert offenders == []


def test_https_requests_get_hsts_and_plain_http_is_redirected() -> None:
    r = Client().get("/accounts/login/", secure=True)
    assert r["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    with override_settings(SECURE_SSL_REDIRECT=True):
        r = Client().get("/accounts/login/")
        assert r.status_code == 301 and r["Location"] == "https://testserver/accounts/login/"
        # Load balancers probe /healthz over plain HTTP.
        assert Client().get("/healthz").status_code in (200, 503)


def test_an_unknown_host_is_refused() -> None:
    assert Client().get("/accounts/login/", HTTP_HOST="evil.example").status_code == 400


def test_cookies_are_secure_when_configured(alice) -> None:
    with override_settings(SESSION_COOKIE_SECURE=True, CSRF_COOKIE_SECURE=True):
        r = Client().post("/accounts/login/", {"username": alice.username, "password": "pw-for-tests-1"},
                          secure=True)
        assert r.status_code == 302
        assert r.cookies["sessionid"]["secure"] is True and r.cookies["sessionid"]["httponly"] is True
