"""The workflow through its services: authorization first, then start, steps, feedback (C5),
finish (C6), report; corrections are new records; refused moves change nothing."""

from datetime import timedelta

import pytest
from django_fsm import TransitionNotAllowed

from audit.services import audit_for
from notifications.models import Notification
from operations import services
from operations.choices import AuthorizationStatus, OperationState
from operations.models import Authorization, OperationRequest
from sla.choices import ClockState
from sla.models import Clock
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from tests import factories as f

from .conftest import SECRET, T0, upload

pytestmark = pytest.mark.django_db


def clock(op, code):
    return Clock.objects.filter(object_id=op.pk, policy__code=code,
                                content_type__model="operationrequest").order_by("-id").first()


def test_model_layer_refuses_start_without_accepted_authorization(operation):
    op = OperationRequest.objects.get(pk=operation.pk)
    with pytest.raises(TransitionNotAllowed):
        op.authorize(at=T0)
    with pytest.raises(TransitionNotAllowed):
        op.start(at=T0)
    with pytest.raises(AttributeError):  # protected FSM field: no way round the transitions
        op.state = OperationState.IN_PROGRESS
    assert OperationRequest.objects.get(pk=op.pk).state == OperationState.REQUESTED


def test_service_refuses_start_without_accepted_authorization(operation, engineer, alice, contact_a):
    with pytest.raises(ConflictError) as e:
        services.operation_start(operation_id=operation.pk, actor=engineer, now=T0)
    assert e.value.code == "not_authorized"
    # A pending (customer-uploaded, unchecked) written authorization is not enough either.
    services.authorization_upload_written(operation_id=operation.pk, f=upload(), contact=contact_a,
                                          actor=alice, now=T0)
    with pytest.raises(ConflictError):
        services.operation_start(operation_id=operation.pk, actor=engineer, now=T0)
    assert OperationRequest.objects.get(pk=operation.pk).state == OperationState.REQUESTED
    assert clock(operation, "C5") is None


def test_full_flow_written_authorization(operation, engineer, contact_a):
    auth = services.authorization_upload_written(operation_id=operation.pk, f=upload(),
                                                 contact=contact_a, actor=engineer, now=T0)
    assert auth.status == AuthorizationStatus.ACCEPTED
    op = OperationRequest.objects.get(pk=operation.pk)
    assert op.state == OperationState.AUTHORIZED
    c5 = clock(op, "C5")
    assert c5.state == ClockState.RUNNING and c5.due_at == T0 + timedelta(minutes=30)
    assert clock(op, "C7") is None  # no phone authorization: nothing owed
    services.operation_start(operation_id=op.pk, actor=engineer, now=T0 + timedelta(minutes=5))
    services.operation_feedback_send(operation_id=op.pk, body="已开始操作。", actor=engineer,
                                     now=T0 + timedelta(minutes=6))
    assert clock(op, "C5").state == ClockState.MET
    assert Notification.objects.filter(kind="operation_feedback", address="wang@alpha.test").count() == 1
    services.operation_step_add(operation_id=op.pk, description="停止应用", actor=engineer,
                                done_at=T0 + timedelta(minutes=7), now=T0 + timedelta(minutes=8))
    services.operation_finish(operation_id=op.pk, result="重启成功", actor=engineer,
                              now=T0 + timedelta(minutes=20))
    c6 = clock(op, "C6")
    assert c6.state == ClockState.RUNNING and c6.due_at == T0 + timedelta(minutes=20, hours=24)
    report = services.operation_report_issue(operation_id=op.pk, actor=engineer,
                                             now=T0 + timedelta(hours=2))
    assert clock(op, "C6").state == ClockState.MET
    assert report.content["authorizations"][0]["contact"] == "王经理"
    assert report.content["steps"][0]["description"] == "停止应用"
    assert OperationRequest.objects.get(pk=op.pk).state == OperationState.REPORTED
    sent = Notification.objects.get(kind="operation_report")
    assert sent.attachments[0]["name"] == report.filename
    services.operation_close(operation_id=op.pk, actor=engineer, now=T0 + timedelta(hours=3))
    assert OperationRequest.objects.get(pk=op.pk).state == OperationState.CLOSED


def test_customer_upload_waits_for_engineer_check(operation, alice, engineer, contact_a):
    auth = services.authorization_upload_written(operation_id=operation.pk, f=upload(),
                                                 contact=contact_a, actor=alice, now=T0)
    assert auth.status == AuthorizationStatus.PENDING
    services.authorization_accept(authorization_id=auth.pk, actor=engineer, now=T0 + timedelta(minutes=1))
    assert OperationRequest.objects.get(pk=operation.pk).state == OperationState.AUTHORIZED
    assert clock(operation, "C5").started_at == T0 + timedelta(minutes=1)
    with pytest.raises(ConflictError):
        services.authorization_accept(authorization_id=auth.pk, actor=engineer, now=T0)


def test_contact_must_be_valid_on_signing_day(operation, engineer, customer_a):
    from datetime import date

    expired = f.AuthorizedContactFactory(customer=customer_a, valid_until=date(2026, 2, 1))
    with pytest.raises(DomainError) as e:
        services.authorization_upload_written(operation_id=operation.pk, f=upload(), contact=expired,
                                              actor=engineer, now=T0)
    assert "contact" in e.value.field_errors
    other = f.AuthorizedContactFactory()  # another customer's contact
    with pytest.raises(DomainError):
        services.authorization_upload_written(operation_id=operation.pk, f=upload(), contact=other,
                                              actor=engineer, now=T0)
    assert not Authorization.objects.exists()


def test_accepted_authorization_is_immutable_and_corrected_by_new_record(operation, engineer, contact_a):
    auth = services.authorization_upload_written(operation_id=operation.pk, f=upload(),
                                                 contact=contact_a, actor=engineer, now=T0)
    auth.note = "changed"
    with pytest.raises(ValueError):
        auth.save()
    with pytest.raises(ValueError):
        auth.delete()
    with pytest.raises(ValueError):
        Authorization.objects.filter(pk=auth.pk).delete()
    with pytest.raises(ValueError):
        Authorization.objects.filter(pk=auth.pk).update(note="x")
    fix = services.authorization_upload_written(operation_id=operation.pk, f=upload(), contact=contact_a,
                                                actor=engineer, corrects=auth, note="清晰扫描件",
                                                now=T0 + timedelta(minutes=1))
    assert fix.corrects_id == auth.pk
    with pytest.raises(ConflictError):
        services.authorization_upload_written(operation_id=operation.pk, f=upload(), contact=contact_a,
                                              actor=engineer, corrects=auth, now=T0)
    assert Authorization.objects.get(pk=auth.pk).note == ""
    with pytest.raises(ValueError):
        audit_for(auth).first().delete()


def test_wrong_state_moves_change_nothing(operation, engineer, contact_a):
    services.authorization_upload_written(operation_id=operation.pk, f=upload(), contact=contact_a,
                                          actor=engineer, now=T0)
    for call, kwargs in [(services.operation_finish, {"result": "x"}),
                         (services.operation_close, {}),
                         (services.operation_refuse, {"reason": "x"}),
                         (services.operation_report_issue, {})]:
        with pytest.raises(ConflictError):
            call(operation_id=operation.pk, actor=engineer, now=T0, **kwargs)
    assert OperationRequest.objects.get(pk=operation.pk).state == OperationState.AUTHORIZED


def test_refuse_and_cancel(operation, engineer, alice, service_a, contact_a):
    with pytest.raises(DomainError):
        services.operation_refuse(operation_id=operation.pk, actor=engineer, reason="", now=T0)
    services.operation_refuse(operation_id=operation.pk, actor=engineer, reason="非法授权", now=T0)
    op = OperationRequest.objects.get(pk=operation.pk)
    assert op.state == OperationState.REFUSED and op.end_reason == "非法授权"
    with pytest.raises(ConflictError):
        services.authorization_upload_written(operation_id=op.pk, f=upload(), contact=contact_a,
                                              actor=engineer, now=T0)
    other = services.operation_create(service=service_a, requested_by=contact_a, title="t",
                                      description="d", actor=alice, now=T0)
    services.authorization_upload_written(operation_id=other.pk, f=upload(), contact=contact_a,
                                          actor=engineer, now=T0)
    services.operation_cancel(operation_id=other.pk, actor=alice, reason="不需要了", now=T0)
    assert clock(other, "C5").state == ClockState.CANCELLED


def test_customer_cannot_act_as_engineer_or_for_another_customer(operation, alice, charlie, contact_a,
                                                                  service_a):
    with pytest.raises(ForbiddenError):
        services.operation_start(operation_id=operation.pk, actor=alice, now=T0)
    with pytest.raises(ForbiddenError):
        services.operation_create(service=service_a, requested_by=contact_a, title="t",
                                  description="d", actor=charlie, now=T0)
    with pytest.raises(ForbiddenError):
        services.authorization_upload_written(operation_id=operation.pk, f=upload(), contact=contact_a,
                                              actor=charlie, now=T0)


def test_request_needs_a_valid_authorized_contact(service_a, customer_a, alice):
    from datetime import date

    gone = f.AuthorizedContactFactory(customer=customer_a, active=False)
    with pytest.raises(DomainError) as e:
        services.operation_create(service=service_a, requested_by=gone, title="t", description="d",
                                  actor=alice, now=T0)
    assert "requested_by" in e.value.field_errors
    later = f.AuthorizedContactFactory(customer=customer_a, valid_from=date(2027, 1, 1))
    with pytest.raises(DomainError):
        services.operation_create(service=service_a, requested_by=later, title="t", description="d",
                                  actor=alice, now=T0)
    other = f.AuthorizedContactFactory()
    with pytest.raises(DomainError):
        services.operation_create(service=service_a, requested_by=other, title="t", description="d",
                                  actor=alice, now=T0)
    assert SECRET  # the fixture secret is the one the phone tests use
