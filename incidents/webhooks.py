"""External monitors: Prometheus Alertmanager's webhook JSON and a simple generic JSON.

A delivery is parsed and checked completely before anything is written, so a malformed one stores
nothing. Each alert is keyed by source + fingerprint + start: a firing alert opens (or reuses) the
incident and starts an outage once; a resolved alert ends that outage once; a replayed or
out-of-order delivery finds the outage it already made and changes nothing twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from audit.services import audit_record
from customers.models import Service
from slaportal.errors import DomainError

from .choices import IncidentSource, OutageKind, OutageSource, WebhookFormat
from .models import Outage, WebhookSource, hash_token
from .services import emergency_declare, outage_end

SERVICE_LABELS = ("slaportal_service", "service_id", "service")
MAX_ALERTS = 1000


@dataclass(frozen=True)
class Alert:
    status: str
    service_id: int
    fingerprint: str
    starts_at: datetime
    ends_at: datetime | None
    title: str


@dataclass
class WebhookResult:
    alerts: int = 0
    opened: int = 0
    closed: int = 0
    unchanged: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"alerts": self.alerts, "opened": self.opened, "closed": self.closed,
                "unchanged": self.unchanged}


def source_for_token(raw: str) -> WebhookSource | None:
    """The active source whose token hashes to `raw` (tokens are random: lookup by hash is safe)."""
    if not raw:
        return None
    return WebhookSource.objects.filter(token_hash=hash_token(raw), active=True).first()


def _bad(msg: str) -> DomainError:
    return DomainError(msg, code="malformed", field_errors={"payload": [msg]})


def _time(value: Any, what: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise _bad(_("%(what)s is not a time.") % {"what": what})
    dt = parse_datetime(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    if dt is None or dt.tzinfo is None:
        raise _bad(_("%(what)s is not a time with a zone.") % {"what": what})
    if dt.year < 1000:  # Alertmanager sends 0001-01-01T00:00:00Z for "not ended"
        return None
    return dt


def _service_id(value: Any) -> int:
    try:
        sid = int(value)
    except (TypeError, ValueError):
        raise _bad(_("The alert does not name a service (label slaportal_service).")) from None
    if sid <= 0:
        raise _bad(_("The alert does not name a service (label slaportal_service)."))
    return sid


def parse(fmt: str, payload: Any) -> list[Alert]:
    """Validate a delivery and return its alerts; raise DomainError (400) if anything is wrong."""
    if not isinstance(payload, dict):
        raise _bad(_("The body must be a JSON object."))
    raw_alerts = payload.get("alerts")
    if fmt == WebhookFormat.GENERIC and raw_alerts is None:
        raw_alerts = [payload]
    if not isinstance(raw_alerts, list) or not raw_alerts or len(raw_alerts) > MAX_ALERTS:
        raise _bad(_("The body must carry a non-empty list of alerts."))
    alerts = []
    for a in raw_alerts:
        if not isinstance(a, dict):
            raise _bad(_("Each alert must be a JSON object."))
        status = a.get("status", payload.get("status"))
        if status not in ("firing", "resolved"):
            raise _bad(_("An alert's status must be firing or resolved."))
        if fmt == WebhookFormat.ALERTMANAGER:
            labels = a.get("labels") or {}
            annotations = a.get("annotations") or {}
            if not isinstance(labels, dict) or not isinstance(annotations, dict):
                raise _bad(_("Labels and annotations must be objects."))
            sid = next((labels[k] for k in SERVICE_LABELS if k in labels), None)
            fingerprint = a.get("fingerprint") or ""
            starts, ends = _time(a.get("startsAt"), "startsAt"), _time(a.get("endsAt"), "endsAt")
            title = str(annotations.get("summary") or labels.get("alertname") or "alert")
        else:
            sid = a.get("service")
            fingerprint = a.get("fingerprint") or "generic"
            starts, ends = _time(a.get("starts_at"), "starts_at"), _time(a.get("ends_at"), "ends_at")
            title = str(a.get("title") or "alert")
        if not isinstance(fingerprint, str) or not fingerprint or len(fingerprint) > 120:
            raise _bad(_("An alert needs a fingerprint."))
        if starts is None:
            raise _bad(_("An alert needs its start time."))
        if status == "resolved" and (ends is None or ends < starts):
            raise _bad(_("A resolved alert needs an end time after its start."))
        alerts.append(Alert(status=status, service_id=_service_id(sid), fingerprint=fingerprint,
                            starts_at=starts, ends_at=ends if status == "resolved" else None,
                            title=title[:200]))
    return alerts


def webhook_receive(*, source: WebhookSource, payload: Any, now: datetime | None = None) -> WebhookResult:
    """Apply one delivery of `source` (see the module docstring)."""
    now = now or timezone.now()
    alerts = parse(source.format, payload)
    services = Service.objects.select_related("contract", "customer", "engineer").in_bulk(
        {a.service_id for a in alerts})
    for a in alerts:
        s = services.get(a.service_id)
        if s is None or (source.customer_id and s.customer_id != source.customer_id):
            raise _bad(_("Unknown service %(id)s.") % {"id": a.service_id})
    result = WebhookResult(alerts=len(alerts))
    with transaction.atomic():
        for a in sorted(alerts, key=lambda x: (x.starts_at, x.status)):
            _apply(source=source, alert=a, service=services[a.service_id], result=result, now=now)
        WebhookSource.objects.filter(pk=source.pk).update(last_received_at=now)
    return result


def _apply(*, source: WebhookSource, alert: Alert, service: Service, result: WebhookResult,
           now: datetime) -> None:
    key = f"{source.pk}:{alert.fingerprint}:{alert.starts_at.isoformat()}"
    existing = Outage.objects.select_for_update().filter(external_key=key).first()
    if alert.status == "firing":
        if existing is not None:
            result.unchanged += 1
            return
        try:
            with transaction.atomic():
                emergency_declare(service=service, source=IncidentSource.WEBHOOK, title=alert.title,
                                  outage_started_at=alert.starts_at, external_key=key,
                                  evidence=f"{source.name}: {alert.fingerprint}", now=now)
        except IntegrityError:  # a concurrent delivery of the same alert won
            result.unchanged += 1
            return
        result.opened += 1
        return
    assert alert.ends_at is not None
    if existing is None:
        # Resolved before (or without) its firing: the outage happened and is over. Record it;
        # a late firing for the same key then finds it and changes nothing.
        try:
            with transaction.atomic():
                o = Outage(service=service, kind=OutageKind.NETWORK, source=OutageSource.WEBHOOK,
                           started_at=alert.starts_at, ended_at=alert.ends_at, external_key=key,
                           evidence=f"{source.name}: {alert.fingerprint}", created_at=now)
                o.save()
                audit_record(obj=o, action="create", now=now, reason="resolved alert without firing",
                             data={"source": source.pk})
        except IntegrityError:
            result.unchanged += 1
            return
        result.closed += 1
        return
    if existing.ended_at is not None:
        result.unchanged += 1
        return
    outage_end(outage_id=existing.pk, ended_at=alert.ends_at, reason=f"resolved by {source.name}", now=now)
    result.closed += 1
