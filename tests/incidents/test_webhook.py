"""The external-monitor webhook: Alertmanager and generic JSON; per-source token; replayed or
out-of-order deliveries change nothing twice; a malformed body stores nothing."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from incidents.choices import IncidentSource, IncidentState
from incidents.models import Incident, Outage, WebhookSource
from sla.models import Clock

TZ = ZoneInfo("Asia/Shanghai")
URL = "/api/webhooks/alerts/"
TOKEN = "am-token-0123456789abcdefghijklmnop"


@pytest.fixture
def source(db):
    s = WebhookSource(name="prometheus", format="alertmanager")
    s.set_token(TOKEN)
    s.save()
    return s


def am(status, service, *, starts="2026-03-10T06:00:00Z", ends="0001-01-01T00:00:00Z"):  # type: ignore[no-untyped-def]
    return {"version": "4", "groupKey": "{}:{alertname=\"HostDown\"}", "status": status, "receiver": "sla",
            "groupLabels": {"alertname": "HostDown"}, "commonLabels": {}, "commonAnnotations": {},
            "externalURL": "http://am:9093", "truncatedAlerts": 0,
            "alerts": [{"status": status, "labels": {"alertname": "HostDown", "slaportal_service": str(service.pk)},
                        "annotations": {"summary": "主机不可达"}, "startsAt": starts, "endsAt": ends,
                        "generatorURL": "http://prom/graph", "fingerprint": "c0ffee1234"}]}


def post(body, token=TOKEN):  # type: ignore[no-untyped-def]
    c = APIClient()
    raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return c.post(URL, data=raw, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_alertmanager_firing_then_resolved_opens_and_closes_the_outage(source, service_a):
    r = post(am("firing", service_a))
    assert r.status_code == 200, r.content
    assert r.json() == {"alerts": 1, "opened": 1, "closed": 0, "unchanged": 0}
    [o] = Outage.objects.all()
    assert o.started_at == datetime(2026, 3, 10, 14, 0, tzinfo=TZ) and o.ended_at is None
    inc = o.incident
    assert inc.source == IncidentSource.WEBHOOK and inc.state == IncidentState.DECLARED
    assert Clock.objects.filter(policy__code="C4", object_id=inc.pk).count() == 1

    r = post(am("resolved", service_a, ends="2026-03-10T06:25:30Z"))
    assert r.json()["closed"] == 1
    o.refresh_from_db()
    assert o.ended_at == datetime(2026, 3, 10, 14, 25, 30, tzinfo=TZ)


def test_replays_and_out_of_order_deliveries_change_nothing_twice(source, service_a):
    resolved = am("resolved", service_a, ends="2026-03-10T06:10:00Z")
    assert post(resolved).json()["closed"] == 1          # resolved arrives first
    assert post(am("firing", service_a)).json()["unchanged"] == 1  # the late firing
    assert post(resolved).json()["unchanged"] == 1       # replay
    [o] = Outage.objects.all()
    assert o.ended_at == datetime(2026, 3, 10, 14, 10, tzinfo=TZ)
    assert not Incident.objects.exists()

    post(am("firing", service_a, starts="2026-03-11T01:00:00Z"))
    post(am("firing", service_a, starts="2026-03-11T01:00:00Z"))
    assert Outage.objects.count() == 2 and Incident.objects.count() == 1


def test_bad_token_is_401_and_stores_nothing(source, service_a):
    r = post(am("firing", service_a), token="wrong")
    assert r.status_code == 401
    assert APIClient().post(URL, data=json.dumps(am("firing", service_a)),
                            content_type="application/json").status_code == 401
    source.active = False
    source.save()
    assert post(am("firing", service_a)).status_code == 401
    assert not Outage.objects.exists() and not Incident.objects.exists()


@pytest.mark.parametrize("body", [
    b"{not json", b"", b"[]", b'{"alerts": []}',
    "BAD_STATUS", "NO_SERVICE", "NO_START", "RESOLVED_NO_END", "SECOND_ALERT_BAD",
])
def test_malformed_json_is_400_and_stores_nothing(source, service_a, body):
    good = am("firing", service_a)
    if isinstance(body, str):
        b = copy.deepcopy(good)
        a = b["alerts"][0]
        if body == "BAD_STATUS":
            a["status"] = "burning"
        elif body == "NO_SERVICE":
            del a["labels"]["slaportal_service"]
        elif body == "NO_START":
            del a["startsAt"]
        elif body == "RESOLVED_NO_END":
            a["status"] = "resolved"
        elif body == "SECOND_ALERT_BAD":
            b["alerts"].append({**a, "fingerprint": "", "startsAt": "2026-03-10T07:00:00Z"})
        body = b
    r = post(body)
    assert r.status_code == 400, r.content
    assert not Outage.objects.exists() and not Incident.objects.exists()
    assert WebhookSource.objects.get(pk=source.pk).last_received_at is None


def test_a_source_limited_to_a_customer_cannot_touch_another(source, service_a, service_c):
    source.customer = service_a.customer
    source.save()
    assert post(am("firing", service_c)).status_code == 400
    assert not Outage.objects.exists()


def test_generic_json(source, service_a):
    source.format = "generic"
    source.save()
    body = {"service": service_a.pk, "status": "firing", "fingerprint": "pingdom-1",
            "starts_at": "2026-03-10T14:00:00+08:00", "title": "www down"}
    assert post(body).json()["opened"] == 1
    assert post({**body, "status": "resolved", "ends_at": "2026-03-10T14:05:00+08:00"}).json()["closed"] == 1
    o = Outage.objects.get()
    assert o.duration_seconds == 300


def test_token_is_stored_hashed(source):
    assert TOKEN not in source.token_hash and len(source.token_hash) == 64


def test_an_alertmanager_payload_with_several_alerts(source, service_a, service_c):
    body = am("firing", service_a)
    a = body["alerts"][0]
    body["alerts"] = [
        a,
        {**a, "fingerprint": "beef5678", "labels": {**a["labels"], "alertname": "WwwDown"}},
        {**a, "fingerprint": "f00d", "labels": {**a["labels"], "slaportal_service": str(service_c.pk)}},
        {**a, "fingerprint": "dead", "status": "resolved", "startsAt": "2026-03-10T05:00:00Z",
         "endsAt": "2026-03-10T05:30:00Z"},
    ]
    assert post(body).json() == {"alerts": 4, "opened": 3, "closed": 1, "unchanged": 0}
    assert Incident.objects.filter(service=service_a).count() == 1
    assert Incident.objects.filter(service=service_c).count() == 1
    assert Outage.objects.filter(service=service_a, ended_at__isnull=True).count() == 2
    assert post(body).json() == {"alerts": 4, "opened": 0, "closed": 0, "unchanged": 4}
    # Firing and resolved of one alert in the same delivery: opened, then closed.
    both = am("firing", service_a, starts="2026-03-12T01:00:00Z")
    both["alerts"].append({**both["alerts"][0], "status": "resolved", "endsAt": "2026-03-12T01:07:00Z"})
    assert post(both).json() == {"alerts": 2, "opened": 1, "closed": 1, "unchanged": 0}
