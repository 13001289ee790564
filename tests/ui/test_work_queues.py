"""Work queues on the home pages: each person's breached, at-risk and running clocks across the
workflows, oldest deadline first, linking to the item; data-centre staff see today's visits; a
customer never sees another customer's clocks; the page costs the same queries for 3 clocks as
for 30."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from complaints.models import Complaint
from sla.choices import ClockState
from sla.models import Clock
from sla.selectors import QueueGroup, clock_item_url, my_work_queue
from tests import factories as f

from .conftest import login, start_clock

pytestmark = pytest.mark.django_db


def _breach(clock: Clock) -> Clock:
    """What the sweep does at the deadline (state and timestamp only; no escalations needed here)."""
    Clock.objects.filter(pk=clock.pk).update(state=ClockState.BREACHED, breached_at=clock.due_at)
    return Clock.objects.get(pk=clock.pk)


def _group_ids(html: str, group: str) -> list[int]:
    """The clock ids listed in one group's section of the page, in page order."""
    import re

    start = html.index(f'data-queue="{group}"')
    end = html.find("</section>", start)
    return [int(x) for x in re.findall(r'data-queue-clock="(\d+)"', html[start:end])]


def test_engineer_home_lists_my_clocks_by_group_oldest_deadline_first(engineer, specialist, contract_a):
    late_older = _breach(start_clock(contract=contract_a, hours_ago=40, assignee=engineer, label="较早违约"))
    late = start_clock(contract=contract_a, hours_ago=30, assignee=engineer, label="已过期未处理")
    risk = start_clock(contract=contract_a, hours_ago=20, assignee=engineer, label="即将到期")
    running = start_clock(contract=contract_a, hours_ago=1, assignee=engineer, label="正常进行")
    others = start_clock(contract=contract_a, hours_ago=30, assignee=specialist, label="别人的")
    fulfilled_late = _breach(start_clock(contract=contract_a, hours_ago=50, assignee=engineer))
    Clock.objects.filter(pk=fulfilled_late.pk).update(completed_at=timezone.now())

    r = login(engineer).get("/")
    assert r.status_code == 200
    html = r.content.decode()
    # Breached-and-owed and past-due-not-yet-swept are both "breached", oldest deadline first.
    assert _group_ids(html, QueueGroup.BREACHED) == [late_older.pk, late.pk]
    assert _group_ids(html, QueueGroup.AT_RISK) == [risk.pk]
    assert _group_ids(html, QueueGroup.RUNNING) == [running.pk]
    assert f'data-queue-clock="{others.pk}"' not in html
    assert f'data-queue-clock="{fulfilled_late.pk}"' not in html  # fulfilled late: nothing owed any more
    assert r.context["queue"].counts == {QueueGroup.BREACHED: 2, QueueGroup.AT_RISK: 1, QueueGroup.RUNNING: 1}


def test_unassigned_clocks_of_my_customers_are_in_my_queue(engineer, contract_a, contract_c):
    f.ServiceFactory(contract=contract_a, engineer=engineer)
    mine = start_clock(contract=contract_a, hours_ago=20)
    not_mine = start_clock(contract=contract_c, hours_ago=20)
    q = my_work_queue(user=engineer)
    ids = [row.clock.pk for row in q.groups[QueueGroup.AT_RISK]]
    assert ids == [mine.pk] and not_mine.pk not in ids


def test_rows_link_to_the_item_not_only_the_clock(engineer, contract_a):
    clock = start_clock(contract=contract_a, hours_ago=1, assignee=engineer)
    html = login(engineer).get("/").content.decode()
    # The demo-style subject is a service: its item page is the customer's.
    assert f'href="/customers/{contract_a.customer_id}/"' in html
    assert f'href="/sla/clocks/{clock.pk}/"' in html
    ct = ContentType.objects.get_for_model(Complaint)
    complaint_clock = Clock(pk=999, content_type=ct, object_id=42, customer=contract_a.customer)
    assert clock_item_url(complaint_clock) == "/complaints/42/"


def test_groups_are_bounded_with_a_link_to_the_full_list(engineer, contract_a):
    for _i in range(3):
        start_clock(contract=contract_a, hours_ago=1, assignee=engineer)
    q = my_work_queue(user=engineer, limit=2)
    assert q.counts[QueueGroup.RUNNING] == 3 and len(q.groups[QueueGroup.RUNNING]) == 2


def test_home_query_count_does_not_grow_with_the_clocks(engineer, contract_a):
    def count() -> int:
        c = login(engineer)
        c.get("/")  # warm caches (session, content types)
        with CaptureQueriesContext(connection) as ctx:
            assert c.get("/").status_code == 200
        return len(ctx.captured_queries)

    for hours in (30, 20, 1):
        start_clock(contract=contract_a, hours_ago=hours, assignee=engineer)
    few = count()
    for i in range(27):
        start_clock(contract=contract_a, hours_ago=(30, 20, 1)[i % 3], assignee=engineer)
    assert count() == few


def test_customer_home_shows_breached_clocks_and_never_another_customers(alice, contract_a, contract_c):
    breached = _breach(start_clock(contract=contract_a, hours_ago=30, label="甲的违约"))
    running = start_clock(contract=contract_a, hours_ago=1, label="甲的进行中")
    theirs = start_clock(contract=contract_c, hours_ago=30, label="丙的时钟")
    html = login(alice).get("/").content.decode()
    assert "甲的违约" in html and "甲的进行中" in html
    assert "丙的时钟" not in html
    assert html.index("甲的违约") < html.index("甲的进行中")
    assert f"/sla/clocks/{theirs.pk}/" not in html
    assert f"/sla/clocks/{breached.pk}/" in html and f"/sla/clocks/{running.pk}/" in html


def test_manager_home_adds_the_managers_own_queue(manager, engineer, contract_a):
    start_clock(contract=contract_a, hours_ago=20, assignee=engineer)
    c = login(manager)
    r = c.get("/")
    assert r.context["warning_count"] == 1  # team-wide at risk
    assert 'data-queue="at_risk"' not in r.content.decode()  # nothing assigned to the manager
    mine = start_clock(contract=contract_a, hours_ago=30, assignee=manager)
    html = c.get("/").content.decode()
    assert _group_ids(html, QueueGroup.BREACHED) == [mine.pk]


# --- the data-centre staff home --------------------------------------------------------------

@pytest.fixture
def room(db):
    from access_requests.models import DataCentre, Room

    dc = DataCentre.objects.create(name="北京一号数据中心", code="bj1")
    return Room.objects.create(data_centre=dc, name="A301 机房", code="a301")


def _visit(customer, actor, room, *, entry, hours=2, name="张三", emergency=True):
    from access_requests.services import VisitorInput, visit_book

    return visit_book(customer=customer, actor=actor, room=room, reason="更换硬盘", activity="operation",
                      expected_entry_at=entry, expected_exit_at=entry + timedelta(hours=hours),
                      visitors=[VisitorInput(name=name, id_type="resident_id", id_number="110101199001011234")],
                      contact_email="ops@alpha.test", emergency=emergency, emergency_reason="故障",
                      now=entry - timedelta(hours=30))


# A fixed morning in Asia/Shanghai, so "today" never straddles midnight.
DAY_10AM = datetime(2026, 6, 10, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_dc_staff_home_lists_arrivals_pending_and_inside(dc_staff, alice, customer_a, room):
    from access_requests.services import visit_approve, visitor_check_in

    now = DAY_10AM
    start_of_day = now - timedelta(hours=10)
    in_a_bit = now + timedelta(minutes=5)
    arriving = _visit(customer_a, alice, room, entry=in_a_bit, hours=1, name="王到访")
    visit_approve(visit_id=arriving.pk, actor=dc_staff, escort=dc_staff, now=in_a_bit - timedelta(hours=29))
    tomorrow = _visit(customer_a, alice, room, entry=start_of_day + timedelta(days=1, hours=10), name="明天来")
    visit_approve(visit_id=tomorrow.pk, actor=dc_staff, escort=dc_staff, now=now - timedelta(hours=1))
    pending = _visit(customer_a, alice, room, entry=now + timedelta(days=2), name="待审批")
    inside = _visit(customer_a, alice, room, entry=now - timedelta(minutes=30), name="已在场")
    visit_approve(visit_id=inside.pk, actor=dc_staff, escort=dc_staff, now=now - timedelta(hours=2),
                  allow_escort_overlap=True)
    person = inside.visitors.get()
    visitor_check_in(visit_id=inside.pk, visitor_id=person.pk, actor=dc_staff, pass_number="P1",
                     id_document_confirmed=True, now=now - timedelta(minutes=20))

    with time_machine.travel(now, tick=False):
        r = login(dc_staff).get("/")
    assert r.status_code == 200
    dash = r.context["dash"]
    assert [v.pk for v in dash.arrivals] == [arriving.pk]
    assert [v.pk for v in dash.pending] == [pending.pk]
    assert [v.pk for v in dash.inside] == [inside.pk]
    html = r.content.decode()
    assert f"/visits/{arriving.pk}/" in html and f"/visits/{inside.pk}/" in html and "/visits/door/" in html
    assert "110101199001011234" not in html and "11**************34" in html
    assert "明天来" not in html
