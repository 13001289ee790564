"""Acceptance: no path starts an operation without an accepted authorization — the model
(transition condition, protected state), the service, the page and the API."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from operations import services
from operations.choices import OperationState
from operations.models import OperationRequest
from slaportal.errors import ConflictError

from .conftest import T0, upload

pytestmark = pytest.mark.django_db


def _state(op):
    return OperationRequest.objects.get(pk=op.pk).state


def test_page_start_refused_without_authorization(client, operation, engineer):
    client.force_login(engineer)
    page = client.get(reverse("operations:detail", args=[operation.pk]))
    assert page.status_code == 200
    assert reverse("operations:start", args=[operation.pk]).encode() not in page.content
    r = client.post(reverse("operations:start", args=[operation.pk]), follow=True)
    shown = [str(m) for m in r.context["messages"]]
    assert len(shown) == 1 and shown[0] != "" and "started." not in shown[0]
    assert _state(operation) == OperationState.REQUESTED


def test_api_start_refused_without_authorization(operation, engineer):
    api = APIClient()
    api.force_authenticate(engineer)
    r = api.post(reverse("api-operation-start", args=[operation.pk]))
    assert r.status_code == 409 and r.json()["code"] == "not_authorized"
    assert _state(operation) == OperationState.REQUESTED


def test_pending_authorization_does_not_open_any_path(client, operation, engineer, alice, contact_a):
    services.authorization_upload_written(operation_id=operation.pk, f=upload(), contact=contact_a,
                                          actor=alice, now=T0)
    client.force_login(engineer)
    client.post(reverse("operations:start", args=[operation.pk]))
    api = APIClient()
    api.force_authenticate(engineer)
    assert api.post(reverse("api-operation-start", args=[operation.pk])).status_code == 409
    with pytest.raises(ConflictError):
        services.operation_start(operation_id=operation.pk, actor=engineer)
    # Nor can a step be logged or the work finished.
    assert api.post(reverse("api-operation-steps", args=[operation.pk]),
                    {"description": "x"}).status_code == 409
    assert api.post(reverse("api-operation-finish", args=[operation.pk]),
                    {"result": "x"}).status_code == 409
    assert _state(operation) == OperationState.REQUESTED


def test_start_allowed_once_authorization_accepted_via_page(client, operation, engineer, alice, contact_a):
    auth = services.authorization_upload_written(operation_id=operation.pk, f=upload(), contact=contact_a,
                                                 actor=alice, now=T0)
    client.force_login(engineer)
    r = client.post(reverse("operations:auth_accept", args=[operation.pk, auth.pk]), {"reason": "签字已核对"})
    assert r.status_code == 302
    assert client.post(reverse("operations:start", args=[operation.pk])).status_code == 302
    assert _state(operation) == OperationState.IN_PROGRESS


def test_customer_cannot_start_even_when_authorized(operation, engineer, alice, contact_a):
    services.authorization_upload_written(operation_id=operation.pk, f=upload(), contact=contact_a,
                                          actor=engineer, now=T0)
    api = APIClient()
    api.force_authenticate(alice)
    assert api.post(reverse("api-operation-start", args=[operation.pk])).status_code == 403
    assert _state(operation) == OperationState.AUTHORIZED
