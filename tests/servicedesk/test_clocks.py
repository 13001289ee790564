"""The request's clocks: the first-response clock met by the first staff reply with the engine's
one boundary rule (strictly before due_at: met; at due_at exactly: breached), internal notes and
customer replies meet nothing, and the resolution clock stands still while waiting for the
customer and is met at resolution."""

from __future__ import annotations

from datetime import timedelta

import pytest

from servicedesk.services import note_add, reply_add, request_resolve
from sla.choices import ClockState
from sla.models import Clock

from .conftest import T0

pytestmark = pytest.mark.django_db


def _clock(sr, code):  # type: ignore[no-untyped-def]
    return Clock.objects.filter(object_id=sr.pk, policy__code=code).order_by("-started_at").first()


def test_first_response_due_four_hours_after_opening(sr):
    assert _clock(sr, "SR-FIRST").due_at == T0 + timedelta(hours=4)


def test_first_staff_reply_one_second_before_the_deadline_meets_it(sr, specialist):
    at = T0 + timedelta(hours=4) - timedelta(seconds=1)
    reply_add(request_id=sr.pk, actor=specialist, body="您好，报价如下……", now=at)
    c = _clock(sr, "SR-FIRST")
    assert c.state == ClockState.MET and c.met_at == at
    sr.refresh_from_db()
    assert sr.first_response_at == at and sr.state == "in_progress"


def test_first_staff_reply_at_the_deadline_exactly_is_a_breach(sr, specialist):
    at = T0 + timedelta(hours=4)
    reply_add(request_id=sr.pk, actor=specialist, body="抱歉回复晚了", now=at)
    c = _clock(sr, "SR-FIRST")
    assert c.state == ClockState.BREACHED and c.breached_at == at and c.completed_at == at


def test_notes_and_customer_replies_do_not_count_as_a_first_response(sr, specialist, alice):
    note_add(request_id=sr.pk, actor=specialist, body="先查一下价格表", now=T0 + timedelta(minutes=10))
    reply_add(request_id=sr.pk, actor=alice, body="补充：需要两条线路", now=T0 + timedelta(minutes=20))
    assert _clock(sr, "SR-FIRST").state == ClockState.RUNNING


def test_resolution_clock_stands_still_while_waiting_for_the_customer(sr, specialist, alice):
    due_before = _clock(sr, "SR-RESOLVE").due_at
    reply_add(request_id=sr.pk, actor=specialist, body="请提供机柜编号", wait_for_customer=True,
              now=T0 + timedelta(hours=1))
    c = _clock(sr, "SR-RESOLVE")
    assert c.state == ClockState.PAUSED
    sr.refresh_from_db()
    assert sr.state == "waiting"
    # the customer answers 5 hours later: the request resumes and the deadline moves by 5 hours
    reply_add(request_id=sr.pk, actor=alice, body="编号 A-12", now=T0 + timedelta(hours=6))
    c = _clock(sr, "SR-RESOLVE")
    sr.refresh_from_db()
    assert sr.state == "in_progress" and c.state == ClockState.RUNNING
    assert c.due_at == due_before + timedelta(hours=5)
    request_resolve(request_id=sr.pk, actor=specialist, now=T0 + timedelta(hours=7))
    assert _clock(sr, "SR-RESOLVE").state == ClockState.MET


def test_resolution_due_in_three_working_days_on_the_cn_calendar(sr):
    c = _clock(sr, "SR-RESOLVE")
    assert c.calendar == "cn-workdays" and c.unit == "working_days"
    assert c.due_at > T0 + timedelta(days=2)
