"""Internal notes are staff-only: never on the customer's page, never in the API a customer can
read, never in the mail sent to the customer's contacts; a staff reply is mailed with the
signed thread token in its subject."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.models import Notification
from servicedesk.services import note_add, reply_add, thread_tag

from .conftest import T0, api, login

pytestmark = pytest.mark.django_db

SECRET = "内部：该客户欠费两个月，暂缓升级"


@pytest.fixture
def thread(sr, specialist):  # type: ignore[no-untyped-def]
    note_add(request_id=sr.pk, actor=specialist, body=SECRET, now=T0)
    reply_add(request_id=sr.pk, actor=specialist, body="您好，已收到，正在核实。", now=T0)
    return sr


def test_customer_page_shows_replies_but_never_the_note(thread, alice, specialist):
    page = login(alice).get(reverse("servicedesk:detail", args=[thread.pk])).content.decode()
    assert "正在核实" in page and SECRET not in page
    staff_page = login(specialist).get(reverse("servicedesk:detail", args=[thread.pk])).content.decode()
    assert SECRET in staff_page


def test_customer_api_never_returns_the_note(thread, alice, specialist):
    r = api(alice).get(reverse("api-service-request-replies", args=[thread.pk]))
    assert r.status_code == 200 and SECRET not in r.content.decode() and len(r.json()) == 1
    assert api(alice).get(reverse("api-service-request-notes", args=[thread.pk])).status_code == 403
    r = api(alice).post(reverse("api-service-request-notes", args=[thread.pk]), {"body": "x"}, format="json")
    assert r.status_code == 403
    r = api(specialist).get(reverse("api-service-request-notes", args=[thread.pk]))
    assert [e["body"] for e in r.json()] == [SECRET]


def test_only_the_reply_is_mailed_with_the_thread_token(thread, contact_a):
    mails = list(Notification.objects.filter(kind="service_request_reply"))
    assert mails and all(SECRET not in m.body and SECRET not in m.subject for m in mails)
    assert {m.address for m in mails} >= {"wang@alpha.test"}
    assert all(m.subject.startswith(thread_tag(thread.number)) for m in mails)
    assert not Notification.objects.filter(body__contains=SECRET).exists()


def test_a_notes_attachment_is_staff_only(sr, specialist, alice):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .conftest import PNG

    entry = note_add(request_id=sr.pk, actor=specialist, body="截图见附件",
                     files=[SimpleUploadedFile("internal.png", PNG)], now=T0)
    att = entry.attachments.get()
    url = reverse("servicedesk:attachment_download", args=[sr.pk, att.pk])
    assert login(alice).get(url).status_code == 404
    assert "internal.png" not in login(alice).get(reverse("servicedesk:detail", args=[sr.pk])).content.decode()
    assert login(specialist).get(url).status_code == 200
