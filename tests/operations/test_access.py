"""Tenant isolation and roles: another customer's user gets 404 on the request, its
authorization files and its report, in pages and API; anonymous users log in; data-centre
staff do not read operations."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from operations import services

from .conftest import T0, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def reported(operation, engineer, contact_a):
    auth = services.authorization_upload_written(operation_id=operation.pk, f=upload(),
                                                 contact=contact_a, actor=engineer, now=T0)
    services.operation_start(operation_id=operation.pk, actor=engineer, now=T0)
    services.operation_finish(operation_id=operation.pk, actor=engineer, result="完成", now=T0)
    report = services.operation_report_issue(operation_id=operation.pk, actor=engineer, now=T0)
    return operation, auth, report


def _urls(op, auth, report):
    return {
        "page": [reverse("operations:detail", args=[op.pk]),
                 reverse("operations:auth_file", args=[op.pk, auth.pk]),
                 reverse("operations:report_pdf", args=[op.pk, report.pk])],
        "api": [reverse("api-operation-detail", args=[op.pk]),
                reverse("api-operation-authorization-file", args=[op.pk, auth.pk]),
                reverse("api-operation-report-pdf", args=[op.pk, report.pk])],
    }


def test_owner_reads_request_file_and_report(client, reported, alice):
    op, auth, report = reported
    client.force_login(alice)
    for url in _urls(*reported)["page"] + _urls(*reported)["api"]:
        assert client.get(url).status_code == 200, url
    pdf = client.get(reverse("operations:report_pdf", args=[op.pk, report.pk]))
    assert pdf["Content-Disposition"].startswith("attachment;")
    assert b"".join(pdf.streaming_content).startswith(b"%PDF-")
    listing = client.get(reverse("operations:list"))
    assert op.number in listing.content.decode()


def test_other_customer_gets_404_everywhere(client, reported, charlie, contact_a):
    op, auth, report = reported
    client.force_login(charlie)
    for url in _urls(*reported)["page"] + _urls(*reported)["api"]:
        assert client.get(url).status_code == 404, url
    assert op.number not in client.get(reverse("operations:list")).content.decode()
    api = APIClient()
    api.force_authenticate(charlie)
    assert api.get(reverse("api-operation-list")).json()["count"] == 0
    # Writes too: a 404, never a 403 that would confirm the request exists.
    assert api.post(reverse("api-operation-cancel", args=[op.pk])).status_code == 404
    assert api.post(reverse("api-operation-written-authorization", args=[op.pk]),
                    {"file": upload(), "contact": contact_a.pk}, format="multipart").status_code == 404
    assert client.post(reverse("operations:cancel", args=[op.pk])).status_code == 404


def test_anonymous_and_dc_staff(client, reported, dc_staff):
    op, auth, report = reported
    for url in _urls(*reported)["page"]:
        r = client.get(url)
        assert r.status_code == 302 and "login" in r["Location"]
    for url in _urls(*reported)["api"]:
        assert client.get(url).status_code in (401, 403)
    client.force_login(dc_staff)
    assert client.get(reverse("operations:detail", args=[op.pk])).status_code == 403
    assert client.get(reverse("api-operation-detail", args=[op.pk])).status_code == 403


def test_customer_requests_in_portal_and_sees_no_phone_log(client, alice, service_a, contact_a,
                                                           engineer):
    client.force_login(alice)
    assert client.get(reverse("operations:create")).status_code == 200
    r = client.post(reverse("operations:create"), {
        "service": service_a.pk, "requested_by": contact_a.pk, "title": "更换硬盘",
        "description": "db01 第二块硬盘告警，请更换。", "urgency": "urgent"})
    assert r.status_code == 302
    op = alice.customer_link.customer.operations.get()
    assert op.raised_by == alice and op.engineer == engineer
    services.phone_authorization_attempt(operation_id=op.pk, contact=contact_a, mrtg_username="x",
                                         mrtg_password="y", actor=engineer)
    page = client.get(reverse("operations:detail", args=[op.pk]))
    assert list(page.context["attempts"]) == [] and not page.context["can_phone"]
    assert 'name="mrtg_password"' not in page.content.decode()
    api = APIClient()
    api.force_authenticate(alice)
    assert api.get(reverse("api-operation-detail", args=[op.pk])).json()["phone_attempts"] == []


def test_customer_cannot_request_with_another_customers_service(client, alice, charlie, contact_a):
    from tests import factories as f

    other_service = f.ServiceFactory(contract=f.ContractFactory(customer=charlie.customer_link.customer))
    api = APIClient()
    api.force_authenticate(alice)
    r = api.post(reverse("api-operation-list"), {"service": other_service.pk, "requested_by": contact_a.pk,
                                                 "title": "t", "description": "d"})
    assert r.status_code == 400 and "service" in r.json()["errors"]
