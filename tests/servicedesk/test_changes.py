"""An agreed service change: applying it writes the service record through customers.services
with an audit row; one that needs work on the customer's equipment links an authorized
operation (created, or an existing one of that service)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditEntry
from operations.models import OperationRequest
from servicedesk.services import request_create, service_change_agree, service_change_apply
from slaportal.errors import ConflictError, DomainError

from .conftest import T0, api

pytestmark = pytest.mark.django_db


@pytest.fixture
def change_sr(service_a, alice):  # type: ignore[no-untyped-def]
    return request_create(customer=service_a.customer, actor=alice, kind="service_change", service=service_a,
                          title="迁移机柜", description="请把服务器迁到 B 机房", now=T0)


def test_applied_change_writes_the_service_with_an_audit_row(change_sr, service_a, specialist):
    change = service_change_agree(request_id=change_sr.pk, actor=specialist,
                                  changes={"room": "B 机房", "rack_row": "B-07"}, note="客户同意", now=T0)
    service_a.refresh_from_db()
    assert service_a.room == ""  # agreed, not yet applied
    service_change_apply(change_id=change.pk, actor=specialist, now=T0)
    service_a.refresh_from_db()
    assert (service_a.room, service_a.rack_row) == ("B 机房", "B-07")
    row = AuditEntry.objects.filter(content_type__model="service", object_id=service_a.pk).latest("id")
    assert row.data["changed"]["room"] == ["", "B 机房"] and row.actor == specialist
    with pytest.raises(ConflictError):
        service_change_apply(change_id=change.pk, actor=specialist, now=T0)


def test_a_change_needing_equipment_work_links_an_authorized_operation(change_sr, service_a, specialist, contact_a):
    with pytest.raises(DomainError):
        service_change_agree(request_id=change_sr.pk, actor=specialist, changes={"uplink": "电信 2"},
                             needs_operation=True, now=T0)
    change = service_change_agree(request_id=change_sr.pk, actor=specialist, changes={"uplink": "电信 2"},
                                  needs_operation=True, operation_contact=contact_a, now=T0)
    op = OperationRequest.objects.get()
    assert change.operation == op and op.service == service_a and op.requested_by == contact_a


def test_fields_a_change_may_not_touch_are_refused_with_field_errors(change_sr, specialist):
    r = api(specialist).post(reverse("api-service-request-changes", args=[change_sr.pk]),
                             {"changes": {"specialist": 1, "name": ""}}, format="json")
    assert r.status_code == 400
    assert set(r.json()["errors"]) == {"specialist", "name"}
