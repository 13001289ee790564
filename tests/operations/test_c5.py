"""C5: the first feedback within 30 minutes of the accepted authorization (第七条)."""

from datetime import timedelta

import pytest

from notifications.models import Notification
from operations import services
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clocks_sweep

from .conftest import T0, upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def authorized(operation, engineer, contact_a, manager):
    services.authorization_upload_written(operation_id=operation.pk, f=upload(), contact=contact_a,
                                          actor=engineer, now=T0)
    return operation


def _c5(op):
    return Clock.objects.get(object_id=op.pk, policy__code="C5", content_type__model="operationrequest")


def test_c5_met_at_29_59(authorized, engineer):
    at = T0 + timedelta(minutes=29, seconds=59)
    assert clocks_sweep(now=at).breached == []
    services.operation_feedback_send(operation_id=authorized.pk, body="工程师已接手。", actor=engineer,
                                     now=at)
    clock = _c5(authorized)
    assert clock.state == ClockState.MET and clock.met_at == at
    assert clocks_sweep(now=T0 + timedelta(hours=1)).breached == []
    # The portal shows the message; the e-mail went to the requesting contact.
    assert authorized.messages.get().first is True
    assert Notification.objects.filter(kind="operation_feedback").count() == 1


def test_c5_breached_at_30_00_with_one_escalation(authorized, engineer, manager):
    result = clocks_sweep(now=T0 + timedelta(minutes=30))
    clock = _c5(authorized)
    assert result.breached == [clock.pk] and clock.state == ClockState.BREACHED
    escalations = Notification.objects.filter(kind="clock_breach", object_id=clock.pk)
    # One escalation: one e-mail to each of the manager and the assigned engineer, never repeated.
    assert sorted(escalations.values_list("address", flat=True)) == sorted([manager.email, engineer.email])
    assert clocks_sweep(now=T0 + timedelta(minutes=45)).breached == []
    assert escalations.count() == 2
    # A late first feedback is recorded but the clock stays breached.
    services.operation_feedback_send(operation_id=authorized.pk, body="迟到的反馈", actor=engineer,
                                     now=T0 + timedelta(minutes=50))
    clock.refresh_from_db()
    assert clock.state == ClockState.BREACHED and clock.completed_at is not None


def test_only_the_first_message_meets_c5(authorized, engineer):
    services.operation_feedback_send(operation_id=authorized.pk, body="1", actor=engineer,
                                     now=T0 + timedelta(minutes=1))
    services.operation_feedback_send(operation_id=authorized.pk, body="2", actor=engineer,
                                     now=T0 + timedelta(minutes=2))
    assert [m.first for m in authorized.messages.all()] == [True, False]
    assert _c5(authorized).met_at == T0 + timedelta(minutes=1)
