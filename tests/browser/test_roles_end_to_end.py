"""Each role's main job, end to end, in a real browser (headless chromium through Playwright)
against the live portal with the demo data and the demo logins, as a new user would do it:

- specialist: accept a complaint, issue its written report, open the report's PDF;
- engineer: record a phone authorization of an operation, carry it out, issue its report;
- customer: book a machine-room visit, see their own downtime page; another customer's is a 404;
- data-centre staff: check a visitor in at the door;
- manager: review the overdue clocks and approve a credit someone else proposed (four-eyes).

Pages are driven through their forms (field names, not wording, so the Chinese text may change);
the objects a job starts from are made through the apps' services first. Any console error or
server error in the browser fails the test (see conftest.py).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _user(username: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username)


def _submit(page: Any, selector: str) -> None:
    """Click a submit button and wait for the page it leads to."""
    with page.expect_navigation():
        page.click(selector)


def _no_form_errors(page: Any) -> None:
    errors = page.locator(".errornote, .errorlist").all_inner_texts()
    assert not [e for e in errors if e.strip()], f"form errors on {page.url}: {errors}"


def _confirm_if_previewed(page: Any) -> None:
    """A report form may show a preview before issuing (an issued report is immutable): confirm
    it when the page asks for it."""
    confirm = page.locator("form button[type=submit][name=confirm], form button[type=submit][value=confirm]")
    if confirm.count():
        _submit(page, "form button[type=submit][name=confirm], form button[type=submit][value=confirm]")


def _open_pdf(page: Any, link: Any) -> None:
    """Click a report's PDF link as a user would and check what the browser received: the PDF
    itself (headless chromium downloads it rather than showing it, so the response is checked,
    not the viewer)."""
    href = link.get_attribute("href")
    assert href and href.endswith("/pdf/"), href
    with page.expect_download() as download, page.expect_response(lambda r: r.url.endswith(href)) as info:
        link.click()
    response = info.value
    assert response.status == 200, response.status
    assert response.headers["content-type"].startswith("application/pdf"), response.headers
    path = download.value.path()
    with open(path, "rb") as fh:
        assert fh.read(5) == b"%PDF-"


def test_specialist_accepts_a_complaint_and_issues_its_report(login: Any) -> None:
    from complaints.choices import ComplaintChannel, ComplaintSubject
    from complaints.models import Complaint
    from complaints.services import complaint_create
    from customers.models import AuthorizedContact, Customer

    huaxia = Customer.objects.get(code="demo-huaxia")
    c = complaint_create(
        customer=huaxia, actor=_user("specialist"), channel=ComplaintChannel.COMPLAINT_LINE,
        subject=ComplaintSubject.NETWORK, title="浏览器测试：机柜 A-12 上联端口频繁抖动",
        description="客户来电：今天上午三次断网，每次约两分钟。",
        complainant_contact=AuthorizedContact.objects.get(customer=huaxia, name="张伟"))

    page = login("specialist")
    page.goto(f"/complaints/{c.pk}/")
    page.fill("textarea[name=reason]", "已受理，安排网络组排查")
    _submit(page, "button[name=action][value=accept]")
    _no_form_errors(page)
    c.refresh_from_db()
    assert c.state == "accepted", c.state

    page.goto(f"/complaints/{c.pk}/reports/new/")
    page.fill("[name=findings]", "上联端口光模块老化，误码率升高。")
    page.fill("[name=actions_taken]", "已更换光模块并观察两小时，未再出现丢包。")
    page.fill("[name=next_steps]", "继续观察 24 小时。")
    if page.locator("[name=expected_resolution]").count():
        page.fill("[name=expected_resolution]", "明日 18:00 前确认关闭。")
    _submit(page, "form.panel button[type=submit]")
    _confirm_if_previewed(page)
    _no_form_errors(page)
    c.refresh_from_db()
    assert c.first_report_at is not None

    page.goto(f"/complaints/{c.pk}/")
    _open_pdf(page, page.locator(f"a[href*='/complaints/{c.pk}/reports/'][href$='/pdf/']").first)
    assert Complaint.objects.get(pk=c.pk).state != "received"


def test_engineer_phone_authorization_then_report(login: Any) -> None:
    from customers.models import AuthorizedContact, Service
    from operations.models import OperationRequest
    from operations.services import operation_create

    service = Service.objects.get(name="托管服务器 HX-01")
    contact = AuthorizedContact.objects.get(customer=service.customer, name="张伟")
    op = operation_create(service=service, requested_by=contact, title="浏览器测试：重启托管服务器",
                          description="客户电话要求重启服务器 HX-01。", actor=_user("engineer"))

    page = login("engineer")
    page.goto(f"/operations/{op.pk}/")
    phone = page.locator(f"form[action$='/operations/{op.pk}/phone-authorization/']")
    phone.locator("[name=contact]").select_option(str(contact.pk))
    phone.locator("[name=caller_name]").fill("张伟")
    phone.locator("[name=caller_phone]").fill("13800138001")
    phone.locator("[name=mrtg_username]").fill("huaxia-mrtg")
    phone.locator("[name=mrtg_password]").fill("huaxia-mrtg-secret")
    with page.expect_navigation():
        phone.locator("button[type=submit]").click()
    _no_form_errors(page)
    op.refresh_from_db()
    assert op.state == "authorized", op.state

    _submit(page, f"button[formaction$='/operations/{op.pk}/start/']")
    _no_form_errors(page)
    finish = page.locator(f"form[action$='/operations/{op.pk}/finish/']")
    finish.locator("[name=result]").fill("服务器已重启，业务恢复正常。")
    with page.expect_navigation():
        finish.locator("button[type=submit]").click()
    _no_form_errors(page)
    op.refresh_from_db()
    assert op.state == "finished", op.state

    report = page.locator(f"form[action$='/operations/{op.pk}/report/']")
    report.locator("[name=remarks]").fill("客户已确认。")
    with page.expect_navigation():
        report.locator("button[type=submit]").click()
    _confirm_if_previewed(page)
    _no_form_errors(page)
    _open_pdf(page, page.locator(f"a[href*='/operations/{op.pk}/reports/'][href$='/pdf/']").first)
    assert OperationRequest.objects.get(pk=op.pk).state == "reported"


def _local(dt: datetime) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%dT%H:%M")


def test_customer_books_a_visit_and_sees_only_own_downtime(login: Any, watch: Any) -> None:
    from access_requests.models import Visit
    from customers.models import Service

    own = Service.objects.get(name="托管服务器 HX-01")
    other = Service.objects.get(name="租用服务器 JL-WEB")
    before = set(Visit.objects.filter(customer=own.customer).values_list("pk", flat=True))
    day = timezone.localtime() + timedelta(days=3)
    entry = day.replace(hour=10, minute=0, second=0, microsecond=0)

    page = login("huaxia")
    page.goto("/visits/new/")
    room = page.locator("[name=room]")
    room.select_option(index=1)  # the first room (index 0 is the empty choice)
    page.fill("[name=reason]", "浏览器测试：更换服务器内存条")
    page.locator("[name=activity]").select_option("operation")
    page.fill("[name=expected_entry_at]", _local(entry))
    page.fill("[name=expected_exit_at]", _local(entry + timedelta(hours=2)))
    page.fill("[name=contact_name]", "张伟")
    page.fill("[name=contact_phone]", "13800138001")
    page.fill("[name$='0-name']", "张伟")
    page.fill("[name$='0-id_number']", "110108198805120017")
    _submit(page, "form:has([name=reason]) button[type=submit]")
    _no_form_errors(page)
    new = set(Visit.objects.filter(customer=own.customer).values_list("pk", flat=True)) - before
    assert len(new) == 1, page.url
    visit = Visit.objects.get(pk=new.pop())
    assert visit.state == "requested" and visit.visitors.count() == 1

    response = page.goto(f"/incidents/services/{own.pk}/downtime/")
    assert response is not None and response.status == 200
    assert own.name in page.content()

    foreign = f"/incidents/services/{other.pk}/downtime/"
    watch.expected_errors.append(foreign)
    response = page.goto(foreign)
    assert response is not None and response.status == 404
    assert other.name not in page.content()


def test_dc_staff_checks_a_visitor_in(login: Any) -> None:
    from access_requests.choices import Activity, IdDocumentType
    from access_requests.models import Visitor
    from access_requests.services import VisitorInput, visit_approve, visit_book
    from customers.management.commands.load_demo import _demo_room
    from customers.models import Customer

    now = timezone.now()
    # Booked three days ago (inside the lead time) for a slot that starts in a few minutes: the
    # visitor arrives on time.
    booked = now - timedelta(days=3)
    visit = visit_book(
        customer=Customer.objects.get(code="demo-huaxia"), actor=_user("huaxia"), room=_demo_room(),
        reason="浏览器测试：上架新服务器", activity=Activity.OPERATION,
        expected_entry_at=now + timedelta(minutes=5), expected_exit_at=now + timedelta(hours=2),
        contact_name="张伟", contact_phone="13800138001",
        visitors=[VisitorInput(name="刘洋", id_type=IdDocumentType.RESIDENT_ID,
                               id_number="110105199203150036", phone="13600136006")],
        now=booked)
    visit_approve(visit_id=visit.pk, actor=_user("dcstaff"), escort=_user("dcstaff"), now=booked)

    page = login("dcstaff")
    page.goto("/visits/door/")
    page.goto(f"/visits/{visit.pk}/door/")
    form = page.locator(f"form[action$='/visits/{visit.pk}/door/check-in/']").first
    form.locator("[name=pass_number]").fill("P-0042")
    form.locator("[name=id_document_confirmed]").check()
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    _no_form_errors(page)
    person = Visitor.objects.get(visit=visit)
    assert person.entered_at is not None and person.pass_number == "P-0042"
    assert re.search(r"P-0042", page.content())


def test_manager_reviews_overdue_and_approves_a_credit(login: Any) -> None:
    from credits.choices import CreditKind
    from credits.models import Credit
    from credits.services import credit_propose
    from customers.models import Contract
    from tests import factories as f

    # Proposed by another manager: the demo manager may approve it (four-eyes).
    other = f.StaffFactory(role="manager", username="browser-mia")
    contract = Contract.objects.get(number="HT-DEMO-0001")
    today = timezone.localdate()
    credit = credit_propose(contract=contract, policy_code="C1", kind=CreditKind.DEDUCT_DAY_RENT,
                            period=today.replace(day=1), amount=Decimal("103.33"),
                            note="浏览器测试：扣减一天租金", actor=other)

    page = login("manager")
    response = page.goto("/sla/overdue/")
    assert response is not None and response.status == 200
    assert page.locator("h1").count() == 1

    page.goto(f"/credits/{credit.pk}/")
    page.fill("[name=reason]", "核实无误，同意")
    _submit(page, f"button[formaction$='/credits/{credit.pk}/approve/']")
    _no_form_errors(page)
    credit = Credit.objects.get(pk=credit.pk)
    assert credit.state == "approved", credit.state
    assert credit.decided_by == _user("manager")
