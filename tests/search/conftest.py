"""Search fixtures: customer A's items of every kind, and customer C's look-alikes (same words,
same phone digits) that A's user must never find."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from rest_framework.test import APIClient

from access_requests.models import DataCentre, Room, Visit, Visitor
from incidents.models import Incident
from operations.models import OperationRequest
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)


def web(user):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def api(user):  # type: ignore[no-untyped-def]
    c = APIClient()
    c.force_authenticate(user)
    return c


@dataclass
class Items:
    complaint: object
    incident: Incident
    operation: OperationRequest
    visit: Visit
    contact: object
    customer: object


def _items(customer, specialist, room, *, tag: str, phone: str, n: int) -> Items:  # type: ignore[no-untyped-def]
    from complaints.services import complaint_create

    contract = f.ContractFactory(customer=customer)
    service = f.ServiceFactory(contract=contract, specialist=specialist)
    contact: Any = f.AuthorizedContactFactory(customer=customer, name=f"王{tag}经理", mobile=phone,
                                         email=f"wang@{tag}.test")
    complaint = complaint_create(
        customer=customer, actor=specialist, channel="complaint_line", subject="network",
        title="机房网络时断时续", description="3月1日晚网络多次中断。", complainant_contact=contact,
        received_at=NOW, now=NOW)
    incident = Incident.objects.create(customer=customer, service=service, source="staff",
                                       title="邮箱联通性中断", detected_at=NOW, number=f"GZ20260302-{n:06d}")
    operation = OperationRequest.objects.create(
        customer=customer, service=service, requested_by=contact, title="更换防火墙策略",
        description="开放 25 端口", requested_at=NOW, number=f"CZ20260302-{n:06d}")
    visit = Visit.objects.create(
        customer=customer, room=room, reason="更换故障硬盘", activity="operation",
        expected_entry_at=NOW + timedelta(days=1), expected_exit_at=NOW + timedelta(days=1, hours=2),
        contact_name=f"赵{tag}", contact_phone=phone, contact_email=f"ops@{tag}.test", requested_at=NOW,
        number=f"JF20260303-{n:06d}")
    Visitor.objects.create(visit=visit, name=f"张{tag}", id_type="passport", id_number="E12345678")
    return Items(complaint, incident, operation, visit, contact, customer)


@pytest.fixture
def room(db):  # type: ignore[no-untyped-def]
    dc = DataCentre.objects.create(name="北京一号数据中心", code="bj1")
    return Room.objects.create(data_centre=dc, name="A301 机房", code="a301")


@pytest.fixture
def items_a(customer_a, specialist, room) -> Items:  # type: ignore[no-untyped-def]
    return _items(customer_a, specialist, room, tag="alpha", phone="138-0013-8000", n=901)


@pytest.fixture
def items_c(charlie, specialist, room) -> Items:  # type: ignore[no-untyped-def]
    # The same title words and a phone sharing digits: only the tenant filter keeps them apart.
    return _items(charlie.customer_link.customer, specialist, room, tag="charlie", phone="138-0013-9999",
                  n=902)
