"""Authorized contacts over the API: who may edit them, the write-only MRTG secret, and a
contact without any channel."""

from __future__ import annotations

import pytest

from audit.models import AuditEntry
from customers.models import AuthorizedContact
from tests import factories as f

from .conftest import ids

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact_a(customer_a):  # type: ignore[no-untyped-def]
    return f.AuthorizedContactFactory(customer=customer_a, secret="s3cret-A")


@pytest.fixture
def alice_admin(alice):  # type: ignore[no-untyped-def]
    alice.customer_link.is_customer_admin = True
    alice.customer_link.save()
    return alice


def _assert_no_secret(body: dict) -> None:
    rows = body.get("results", [body])
    for row in rows:
        assert not {"mrtg_secret", "mrtg_secret_hash", "mrtg_username"} & set(row)
        assert "has_mrtg_secret" in row
    text = str(body)
    assert "s3cret" not in text and "md5$" not in text and "pbkdf2" not in text


def test_contacts_scoped(alice, charlie, specialist, dc_staff, contact_a, api):
    r = api(alice).get("/api/contacts/")
    assert ids(r) == {contact_a.pk}
    row = r.json()["results"][0]
    assert row["has_mrtg_secret"] is True and row["channels"] == ["mobile", "email"]
    _assert_no_secret(r.json())
    assert ids(api(charlie).get("/api/contacts/")) == set()
    assert api(charlie).get(f"/api/contacts/{contact_a.pk}/").status_code == 404
    assert api(specialist).get(f"/api/contacts/{contact_a.pk}/").status_code == 200
    assert api(dc_staff).get("/api/contacts/").status_code == 403


def test_customer_admin_creates_contact_for_own_customer(alice_admin, customer_a, api):
    r = api(alice_admin).post("/api/contacts/", {
        "name": "王五", "mobile": "13900000000", "channels": ["mobile"],
        "mrtg_username": "mrtg-a", "mrtg_secret": "top-secret-1"}, format="json")
    assert r.status_code == 201, r.content
    _assert_no_secret(r.json())
    assert "top-secret-1" not in r.content.decode()
    c = AuthorizedContact.objects.get(pk=r.json()["id"])
    assert c.customer == customer_a
    assert r.json()["has_mrtg_secret"] is True
    assert c.check_mrtg("mrtg-a", "top-secret-1")
    audit = AuditEntry.objects.get(object_id=c.pk, action="create", content_type__model="authorizedcontact")
    assert "top-secret-1" not in str(audit.data)


def test_customer_admin_cannot_name_another_customer(alice_admin, customer_c, api):
    r = api(alice_admin).post("/api/contacts/", {"customer": customer_c.pk, "name": "x",
                                                 "mobile": "1", "channels": ["mobile"]}, format="json")
    assert r.status_code == 400 and "customer" in r.json()["errors"]
    assert not AuthorizedContact.objects.filter(customer=customer_c).exists()


def test_plain_customer_user_may_read_but_not_edit(alice, contact_a, api):
    assert api(alice).post("/api/contacts/", {"name": "x", "mobile": "1", "channels": ["mobile"]},
                           format="json").status_code == 403
    r = api(alice).patch(f"/api/contacts/{contact_a.pk}/", {"name": "changed"}, format="json")
    assert r.status_code == 403
    contact_a.refresh_from_db()
    assert contact_a.name != "changed"


def test_other_customers_admin_gets_404_on_update(charlie, contact_a, api):
    charlie.customer_link.is_customer_admin = True
    charlie.customer_link.save()
    r = api(charlie).patch(f"/api/contacts/{contact_a.pk}/", {"name": "hijack"}, format="json")
    assert r.status_code == 404
    contact_a.refresh_from_db()
    assert contact_a.name != "hijack"


def test_staff_create_needs_customer_and_permission(specialist, engineer, customer_a, api):
    body = {"name": "赵六", "email": "z@a.test", "channels": ["email"]}
    assert api(engineer).post("/api/contacts/", {**body, "customer": customer_a.pk},
                              format="json").status_code == 403
    r = api(specialist).post("/api/contacts/", body, format="json")
    assert r.status_code == 400 and "customer" in r.json()["errors"]
    r = api(specialist).post("/api/contacts/", {**body, "customer": customer_a.pk}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["has_mrtg_secret"] is False


def test_update_keeps_secret_unless_given(alice_admin, contact_a, api):
    r = api(alice_admin).patch(f"/api/contacts/{contact_a.pk}/", {"office_phone": "010-1234"}, format="json")
    assert r.status_code == 200, r.content
    contact_a.refresh_from_db()
    assert contact_a.office_phone == "010-1234"
    assert contact_a.check_mrtg("mrtg-user", "s3cret-A")
    r = api(alice_admin).patch(f"/api/contacts/{contact_a.pk}/", {"mrtg_secret": "new-one"}, format="json")
    assert r.status_code == 200
    _assert_no_secret(r.json())
    contact_a.refresh_from_db()
    assert contact_a.check_mrtg("mrtg-user", "new-one")
    assert not contact_a.check_mrtg("mrtg-user", "s3cret-A")


def test_contact_without_channel_is_400_and_nothing_saved(alice_admin, contact_a, specialist, customer_a, api):
    before = (AuthorizedContact.objects.count(), AuditEntry.objects.count())
    r = api(specialist).post("/api/contacts/", {"customer": customer_a.pk, "name": "无渠道",
                                                "mobile": "1", "channels": []}, format="json")
    assert r.status_code == 400
    assert "channels" in r.json()["errors"]
    r = api(alice_admin).patch(f"/api/contacts/{contact_a.pk}/", {"channels": [], "name": "renamed"},
                               format="json")
    assert r.status_code == 400 and "channels" in r.json()["errors"]
    contact_a.refresh_from_db()
    assert contact_a.channels == ["mobile", "email"] and contact_a.name != "renamed"
    assert (AuthorizedContact.objects.count(), AuditEntry.objects.count()) == before


def test_channel_without_address_is_400(specialist, customer_a, api):
    r = api(specialist).post("/api/contacts/", {"customer": customer_a.pk, "name": "x",
                                                "channels": ["fax"]}, format="json")
    assert r.status_code == 400 and "fax" in r.json()["errors"]
    assert AuthorizedContact.objects.count() == 0
