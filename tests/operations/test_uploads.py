"""Upload checks for written authorizations: type by content, size limit, generated names,
download as an attachment."""

import os

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from operations.models import Authorization

from .conftest import PDF, PNG, upload

pytestmark = pytest.mark.django_db

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 200


def _api(user):
    api = APIClient()
    api.force_authenticate(user)
    return api


@pytest.mark.parametrize("payload", [EXE, ELF])
def test_pdf_named_executable_rejected_by_api(operation, alice, contact_a, payload):
    r = _api(alice).post(reverse("api-operation-written-authorization", args=[operation.pk]),
                         {"file": upload(payload, "签字授权.pdf"), "contact": contact_a.pk},
                         format="multipart")
    assert r.status_code == 400 and "file" in r.json()["errors"]
    assert not Authorization.objects.exists()


def test_pdf_named_executable_rejected_by_page(client, operation, alice, contact_a):
    client.force_login(alice)
    r = client.post(reverse("operations:written", args=[operation.pk]),
                    {"file": upload(EXE, "auth.pdf"), "contact": contact_a.pk})
    assert r.status_code == 400
    assert r.context["forms"]["written"].errors["file"]
    assert not Authorization.objects.exists()


def test_oversize_gets_413_in_api_and_form_error_in_page(client, operation, alice, contact_a, settings):
    settings.MAX_UPLOAD_BYTES = 1024
    big = PDF + b"0" * 2048
    r = _api(alice).post(reverse("api-operation-written-authorization", args=[operation.pk]),
                         {"file": upload(big), "contact": contact_a.pk}, format="multipart")
    assert r.status_code == 413
    client.force_login(alice)
    r = client.post(reverse("operations:written", args=[operation.pk]),
                    {"file": upload(big), "contact": contact_a.pk})
    assert r.status_code == 413
    assert r.context["forms"]["written"].errors["file"]
    assert not Authorization.objects.exists()


def test_traversal_name_stored_under_generated_name(operation, alice, contact_a, settings):
    r = _api(alice).post(reverse("api-operation-written-authorization", args=[operation.pk]),
                         {"file": upload(PNG, "../../etc/passwd.pdf"), "contact": contact_a.pk},
                         format="multipart")
    assert r.status_code == 201, r.content
    auth = Authorization.objects.get()
    assert ".." not in auth.file.name and "passwd" not in auth.file.name
    assert auth.file.name == f"operations/{operation.pk}/{auth.stored_name}"
    assert auth.stored_name.endswith(".png")  # the type came from the bytes, not the name
    assert os.path.realpath(auth.file.path).startswith(os.path.realpath(str(settings.MEDIA_ROOT)))
    assert ".." not in auth.original_name


def test_download_is_an_attachment_with_the_real_type(client, operation, alice, contact_a):
    _api(alice).post(reverse("api-operation-written-authorization", args=[operation.pk]),
                     {"file": upload(PNG, "scan.html"), "contact": contact_a.pk}, format="multipart")
    auth = Authorization.objects.get()
    client.force_login(alice)
    for url in (reverse("operations:auth_file", args=[operation.pk, auth.pk]),
                reverse("api-operation-authorization-file", args=[operation.pk, auth.pk])):
        r = client.get(url)
        assert r.status_code == 200
        assert r["Content-Disposition"].startswith("attachment;")
        # The server names the file; the extension is the type checked from the bytes, never
        # the uploader's ("scan.html").
        assert r["Content-Disposition"] == (
            f'attachment; filename="operation-{operation.pk}-authorization-{auth.pk}.png"')
        assert "scan" not in r["Content-Disposition"]
        assert r["Content-Type"] == "image/png"
        assert r["X-Content-Type-Options"] == "nosniff"
        assert b"".join(r.streaming_content) == PNG
