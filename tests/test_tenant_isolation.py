"""Tenant isolation across every URL that takes an object id, in one place.

One object of each kind is built once for customer A (alice's), plus the parent objects of
customer C (charlie's) for the mixed-id checks (charlie's own complaint with A's report id, ...).
Then, per URL: charlie gets 404 on GET and on POST, and the POST changes nothing; alice gets 200
on the GETs. A page closed to every customer user answers charlie's id exactly as an unknown id
(a 403, the same body) and changes nothing; the MRTG traffic view's pages are opened with the
contacts' MRTG user name and password instead of a portal login. Every list page, API
collection and CSV/PDF export charlie can open holds none of A's strings.
`test_every_url_with_an_id_is_covered` fails when a new URL taking an id appears without a case
here.

The world is built once per module inside a transaction that is rolled back at the end (each test
runs in a savepoint of it): issuing the two PDF reports once keeps the module fast.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
NOW = timezone.now().replace(second=0, microsecond=0)
MARK = "ALPHASECRET"  # in every title, name and number of customer A that a page could show
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%test\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

pytestmark = pytest.mark.django_db


# --- the world --------------------------------------------------------------------------------

@dataclass
class World:
    alice: Any
    charlie: Any
    objs: dict[str, Any]
    numbers: list[str]  # A's generated numbers (complaint, incident, operation, visit)
    staff: dict[str, Any]  # role -> user


def _build() -> World:
    from access_requests.models import DataCentre, Room
    from access_requests.services import VisitorInput, visit_book
    from complaints.services import (
        complaint_accept,
        complaint_attach,
        complaint_create,
        complaint_report_issue,
    )
    from credits.services import credit_propose
    from incidents.choices import IncidentSource
    from incidents.services import ack_token, emergency_declare
    from monitoring.services import target_save
    from notifications.models import Notification
    from operations import services as ops
    from sla.models import ContractPolicy, SlaPolicy
    from sla.services import clock_start

    specialist = f.StaffFactory(role="specialist", username="iso-sam")
    engineer = f.StaffFactory(role="engineer", username="iso-eve")
    dc_staff = f.StaffFactory(role="dc_staff", username="iso-dan")
    alice = f.CustomerUserFactory(user__username="iso-alice", customer__name=f"甲公司 {MARK}",
                                  customer__code="alpha-iso").user
    charlie = f.CustomerUserFactory(user__username="iso-charlie", customer__name="丙公司 Charlie",
                                    customer__code="charlie-iso", is_customer_admin=True).user
    customer_a, customer_c = alice.customer_link.customer, charlie.customer_link.customer

    def tenant(customer: Any, tag: str) -> dict[str, Any]:
        contract = f.ContractFactory(customer=customer, number=f"HT-{tag}-0001",
                                     monthly_fee=Decimal("3100.00"))
        service = f.ServiceFactory(contract=contract, name=f"{tag} 托管服务", specialist=specialist,
                                   engineer=engineer)
        contact = f.AuthorizedContactFactory(customer=customer, name=f"{tag} 联系人",
                                             email=f"{tag.lower()}@customer.test",
                                             office_phone="010-1", channels=["office_phone", "email"],
                                             mrtg_username=f"{tag.lower()}-mrtg")
        complaint = complaint_create(
            customer=customer, actor=specialist, channel="complaint_line", subject="network",
            title=f"{tag} 网络时断时续", description=f"{tag} 3月1日晚网络多次中断。",
            complainant_contact=contact, received_at=T0, now=T0)
        decl = emergency_declare(service=service, source=IncidentSource.MONITOR, title=f"{tag} 设备不可达",
                                 description=tag, outage_started_at=T0 - timedelta(minutes=5), now=T0)
        operation = ops.operation_create(service=service, requested_by=contact, title=f"{tag} 重启数据库",
                                         description=f"{tag} 请重启 db01。", actor=engineer, now=T0)
        return {"contract": contract, "service": service, "contact": contact, "complaint": complaint,
                "incident": decl.incident, "outage": decl.outage, "operation": operation}

    a, c = tenant(customer_a, MARK), tenant(customer_c, "CHARLIE")
    objs: dict[str, Any] = {"customer": customer_a, **a,
                            **{f"{k}_c": v for k, v in c.items()}, "customer_c": customer_c}
    # The installation order of A's service (the service was made by a factory, not through
    # customers.services, so it is opened here as the orders app's listener would).
    from types import SimpleNamespace

    from orders.services import order_open_for_service

    objs["installation_order"] = order_open_for_service(service_id=a["service"].pk, now=T0)
    objs["order_item"] = SimpleNamespace(pk="power")  # a checklist item is named by its code
    # The e-mail provisioning order (E5) of an e-mail service of A, its domain entered.
    from orders.services import provisioning_open_for_service

    email_a = f.ServiceFactory(contract=a["contract"], kind="email", name=f"{MARK} 企业邮箱")
    prov = provisioning_open_for_service(service_id=email_a.pk, now=T0)
    prov.domain = "alphasecret.example.cn"
    prov.save(update_fields=["domain"])
    objs["provisioning_order"] = prov
    objs["provisioning_item"] = SimpleNamespace(pk="mailboxes")

    complaint_accept(complaint_id=a["complaint"].pk, actor=specialist, now=T0)
    objs["complaint_report"] = complaint_report_issue(
        complaint_id=a["complaint"].pk, actor=specialist, findings=f"{MARK} findings",
        actions_taken=f"{MARK} actions", now=T0 + timedelta(hours=1))
    objs["attachment"] = complaint_attach(complaint_id=a["complaint"].pk, actor=alice, now=T0,
                                          f=SimpleUploadedFile("a.png", PNG, content_type="image/png"))
    objs["attempt"] = a["incident"].notice_attempts.order_by("pk").first()
    objs["ack_token"] = ack_token(incident=a["incident"], contact=a["contact"])
    objs["notification"] = Notification.objects.order_by("pk").first()

    # An operation waiting for the engineer's check of a written authorization the customer sent,
    # and a second one carried through to its written report.
    objs["authorization"] = ops.authorization_upload_written(
        operation_id=a["operation"].pk, f=SimpleUploadedFile("授权书.pdf", PDF, content_type="application/pdf"),
        contact=a["contact"], actor=alice, signed_on=T0.date(), now=T0)
    done = ops.operation_create(service=a["service"], requested_by=a["contact"], title=f"{MARK} 更换硬盘",
                                description=MARK, actor=engineer, now=T0)
    ops.authorization_upload_written(
        operation_id=done.pk, f=SimpleUploadedFile("授权书.pdf", PDF, content_type="application/pdf"),
        contact=a["contact"], actor=engineer, signed_on=T0.date(), now=T0)
    ops.operation_start(operation_id=done.pk, actor=engineer, now=T0 + timedelta(minutes=5))
    ops.operation_finish(operation_id=done.pk, actor=engineer, result=MARK, now=T0 + timedelta(minutes=30))
    objs["operation_done"] = done
    objs["operation_report"] = ops.operation_report_issue(operation_id=done.pk, actor=engineer,
                                                          now=T0 + timedelta(hours=1))

    objs["target"] = target_save(service=a["service"], actor=engineer,
                                 data={"kind": "device", "host": "10.9.9.9", "port": 22, "name": f"{MARK} db01"})
    from incidents.services import facility_event_record

    # A facility event is the data centre's own record: closed to every customer user.
    objs["facility_event"] = facility_event_record(
        title=f"{MARK} 停电", kind="power_cut", scopes=[("room", "iso-A101")], started_at=T0,
        evidence=MARK, actor=dc_staff, now=T0 + timedelta(minutes=5))
    room = Room.objects.create(data_centre=DataCentre.objects.create(name="北京一号", code="iso-bj1"),
                               name="A301", code="iso-a301")
    objs["room"] = room
    objs["visit"] = visit_book(
        customer=customer_a, actor=alice, room=room, reason=f"{MARK} 更换故障硬盘", activity="operation",
        expected_entry_at=NOW + timedelta(days=3), expected_exit_at=NOW + timedelta(days=3, hours=3),
        visitors=[VisitorInput(name=f"{MARK} 张三", id_type="resident_id", id_number="110101199001011234",
                               phone="13900000000")],
        contact_email="ops@alpha.test", now=NOW)
    objs["credit"] = credit_propose(contract=a["contract"], policy_code="C3", kind="refund_installation",
                                    amount=Decimal("512.34"), period=date(2026, 1, 1), note=f"{MARK} 初装超时")
    objs["clock"] = clock_start(subject=a["contract"], policy_code="C8", contract=a["contract"], now=T0,
                                label=f"{MARK} clock")
    objs["clock_c"] = clock_start(subject=c["contract"], policy_code="C8", contract=c["contract"], now=T0,
                                  label="CHARLIE clock")
    # An item of alice's in-app inbox (notification centre) about her complaint.
    from django.contrib.contenttypes.models import ContentType

    from notifications.models import InboxItem

    objs["inbox_item"] = InboxItem.objects.create(
        user=alice, event_key=f"iso:{a['complaint'].pk}", kind="complaint", title=f"{MARK} 投诉已受理",
        summary=MARK, content_type=ContentType.objects.get_for_model(a["complaint"]),
        object_id=a["complaint"].pk, created_at=T0)
    objs["policy_override"] = ContractPolicy.objects.create(
        contract=a["contract"], policy=SlaPolicy.objects.get(code="C8"), threshold=Decimal("12"),
        note=f"{MARK} override")
    from accounts.services import token_create

    objs["api_token"], _key = token_create(user=alice, name=f"{MARK} token", now=NOW)
    # February closed for A's service (an outage makes it a breach), and A's statement of it.
    from incidents.models import Outage
    from settlement.models import Judgement
    from settlement.services import month_close
    from settlement.statements import statement_issue

    feb = datetime(2026, 2, 10, 9, tzinfo=TZ)
    Outage.objects.create(service=a["service"], kind="network", source="manual", started_at=feb,
                          ended_at=feb + timedelta(minutes=50), cause="provider", reported_at=feb,
                          created_at=feb, evidence=MARK)
    with override_settings(SETTLEMENT_STATEMENTS="off"):
        month_close(year=2026, month=2, service_ids=[a["service"].pk], now=T0)
    objs["judgement"] = Judgement.objects.get(service=a["service"], policy__code="C1", current=True)
    objs["statement_report"] = statement_issue(customer_id=customer_a.pk, first=date(2026, 2, 1), now=T0)
    objs["statement"] = objs["statement_report"].subject
    objs["stmt_year"], objs["stmt_month"] = SimpleNamespace(pk=2026), SimpleNamespace(pk=2)
    # A's e-mail service with a mail domain on a platform, and a fault of the platform (the
    # platform and its events are the provider's: staff pages, closed to every customer user).
    from mailservice.models import MailDomain, MailPlatform, PlatformEvent

    objs["mail_service"] = f.ServiceFactory(contract=a["contract"], kind="email", name=f"{MARK} 企业邮箱")
    objs["mail_platform"] = MailPlatform.objects.create(name=f"{MARK} 邮件平台")
    MailDomain.objects.create(domain="alphasecret-iso.example.cn", service=objs["mail_service"],
                              platform=objs["mail_platform"])
    objs["mail_domain"] = MailDomain.objects.get(domain="alphasecret-iso.example.cn")
    from mailservice.models import BillingErrorFigure
    from monitoring.services import mailbox_save

    objs["billing_figure"] = BillingErrorFigure.objects.create(
        month=date(2026, 2, 1), customers_billed=100, customers_with_error=0, entered_at=T0)
    objs["mailbox"] = mailbox_save(service=objs["mail_service"], actor=engineer, now=T0, data={
        "address": "probe@alphasecret-iso.example.cn", "password": f"{MARK}-pw", "smtp_host": "127.0.0.1",
        "smtp_port": 2587, "smtp_security": "none", "imap_host": "127.0.0.1", "imap_port": 2143,
        "imap_security": "none"})
    objs["platform_event"] = PlatformEvent.objects.create(
        platform=objs["mail_platform"], kind="fault", title=f"{MARK} 存储故障", started_at=T0,
        ended_at=T0 + timedelta(minutes=5), recorded_at=T0)
    # A locked mail account of A's e-mail service (its data kept 90 days, seed 002 §7).
    from mailservice.retention import locked_account_record

    objs["locked_account"] = locked_account_record(
        actor=engineer, service=objs["mail_service"], address="locked@alphasecret-iso.example.cn",
        kind="locked", locked_at=T0, reason=f"{MARK} 欠费锁定", now=T0)
    # A spam case about A (with its evidence and the checklist's first step), and the provider's
    # own records: an ISC list publication and a blacklist listing (staff only, no customer key).
    from abuse.services import case_evidence_add, case_open_by_staff, listing_record, publication_record

    objs["spam_case"] = case_open_by_staff(
        actor=engineer, kind="inbound", title=f"{MARK} 外域垃圾邮件", description=MARK, customer=customer_a,
        complainant_name=f"{MARK} 王经理", complainant_email="wang@alphasecret-iso.example.cn",
        opened_at=T0, now=T0)
    objs["spam_evidence"] = case_evidence_add(
        case_id=objs["spam_case"].pk, actor=engineer, now=T0,
        f=SimpleUploadedFile("证据.pdf", PDF, content_type="application/pdf"))
    objs["spam_step"] = SimpleNamespace(pk="keep_evidence")
    objs["isc_publication"] = publication_record(reference=f"{MARK}-ISC-2026-01", published_at=T0,
                                                 url="https://isc.example.cn/list/1", actor=engineer, now=T0)
    objs["blacklist_listing"] = listing_record(organisation=f"{MARK} 反垃圾组织", listed_item="203.0.113.5",
                                               listed_at=T0, actor=engineer, now=T0)
    # A service request of each customer (logged by the specialist from a phone call), with A's
    # thread: a reply, an internal note, an attachment and an agreed service change; and a
    # message from a stranger left unmatched in the service mailbox (staff only).
    from servicedesk.services import (
        inbound_mail_process,
        note_add,
        reply_add,
        request_attach,
        request_create,
        service_change_agree,
    )

    for key, tenant_objs, tag in (("service_request", a, MARK), ("service_request_c", c, "CHARLIE")):
        objs[key] = request_create(
            customer=tenant_objs["service"].customer, actor=specialist, kind="payment_renewal", channel="phone",
            service=tenant_objs["service"], contact=tenant_objs["contact"], title=f"{tag} 续费咨询",
            description=f"{tag} 合同何时到期？", opened_at=T0, now=T0)
    sr = objs["service_request"]
    objs["request_reply"] = reply_add(request_id=sr.pk, actor=specialist, body=f"{MARK} 答复",
                                      now=T0 + timedelta(minutes=10))
    objs["request_note"] = note_add(request_id=sr.pk, actor=specialist, body=f"{MARK} 内部备注",
                                    now=T0 + timedelta(minutes=11))
    objs["request_attachment"] = request_attach(
        request_id=sr.pk, actor=alice, now=T0 + timedelta(minutes=12),
        f=SimpleUploadedFile("a.png", PNG, content_type="image/png"))
    objs["service_change"] = service_change_agree(
        request_id=sr.pk, actor=specialist, changes={"name": f"{MARK} 托管服务 扩容"}, note=MARK,
        now=T0 + timedelta(minutes=13))
    objs["inbound_mail"] = inbound_mail_process(
        raw=(f"From: stranger@elsewhere.test\r\nTo: service@provider.test\r\nSubject: {MARK} hello\r\n"
             f"Message-ID: <iso-1@elsewhere.test>\r\n\r\n{MARK}\r\n").encode(), now=T0)
    assert objs["inbound_mail"] is not None and objs["inbound_mail"].outcome == "unmatched"
    # A switch port of A's hosting service, and the range of a graph (named by its code).
    from traffic.services import switchport_save

    objs["switch_port"] = switchport_save(
        service=a["service"], actor=engineer, now=T0,
        data={"name": f"{MARK} 上联端口", "device_address": "192.0.2.7", "interface": "3",
              "community": f"{MARK}-community"})
    objs["graph"] = SimpleNamespace(pk="day")
    for o in objs.values():
        if hasattr(o, "refresh_from_db"):
            o.refresh_from_db()
    numbers = [n for n in (a["complaint"].number, a["incident"].number, a["operation"].number,
                           done.number, objs["visit"].number, objs["service_request"].number,
                           objs["spam_case"].number) if n]
    return World(alice=alice, charlie=charlie, objs=objs, numbers=numbers,
                 staff={"specialist": specialist, "engineer": engineer, "dc_staff": dc_staff})


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media), \
            django_db_blocker.unblock(), transaction.atomic():
        yield _build()
        transaction.set_rollback(True)


def client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def mrtg_client(contact: Any) -> Client:
    """A browser signed in to the MRTG traffic view with the contact's MRTG user name and password
    (the factory's secret), through the sign-in form: no portal login."""
    c = Client()
    r = c.post(reverse("traffic:mrtg-login"), {"username": contact.mrtg_username, "password": "mrtg-secret"})
    assert r.status_code == 302 and r["Location"] == reverse("traffic:mrtg-view"), r.status_code
    return c


def _as(w: World, who: str, case: Case) -> Client:
    """charlie or alice as the case opens the page: a portal login, or their contact's MRTG sign-in."""
    if case.mrtg:
        return mrtg_client(w.objs["contact" if who == "alice" else "contact_c"])
    return client(w.alice if who == "alice" else w.charlie)


# --- every URL that takes an id ---------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    name: str
    kwargs: tuple[tuple[str, str], ...]  # url kwarg -> key in World.objs
    post: bool = False
    owner_get: int | None = 200  # what alice gets on GET (None: not checked, a staff-only page)
    # Closed to every customer user (alice too): a uniform 403 whatever the id, checked to be the
    # same answer as for an id that does not exist, so it tells charlie nothing (and, for a
    # POST, changes nothing).
    closed: bool = False
    # Opened with a customer's MRTG user name and password (the read-only traffic view), not a
    # portal login: charlie's contact signs in there instead.
    mrtg: bool = False

    @property
    def id(self) -> str:
        return f"{'POST' if self.post else 'GET'} {self.name} {'/'.join(v for _, v in self.kwargs)}"


def _c(name: str, *, post: bool = False, owner_get: int | None = 200, closed: bool = False,
       mrtg: bool = False, **kw: str) -> Case:
    return Case(name, tuple(kw.items()), post, owner_get, closed, mrtg)


def _posts(names: list[str], **kw: str) -> list[Case]:
    return [Case(n, tuple(kw.items()), post=True) for n in names]


CASES: list[Case] = [
    # pages
    _c("customers:detail", pk="customer"),
    _c("customers:contact_create", customer_pk="customer", owner_get=None),
    _c("customers:contact_edit", customer_pk="customer", pk="contact", owner_get=None),
    _c("customers:contact_edit", customer_pk="customer_c", pk="contact", owner_get=None),
    _c("customers:contract_create", customer_pk="customer", owner_get=None),
    *_posts(["customers:contact_create", "customers:contract_create"], customer_pk="customer"),
    *_posts(["customers:contact_edit"], customer_pk="customer", pk="contact"),
    *_posts(["customers:contact_edit"], customer_pk="customer_c", pk="contact"),
    _c("sla:clock_detail", pk="clock"),
    _c("credits:detail", pk="credit"),
    *_posts(["credits:approve", "credits:reject", "credits:apply"], pk="credit"),
    _c("complaints:detail", pk="complaint"),
    *_posts([f"complaints:{a}" for a in ("accept", "investigate", "resolve", "close", "reopen",
                                         "withdraw")], pk="complaint"),
    _c("complaints:report_create", owner_get=None, pk="complaint"),
    *_posts(["complaints:report_create", "complaints:attachment_upload"], pk="complaint"),
    _c("complaints:report_pdf", pk="complaint", report_pk="complaint_report"),
    _c("complaints:report_pdf", pk="complaint_c", report_pk="complaint_report"),
    _c("complaints:report_correct", owner_get=None, pk="complaint", report_pk="complaint_report"),
    *_posts(["complaints:report_correct"], pk="complaint", report_pk="complaint_report"),
    *_posts(["complaints:report_correct"], pk="complaint_c", report_pk="complaint_report"),
    _c("complaints:attachment_download", pk="complaint", attachment_pk="attachment"),
    _c("complaints:attachment_download", pk="complaint_c", attachment_pk="attachment"),
    _c("access_requests:detail", pk="visit"),
    *_posts([f"access_requests:{a}" for a in ("approve", "decline", "cancel", "escort", "change",
                                              "close", "check_in", "check_out")], pk="visit"),
    _c("access_requests:door_visit", owner_get=None, pk="visit"),
    _c("incidents:detail", pk="incident"),
    *_posts([f"incidents:{a}" for a in ("acknowledge", "resolve", "close", "declare", "exempt",
                                        "record_report")], pk="incident"),
    *_posts(["incidents:attempt_record"], pk="incident", attempt_pk="attempt"),
    *_posts(["incidents:attempt_record"], pk="incident_c", attempt_pk="attempt"),
    *_posts(["incidents:outage_classify"], pk="incident", outage_pk="outage"),
    *_posts(["incidents:outage_classify"], pk="incident_c", outage_pk="outage"),
    _c("incidents:downtime", service_pk="service"),
    _c("incidents:facility_event_detail", owner_get=None, pk="facility_event"),
    *_posts(["incidents:facility_event_end", "incidents:facility_event_classify"], pk="facility_event"),
    _c("monitoring:detail", pk="target"),
    _c("monitoring:edit", owner_get=None, pk="target"),
    *_posts(["monitoring:edit"], pk="target"),
    _c("operations:detail", pk="operation"),
    _c("operations:detail", pk="operation_done"),
    *_posts(["operations:phone"], pk="operation"),
    _c("operations:auth_file", pk="operation", auth_pk="authorization"),
    _c("operations:auth_file", pk="operation_c", auth_pk="authorization"),
    *_posts(["operations:auth_accept", "operations:auth_reject"], pk="operation", auth_pk="authorization"),
    *_posts(["operations:auth_accept", "operations:auth_reject"], pk="operation_c",
            auth_pk="authorization"),
    _c("operations:report_pdf", pk="operation_done", report_pk="operation_report"),
    _c("operations:report_pdf", pk="operation_c", report_pk="operation_report"),
    *_posts([f"operations:{a}" for a in ("written", "refuse", "cancel", "start", "step", "feedback")],
            pk="operation"),
    *_posts([f"operations:{a}" for a in ("finish", "report", "close")], pk="operation_done"),
    _c("orders:detail", pk="installation_order"),
    _c("orders:provisioning_detail", pk="provisioning_order"),
    *_posts([f"orders:provisioning_{a}" for a in ("update", "confirm_payment", "complete", "cancel")],
            pk="provisioning_order"),
    *_posts(["orders:provisioning_item_done", "orders:provisioning_item_undo"], pk="provisioning_order",
            code="provisioning_item"),
    *_posts([f"orders:{a}" for a in ("pause", "resume", "complete", "cancel")], pk="installation_order"),
    *_posts(["orders:item_done", "orders:item_undo"], pk="installation_order", code="order_item"),
    *_posts(["credits:reverse"], pk="credit"),
    _c("settlement:judgement_detail", pk="judgement"),
    _c("settlement:statement_detail", customer_id="customer", year="stmt_year", month="stmt_month"),
    _c("settlement:statement_pdf", customer_id="customer", year="stmt_year", month="stmt_month"),
    _c("settlement:statement_version_pdf", customer_id="customer", year="stmt_year", month="stmt_month",
       report_pk="statement_report"),
    # API
    _c("api-customer-detail", pk="customer"),
    _c("api-contract-detail", pk="contract"),
    _c("api-service-detail", pk="service"),
    _c("api-contact-detail", pk="contact"),
    _c("api-policy-override-detail", owner_get=None, pk="policy_override"),
    _c("api-clock-detail", pk="clock"),
    *_posts(["api-clock-pause", "api-clock-resume", "api-clock-cancel"], pk="clock"),
    _c("api-credit-detail", pk="credit"),
    *_posts(["api-credit-approve", "api-credit-reject", "api-credit-apply"], pk="credit"),
    # The attempt log carries no customer key: customer users are refused the whole API.
    _c("api-notification-detail", owner_get=None, closed=True, pk="notification"),
    _c("api-complaint-detail", pk="complaint"),
    *_posts([f"api-complaint-{a}" for a in ("accept", "investigate", "resolve", "close", "reopen",
                                            "withdraw", "reports", "attachments")], pk="complaint"),
    _c("api-complaint-reports", pk="complaint"),
    _c("api-complaint-attachments", pk="complaint"),
    _c("api-complaint-report-pdf", pk="complaint", report_pk="complaint_report"),
    _c("api-complaint-report-pdf", pk="complaint_c", report_pk="complaint_report"),
    _c("api-complaint-attachment-download", pk="complaint", attachment_pk="attachment"),
    _c("api-complaint-attachment-download", pk="complaint_c", attachment_pk="attachment"),
    _c("api-visit-detail", pk="visit"),
    *_posts([f"api-visit-{a}" for a in ("approve", "decline", "cancel", "escort", "close", "check-in",
                                        "check-out")], pk="visit"),
    _c("api-visit-door", owner_get=None, pk="visit"),
    _c("api-incident-detail", pk="incident"),
    *_posts([f"api-incident-{a}" for a in ("acknowledge", "resolve", "close", "exempt", "declare")],
            pk="incident"),
    *_posts(["api-notice-attempt-record"], pk="attempt"),
    _c("api-outage-detail", pk="outage"),
    *_posts(["api-outage-classify"], pk="outage"),
    _c("api-service-downtime", pk="service"),
    *[_c(f"api-facility-event-{a}", owner_get=None, closed=True, pk="facility_event")
      for a in ("detail", "end", "classify")],
    _c("api-target-detail", pk="target"),
    _c("api-operation-detail", pk="operation"),
    *_posts([f"api-operation-{a}" for a in ("written-authorization", "phone-authorization", "refuse",
                                            "cancel", "start", "steps", "messages")], pk="operation"),
    *_posts([f"api-operation-{a}" for a in ("finish", "reports", "close")], pk="operation_done"),
    _c("api-operation-authorization-file", pk="operation", auth_pk="authorization"),
    _c("api-operation-authorization-file", pk="operation_c", auth_pk="authorization"),
    *_posts(["api-operation-authorization-accept", "api-operation-authorization-reject"],
            pk="operation", auth_pk="authorization"),
    *_posts(["api-operation-authorization-accept", "api-operation-authorization-reject"],
            pk="operation_c", auth_pk="authorization"),
    _c("api-operation-report-pdf", pk="operation_done", report_pk="operation_report"),
    _c("api-operation-report-pdf", pk="operation_c", report_pk="operation_report"),
    _c("api-installation-order-detail", pk="installation_order"),
    _c("api-provisioning-order-detail", pk="provisioning_order"),
    *_posts([f"api-provisioning-order-{a}" for a in ("update", "confirm-payment", "complete", "cancel")],
            pk="provisioning_order"),
    *_posts(["api-provisioning-order-item-done", "api-provisioning-order-item-undo"],
            pk="provisioning_order", code="provisioning_item"),
    *_posts([f"api-installation-order-{a}" for a in ("pause", "resume", "complete", "cancel")],
            pk="installation_order"),
    *_posts(["api-installation-order-item-done", "api-installation-order-item-undo"],
            pk="installation_order", code="order_item"),
    *_posts(["api-credit-reverse"], pk="credit"),
    _c("api-judgement-detail", pk="judgement"),
    _c("api-statement-detail", pk="statement"),
    _c("api-statement-pdf", pk="statement"),
    _c("api-statement-version-pdf", pk="statement", report_pk="statement_report"),
    # An e-mail service's month of figures (its staff pages are in EXEMPT).
    _c("mailservice:service_detail", pk="mail_service"),
    _c("api-mail-service-figures", pk="mail_service"),
    _c("api-mail-domain-detail", pk="mail_domain"),
    # The provider's platforms, their events and the billing figures: staff only, every id a 403.
    *[_c(name, owner_get=None, closed=True, pk=pk) for name, pk in (
        ("api-mail-platform-detail", "mail_platform"), ("api-mail-platform-event-detail", "platform_event"),
        ("api-mail-platform-event-end", "platform_event"), ("api-mail-billing-figure-detail", "billing_figure"))],
    # A probe mailbox of an e-mail service (its password is sealed, never shown).
    _c("monitoring:mailbox-detail", pk="mailbox"),
    _c("monitoring:mailbox-edit", owner_get=None, pk="mailbox"),
    *_posts(["monitoring:mailbox-edit"], pk="mailbox"),
    _c("api-mailbox-detail", pk="mailbox"),
    # A user's own API tokens: anyone else's id is a 404 (not only another customer's).
    _c("api-token-detail", pk="api_token"),
    *_posts(["api-token-revoke"], pk="api_token"),
    # An e-mail service's backups, anti-virus and locked accounts month, and its locked accounts.
    _c("mailservice:service_guarantee", pk="mail_service"),
    _c("api-mail-service-guarantee", pk="mail_service"),
    _c("api-mail-locked-account-detail", pk="locked_account"),
    *_posts(["api-mail-locked-account-delete"], pk="locked_account"),
    # Recording a locked account or its deletion: engineers' and managers' pages, 403 first.
    *[_c(name, post=post, owner_get=None, closed=True, pk=pk) for name, pk in (
        ("mailservice:account_create", "mail_service"), ("mailservice:account_delete", "locked_account"))
      for post in (False, True)],
    # Spam cases: the customer reads the cases about them; every action is staff's, and another
    # customer's case is a 404 before the role is looked at.
    _c("abuse:detail", pk="spam_case"),
    _c("api-spam-case-detail", pk="spam_case"),
    *_posts(["abuse:step_done"], pk="spam_case", code="spam_step"),
    *_posts([f"abuse:{a}" for a in ("evidence_upload", "set_kind", "close", "reopen")], pk="spam_case"),
    *_posts([f"api-spam-case-{a}" for a in (
        "keep-evidence", "identify-source", "report-isc", "complain-provider", "block-source",
        "unblock-source", "identify-account", "suspend-account", "notify-result", "restore-account",
        "evidence", "kind", "close")], pk="spam_case"),
    # Evidence and the message as received name third parties: staff only, a 404 to the owner too.
    _c("abuse:evidence_download", owner_get=404, pk="spam_case", evidence_pk="spam_evidence"),
    _c("api-spam-case-evidence-download", owner_get=404, pk="spam_case", evidence_pk="spam_evidence"),
    _c("abuse:raw_message", owner_get=404, pk="spam_case"),
    # The ISC's list publications and the provider's blacklist listings: the provider's records,
    # no customer key; staff who handle spam only, every id a 403 to a customer user.
    *[_c(name, post=post, owner_get=None, closed=True, pk=pk) for name, post, pk in (
        ("abuse:publication_process", True, "isc_publication"),
        ("api-isc-publication-detail", False, "isc_publication"),
        ("api-isc-publication-process", True, "isc_publication"),
        ("abuse:listing_report", True, "blacklist_listing"),
        ("api-blacklist-listing-detail", False, "blacklist_listing"),
        ("api-blacklist-listing-report", True, "blacklist_listing"))],
    # Service requests: the customer reads theirs and acts on some; notes and changes are staff's.
    _c("servicedesk:detail", pk="service_request"),
    *_posts([f"servicedesk:{a}" for a in ("start", "wait", "resume", "resolve", "close", "reopen", "cancel",
                                          "reply", "note", "change_create", "attachment_upload")],
            pk="service_request"),
    *_posts(["servicedesk:change_apply"], pk="service_request", change_pk="service_change"),
    _c("servicedesk:attachment_download", pk="service_request", attachment_pk="request_attachment"),
    _c("servicedesk:attachment_download", pk="service_request_c", attachment_pk="request_attachment"),
    _c("api-service-request-detail", pk="service_request"),
    *_posts([f"api-service-request-{a}" for a in ("start", "wait", "resume", "resolve", "close", "reopen",
                                                  "cancel", "replies", "notes", "changes")],
            pk="service_request"),
    _c("api-service-request-replies", pk="service_request"),
    _c("api-service-request-notes", owner_get=403, pk="service_request"),
    *_posts(["api-service-request-change-apply"], pk="service_request", change_pk="service_change"),
    # The service mailbox's unmatched message: customer-service staff only, 403 first.
    _c("servicedesk:mailbox_action", post=True, owner_get=None, closed=True, mail_pk="inbound_mail"),
    # Switch ports and their graphs (the form is the engineers': 403 to the owner after the lookup).
    _c("traffic:detail", pk="switch_port"),
    _c("traffic:data", pk="switch_port", graph="graph"),
    _c("traffic:edit", owner_get=403, pk="switch_port"),
    *_posts(["traffic:edit"], pk="switch_port"),
    _c("switchport-api", pk="switch_port"),
    _c("switchport-traffic-api", pk="switch_port", graph="graph"),
    # The MRTG view: signed in with the customer's MRTG user name and password, no portal login.
    _c("traffic:mrtg-port", mrtg=True, pk="switch_port"),
    _c("traffic:mrtg-data", mrtg=True, pk="switch_port", graph="graph"),
    # The in-app inbox: an item is its user's alone (opening it marks it read, then redirects to
    # what it is about); anyone else's id is a 404 (test_another_users_inbox_item_is_a_404).
    _c("notifications:inbox_open", owner_get=302, pk="inbox_item"),
    *_posts(["notifications:inbox_read", "api-inbox-read"], pk="inbox_item"),
]

# URLs with an id that are not tenant objects, and why.
EXEMPT = {
    "password_reset_confirm": "Django's own reset link: a user token, no tenant data",
    "api-policy-detail": "SLA policies are the provider's defaults, the same for every customer",
    "api-workday-override-detail": "the working-day calendar is global",
    "incidents:ack": "the e-mailed acknowledgement link: the signed token is the credential "
                     "(test_ack_link_needs_the_signed_token)",
    "runtime:mailbox_detail": "the local mail catcher's files, no tenant objects: staff only, every "
                              "name a 404 to a customer (tests/runtime/test_mailcatcher.py)",
    "runtime:mailbox_attachment": "as runtime:mailbox_detail",
    "settlement:month_detail": "a calendar month, not a tenant object: each user sees only their own "
                               "services' judgements in it (tests/settlement/test_month_close.py)",
    **{f"mailservice:{n}": "the provider's mail platforms, their faults and adjustments, and adding a "
                           "domain: staff pages, 403 to every customer user before any lookup, whatever "
                           "the id (tests/mailservice/test_pages_forms.py)"
       for n in ("platform_detail", "platform_edit", "event_create", "event_edit", "event_end",
                 "event_delete", "domain_create")},
}

# Whatever a client may send to an action: enough for most forms to be valid, so an unscoped view
# would act (and the snapshot would catch it) rather than stop at a form error.
POST_DATA = {
    "reason": "x", "note": "x", "findings": "x", "actions_taken": "x", "result": "x", "body": "x",
    "description": "x", "remarks": "x", "exemption": "customer_contact_outdated", "cause": "provider",
    "reached": "true", "visitor": "1", "pass_number": "P1", "id_document_confirmed": "true",
    "work_done": "x", "name": "x", "host": "10.0.0.2", "kind": "device", "port": "22",
    "mrtg_username": "x", "mrtg_password": "x", "number": "HT-X", "monthly_fee": "1",
}


def _walk(patterns: list[Any], prefix: str = "", ns: str = "") -> Iterator[tuple[str, str]]:
    for p in patterns:
        if isinstance(p, URLResolver):
            sub = ":".join(x for x in (ns, p.namespace or "") if x)
            yield from _walk(p.url_patterns, prefix + str(p.pattern), sub)
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), ":".join(x for x in (ns, p.name or "") if x)


def _url(case: Case, w: World, **override: int) -> str:
    return reverse(case.name, kwargs={k: w.objs[v].pk for k, v in case.kwargs} | override)


def _snapshot() -> list[Any]:
    """Every row a tenant action could touch."""
    from abuse.models import BlacklistListing, CaseEvidence, CaseStep, IscPublication, SpamCase
    from access_requests.models import Visit, Visitor
    from accounts.models import ApiToken
    from audit.models import AuditEntry
    from complaints.models import Complaint, ComplaintAttachment
    from credits.models import Credit
    from customers.models import AuthorizedContact, Contract, Customer, Service
    from incidents.models import Incident, NoticeAttempt, Outage
    from mailservice.models import LockedAccount
    from monitoring.models import Target
    from notifications.models import InboxItem, Notification
    from operations.models import Authorization, OperationRequest, PhoneAttempt
    from orders.models import ChecklistItem, InstallationOrder, ProvisioningItem, ProvisioningOrder
    from reports.models import WrittenReport
    from servicedesk.models import InboundMail, RequestAttachment, RequestEntry, ServiceChange, ServiceRequest
    from sla.models import Clock, ContractPolicy
    from traffic.models import MrtgLoginAttempt, SwitchPort

    models: tuple[type[Any], ...] = (Visit, Visitor, AuditEntry, Complaint, ComplaintAttachment, Credit, AuthorizedContact,
              Contract, Customer, Service, Incident, NoticeAttempt, Outage, Target, Authorization,
              OperationRequest, PhoneAttempt, WrittenReport, Clock, ContractPolicy, ApiToken,
              InstallationOrder, ChecklistItem, ProvisioningOrder, ProvisioningItem, LockedAccount,
              SpamCase, CaseStep, CaseEvidence, IscPublication, BlacklistListing, ServiceRequest,
              RequestEntry, RequestAttachment, InboundMail, ServiceChange, SwitchPort, MrtgLoginAttempt,
              Notification, InboxItem)
    return [list(m.objects.order_by("pk").values()) for m in models]


def test_every_url_with_an_id_is_covered() -> None:
    covered = {c.name for c in CASES}
    missing = [f"{route} ({name})" for route, name in _walk(get_resolver().url_patterns)
               if "<" in route and not route.startswith("admin/")
               and name not in covered and name not in EXEMPT]
    assert missing == []


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_another_customer_gets_404_and_changes_nothing(world: World, case: Case) -> None:
    url = _url(case, world)
    if case.closed:
        before = _snapshot()
        unknown_url = _url(case, world, **{case.kwargs[0][0]: 10**9})
        send = client(world.charlie).post if case.post else client(world.charlie).get
        r = send(url, POST_DATA) if case.post else send(url)
        unknown = send(unknown_url, POST_DATA) if case.post else send(unknown_url)
        assert (r.status_code, _refusal(r, url)) == (403, _refusal(unknown, unknown_url)), (url, r.status_code)
        assert _snapshot() == before
    elif case.post:
        before = _snapshot()
        r = _as(world, "charlie", case).post(url, POST_DATA)
        assert r.status_code == 404, (url, r.status_code, r.content[:300])
        assert _snapshot() == before
    else:
        r = _as(world, "charlie", case).get(url)
        assert r.status_code == 404, (url, r.status_code, r.content[:300])


@pytest.mark.parametrize("case", [c for c in CASES if not c.post and c.owner_get
                                  and not c.kwargs[0][1].endswith("_c")], ids=lambda c: c.id)
def test_the_owner_gets_200(world: World, case: Case) -> None:
    r = _as(world, "alice", case).get(_url(case, world))
    assert r.status_code == case.owner_get


def _refusal(response: Any, url: str) -> str:
    """A refusal's body with what differs between any two requests taken out: the CSRF tokens of
    the page's forms (masked anew on each render), the server's time the live countdowns start
    from (data-server-now, to the millisecond) and the address the client asked for (the
    language form sends the user back to it). What remains must not depend on the id."""
    body = response.content.decode("utf-8", "replace")
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken" value=""', body)
    body = re.sub(r'data-server-now="[^"]*"', 'data-server-now=""', body)
    return body.replace(url, "<url>")


def test_another_customers_switch_port_cannot_be_changed(world: World) -> None:
    """The port API also takes PATCH: another customer's port is a 404 and nothing changes."""
    url = reverse("switchport-api", args=[world.objs["switch_port"].pk])
    before = _snapshot()
    r = client(world.charlie).patch(url, {"name": "x", "interface": "9"}, content_type="application/json")
    assert r.status_code == 404, (r.status_code, r.content[:300])
    assert _snapshot() == before


def test_ack_link_needs_the_signed_token(world: World) -> None:
    token = world.objs["ack_token"]
    r = Client().get(reverse("incidents:ack", args=[token[:-2] + "xx"]))
    assert r.status_code in (400, 404) and MARK not in r.content.decode()
    assert Client().get(reverse("incidents:ack", args=[token])).status_code == 200


# --- lists and exports ------------------------------------------------------------------------

LISTS = [
    "home", "customers:list", "sla:overdue", "sla:overdue_csv", "sla:breaches", "sla:clock_list",
    "sla:policy_list", "credits:list", "notifications:list", "complaints:list", "complaints:create",
    "access_requests:list", "access_requests:book", "access_requests:schedule", "access_requests:door",
    "access_requests:log_csv", "access_requests:log_pdf", "incidents:list", "incidents:report",
    "incidents:outage_create", "incidents:create", "monitoring:list", "monitoring:create", "operations:list",
    "operations:create", "incidents:facility_event_list", "incidents:facility_event_create",
    "api-facility-event-list",
    "api-customer-list", "api-contract-list", "api-service-list", "api-contact-list",
    "api-policy-override-list", "api-clock-list", "api-overdue", "api-overdue-csv", "api-credit-list",
    "api-notification-list", "api-complaint-list", "api-visit-list", "api-visit-door-lookup",
    "api-visit-log-csv", "api-visit-log-pdf", "api-incident-list", "api-outage-list", "api-target-list",
    "api-operation-list", "api-token-list", "orders:list", "api-installation-order-list",
    "orders:provisioning_list", "api-provisioning-order-list",
    "servicedesk:list", "api-service-request-list", "servicedesk:mailbox", "abuse:list", "api-spam-case-list",
    "abuse:publications", "abuse:listings", "api-isc-publication-list", "api-blacklist-listing-list",
    "traffic:list", "switchports-api", "mailservice:guarantee_queue", "api-mail-locked-account-list",
    "notifications:inbox", "api-inbox-list",
]
# Lists where alice must see her objects (so the check above cannot pass on an empty page).
OWNER_SEES = {"customers:list", "complaints:list", "access_requests:list", "incidents:list",
              "monitoring:list", "operations:list", "credits:list", "access_requests:log_csv",
              "access_requests:log_pdf", "api-customer-list", "api-contract-list", "api-service-list",
              "api-contact-list", "api-complaint-list", "api-visit-list", "api-incident-list",
              "api-target-list", "api-operation-list", "api-credit-list", "api-visit-log-csv",
              "api-visit-log-pdf", "api-clock-list", "api-token-list", "orders:list",
              "api-installation-order-list", "orders:provisioning_list", "api-provisioning-order-list",
              "servicedesk:list", "api-service-request-list", "abuse:list", "api-spam-case-list",
              "traffic:list", "switchports-api", "api-mail-locked-account-list",
              "notifications:inbox", "api-inbox-list"}


def _text(response: Any) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if body.startswith(b"%PDF"):
        with tempfile.NamedTemporaryFile(suffix=".pdf") as fh:
            fh.write(body)
            fh.flush()
            return subprocess.run(["pdftotext", fh.name, "-"], check=True, capture_output=True,
                                  text=True).stdout
    return body.decode("utf-8", "replace")


def _leaks(text: str, w: World) -> list[str]:
    found = [s for s in (MARK, *w.numbers) if s in text]
    # A's objects by id in a JSON body ("id": 12 of A's complaint ...) would be caught by MARK in
    # their titles; the customer's own id is checked too.
    if re.search(rf'"customer":\s*{w.objs["customer"].pk}\b', text):
        found.append("customer id")
    return found


@pytest.mark.parametrize("name", LISTS)
def test_lists_and_exports_show_another_customer_nothing(world: World, name: str) -> None:
    query = {"q": MARK} if "door" in name else {}
    # follow: a customer user's /customers/ redirects to their own customer's page.
    r = client(world.charlie).get(reverse(name), query, follow=True)
    assert r.status_code in (200, 403), (name, r.status_code)
    if r.status_code == 200:
        assert _leaks(_text(r), world) == []
    if name in OWNER_SEES:
        mine = client(world.alice).get(reverse(name), follow=True)
        assert mine.status_code == 200 and _leaks(_text(mine), world)


def test_an_mrtg_session_lists_only_its_customers_ports(world: World) -> None:
    """The MRTG view's list of ports, signed in as charlie's contact, holds none of A's; signed in
    as A's contact it shows A's port (so the check cannot pass on an empty page)."""
    theirs = mrtg_client(world.objs["contact_c"]).get(reverse("traffic:mrtg-view"))
    assert theirs.status_code == 200 and _leaks(_text(theirs), world) == []
    mine = mrtg_client(world.objs["contact"]).get(reverse("traffic:mrtg-view"))
    assert mine.status_code == 200 and MARK in _text(mine)


# --- the live countdowns, the inbox, the charts, the report previews, the door ------------------

def test_live_clocks_leave_out_another_customers_ids(world: World) -> None:
    """/api/clocks/live/?ids= (static/js/live.js) answers only the clocks the user may see: A's id
    among charlie's is silently absent, exactly as an id that does not exist."""
    mine, theirs = world.objs["clock_c"].pk, world.objs["clock"].pk
    url = reverse("api-clock-live")
    r = client(world.charlie).get(url, {"ids": f"{theirs},{mine}"})
    assert r.status_code == 200, r.content[:300]
    assert [c["id"] for c in r.json()["clocks"]] == [mine] and _leaks(r.content.decode(), world) == []
    only_theirs = client(world.charlie).get(url, {"ids": str(theirs)})
    unknown = client(world.charlie).get(url, {"ids": str(10**9)})
    assert only_theirs.status_code == unknown.status_code == 200
    assert only_theirs.json()["clocks"] == unknown.json()["clocks"] == []
    owner = client(world.alice).get(url, {"ids": f"{theirs},{mine}"})
    assert [c["id"] for c in owner.json()["clocks"]] == [theirs]


@pytest.mark.parametrize("who", ["charlie", "specialist"])
def test_another_users_inbox_item_is_a_404(world: World, who: str) -> None:
    """An inbox item is its user's alone: anyone else (another customer's user, or staff, who see
    every customer's objects) gets a 404 on opening it or marking it read, page or API, never sees
    it listed, and marking all their own read leaves it unread."""
    from notifications.models import InboxItem

    user = world.charlie if who == "charlie" else world.staff["specialist"]
    pk = world.objs["inbox_item"].pk
    c = client(user)
    assert c.get(reverse("notifications:inbox_open", args=[pk])).status_code == 404
    assert c.post(reverse("notifications:inbox_read", args=[pk])).status_code == 404
    assert c.post(reverse("api-inbox-read", args=[pk])).status_code == 404
    for name in ("notifications:inbox", "api-inbox-list"):
        listed = c.get(reverse(name)).content.decode()
        # Staff have inbox items of their own about A's objects: alice's item is what must not show.
        assert world.objs["inbox_item"].title not in listed, name
        assert who != "charlie" or MARK not in listed, name
    assert c.post(reverse("notifications:inbox_read_all")).status_code == 302
    assert c.post(reverse("api-inbox-read-all")).status_code == 200
    assert InboxItem.objects.get(pk=pk).read_at is None
    # The owner: opening marks it read and leads to the complaint it is about.
    r = client(world.alice).get(reverse("notifications:inbox_open", args=[pk]))
    assert r.status_code == 302 and r["Location"] == reverse("complaints:detail", args=[world.objs["complaint"].pk])
    assert InboxItem.objects.get(pk=pk).read_at is not None


def test_chart_pages_of_another_customers_service_or_target_are_a_404(world: World) -> None:
    """The downtime page (availability chart, outage timeline) and the monitoring target page (its
    hourly chart) answer another customer's service or target with a 404 whatever month or range
    is asked, a bad one included; the owner gets the chart, and charlie's own pages show none of A."""
    service, target = world.objs["service"].pk, world.objs["target"].pk
    for url, query in ((reverse("incidents:downtime", args=[service]), {"month": "2026-02"}),
                       (reverse("incidents:downtime", args=[service]), {"month": "bad"}),
                       (reverse("api-service-downtime", args=[service]), {"month": "2026-02"}),
                       (reverse("monitoring:detail", args=[target]), {"range": "7d"}),
                       (reverse("monitoring:detail", args=[target]), {"range": "bad"})):
        r = client(world.charlie).get(url, query)
        assert r.status_code == 404, (url, query, r.status_code)
        assert _leaks(r.content.decode(), world) == [], (url, query)
    for url, query in ((reverse("incidents:downtime", args=[service]), {"month": "2026-02"}),
                       (reverse("monitoring:detail", args=[target]), {"range": "7d"})):
        mine = client(world.alice).get(url, query)
        assert mine.status_code == 200 and MARK in mine.content.decode(), url
    own = client(world.charlie).get(reverse("incidents:downtime", args=[world.objs["service_c"].pk]),
                                    {"month": "2026-02"})
    assert own.status_code == 200 and _leaks(own.content.decode(), world) == []


@pytest.mark.parametrize("name, key, staff", [("complaints:report_create", "complaint", "specialist"),
                                              ("operations:report", "operation", "engineer")])
def test_a_report_preview_of_another_customers_object_is_a_404(world: World, name: str, key: str,
                                                               staff: str) -> None:
    """The preview of a written report (action=preview: the report as it would be issued, nothing
    written) answers charlie with a 404 on A's complaint or operation and changes nothing; the
    same body is a preview for the staff member who issues such reports (so the 404 is the
    scope, not a bad request)."""
    body = {**POST_DATA, "action": "preview"}
    url = reverse(name, args=[world.objs[key].pk])
    before = _snapshot()
    r = client(world.charlie).post(url, body)
    assert r.status_code == 404, (url, r.status_code, r.content[:300])
    assert _snapshot() == before
    control = client(world.staff[staff]).post(url, body)
    assert control.status_code in (200, 302), (url, control.status_code)
    assert _snapshot() == before


def test_the_door_is_security_s_alone(world: World) -> None:
    """The door (the lookup page and API, a visit's door page and full-ID view, check-in with a
    reason for checking in outside the booked time) is data-centre staff's: the visit's own
    customer gets a 403, another customer a 404 for the visit (looked up first, as on the other
    visit pages), and nothing changes, an override reason or not."""
    visit = world.objs["visit"]
    visitor = visit.visitors.order_by("pk").first()
    form = {"visitor": visitor.pk, "pass_number": "P1", "id_document_confirmed": "true",
            "override_reason": "客户迟到，经值班经理同意"}
    api = {**form, "id_document_confirmed": True}
    before = _snapshot()
    for who, expected in (("charlie", 404), ("alice", 403)):
        c = client(getattr(world, who))
        assert c.get(reverse("access_requests:door")).status_code == 403, who
        assert c.get(reverse("access_requests:door"), {"q": visit.number}).status_code == 403, who
        assert c.get(reverse("api-visit-door-lookup"), {"q": visit.number}).status_code == 403, who
        checks = {
            "door page": c.get(reverse("access_requests:door_visit", args=[visit.pk])),
            "check-in": c.post(reverse("access_requests:check_in", args=[visit.pk]), form),
            "check-out": c.post(reverse("access_requests:check_out", args=[visit.pk]), {"visitor": visitor.pk}),
            "API door": c.get(reverse("api-visit-door", args=[visit.pk])),
            "API check-in": c.post(reverse("api-visit-check-in", args=[visit.pk]), api,
                                   content_type="application/json"),
        }
        got = {what: r.status_code for what, r in checks.items()}
        assert got == dict.fromkeys(checks, expected), (who, got)
        assert all(visitor.id_number not in r.content.decode() for r in checks.values()), who
    assert _snapshot() == before
    door = client(world.staff["dc_staff"]).get(reverse("access_requests:door_visit", args=[visit.pk]))
    assert door.status_code == 200 and visitor.name in door.content.decode()


# --- least privilege inside the staff -------------------------------------------------------------

DC_STAFF_REFUSED = [
    _c("complaints:list"), _c("complaints:create"), _c("complaints:detail", pk="complaint"),
    _c("complaints:report_pdf", pk="complaint", report_pk="complaint_report"),
    _c("complaints:attachment_download", pk="complaint", attachment_pk="attachment"),
    _c("api-complaint-list"), _c("api-complaint-detail", pk="complaint"),
    _c("api-complaint-report-pdf", pk="complaint", report_pk="complaint_report"),
    _c("api-complaint-attachment-download", pk="complaint", attachment_pk="attachment"),
    _c("credits:list"), _c("credits:detail", pk="credit"), _c("api-credit-detail", pk="credit"),
    _c("operations:detail", pk="operation"), _c("api-contract-detail", pk="contract"),
    _c("api-contact-detail", pk="contact"),
]


@pytest.mark.parametrize("case", DC_STAFF_REFUSED, ids=lambda c: c.id)
def test_data_centre_staff_do_not_read_complaints_credits_or_contracts(world: World, case: Case) -> None:
    """Data-centre staff work visits and the door: the pages refuse what the API refuses."""
    assert client(world.staff["dc_staff"]).get(_url(case, world)).status_code == 403
    assert client(world.staff["specialist"]).get(_url(case, world)).status_code == 200


def test_data_centre_staff_see_a_customer_without_contracts_contacts_or_credits(world: World) -> None:
    url = reverse("customers:detail", args=[world.objs["customer"].pk])
    # The contract's fees, the contacts and the credits (a service row names its contract number).
    hidden = ("¥3100.00", "ALPHASECRET 联系人", "512.34")
    page = client(world.staff["dc_staff"]).get(url).content.decode()
    assert "ALPHASECRET 托管服务" in page and not [h for h in hidden if h in page]
    page = client(world.staff["specialist"]).get(url).content.decode()
    assert all(h in page for h in hidden)


# --- another customer's ids in a request body -----------------------------------------------------

def _refs(w: World, *, theirs: bool) -> list[tuple[str, str, dict[str, Any]]]:
    """(url, what, body): creates by charlie that name one of A's objects (theirs=True) or, as the
    control that the same body works, charlie's own."""
    o = {k: v.pk for k, v in w.objs.items() if hasattr(v, "pk")}

    def a(key: str) -> int:
        return o[key] if theirs else o[f"{key}_c"]

    room = w.objs["room"].pk
    entry = (NOW + timedelta(days=3)).isoformat()
    exit_ = (NOW + timedelta(days=3, hours=2)).isoformat()
    return [
        ("/api/complaints/", "customer", {"customer": a("customer"), "title": "t", "description": "d",
                                          "subject": "network"}),
        ("/api/complaints/", "contact", {"complainant_contact": a("contact"), "title": "t",
                                         "description": "d", "subject": "network"}),
        ("/api/operations/", "service", {"service": a("service"), "requested_by": o["contact_c"],
                                         "title": "t", "description": "d"}),
        ("/api/operations/", "contact", {"service": o["service_c"], "requested_by": a("contact"),
                                         "title": "t", "description": "d"}),
        ("/api/visits/", "customer", {"customer": a("customer"), "room": room, "reason": "r",
                                      "activity": "tour", "expected_entry_at": entry, "expected_exit_at": exit_,
                                      "visitors": [{"name": "n", "id_type": "passport", "id_number": "E1"}]}),
        ("/api/contacts/", "customer", {"customer": a("customer"), "name": "n", "mobile": "138",
                                        "channels": ["mobile"]}),
        (reverse("operations:create"), "service (page)", {"service": a("service"), "urgency": "normal",
                                                          "requested_by": o["contact_c"], "title": "t",
                                                          "description": "d"}),
        (reverse("operations:create"), "contact (page)", {"service": o["service_c"], "urgency": "normal",
                                                          "requested_by": a("contact"), "title": "t",
                                                          "description": "d"}),
        (reverse("incidents:report"), "service (page)", {"service": a("service"), "title": "t",
                                                         "description": "d"}),
        ("/api/service-requests/", "customer", {"customer": a("customer"), "kind": "inquiry", "title": "t",
                                                "description": "d"}),
        ("/api/service-requests/", "service", {"service": a("service"), "kind": "inquiry", "title": "t",
                                               "description": "d"}),
        ("/api/service-requests/", "contact", {"contact": a("contact"), "kind": "inquiry", "title": "t",
                                               "description": "d"}),
        (reverse("servicedesk:create"), "service (page)", {"service": a("service"), "kind": "inquiry",
                                                           "title": "t", "description": "d"}),
    ]


@pytest.mark.parametrize("theirs", [True, False], ids=["A's id: refused", "own id: control"])
@pytest.mark.parametrize("index", range(13))
def test_another_customers_id_in_a_body_creates_nothing(world: World, index: int, theirs: bool) -> None:
    url, what, body = _refs(world, theirs=theirs)[index]
    before = _snapshot()
    if url.startswith("/api/"):
        r = client(world.charlie).post(url, body, content_type="application/json")
        ok = r.status_code == 201
    else:
        r = client(world.charlie).post(url, body)
        ok = r.status_code == 302  # a form error re-renders the page
    assert ok is not theirs, (url, what, r.status_code, r.content[:300])
    if theirs:
        assert _snapshot() == before, (url, what)


def test_another_customers_contact_on_my_own_written_authorization(world: World) -> None:
    before = _snapshot()
    r = client(world.charlie).post(
        reverse("api-operation-written-authorization", args=[world.objs["operation_c"].pk]),
        {"file": SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf"),
         "contact": world.objs["contact"].pk, "signed_on": T0.date().isoformat()})
    assert r.status_code == 400 and "contact" in r.json()["errors"]
    assert _snapshot() == before
