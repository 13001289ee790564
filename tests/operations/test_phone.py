"""Phone authorization 电话授权: the MRTG pair checked against the hash, every attempt logged,
非法授权 on a wrong pair, the lock after too many wrong attempts, and C7."""

from datetime import timedelta

import pytest
import time_machine

from notifications.models import Notification
from operations import services
from operations.choices import AuthorizationMethod, OperationState, PhoneAttemptResult
from operations.models import Authorization, OperationRequest, PhoneAttempt, PhoneAuthLock
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clocks_sweep
from slaportal.errors import ForbiddenError
from tests import factories as f

from .conftest import SECRET, T0, upload

pytestmark = pytest.mark.django_db


def attempt(op, engineer, contact, password, *, now=None, username="alpha-mrtg"):
    return services.phone_authorization_attempt(
        operation_id=op.pk, contact=contact, mrtg_username=username, mrtg_password=password,
        caller_name="王经理", caller_phone="13800000000", actor=engineer, now=now)


def test_right_pair_accepted_starts_c5_and_c7(operation, engineer, contact_a):
    a = attempt(operation, engineer, contact_a, SECRET, now=T0)
    assert a.result == PhoneAttemptResult.ACCEPTED and a.engineer == engineer and a.at == T0
    auth = Authorization.objects.get(operation=operation)
    assert auth.method == AuthorizationMethod.PHONE and auth.phone_attempt == a
    assert OperationRequest.objects.get(pk=operation.pk).state == OperationState.AUTHORIZED
    codes = set(Clock.objects.filter(object_id=operation.pk, state=ClockState.RUNNING,
                                     content_type__model="operationrequest")
                .values_list("policy__code", flat=True))
    assert codes == {"C5", "C7"}


def test_wrong_pair_marked_unauthorized_logged_and_refusable(operation, engineer, contact_a):
    a = attempt(operation, engineer, contact_a, "guess", now=T0)
    b = attempt(operation, engineer, contact_a, SECRET, username="someone-else", now=T0)
    assert a.result == b.result == PhoneAttemptResult.UNAUTHORIZED
    assert not Authorization.objects.exists()
    assert OperationRequest.objects.get(pk=operation.pk).state == OperationState.REQUESTED
    logged = list(PhoneAttempt.objects.filter(operation=operation).values_list("engineer", "at", "result"))
    assert logged == [(engineer.pk, T0, "unauthorized")] * 2
    # The password is never stored.
    assert not any("guess" in str(v) for v in PhoneAttempt.objects.values().first().values())
    services.operation_refuse(operation_id=operation.pk, actor=engineer, reason="非法授权", now=T0)
    assert OperationRequest.objects.get(pk=operation.pk).state == OperationState.REFUSED


def test_inactive_contact_with_right_pair_is_unauthorized(operation, engineer, customer_a):
    gone = f.AuthorizedContactFactory(customer=customer_a, active=False, mrtg_username="alpha-mrtg",
                                      secret=SECRET)
    assert attempt(operation, engineer, gone, SECRET, now=T0).result == PhoneAttemptResult.UNAUTHORIZED


def test_sixth_try_locked_even_with_right_secret_and_unlocked_after_window(
        operation, engineer, contact_a, manager, service_a):
    with time_machine.travel(T0, tick=False) as tm:
        for i in range(5):
            if i:
                tm.shift(timedelta(minutes=2))
            r = attempt(operation, engineer, contact_a, f"wrong-{i}")
            assert r.result == PhoneAttemptResult.UNAUTHORIZED
        lock = PhoneAuthLock.objects.get()
        assert lock.failures == 5
        assert lock.locked_until == T0 + timedelta(minutes=8 + 15)
        # The customer's contacts and the manager are alerted, once each.
        alerts = Notification.objects.filter(kind="phone_auth_locked")
        assert set(alerts.values_list("address", flat=True)) == {"wang@alpha.test", manager.email}
        sixth = attempt(operation, engineer, contact_a, SECRET)
        assert sixth.result == PhoneAttemptResult.LOCKED
        assert OperationRequest.objects.get(pk=operation.pk).state == OperationState.REQUESTED
        # The lock is per customer: another request of the same customer is locked too.
        other = services.operation_create(service=service_a, requested_by=contact_a, title="t",
                                          description="d", actor=engineer)
        tm.shift(timedelta(minutes=14, seconds=59))
        assert attempt(other, engineer, contact_a, SECRET).result == PhoneAttemptResult.LOCKED
        tm.shift(timedelta(seconds=1))
        assert attempt(operation, engineer, contact_a, SECRET).result == PhoneAttemptResult.ACCEPTED
    assert PhoneAttempt.objects.filter(customer=operation.customer).count() == 8
    assert PhoneAuthLock.objects.count() == 1


def test_wrong_attempts_outside_the_window_do_not_lock(operation, engineer, contact_a):
    for i in range(4):
        attempt(operation, engineer, contact_a, "x", now=T0 + timedelta(minutes=i))
    attempt(operation, engineer, contact_a, "x", now=T0 + timedelta(minutes=16))
    assert not PhoneAuthLock.objects.exists()
    assert attempt(operation, engineer, contact_a, SECRET,
                   now=T0 + timedelta(minutes=17)).result == PhoneAttemptResult.ACCEPTED


def test_lock_settings_are_configurable(operation, engineer, contact_a, settings):
    settings.PHONE_AUTH_MAX_FAILURES = 2
    attempt(operation, engineer, contact_a, "x", now=T0)
    attempt(operation, engineer, contact_a, "x", now=T0)
    assert PhoneAuthLock.objects.count() == 1


def test_only_engineers_check_phone_authorization(operation, alice, specialist, contact_a):
    for actor in (alice, specialist):
        with pytest.raises(ForbiddenError):
            attempt(operation, actor, contact_a, SECRET, now=T0)
    assert not PhoneAttempt.objects.exists()


def _c7(op):
    return Clock.objects.get(object_id=op.pk, policy__code="C7", content_type__model="operationrequest")


def test_c7_met_when_written_authorization_arrives_in_time(operation, engineer, alice, contact_a):
    attempt(operation, engineer, contact_a, SECRET, now=T0)
    services.authorization_upload_written(operation_id=operation.pk, f=upload(), contact=contact_a,
                                          actor=alice, now=T0 + timedelta(hours=23, minutes=59))
    assert _c7(operation).pk not in clocks_sweep(now=T0 + timedelta(hours=25)).breached
    assert _c7(operation).state == ClockState.MET


def test_c7_breached_when_written_authorization_does_not_arrive(operation, engineer, contact_a, manager):
    attempt(operation, engineer, contact_a, SECRET, now=T0)
    services.operation_feedback_send(operation_id=operation.pk, body="收到", actor=engineer,
                                     now=T0 + timedelta(minutes=1))
    assert clocks_sweep(now=T0 + timedelta(hours=23, minutes=59)).breached == []
    result = clocks_sweep(now=T0 + timedelta(hours=24))
    c7 = _c7(operation)
    assert result.breached == [c7.pk] and c7.state == ClockState.BREACHED
    assert Notification.objects.filter(kind="clock_breach", object_id=c7.pk).count() == 2  # manager, engineer


def test_rejected_written_authorization_restarts_c7(operation, engineer, alice, contact_a):
    attempt(operation, engineer, contact_a, SECRET, now=T0)
    w = services.authorization_upload_written(operation_id=operation.pk, f=upload(), contact=contact_a,
                                              actor=alice, now=T0 + timedelta(hours=1))
    services.authorization_reject(authorization_id=w.pk, actor=engineer, reason="没有签字",
                                  now=T0 + timedelta(hours=2))
    running = Clock.objects.get(object_id=operation.pk, policy__code="C7", state=ClockState.RUNNING)
    assert running.due_at == T0 + timedelta(hours=26)
