from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
# Monday 2026-03-02 10:00: one working day later is the end of Tuesday 03-03 (24:00 = 03-04 00:00).
MON_10 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
RESP_DUE = datetime(2026, 3, 4, 0, 0, tzinfo=TZ)


@pytest.fixture
def mail_service_a(customer_a: Any, specialist: Any) -> Any:
    contract = f.ContractFactory(customer=customer_a, monthly_fee="3100.00")
    service = f.ServiceFactory(contract=contract, kind="email", name="甲公司企业邮箱", specialist=specialist)
    f.MailDomainFactory(domain="alpha.cn", service=service)
    return service


@pytest.fixture
def mail_service_c(charlie: Any) -> Any:
    customer = charlie.customer_link.customer
    contract = f.ContractFactory(customer=customer)
    return f.ServiceFactory(contract=contract, kind="email", name="丙公司企业邮箱")


@pytest.fixture
def spam_complaint(mail_service_a: Any, specialist: Any) -> Any:
    """A factory: a spam complaint of customer A, accepted at `at` (on-commit listeners run)."""
    from complaints.services import complaint_accept, complaint_create

    def make(at: datetime = MON_10, capture: Any = None, subject: str = "spam") -> Any:
        c = complaint_create(customer=mail_service_a.customer, actor=specialist, channel="email",
                             subject=subject, title="收到大量广告邮件", description="每天数百封。",
                             complainant_name="王经理", complainant_email="wang@alpha.cn",
                             received_at=at, now=at)
        if capture is not None:
            with capture(execute=True):
                complaint_accept(complaint_id=c.pk, actor=specialist, now=at)
        else:
            complaint_accept(complaint_id=c.pk, actor=specialist, now=at)
        c.refresh_from_db()
        return c

    return make


@pytest.fixture
def staff_case(mail_service_a: Any, engineer: Any) -> Any:
    """A factory: a case opened by staff for customer A (with a complainant)."""
    from abuse.services import case_open_by_staff

    def make(kind: str = "inbound", at: datetime = MON_10, customer: Any = "a", complainant: bool = True) -> Any:
        return case_open_by_staff(
            actor=engineer, kind=kind, title="出站垃圾邮件" if kind == "outbound" else "外域垃圾邮件",
            customer=mail_service_a.customer if customer == "a" else customer,
            complainant_name="王经理" if complainant else "", complainant_email="wang@alpha.cn" if complainant else "",
            opened_at=at, now=at)

    return make


def pdf_file(name: str = "guarantee.pdf") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, b"%PDF-1.4\n% guarantee\n", content_type="application/pdf")
