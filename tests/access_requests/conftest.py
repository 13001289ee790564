from datetime import timedelta

import pytest
from django.utils import timezone

from access_requests.models import DataCentre, Room
from access_requests.services import VisitorInput, visit_book

# Real time (the page and API tests call services without `now=`), rounded for readable output.
NOW = timezone.now().replace(second=0, microsecond=0)
ENTRY = NOW + timedelta(days=3)
EXIT = ENTRY + timedelta(hours=3)
FULL_ID = "110101199001011234"
MASKED_ID = "11**************34"


@pytest.fixture
def room(db):
    dc = DataCentre.objects.create(name="北京一号数据中心", code="bj1")
    return Room.objects.create(data_centre=dc, name="A301 机房", code="a301")


def book(customer, actor, room, *, entry=ENTRY, exit_=EXIT, visitors=None, now=NOW, activity="operation",
         **kw):
    return visit_book(
        customer=customer, actor=actor, room=room, reason="更换故障硬盘", activity=activity,
        expected_entry_at=entry, expected_exit_at=exit_,
        visitors=visitors or [VisitorInput(name="张三", id_type="resident_id", id_number=FULL_ID,
                                           phone="13900000000"),
                              VisitorInput(name="李四", id_type="passport", id_number="E12345678")],
        contact_email=kw.pop("contact_email", "ops@alpha.test"), now=now, **kw)


@pytest.fixture
def visit(alice, customer_a, room):
    return book(customer_a, alice, room)


@pytest.fixture
def approved(visit, dc_staff):
    from access_requests.services import visit_approve

    return visit_approve(visit_id=visit.pk, actor=dc_staff, escort=dc_staff, now=NOW)
