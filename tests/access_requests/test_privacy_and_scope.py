"""The ID number is masked everywhere but for security at check-in, and erased after the
retention time; another customer's user gets 404 everywhere."""

import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from access_requests.models import Visitor
from access_requests.services import visitor_check_in, visitor_check_out, visitor_ids_erase

from .conftest import ENTRY, FULL_ID, MASKED_ID

pytestmark = pytest.mark.django_db


def _page(client, user, url):
    client.force_login(user)
    r = client.get(url)
    assert r.status_code == 200, (user, url, r.status_code)
    return r.content.decode()


def test_id_masked_on_pages_for_every_role_but_security_at_the_door(approved, client, alice, manager,
                                                                    specialist, engineer, dc_staff):
    for user in (alice, manager, specialist, engineer, dc_staff):
        body = _page(client, user, f"/visits/{approved.pk}/")
        assert MASKED_ID in body and FULL_ID not in body
        body = _page(client, user, "/visits/")
        assert FULL_ID not in body
    body = _page(client, dc_staff, f"/visits/{approved.pk}/door/")
    assert FULL_ID in body
    client.force_login(manager)
    assert client.get(f"/visits/{approved.pk}/door/").status_code == 403


def test_id_masked_in_the_api_for_every_role_but_security_at_the_door(approved, alice, manager, specialist,
                                                                      engineer, dc_staff):
    c = APIClient()
    for user in (alice, manager, specialist, engineer, dc_staff):
        c.force_authenticate(user)
        for url in (f"/api/visits/{approved.pk}/", "/api/visits/"):
            r = c.get(url)
            assert r.status_code == 200 and FULL_ID not in r.content.decode(), (user, url)
        assert MASKED_ID in c.get(f"/api/visits/{approved.pk}/").content.decode()
    c.force_authenticate(dc_staff)
    door = c.get(f"/api/visits/{approved.pk}/door/").json()
    assert door["visitors"][0]["id_number"] == FULL_ID
    for user in (alice, manager):
        c.force_authenticate(user)
        assert c.get(f"/api/visits/{approved.pk}/door/").status_code == 403


def test_after_check_out_even_security_sees_the_masked_form(approved, dc_staff, client):
    for i, p in enumerate(approved.visitors.all()):
        visitor_check_in(visit_id=approved.pk, visitor_id=p.pk, actor=dc_staff, pass_number=f"P{i}",
                         id_document_confirmed=True, now=ENTRY)  # at the booked entry: inside the window
    visitor_check_out(visit_id=approved.pk, actor=dc_staff, now=ENTRY + timedelta(hours=1))
    body = _page(client, dc_staff, f"/visits/{approved.pk}/door/")
    assert FULL_ID not in body and MASKED_ID in body
    c = APIClient()
    c.force_authenticate(dc_staff)
    assert FULL_ID not in c.get(f"/api/visits/{approved.pk}/door/").content.decode()


def test_exports_are_masked(approved, manager, alice, client):
    for user in (manager, alice):
        client.force_login(user)
        csv = client.get("/visits/log.csv")
        assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
        text = csv.content.decode("utf-8-sig")
        assert MASKED_ID in text and FULL_ID not in text and approved.number in text
    pdf = client.get("/visits/log.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout
    text = text.decode()
    assert approved.number in text and "张三" in text and FULL_ID not in text
    c = APIClient()
    c.force_authenticate(manager)
    r = c.get("/api/visit-log/csv/")
    assert r.status_code == 200 and FULL_ID not in r.content.decode("utf-8-sig")


def test_id_numbers_erased_after_the_retention_time(approved, dc_staff, client, settings):
    settings.VISIT_ID_RETENTION_DAYS = 90
    out = ENTRY + timedelta(hours=2)
    for i, p in enumerate(approved.visitors.all()):
        visitor_check_in(visit_id=approved.pk, visitor_id=p.pk, actor=dc_staff, pass_number=f"P{i}",
                         id_document_confirmed=True, now=ENTRY)
    visitor_check_out(visit_id=approved.pk, actor=dc_staff, now=out)
    assert visitor_ids_erase(now=out + timedelta(days=89)) == 0
    assert Visitor.objects.filter(visit=approved, id_number=FULL_ID).exists()
    assert visitor_ids_erase(now=out + timedelta(days=90, seconds=1)) == 2
    p = Visitor.objects.get(visit=approved, name="张三")
    assert p.id_number == "" and p.id_number_masked == MASKED_ID and p.id_erased_at is not None
    assert p.entered_at == ENTRY and p.exited_at == out  # the visit log itself is kept
    body = _page(client, dc_staff, f"/visits/{approved.pk}/")
    assert MASKED_ID in body


def test_another_customers_user_gets_404(approved, charlie, client):
    client.force_login(charlie)
    for url in (f"/visits/{approved.pk}/", f"/visits/{approved.pk}/door/"):
        assert client.get(url).status_code in (404, 403)
    assert client.get(f"/visits/{approved.pk}/").status_code == 404
    assert client.post(f"/visits/{approved.pk}/cancel/", {"reason": "x"}).status_code == 404
    assert approved.number not in client.get("/visits/").content.decode()
    assert approved.number not in client.get("/visits/log.csv").content.decode("utf-8-sig")
    c = APIClient()
    c.force_authenticate(charlie)
    assert c.get(f"/api/visits/{approved.pk}/").status_code == 404
    assert c.post(f"/api/visits/{approved.pk}/cancel/", {}, format="json").status_code == 404
    assert c.patch(f"/api/visits/{approved.pk}/", {"expected_entry_at": timezone.now().isoformat()},
                   format="json").status_code == 404
    assert c.get("/api/visits/").json()["count"] == 0


def test_anonymous_is_sent_to_login(approved, client):
    r = client.get(f"/visits/{approved.pk}/")
    assert r.status_code == 302 and "/accounts/login/" in r["Location"]
    assert APIClient().get(f"/api/visits/{approved.pk}/").status_code in (401, 403)
