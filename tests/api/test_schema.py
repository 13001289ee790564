"""The OpenAPI schema validates with zero warnings, and is served at /api/schema/."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from django.core.management import call_command


def test_spectacular_validates_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text(encoding="utf-8"))
    paths = schema["paths"]
    for p in ("/api/auth/token/", "/api/customers/", "/api/contracts/", "/api/contacts/{id}/",
              "/api/policies/{id}/", "/api/clocks/{id}/pause/", "/api/overdue/", "/api/overdue.csv",
              "/api/credits/{id}/reject/", "/api/notifications/"):
        assert p in paths, p
    # The secret is write-only: in the request body, never in a response.
    components = schema["components"]["schemas"]
    assert "mrtg_secret" in components["ContactCreateInputRequest"]["properties"]
    assert "mrtg_secret" not in components["ContactOutput"]["properties"]
    assert "has_mrtg_secret" in components["ContactOutput"]["properties"]


@pytest.mark.django_db
def test_schema_and_docs_are_served(manager, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(manager)
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI comes from our own static files, so the docs work on a machine with no internet.
    html = docs.content.decode()
    assert "cdn.jsdelivr.net" not in html and "unpkg.com" not in html
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/customers/", "/api/contracts/", "/api/contacts/", "/api/services/",
                                 "/api/policies/", "/api/policy-overrides/", "/api/workday-overrides/",
                                 "/api/clocks/", "/api/overdue/", "/api/credits/", "/api/notifications/"])
def test_browsable_api_renders(manager, client, url) -> None:  # type: ignore[no-untyped-def]
    client.force_login(manager)
    r = client.get(url, HTTP_ACCEPT="text/html")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/html")
