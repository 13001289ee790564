"""Every API error has one body, {"detail": str, "code": str} and, on a 400, "errors" with one
list of messages per field; the OpenAPI schema documents it on every operation."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator
from rest_framework import exceptions
from rest_framework.test import APIRequestFactory

from slaportal.api import exception_handler, flatten_errors
from slaportal.errors import ConflictError, DomainError


def body_of(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.content
    assert r["Content-Type"].startswith("application/json"), r["Content-Type"]
    body = r.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["code"], str) and body["code"]
    if status == 400:
        assert isinstance(body["errors"], dict)
    else:
        assert "errors" not in body
    return body


def test_400_has_one_list_of_messages_per_field(manager, api):
    r = api(manager).post("/api/customers/", {"name": "", "code": "not a slug!"}, format="json")
    body = body_of(r, 400)
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"name", "code"}
    assert all(isinstance(m, str) for msgs in body["errors"].values() for m in msgs)


def test_a_nested_field_is_named_by_its_path(alice, api):
    r = api(alice).post("/api/visits/", {
        "room": 1, "reason": "r", "activity": "maintenance", "expected_entry_at": "2030-01-01T10:00:00+08:00",
        "expected_exit_at": "2030-01-01T11:00:00+08:00",
        "visitors": [{"name": "张三", "id_type": "resident_id", "id_number": "1"}, {"id_type": "passport"}],
    }, format="json")
    errors = body_of(r, 400)["errors"]
    assert "visitors.1.name" in errors and "visitors.1.id_number" in errors
    assert not any(k.startswith("visitors.0") for k in errors)


def test_malformed_json_is_a_400_parse_error(manager, api):
    r = api(manager).generic("POST", "/api/customers/", "{not json", content_type="application/json")
    body = body_of(r, 400)
    assert body["code"] == "parse_error" and body["errors"] == {}


def test_401_without_credentials(api):
    with translation.override("en"):
        body = body_of(api(None).get("/api/customers/", HTTP_ACCEPT_LANGUAGE="en"), 401)
    assert body["code"] == "not_authenticated"


def test_403_for_a_role_that_may_not(alice, api):
    assert body_of(api(alice).get("/api/policies/"), 403)["code"] == "permission_denied"


def test_404_says_only_not_found(manager, api):
    with translation.override("en"):
        body = body_of(api(manager).get("/api/customers/999999/", HTTP_ACCEPT_LANGUAGE="en"), 404)
    assert body == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("url", ["/api/clocks/-1/", "/api/no-such-thing/", "/api/customers/abc/"])
def test_an_api_url_that_matches_no_route_is_the_json_404(manager, client, url):
    client.force_login(manager)
    assert body_of(client.get(url), 404)["code"] == "not_found"


def test_a_page_url_that_matches_no_route_is_still_the_html_404(client, manager):
    client.force_login(manager)
    r = client.get("/no-such-page/")
    assert r.status_code == 404 and r["Content-Type"].startswith("text/html")


def test_a_host_not_allowed_is_the_json_400_under_api_and_the_page_elsewhere(client):
    client.raise_request_exception = False
    r = client.get("/api/customers/", HTTP_HOST="evil.example")
    assert body_of(r, 400)["code"] == "bad_request"
    r = client.get("/customers/", HTTP_HOST="evil.example")
    assert r.status_code == 400 and r["Content-Type"].startswith("text/html")


def test_405_and_415(manager, api):
    assert body_of(api(manager).put("/api/customers/", {}, format="json"), 405)["code"] == "method_not_allowed"
    r = api(manager).generic("POST", "/api/customers/", "name=x", content_type="text/plain")
    assert body_of(r, 415)["code"] == "unsupported_media_type"


def test_a_body_past_the_size_limit_is_a_413(manager, api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    r = api(manager).post("/api/customers/", {"name": "x" * 2000, "code": "big"}, format="json")
    assert body_of(r, 413)["code"] == "too_large"


def test_409_conflict_keeps_its_code(manager, clock_a, api):
    api(manager).post(f"/api/clocks/{clock_a.pk}/cancel/", {}, format="json")
    body = body_of(api(manager).post(f"/api/clocks/{clock_a.pk}/cancel/", {}, format="json"), 409)
    assert body["code"] == "conflict"


def test_an_error_of_a_csv_endpoint_is_json(alice, api):
    r = api(alice).get("/api/overdue.csv")
    assert body_of(r, 403)["code"] == "permission_denied"


def test_an_error_of_a_file_download_is_json_whatever_the_accept_header(manager, api):
    r = api(manager).get("/api/complaints/999999/attachments/1/download/", HTTP_ACCEPT="image/png")
    body_of(r, 404)


def test_an_unknown_format_is_a_400_on_format(manager, api):
    body = body_of(api(manager).get("/api/overdue/", {"format": "xml"}), 400)
    assert list(body["errors"]) == ["format"]


def test_handler_normalises_every_kind_of_refusal():
    request = APIRequestFactory().get("/api/x/")
    context = {"request": request, "view": None}
    r = exception_handler(exceptions.Throttled(wait=7), context)
    assert r is not None and r.status_code == 429 and r.data["code"] == "throttled" and r["Retry-After"] == "7"
    r = exception_handler(DomainError("refused", field_errors={"__all__": ["both"], "a": ["x"]}), context)
    assert r is not None and r.data == {"detail": "refused", "code": "invalid",
                                        "errors": {"non_field_errors": ["both"], "a": ["x"]}}
    r = exception_handler(ConflictError("moved on"), context)
    assert r is not None and r.status_code == 409 and r.data == {"detail": "moved on", "code": "conflict"}
    r = exception_handler(exceptions.ValidationError(["not a field"]), context)
    assert r is not None and r.data["detail"] == "not a field"
    assert r.data["errors"] == {"non_field_errors": ["not a field"]}
    assert exception_handler(ValueError("a bug"), context) is None  # left to Django: a logged 500


def test_flatten_errors():
    assert flatten_errors({"a": ["x"], "b": {"c": ["y"]}, "d": [{}, {"e": ["z"]}], "f": {0: ["w"]}}) == {
        "a": ["x"], "b.c": ["y"], "d.1.e": ["z"], "f.0": ["w"]}


# --- The schema ---------------------------------------------------------------------------------

ERROR_REF = "#/components/schemas/Error"


def test_every_operation_documents_its_errors_with_the_one_body():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    error = schema["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"detail", "code"}
    assert error["properties"]["errors"]["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    checked = 0
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            responses = op["responses"]
            params = op.get("parameters", [])
            public = op.get("security") in ([{}], []) or path in ("/api/auth/token/", "/api/webhooks/alerts/")
            expected = set()
            if "requestBody" in op or any(p["in"] == "query" for p in params):
                expected.add("400")
            if "requestBody" in op:
                expected.add("413")
            if not public:
                expected |= {"401", "403"}
            if any(p["in"] == "path" for p in params):
                expected.add("404")
                if method in ("post", "put", "patch", "delete"):
                    expected.add("409")
            assert expected <= set(responses), (method, path, sorted(responses))
            for code, response in responses.items():
                if int(code) >= 400 and code != "423":
                    assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, \
                        (method, path, code)
                    assert response["description"]
                    checked += 1
    assert checked > 300


def test_integer_path_ids_are_documented_as_positive_ids():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    param = next(p for p in schema["paths"]["/api/clocks/{id}/"]["get"]["parameters"] if p["name"] == "id")
    assert param["schema"]["minimum"] == 1 and param["schema"]["maximum"] == 2**63 - 1
