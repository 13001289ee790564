"""Error pages: 400/403/404/500 in the portal's layout, Chinese first; 500 and 400 render with no
database and no request context (they are what is left when those failed); under /api/ the same
handlers keep answering with the API's JSON error body."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory
from django.urls import include, path

from slaportal import api

# This module is also the URLconf of the tests that need a view that fails (pytest.mark.urls).


def _boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


def _refused(request: HttpRequest) -> HttpResponse:
    raise PermissionDenied


def _bad(request: HttpRequest) -> HttpResponse:
    raise SuspiciousOperation("tampered")


urlpatterns = [
    path("boom/", _boom), path("api/boom/", _boom),
    path("refused/", _refused), path("bad/", _bad), path("api/bad/", _bad),
    path("", include("slaportal.urls")),
]
handler400 = "slaportal.api.bad_request"
handler403 = "slaportal.api.permission_denied"
handler404 = "slaportal.api.not_found"
handler500 = "slaportal.api.server_error"


def _is_portal_page(body: str) -> None:
    assert 'class="top"' in body and "css/portal.css" in body, "not in the portal's layout"
    assert body.index("返回首页") >= 0


def test_500_renders_without_a_database_or_request_context():
    # No django_db mark: any query raises. The handler gets a bare request (no user, no session).
    r = api.server_error(RequestFactory().get("/complaints/1/"))
    body = r.content.decode()
    assert r.status_code == 500
    _is_portal_page(body)
    assert "服务器出错" in body and body.index("服务器出错") < body.index("Server error")


def test_400_renders_without_a_database_and_is_chinese_first():
    r = api.bad_request(RequestFactory().get("/x/"), SuspiciousOperation("bad"))
    body = r.content.decode()
    assert r.status_code == 400
    _is_portal_page(body)
    assert "请求有误" in body and "Bad Request (400)" not in body


@pytest.mark.urls(__name__)
def test_a_failing_page_shows_the_branded_500_and_the_api_keeps_json(db):
    client = Client(raise_request_exception=False)
    r = client.get("/boom/")
    assert r.status_code == 500 and "服务器出错" in r.content.decode()
    _is_portal_page(r.content.decode())
    r = client.get("/api/boom/")
    assert r.status_code == 500 and r.json() == {"detail": r.json()["detail"], "code": "server_error"}


@pytest.mark.urls(__name__)
def test_a_refused_request_shows_the_branded_400_and_the_api_keeps_json(db):
    client = Client()
    r = client.get("/bad/")
    assert r.status_code == 400 and "请求有误" in r.content.decode()
    r = client.get("/api/bad/")
    assert r.status_code == 400 and r.json()["code"] == "bad_request"


@pytest.mark.urls(__name__)
def test_403_is_in_the_layout_and_chinese(alice):
    client = Client()
    client.force_login(alice)
    r = client.get("/refused/")
    body = r.content.decode()
    assert r.status_code == 403
    _is_portal_page(body)
    assert "无权" in body or "不允许" in body or "权限" in body
    assert "403 Forbidden" not in body


def test_404_is_in_the_layout_for_a_signed_in_user_and_anonymous(alice):
    signed_in = Client()
    signed_in.force_login(alice)
    for client in (signed_in, Client()):
        r = client.get("/no-such-page/")
        body = r.content.decode()
        assert r.status_code == 404
        _is_portal_page(body)
        assert "页面不存在" in body and "Not Found" not in body
    r = signed_in.get("/api/no-such-route/")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_a_failed_csrf_check_is_a_branded_page(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    r = client.post("/accounts/logout/")
    body = r.content.decode()
    assert r.status_code == 403
    _is_portal_page(body)
    assert "页面已过期" in body and "CSRF verification failed" not in body
