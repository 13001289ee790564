"""Pages: the staff work queue with time left (red once breached), a case with its steps and
forms, the customer's own cases (another customer's is a 404), the desk card on the e-mail
service page, the ISC and listing pages."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from abuse.models import SpamCase
from abuse.services import desk_save
from tests.abuse.conftest import MON_10, RESP_DUE, pdf_file

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    c.force_login(user)
    return c


def test_the_work_queue_shows_time_left_and_red_when_breached(staff_case: Any, specialist: Any) -> None:
    case = staff_case()
    with time_machine.travel(MON_10 + timedelta(hours=1), tick=False):
        html = login(specialist).get("/abuse/").content.decode()
    assert case.number in html and 'class="late"' not in html.split('id="cases"')[1].split("</table>")[0]
    with time_machine.travel(RESP_DUE + timedelta(minutes=5), tick=False):
        html = login(specialist).get("/abuse/").content.decode()
    row = html.split(f'data-case="{case.pk}"')[1].split("</tr>")[0]
    assert 'class="late"' in row


def test_a_step_posted_from_the_case_page(staff_case: Any, engineer: Any) -> None:
    case = staff_case("outbound")
    c = login(engineer)
    assert c.get(f"/abuse/cases/{case.pk}/").status_code == 200
    r = c.post(f"/abuse/cases/{case.pk}/steps/identify_account/", {"value": "", "note": ""})
    assert r.status_code == 400  # the account is required
    r = c.post(f"/abuse/cases/{case.pk}/steps/identify_account/", {"value": "sales@alpha.cn", "note": "日志"})
    assert r.status_code == 302 and case.steps.get(code="identify_account").done
    c.post(f"/abuse/cases/{case.pk}/steps/suspend_account/", {"value": "sales@alpha.cn"})
    r = c.post(f"/abuse/cases/{case.pk}/steps/restore_account/", {"note": "恢复"})
    assert r.status_code == 400 and not case.steps.get(code="restore_account").done
    r = c.post(f"/abuse/cases/{case.pk}/evidence/", {"kind": "guarantee", "file": pdf_file()})
    assert r.status_code == 302 and case.evidence.filter(kind="guarantee").exists()
    ev = case.evidence.get()
    assert c.get(f"/abuse/cases/{case.pk}/evidence/{ev.pk}/")["Content-Disposition"].startswith("attachment")


def test_the_customer_sees_their_case_but_not_another_customers(staff_case: Any, alice: Any, charlie: Any,
                                                                mail_service_c: Any, dc_staff: Any) -> None:
    case = staff_case()
    r = login(alice).get(f"/abuse/cases/{case.pk}/")
    assert r.status_code == 200 and "wang@alpha.cn" not in r.content.decode()  # no third-party details
    assert case.number in login(alice).get("/abuse/").content.decode()
    assert login(charlie).get(f"/abuse/cases/{case.pk}/").status_code == 404
    assert case.number not in login(charlie).get("/abuse/").content.decode()
    assert login(alice).post(f"/abuse/cases/{case.pk}/steps/keep_evidence/", {}).status_code == 403
    assert login(dc_staff).get("/abuse/").status_code == 403
    assert Client().get("/abuse/").status_code == 302


def test_staff_open_a_case_from_the_form(engineer: Any, mail_service_a: Any) -> None:
    r = login(engineer).post("/abuse/cases/new/", {"kind": "inbound", "title": "网关检测到垃圾邮件",
                                                    "customer": mail_service_a.customer_id})
    case = SpamCase.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/abuse/cases/{case.pk}/" and case.source == "staff"


def test_every_e_mail_customer_sees_the_abuse_contact_on_their_service_page(
        manager: Any, alice: Any, mail_service_a: Any) -> None:
    desk_save(actor=manager, data={"contact_name": "李工", "phone": "010-12345678", "email": "abuse@provider.test"})
    html = login(alice).get(f"/mail/services/{mail_service_a.pk}/").content.decode()
    assert 'id="abuse-desk"' in html and "abuse@provider.test" in html and "010-12345678" in html and "李工" in html
    assert login(alice).post("/abuse/desk/", {}).status_code == 403


def test_isc_and_listing_pages(engineer: Any) -> None:
    c = login(engineer)
    r = c.post("/abuse/isc/", {"reference": "ISC-2026-03", "published_at": "2026-03-02T10:00",
                               "url": "https://isc.example/l"})
    assert r.status_code == 302
    r = c.post("/abuse/listings/", {"organisation": "Spamhaus", "listed_item": "203.0.113.9",
                                    "listed_at": "2026-03-02T09:00"})
    assert r.status_code == 302
    assert "Spamhaus" in c.get("/abuse/listings/").content.decode()
    assert "ISC-2026-03" in c.get("/abuse/").content.decode()
