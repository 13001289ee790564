"""The anti-spam API: scoping (another customer's case is 404), roles, step sub-routes, the
guarantee refusal, a bad token 401 and malformed JSON 400 with nothing stored (acceptance)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from abuse.models import BlacklistListing, IscPublication, SpamCase
from accounts.services import token_create
from tests.abuse.conftest import MON_10

pytestmark = pytest.mark.django_db


def api(user: Any) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_customers_see_their_cases_only_and_never_act(staff_case: Any, alice: Any, charlie: Any,
                                                    mail_service_c: Any) -> None:
    case = staff_case()
    r = api(alice).get("/api/spam-cases/")
    assert r.status_code == 200 and [c["id"] for c in r.json()["results"]] == [case.pk]
    d = api(alice).get(f"/api/spam-cases/{case.pk}/").json()
    assert d["steps"][0]["code"] == "keep_evidence" and d["evidence"] == []
    assert {c["policy"] for c in d["clocks"]} == {"E4-RESP", "E4-RESULT"}
    assert api(charlie).get(f"/api/spam-cases/{case.pk}/").status_code == 404
    assert api(charlie).post(f"/api/spam-cases/{case.pk}/keep-evidence/", {}, format="json").status_code == 404
    assert api(alice).post(f"/api/spam-cases/{case.pk}/keep-evidence/", {}, format="json").status_code == 403
    assert api(alice).post("/api/spam-cases/", {"kind": "inbound", "title": "x"}, format="json").status_code == 403
    assert APIClient().get("/api/spam-cases/").status_code == 401


def test_steps_are_post_sub_routes_and_restore_without_guarantee_is_a_400(staff_case: Any, engineer: Any) -> None:
    case = staff_case("outbound")
    c = api(engineer)
    assert c.post(f"/api/spam-cases/{case.pk}/keep-evidence/", {"note": "已保存"}, format="json").status_code == 200
    r = c.post(f"/api/spam-cases/{case.pk}/restore-account/", {}, format="json")
    assert r.status_code == 409  # the account was never suspended
    r = c.post(f"/api/spam-cases/{case.pk}/block-source/", {"value": "x"}, format="json")
    assert r.status_code == 404  # not a step of an own-domain case


def test_open_by_staff_and_step_flow(engineer: Any, mail_service_a: Any) -> None:
    c = api(engineer)
    r = c.post("/api/spam-cases/", {"kind": "outbound", "title": "本域账号外发广告",
                                    "customer": mail_service_a.customer_id,
                                    "complainant_name": "外部投诉人", "complainant_email": "x@example.org"},
               format="json")
    assert r.status_code == 201, r.content
    pk = r.json()["id"]
    assert r.json()["response_due_at"] and r.json()["result_due_at"]
    assert c.post(f"/api/spam-cases/{pk}/identify-account/", {"value": "sales@alpha.cn"}, format="json").status_code == 200
    assert c.post(f"/api/spam-cases/{pk}/suspend-account/", {"value": "sales@alpha.cn"}, format="json").status_code == 200
    r = c.post(f"/api/spam-cases/{pk}/restore-account/", {"note": "恢复"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "guarantee_missing"
    from django.core.files.uploadedfile import SimpleUploadedFile

    up = SimpleUploadedFile("g.pdf", b"%PDF-1.4 guarantee", content_type="application/pdf")
    r = c.post(f"/api/spam-cases/{pk}/evidence/", {"file": up, "kind": "guarantee"}, format="multipart")
    assert r.status_code == 201
    ev = r.json()["id"]
    assert c.get(f"/api/spam-cases/{pk}/evidence/{ev}/").status_code == 200
    assert c.post(f"/api/spam-cases/{pk}/restore-account/", {"note": "已收到书面保证"}, format="json").status_code == 200


def test_a_bad_token_is_401_and_malformed_json_400_and_nothing_is_stored(engineer: Any, mail_service_a: Any) -> None:
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    body = {"kind": "inbound", "title": "x"}
    for url, data in (("/api/spam-cases/", body),
                      ("/api/isc-publications/", {"reference": "ISC-1", "published_at": "2026-03-02T10:00:00+08:00",
                                                  "url": "https://isc.example/list"}),
                      ("/api/blacklist-listings/", {"organisation": "Spamhaus", "listed_item": "198.51.100.1",
                                                    "listed_at": "2026-03-02T10:00:00+08:00"})):
        assert bad.post(url, data, format="json").status_code == 401
    _t, key = token_create(user=engineer, name="gateway")
    good = APIClient()
    good.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    for url in ("/api/spam-cases/", "/api/isc-publications/", "/api/blacklist-listings/"):
        r = good.post(url, data='{"kind": "inbound", "title": ', content_type="application/json")
        assert r.status_code == 400 and r.json()["code"] == "parse_error"
    assert not SpamCase.objects.exists() and not IscPublication.objects.exists()
    assert not BlacklistListing.objects.exists()
    assert good.post("/api/spam-cases/", body, format="json").status_code == 201


def test_the_abuse_desk_is_shown_to_every_user_and_changed_by_managers(manager: Any, alice: Any) -> None:
    assert api(alice).get("/api/abuse-desk/").status_code == 404
    r = api(manager).put("/api/abuse-desk/", {"contact_name": "李工", "phone": "010-12345678",
                                             "email": "abuse@provider.test", "imap_password": "s3cret"},
                         format="json")
    assert r.status_code == 200 and r.json()["has_password"] is True and "s3cret" not in r.content.decode()
    d = api(alice).get("/api/abuse-desk/").json()
    assert d == {"organisation": "", "contact_name": "李工", "phone": "010-12345678",
                 "email": "abuse@provider.test", "notice": ""}
    assert api(alice).put("/api/abuse-desk/", {"contact_name": "x", "phone": "1", "email": "a@b.cn"},
                          format="json").status_code == 403


def test_isc_publication_and_listing_routes(engineer: Any, dc_staff: Any) -> None:
    c = api(engineer)
    r = c.post("/api/isc-publications/", {"reference": "ISC-2026-03", "published_at": MON_10.isoformat(),
                                          "url": "https://isc.example/2026-03"}, format="json")
    assert r.status_code == 201 and r.json()["due_at"]
    pk = r.json()["id"]
    r = c.post(f"/api/isc-publications/{pk}/process/", {"blocked": "198.51.100.0/24"}, format="json")
    assert r.status_code == 200 and r.json()["state"] == "processed"
    assert c.post(f"/api/isc-publications/{pk}/process/", {"blocked": "x"}, format="json").status_code == 409
    r = c.post("/api/blacklist-listings/", {"organisation": "Spamhaus", "listed_item": "mail.provider.test",
                                            "listed_at": MON_10.isoformat()}, format="json")
    lid = r.json()["id"]
    assert c.post(f"/api/blacklist-listings/{lid}/report/", {"note": "已通报"}, format="json").json()["reported_at"]
    assert api(dc_staff).get("/api/isc-publications/").status_code == 403
