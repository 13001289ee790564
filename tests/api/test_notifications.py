"""The notification log over the API: staff with the permission only, filters."""

from __future__ import annotations

import pytest
from django.utils import timezone

from notifications.models import Notification

from .conftest import ids

pytestmark = pytest.mark.django_db


def _note(key: str, **kw):  # type: ignore[no-untyped-def]
    defaults = {"channel": "email", "address": "a@b.test", "kind": "clock_breach", "subject": "s",
                "body": "b", "idempotency_key": key, "created_at": timezone.now()}
    return Notification.objects.create(**{**defaults, **kw})


def test_staff_list_and_filters(manager, specialist, clock_a, api):
    n1 = _note("k1")
    n2 = _note("k2", channel="sms", address="138", status="sent", kind="clock_warning")
    c = api(specialist)
    assert ids(c.get("/api/notifications/")) == {n1.pk, n2.pk}
    assert ids(c.get("/api/notifications/?status=sent")) == {n2.pk}
    assert ids(c.get("/api/notifications/?channel=email")) == {n1.pk}
    assert ids(c.get("/api/notifications/?kind=clock_warning")) == {n2.pk}
    assert c.get("/api/notifications/?channel=carrier-pigeon").status_code == 400
    assert api(manager).get(f"/api/notifications/{n2.pk}/").json()["address"] == "138"


def test_customers_and_dc_staff_are_refused(alice, charlie, dc_staff, api):
    n = _note("k3")
    for user in (alice, charlie, dc_staff):
        assert api(user).get("/api/notifications/").status_code == 403
        assert api(user).get(f"/api/notifications/{n.pk}/").status_code == 403
