"""Pages and API: the customer's list and form, the staff queue with the time left on each
clock (red when breached), another customer's request a 404 everywhere, anonymous redirected,
API field errors and an illegal transition a 409."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from servicedesk.models import ServiceRequest
from sla.services import clocks_sweep

from .conftest import PNG, T0, api, login

pytestmark = pytest.mark.django_db


def test_customer_opens_a_request_in_the_portal_with_an_attachment(service_a, alice, specialist):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = login(alice)
    r = c.post(reverse("servicedesk:create"), {
        "kind": "payment_renewal", "service": service_a.pk, "title": "发票", "description": "请开发票",
        "attachments": [SimpleUploadedFile("a.png", PNG)]})
    assert r.status_code == 302
    sr = ServiceRequest.objects.get()
    assert sr.customer == service_a.customer and sr.assignee == specialist and sr.attachments.count() == 1
    bad = c.post(reverse("servicedesk:create"), {
        "kind": "inquiry", "title": "x", "description": "y",
        "attachments": [SimpleUploadedFile("a.png", b"MZ not an image")]})
    assert bad.status_code == 400 and ServiceRequest.objects.count() == 1
    listing = c.get(reverse("servicedesk:list")).content.decode()
    from django.utils import translation

    from servicedesk.choices import RequestKind

    with translation.override("zh-hans"):
        kind = str(RequestKind.PAYMENT_RENEWAL.label)
    assert sr.number in listing and kind in listing


def test_another_customers_request_is_404_on_every_page_and_endpoint(sr, charlie):
    c, a = login(charlie), api(charlie)
    assert c.get(reverse("servicedesk:detail", args=[sr.pk])).status_code == 404
    assert c.post(reverse("servicedesk:reply", args=[sr.pk]), {"body": "x"}).status_code == 404
    assert c.post(reverse("servicedesk:cancel", args=[sr.pk]), {}).status_code == 404
    assert a.get(reverse("api-service-request-detail", args=[sr.pk])).status_code == 404
    assert a.post(reverse("api-service-request-replies", args=[sr.pk]), {"body": "x"}, format="json").status_code == 404
    assert a.post(reverse("api-service-request-cancel", args=[sr.pk]), {}, format="json").status_code == 404
    assert a.get(reverse("api-service-request-list")).json()["count"] == 0
    sr.refresh_from_db()
    assert sr.state == "new" and not sr.entries.exists()


def test_anonymous_is_sent_to_log_in(sr):
    from django.test import Client

    r = Client().get(reverse("servicedesk:detail", args=[sr.pk]))
    assert r.status_code == 302 and "login" in r["Location"]


def test_dc_staff_have_no_part_in_requests(sr, dc_staff):
    assert login(dc_staff).get(reverse("servicedesk:list")).status_code == 403
    assert api(dc_staff).get(reverse("api-service-request-list")).status_code == 403


def test_staff_queue_shows_time_left_and_red_when_breached(sr, specialist):
    from django.utils import translation

    from sla.models import Clock
    from sla.templatetags.sla_ui import time_left_text

    first = Clock.objects.get(object_id=sr.pk, policy__code="SR-FIRST")
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        page = login(specialist).get(reverse("servicedesk:list") + "?view=mine").content.decode()
        with translation.override("zh-hans"):
            expected = time_left_text(first)
        assert sr.number in page and expected in page and "3" in expected
        assert 'class="late"' not in page
    with time_machine.travel(T0 + timedelta(hours=5), tick=False):
        clocks_sweep(now=T0 + timedelta(hours=5))
        page = login(specialist).get(reverse("servicedesk:list") + "?view=mine").content.decode()
        assert 'class="late"' in page
    unassigned = login(specialist).get(reverse("servicedesk:list") + "?view=unassigned").content.decode()
    assert sr.number not in unassigned


def test_api_create_field_errors_and_a_409(service_a, alice, specialist):
    a = api(alice)
    r = a.post(reverse("api-service-request-list"), {"kind": "nonsense"}, format="json")
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert set(errors) >= {"kind", "title", "description"}
    r = a.post(reverse("api-service-request-list"), {"kind": "technical", "title": "宕机",
                                                     "description": "服务器宕机", "service": service_a.pk},
               format="json")
    assert r.status_code == 201 and r.json()["channel"] == "portal"
    pk = r.json()["id"]
    s = api(specialist)
    r = s.post(reverse("api-service-request-list"), {"kind": "inquiry", "title": "t", "description": "d"},
               format="json")
    assert r.status_code == 400 and "customer" in r.json()["errors"]
    assert s.post(reverse("api-service-request-close", args=[pk]), {}, format="json").status_code == 409
    assert s.post(reverse("api-service-request-start", args=[pk]), {}, format="json").status_code == 200
    assert a.post(reverse("api-service-request-resolve", args=[pk]), {}, format="json").status_code == 403
    r = a.post(reverse("api-service-request-reopen", args=[pk]), {"reason": ""}, format="json")
    assert r.status_code in (400, 409)
