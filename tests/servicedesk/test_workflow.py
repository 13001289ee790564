"""The request workflow: routing to the dedicated specialist or engineer, each transition (the
allowed move succeeds, a move from a wrong state raises and changes nothing), the customer's
reopen window, cancel ending the clocks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit.models import AuditEntry
from servicedesk.choices import RequestState
from servicedesk.models import ServiceRequest
from servicedesk.services import (
    request_cancel,
    request_close,
    request_create,
    request_reopen,
    request_resolve,
    request_start,
    request_wait,
)
from sla.choices import ClockState
from sla.models import Clock
from slaportal.errors import ConflictError, ForbiddenError
from tests import factories as f

from .conftest import T0

pytestmark = pytest.mark.django_db


def test_portal_request_goes_to_the_services_dedicated_specialist(sr, specialist, alice):
    assert sr.assignee == specialist
    assert sr.channel == "portal" and sr.state == RequestState.NEW
    assert sr.number == f"SR-2026-{sr.pk:06d}"
    codes = set(Clock.objects.filter(object_id=sr.pk, policy__code__startswith="SR-")
                .values_list("policy__code", flat=True))
    assert codes == {"SR-FIRST", "SR-RESOLVE"}


def test_technical_question_goes_to_the_dedicated_engineer(service_a, alice, engineer):
    sr = request_create(customer=service_a.customer, actor=alice, kind="technical", service=service_a,
                        title="服务器无法 ping 通", description="从 10 点开始", now=T0)
    assert sr.assignee == engineer


def test_staff_log_a_phone_call_and_a_customer_without_staff_stays_unassigned(specialist):
    lone = f.ServiceFactory()  # no specialist, no engineer
    sr = request_create(customer=lone.customer, actor=specialist, kind="inquiry", channel="phone",
                        title="电话咨询", description="询问机柜价格", requester_name="李先生", now=T0)
    assert sr.channel == "phone" and sr.assignee is None


def test_installation_progress_links_the_services_installation_order(service_a, alice):
    from orders.services import order_open_for_service

    order = order_open_for_service(service_id=service_a.pk, created_at=T0, now=T0)
    sr = request_create(customer=service_a.customer, actor=alice, kind="installation", service=service_a,
                        title="初装进度", description="何时完成？", now=T0)
    assert sr.installation_order_id == order.pk


def test_customer_cannot_open_a_request_for_another_customer(service_a, charlie):
    with pytest.raises(ForbiddenError):
        request_create(customer=service_a.customer, actor=charlie, kind="inquiry", title="x",
                       description="y", now=T0)
    assert not ServiceRequest.objects.exists()


def test_each_transition_and_a_wrong_move_changes_nothing(sr, specialist, alice):
    with pytest.raises(ConflictError):
        request_close(request_id=sr.pk, actor=specialist, now=T0)
    sr.refresh_from_db()
    assert sr.state == RequestState.NEW
    request_start(request_id=sr.pk, actor=specialist, now=T0 + timedelta(minutes=5))
    request_wait(request_id=sr.pk, actor=specialist, now=T0 + timedelta(minutes=6))
    with pytest.raises(ForbiddenError):  # only staff resolve
        request_resolve(request_id=sr.pk, actor=alice, now=T0 + timedelta(minutes=7))
    request_resolve(request_id=sr.pk, actor=specialist, now=T0 + timedelta(minutes=8))
    request_close(request_id=sr.pk, actor=alice, now=T0 + timedelta(minutes=9))
    sr.refresh_from_db()
    assert sr.state == RequestState.CLOSED
    actions = list(AuditEntry.objects.filter(object_id=sr.pk, content_type__model="servicerequest")
                   .order_by("at", "id").values_list("action", flat=True))
    assert actions == ["create", "start", "wait", "resolve", "close"]


def test_customer_reopens_within_the_window_but_not_after(sr, specialist, alice, settings):
    settings.SERVICEDESK_REOPEN_DAYS = 14
    request_resolve(request_id=sr.pk, actor=specialist, now=T0 + timedelta(hours=1))
    request_reopen(request_id=sr.pk, actor=alice, reason="还没解决", now=T0 + timedelta(days=13))
    sr.refresh_from_db()
    assert sr.state == RequestState.IN_PROGRESS
    # a fresh resolution clock runs after the reopen
    assert Clock.objects.filter(object_id=sr.pk, policy__code="SR-RESOLVE", state=ClockState.RUNNING).exists()
    resolved_at = T0 + timedelta(days=13, hours=1)
    request_resolve(request_id=sr.pk, actor=specialist, now=resolved_at)
    with pytest.raises(ConflictError):
        request_reopen(request_id=sr.pk, actor=alice, reason="again", now=resolved_at + timedelta(days=14))
    sr.refresh_from_db()
    assert sr.state == RequestState.RESOLVED
    # staff may reopen at any time
    request_reopen(request_id=sr.pk, actor=specialist, reason="客户来电", now=resolved_at + timedelta(days=30))


def test_cancel_ends_both_clocks(sr, alice):
    request_cancel(request_id=sr.pk, actor=alice, reason="不需要了", now=T0 + timedelta(minutes=3))
    states = set(Clock.objects.filter(object_id=sr.pk, policy__code__startswith="SR-").values_list("state", flat=True))
    assert states == {ClockState.CANCELLED}
