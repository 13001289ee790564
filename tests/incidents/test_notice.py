"""Clock C4: an authorized contact must be notified within 15 minutes of the declaration. Each
attempt is recorded; a failed one moves to the next channel, then the next contact; a miss
proposes one day's rent, at most once per customer and calendar day."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from credits.models import Credit
from incidents.choices import IncidentSource, IncidentState, NoticeOutcome
from incidents.models import Incident, NoticeAttempt
from incidents.services import (
    ack_token,
    emergency_declare,
    incident_acknowledge_by_token,
    notice_call_record,
    notice_exempt,
    notices_advance,
)
from notifications.channels.base import ChannelBackend, DeliveryResult
from notifications.services import notification_send
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clocks_sweep
from slaportal.errors import ConflictError, ForbiddenError
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 10, 14, 0, tzinfo=TZ)


class FailingGateway(ChannelBackend):
    def send(self, notification):  # type: ignore[no-untyped-def]
        return DeliveryResult(False, "gateway refused")


@pytest.fixture
def caller(customer_a):
    """The first contact: office phone only (the engineer calls)."""
    return f.AuthorizedContactFactory(customer=customer_a, name="张三", priority=1,
                                      office_phone="010-88880000", channels=["office_phone"])


def declare(service, *, at, title="设备不可达"):  # type: ignore[no-untyped-def]
    with time_machine.travel(at, tick=False):
        return emergency_declare(service=service, source=IncidentSource.MONITOR, title=title,
                                 outage_started_at=at - timedelta(minutes=5))


def sweep(at, capture):  # type: ignore[no-untyped-def]
    with time_machine.travel(at, tick=False), capture(execute=True):
        return clocks_sweep()


def test_declaration_starts_c4_and_the_first_attempt(service_a, caller):
    d = declare(service_a, at=T0)
    assert d.incident.state == IncidentState.DECLARED and d.incident.declared_at == T0
    assert d.clock.policy.code == "C4" and d.clock.due_at == T0 + timedelta(minutes=15)
    [a] = d.incident.notice_attempts.all()
    assert (a.contact, a.channel, a.address, a.outcome, a.started_at) == (
        caller, "office_phone", "010-88880000", NoticeOutcome.AWAITING_CALL, T0)


def test_reached_14_min_59_s_after_the_declaration_meets_it(service_a, caller, engineer,
                                                           django_capture_on_commit_callbacks):
    d = declare(service_a, at=T0)
    [a] = d.incident.notice_attempts.all()
    with time_machine.travel(T0 + timedelta(minutes=14, seconds=59), tick=False):
        notice_call_record(attempt_id=a.pk, reached=True, actor=engineer)
    sweep(T0 + timedelta(minutes=20), django_capture_on_commit_callbacks)
    clock = Clock.objects.get(pk=d.clock.pk)
    assert clock.state == ClockState.MET and clock.met_at == T0 + timedelta(minutes=14, seconds=59)
    inc = Incident.objects.get(pk=d.incident.pk)
    assert inc.state == IncidentState.NOTIFIED and inc.notice_missed_at is None
    assert not Credit.objects.exists()


def test_not_reached_records_the_miss_and_proposes_one_days_rent(service_a, caller,
                                                                 django_capture_on_commit_callbacks):
    d = declare(service_a, at=T0)
    r = sweep(T0 + timedelta(minutes=14, seconds=59), django_capture_on_commit_callbacks)
    assert r.breached == []
    r = sweep(T0 + timedelta(minutes=15), django_capture_on_commit_callbacks)
    assert r.breached == [d.clock.pk]
    inc = Incident.objects.get(pk=d.incident.pk)
    assert inc.notice_missed_at == T0 + timedelta(minutes=15)
    [credit] = Credit.objects.all()
    assert (credit.policy.code, credit.kind, credit.amount, credit.state) == (
        "C4", "deduct_day_rent", Decimal("100.00"), "proposed")  # 3,100 / 31 days of March
    assert credit.period == T0.date() and credit.evidence == Clock.objects.get(pk=d.clock.pk)


def test_three_misses_on_one_day_give_one_credit(service_a, caller, django_capture_on_commit_callbacks):
    for hour in (1, 9, 22):
        other = f.ServiceFactory(contract=service_a.contract)
        declare(other, at=T0.replace(hour=hour))
        sweep(T0.replace(hour=hour) + timedelta(minutes=16), django_capture_on_commit_callbacks)
    assert Incident.objects.filter(notice_missed_at__isnull=False).count() == 3
    assert Credit.objects.count() == 1


def test_misses_on_two_days_give_two_credits(service_a, caller, django_capture_on_commit_callbacks):
    for at in (T0, T0 + timedelta(days=1)):
        other = f.ServiceFactory(contract=service_a.contract)
        declare(other, at=at)
        sweep(at + timedelta(minutes=16), django_capture_on_commit_callbacks)
    assert sorted(c.period.day for c in Credit.objects.all()) == [10, 11]


def test_no_answer_moves_to_the_next_channel_then_the_next_contact(service_a, caller, engineer):
    second = f.AuthorizedContactFactory(customer=service_a.customer, name="李四", priority=2,
                                        mobile="13900000000", email="li@customer.test",
                                        channels=["mobile", "email"])
    d = declare(service_a, at=T0)
    [a1] = d.incident.notice_attempts.all()
    notice_call_record(attempt_id=a1.pk, reached=False, actor=engineer, now=T0 + timedelta(minutes=3))
    with override_settings(NOTIFICATION_BACKENDS={"sms": "tests.incidents.test_notice.FailingGateway"}):
        a2 = NoticeAttempt.objects.get(incident=d.incident, seq=2)
        assert (a2.contact, a2.channel, a2.address) == (second, "mobile", "13900000000")
        assert a2.notification.channel == "sms"
        with time_machine.travel(T0 + timedelta(minutes=3, seconds=30), tick=False):
            notification_send(notification_id=a2.notification_id)
        notices_advance(now=T0 + timedelta(minutes=4))
    a2.refresh_from_db()
    assert a2.outcome == NoticeOutcome.FAILED and "gateway refused" in a2.detail
    a3 = NoticeAttempt.objects.get(incident=d.incident, seq=3)
    assert (a3.contact, a3.channel) == (second, "email")
    # locmem: accepted by the mail server at 14:04:30 (the acceptance's own time decides C4)
    with time_machine.travel(T0 + timedelta(minutes=4, seconds=30), tick=False):
        notification_send(notification_id=a3.notification_id)
    notices_advance(now=T0 + timedelta(minutes=5))
    a3.refresh_from_db()
    assert a3.outcome == NoticeOutcome.DELIVERED
    assert Clock.objects.get(pk=d.clock.pk).state == ClockState.MET
    assert Incident.objects.get(pk=d.incident.pk).state == IncidentState.NOTIFIED
    # Nothing further is tried once a contact was reached.
    notices_advance(now=T0 + timedelta(minutes=6))
    assert d.incident.notice_attempts.count() == 3
    assert NoticeAttempt.objects.get(pk=a1.pk).outcome == NoticeOutcome.NO_ANSWER


def test_recording_a_call_twice_is_refused(service_a, caller, engineer, alice):
    d = declare(service_a, at=T0)
    [a] = d.incident.notice_attempts.all()
    with pytest.raises(ForbiddenError):
        notice_call_record(attempt_id=a.pk, reached=True, actor=alice)
    notice_call_record(attempt_id=a.pk, reached=True, actor=engineer, now=T0)
    with pytest.raises(ConflictError):
        notice_call_record(attempt_id=a.pk, reached=False, actor=engineer, now=T0)


def test_exemption_cancels_the_clock_and_no_credit_follows(service_a, caller, engineer,
                                                          django_capture_on_commit_callbacks):
    d = declare(service_a, at=T0)
    notice_exempt(incident_id=d.incident.pk, exemption="contact_outdated",
                  note="客户提供的电话已停机，未及时更新", actor=engineer, now=T0 + timedelta(minutes=10))
    sweep(T0 + timedelta(minutes=20), django_capture_on_commit_callbacks)
    assert Clock.objects.get(pk=d.clock.pk).state == ClockState.CANCELLED
    assert not Credit.objects.exists()


def test_acknowledging_from_the_email_link_meets_c4_and_counts_as_a_report(service_a, caller):
    d = declare(service_a, at=T0)
    token = ack_token(incident=d.incident, contact=caller)
    with time_machine.travel(T0 + timedelta(minutes=7), tick=False):
        inc = incident_acknowledge_by_token(token=token)
        again = incident_acknowledge_by_token(token=token)
    assert inc.state == IncidentState.ACKNOWLEDGED and inc.acknowledged_by == "张三"
    assert inc.reported_at == T0 + timedelta(minutes=7) and inc.reported_via == "acknowledgement"
    assert again.acknowledged_at == inc.acknowledged_at
    assert Clock.objects.get(pk=d.clock.pk).state == ClockState.MET
    assert NoticeAttempt.objects.get(incident=inc).outcome == NoticeOutcome.CANCELLED


def test_a_second_failure_run_reuses_the_open_incident(service_a, caller, engineer):
    d1 = declare(service_a, at=T0)
    notice_call_record(attempt_id=d1.incident.notice_attempts.get().pk, reached=True, actor=engineer,
                       now=T0 + timedelta(minutes=1))
    d2 = declare(service_a, at=T0 + timedelta(hours=1))
    assert d2.incident.pk == d1.incident.pk and not d2.created_incident
    assert d2.incident.outages.count() == 2
    assert d2.clock is not None and d2.clock.pk != d1.clock.pk  # a new emergency, a new notice


def test_a_miss_just_after_midnight_is_credited_on_the_day_and_month_of_the_miss(
        service_a, caller, django_capture_on_commit_callbacks):
    # Declared 23:50 on 31 March, missed 00:05 on 1 April: the deduction is for 1 April, at
    # April's one-day rent (3,100 / 30 = 103.33), and shares 1 April's one-per-day credit.
    at = datetime(2026, 3, 31, 23, 50, tzinfo=TZ)
    declare(service_a, at=at)
    sweep(at + timedelta(minutes=15), django_capture_on_commit_callbacks)
    [credit] = Credit.objects.all()
    assert credit.period == datetime(2026, 4, 1).date()
    assert credit.amount == Decimal("103.33")
    other = f.ServiceFactory(contract=service_a.contract)
    declare(other, at=datetime(2026, 4, 1, 9, 0, tzinfo=TZ))
    sweep(datetime(2026, 4, 1, 9, 16, tzinfo=TZ), django_capture_on_commit_callbacks)
    assert Credit.objects.count() == 1


def test_an_email_accepted_in_time_but_advanced_after_the_sweep_is_not_a_miss(
        service_a, django_capture_on_commit_callbacks):
    f.AuthorizedContactFactory(customer=service_a.customer, name="王五", priority=1,
                               email="wang@customer.test", channels=["email"])
    d = declare(service_a, at=T0)
    [a] = d.incident.notice_attempts.all()
    with time_machine.travel(T0 + timedelta(minutes=14, seconds=30), tick=False):
        notification_send(notification_id=a.notification_id)  # accepted by the SMTP server
    # The 1-second sweep runs before the 5-second notices task has seen the delivery.
    sweep(T0 + timedelta(minutes=15), django_capture_on_commit_callbacks)
    notices_advance(now=T0 + timedelta(minutes=15, seconds=3))
    inc = Incident.objects.get(pk=d.incident.pk)
    assert inc.notice_missed_at is None
    assert not Credit.objects.exists()
    assert NoticeAttempt.objects.get(pk=a.pk).outcome == NoticeOutcome.DELIVERED


def test_acknowledging_a_redeclared_incident_meets_the_new_notice(service_a, caller,
                                                                 django_capture_on_commit_callbacks):
    d1 = declare(service_a, at=T0)
    token = ack_token(incident=d1.incident, contact=caller)
    with time_machine.travel(T0 + timedelta(minutes=2), tick=False):
        incident_acknowledge_by_token(token=token)
    d2 = declare(service_a, at=T0 + timedelta(hours=1))
    assert d2.incident.pk == d1.incident.pk and d2.clock is not None
    with time_machine.travel(T0 + timedelta(hours=1, minutes=5), tick=False):
        inc = incident_acknowledge_by_token(token=token)
    assert inc.state == IncidentState.ACKNOWLEDGED
    assert inc.acknowledged_at == T0 + timedelta(hours=1, minutes=5)
    assert Clock.objects.get(pk=d2.clock.pk).state == ClockState.MET
    sweep(T0 + timedelta(hours=1, minutes=20), django_capture_on_commit_callbacks)
    assert not Credit.objects.exists()


@pytest.mark.parametrize("contacts", ["none", "no_usable_channel"])
def test_a_customer_without_a_reachable_contact_still_gets_the_miss_recorded(
        service_a, contacts, django_capture_on_commit_callbacks):
    if contacts == "no_usable_channel":
        # Chosen channel without an address (saved without validation), an expired contact.
        f.AuthorizedContactFactory(customer=service_a.customer, name="赵六", email="",
                                   channels=["email"])
        f.AuthorizedContactFactory(customer=service_a.customer, name="钱七", email="q@customer.test",
                                   channels=["email"], valid_until=T0.date() - timedelta(days=1))
    d = declare(service_a, at=T0)
    assert d.clock is not None and not d.incident.notice_attempts.exists()
    assert notices_advance(now=T0 + timedelta(minutes=1)) == 0
    r = sweep(T0 + timedelta(minutes=15), django_capture_on_commit_callbacks)
    assert r.breached == [d.clock.pk]
    assert Incident.objects.get(pk=d.incident.pk).notice_missed_at == T0 + timedelta(minutes=15)
    assert Credit.objects.count() == 1


def test_an_unrecorded_call_does_not_hold_up_the_next_channel(service_a, customer_a, engineer):
    """The office phone is the first channel; the engineer has not recorded the call after the
    waiting time, so the e-mail goes out beside it; a late "reached" on the call still meets C4
    and a late "no answer" does not skip a channel."""
    contact = f.AuthorizedContactFactory(customer=customer_a, name="李四", priority=1,
                                         office_phone="010-88880001", email="lisi@alpha.test",
                                         channels=["office_phone", "email", "mobile"])
    d = declare(service_a, at=T0)
    [call] = d.incident.notice_attempts.all()
    assert call.outcome == NoticeOutcome.AWAITING_CALL
    with override_settings(NOTICE_CALL_WAIT_MINUTES=5):
        notices_advance(now=T0 + timedelta(minutes=4, seconds=59))
        assert d.incident.notice_attempts.count() == 1
        notices_advance(now=T0 + timedelta(minutes=5))
        notices_advance(now=T0 + timedelta(minutes=5, seconds=5))  # again: nothing more
    attempts = list(d.incident.notice_attempts.order_by("seq"))
    assert [(a.channel, a.address) for a in attempts] == [
        ("office_phone", "010-88880001"), ("email", "lisi@alpha.test")]
    assert attempts[0].outcome == NoticeOutcome.AWAITING_CALL  # still open for the engineer
    # A late "no answer" on the call: the plan has already moved on, no channel is skipped.
    with time_machine.travel(T0 + timedelta(minutes=6), tick=False):
        notice_call_record(attempt_id=call.pk, reached=False, actor=engineer)
    assert d.incident.notice_attempts.count() == 2
    assert contact.pk == attempts[1].contact_id


def test_a_late_reached_on_an_escalated_call_still_meets_c4(service_a, customer_a, engineer):
    f.AuthorizedContactFactory(customer=customer_a, name="王五", priority=1, office_phone="010-1",
                               email="wangwu@alpha.test", channels=["office_phone", "email"])
    d = declare(service_a, at=T0)
    [call] = d.incident.notice_attempts.all()
    with override_settings(NOTICE_CALL_WAIT_MINUTES=5):
        notices_advance(now=T0 + timedelta(minutes=5))
    with time_machine.travel(T0 + timedelta(minutes=7), tick=False):
        notice_call_record(attempt_id=call.pk, reached=True, actor=engineer)
    clock = Clock.objects.get(pk=d.clock.pk)
    assert clock.state == ClockState.MET and clock.met_at == T0 + timedelta(minutes=7)
