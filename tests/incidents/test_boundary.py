"""C4 and the one boundary rule: a notice at 15:00:00 on a 15:00:00 deadline is a miss on every
path; a "reached" at 14:59 recorded after the sweep's breach is "met, recorded late" everywhere
(clock, incident, pages, API) with the miss and the day's credit withdrawn; a day whose rent
rounds to 0.00 still records the miss, without a credit."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from audit.services import audit_for
from credits.choices import LIVE_CREDIT_STATES, CreditState
from credits.models import Credit
from credits.services import credit_apply, credit_approve
from incidents.choices import IncidentSource
from incidents.models import Incident, NoticeAttempt
from incidents.services import emergency_declare, notice_call_record, notices_advance
from notifications.services import notification_send
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clocks_sweep
from slaportal.errors import DomainError
from tests import factories as f

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 10, 14, 45, tzinfo=TZ)
DUE = T0 + timedelta(minutes=15)  # 15:00:00


@pytest.fixture
def caller(customer_a):
    return f.AuthorizedContactFactory(customer=customer_a, name="张三", priority=1,
                                      office_phone="010-88880000", channels=["office_phone"])


def declare(service, at=T0):  # type: ignore[no-untyped-def]
    return emergency_declare(service=service, source=IncidentSource.MONITOR, title="设备不可达",
                             outage_started_at=at - timedelta(minutes=5), now=at)


def live_credits():  # type: ignore[no-untyped-def]
    return Credit.objects.filter(state__in=LIVE_CREDIT_STATES)


@pytest.mark.parametrize("order", ["sweep_first", "service_first"])
def test_a_call_at_exactly_15_00_is_a_miss_on_both_orders(order, service_a, caller, engineer,
                                                          django_capture_on_commit_callbacks):
    d = declare(service_a)
    [a] = d.incident.notice_attempts.all()
    with django_capture_on_commit_callbacks(execute=True):
        if order == "sweep_first":
            clocks_sweep(now=DUE)
        notice_call_record(attempt_id=a.pk, reached=True, actor=engineer, called_at=DUE,
                           now=DUE + timedelta(minutes=2))
        if order == "service_first":
            clocks_sweep(now=DUE + timedelta(minutes=3))
    clock = Clock.objects.get(pk=d.clock.pk)
    assert clock.state == ClockState.BREACHED and clock.completed_at == DUE
    assert clock.breached_at == DUE
    inc = Incident.objects.get(pk=d.incident.pk)
    assert inc.notice_missed_at == DUE
    [credit] = live_credits()
    assert credit.amount == Decimal("100.00") and credit.period == DUE.date()


@pytest.mark.parametrize("order", ["sweep_first", "service_first"])
def test_an_email_accepted_at_exactly_15_00_is_a_miss_on_both_orders(
        order, service_a, django_capture_on_commit_callbacks):
    f.AuthorizedContactFactory(customer=service_a.customer, name="王五", priority=1,
                               email="wang@customer.test", channels=["email"])
    d = declare(service_a)
    [a] = d.incident.notice_attempts.all()
    with time_machine.travel(DUE, tick=False):
        notification_send(notification_id=a.notification_id)
    with django_capture_on_commit_callbacks(execute=True):
        if order == "sweep_first":
            clocks_sweep(now=DUE)
        notices_advance(now=DUE + timedelta(seconds=3))
        clocks_sweep(now=DUE + timedelta(seconds=4))
    assert Clock.objects.get(pk=d.clock.pk).state == ClockState.BREACHED
    assert Incident.objects.get(pk=d.incident.pk).notice_missed_at is not None
    assert live_credits().count() == 1


def test_a_call_at_14_59_59_is_met_on_both_orders(service_a, caller, engineer,
                                                  django_capture_on_commit_callbacks):
    d = declare(service_a)
    [a] = d.incident.notice_attempts.all()
    with django_capture_on_commit_callbacks(execute=True):
        notice_call_record(attempt_id=a.pk, reached=True, actor=engineer,
                           called_at=DUE - timedelta(seconds=1), now=DUE - timedelta(seconds=1))
        clocks_sweep(now=DUE)
    assert Clock.objects.get(pk=d.clock.pk).state == ClockState.MET
    assert not live_credits().exists()


def _staff_web(user):  # type: ignore[no-untyped-def]
    c = Client()
    c.force_login(user)
    return c


def _api(user):  # type: ignore[no-untyped-def]
    c = APIClient()
    c.force_authenticate(user)
    return c


def test_the_late_reached_race_gives_one_answer_everywhere(service_a, caller, engineer, alice,
                                                           django_capture_on_commit_callbacks):
    """The sweep breaches C4 at 15:00:00 (miss recorded, credit proposed); at 15:03 the engineer
    records that the call made at 14:59 reached the contact."""
    d = declare(service_a)
    [a] = d.incident.notice_attempts.all()
    with django_capture_on_commit_callbacks(execute=True):
        clocks_sweep(now=DUE)
    assert Incident.objects.get(pk=d.incident.pk).notice_missed_at == DUE
    assert live_credits().count() == 1
    called = DUE - timedelta(minutes=1)
    with django_capture_on_commit_callbacks(execute=True):
        notice_call_record(attempt_id=a.pk, reached=True, actor=engineer, called_at=called,
                           now=DUE + timedelta(minutes=3))
    a.refresh_from_db()
    assert a.finished_at == called  # the call's own time; the audit row has the recording time
    call_audit = audit_for(d.incident).get(action="notice_call")
    assert call_audit.at == DUE + timedelta(minutes=3)
    assert datetime.fromisoformat(call_audit.data["called_at"]) == called
    clock = Clock.objects.get(pk=d.clock.pk)
    assert clock.state == ClockState.MET and clock.met_at == called and clock.breach_withdrawn
    inc = Incident.objects.get(pk=d.incident.pk)
    assert inc.notice_missed_at is None
    assert not live_credits().exists()
    [credit] = Credit.objects.all()
    assert credit.state == CreditState.WITHDRAWN and "14:59:00" in credit.decision_reason
    withdrawn = audit_for(inc).get(action="notice_miss_withdrawn")
    assert datetime.fromisoformat(withdrawn.data["missed_at"]) == DUE  # the history stays in the trail

    # The incident page: the notice shows met (recorded late), no missed marker.
    for user in (engineer, alice):
        html = _staff_web(user).get(f"/incidents/{inc.pk}/").content.decode()
        assert "data-notice-missed" not in html and "data-notice-met-late" in html
    # The clock page: no "breached" fact, the withdrawn breach explained.
    html = _staff_web(engineer).get(f"/sla/clocks/{clock.pk}/").content.decode()
    assert "data-breach-withdrawn" in html and 'class="late"' not in html
    # The API: clock met with its breach withdrawn; the incident not missed.
    body = _api(alice).get(f"/api/clocks/{clock.pk}/").json()
    assert body["state"] == "met" and body["breach_withdrawn"] is True
    body = _api(alice).get(f"/api/incidents/{inc.pk}/").json()
    assert body["notice_missed_at"] is None


def test_the_days_credit_is_kept_while_another_miss_of_that_day_remains(
        service_a, caller, engineer, django_capture_on_commit_callbacks):
    other_service = f.ServiceFactory(contract=service_a.contract)
    d1 = declare(service_a)
    d2 = declare(other_service)
    [a1] = d1.incident.notice_attempts.all()
    [a2] = d2.incident.notice_attempts.all()
    with django_capture_on_commit_callbacks(execute=True):
        clocks_sweep(now=DUE)
    assert Incident.objects.filter(notice_missed_at__isnull=False).count() == 2
    [credit] = live_credits()
    with django_capture_on_commit_callbacks(execute=True):
        notice_call_record(attempt_id=a1.pk, reached=True, actor=engineer,
                           called_at=DUE - timedelta(minutes=2), now=DUE + timedelta(minutes=3))
    assert Incident.objects.get(pk=d1.incident.pk).notice_missed_at is None
    assert Credit.objects.get(pk=credit.pk).state == CreditState.PROPOSED  # d2 is still missed
    assert audit_for(d1.incident).filter(action="notice_credit_kept").exists()
    with django_capture_on_commit_callbacks(execute=True):
        notice_call_record(attempt_id=a2.pk, reached=True, actor=engineer,
                           called_at=DUE - timedelta(minutes=1), now=DUE + timedelta(minutes=4))
    assert Credit.objects.get(pk=credit.pk).state == CreditState.WITHDRAWN
    # A later miss the same day is owed again: a new credit, despite the withdrawn one's key.
    d3 = declare(f.ServiceFactory(contract=service_a.contract), at=T0 + timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        clocks_sweep(now=DUE + timedelta(hours=2))
    assert Incident.objects.get(pk=d3.incident.pk).notice_missed_at is not None
    assert live_credits().count() == 1


def test_an_applied_credit_is_not_withdrawn_and_the_trail_says_so(
        service_a, caller, engineer, manager, django_capture_on_commit_callbacks):
    d = declare(service_a)
    [a] = d.incident.notice_attempts.all()
    with django_capture_on_commit_callbacks(execute=True):
        clocks_sweep(now=DUE)
    [credit] = live_credits()
    credit_approve(credit_id=credit.pk, actor=manager)
    credit_apply(credit_id=credit.pk, actor=manager)
    with django_capture_on_commit_callbacks(execute=True):
        notice_call_record(attempt_id=a.pk, reached=True, actor=engineer,
                           called_at=DUE - timedelta(minutes=1), now=DUE + timedelta(minutes=3))
    assert Credit.objects.get(pk=credit.pk).state == CreditState.APPLIED
    assert Credit.objects.count() == 1
    assert Incident.objects.get(pk=d.incident.pk).notice_missed_at is None
    assert "冲正" in audit_for(d.incident).get(action="notice_credit_kept").reason


def test_a_miss_is_recorded_without_a_credit_when_the_days_rent_is_zero(
        customer_a, engineer, django_capture_on_commit_callbacks):
    contract = f.ContractFactory(customer=customer_a, monthly_fee=Decimal("0.10"))  # 0.10 / 31 → 0.00
    service = f.ServiceFactory(contract=contract, engineer=engineer)
    d = declare(service)
    with django_capture_on_commit_callbacks(execute=True):
        clocks_sweep(now=DUE)
    inc = Incident.objects.get(pk=d.incident.pk)
    assert inc.notice_missed_at == DUE
    assert not Credit.objects.exists()
    note = audit_for(inc).get(action="notice_miss_no_credit")
    assert "0.00" in note.reason and "无应扣金额" in note.reason


def test_a_call_time_in_the_future_or_before_the_attempt_is_refused(service_a, caller, engineer):
    d = declare(service_a)
    [a] = d.incident.notice_attempts.all()
    for called in (T0 + timedelta(minutes=10), T0 - timedelta(minutes=1)):
        with pytest.raises(DomainError):
            notice_call_record(attempt_id=a.pk, reached=True, actor=engineer, called_at=called,
                               now=T0 + timedelta(minutes=5))
    assert NoticeAttempt.objects.get(pk=a.pk).finished_at is None


def test_the_page_form_passes_the_call_time(service_a, caller, engineer, django_capture_on_commit_callbacks):
    d = declare(service_a)
    [a] = d.incident.notice_attempts.all()
    with django_capture_on_commit_callbacks(execute=True):
        clocks_sweep(now=DUE)
    with time_machine.travel(DUE + timedelta(minutes=3), tick=False), \
            django_capture_on_commit_callbacks(execute=True):
        r = _staff_web(engineer).post(f"/incidents/{d.incident.pk}/attempts/{a.pk}/record/",
                                      {"reached": "1", "called_at": "2026-03-10T14:59:00"})
    assert r.status_code == 302
    assert Clock.objects.get(pk=d.clock.pk).state == ClockState.MET
    assert not live_credits().exists()
