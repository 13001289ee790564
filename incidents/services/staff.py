"""Incidents staff record themselves: a customer's phone report of an outage, or something staff
noticed on their own. Declared at once (the default), it is an emergency like one a probe
declares: the outage starts when staff say it started, clock C4 starts at the declaration and the
first authorized contact is notified by the same machinery (`_c4_start`), so an e-mail service
gets no C4 exactly as for a probe. Saved as detected, it is declared later from the incident page
(`incident_declare`), whose outage then starts at the recorded start (`declared_outage_start`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from audit.services import audit_record
from customers.choices import Role
from customers.models import Service
from sla.models import Clock
from slaportal.errors import ConflictError, DomainError

from ..choices import IncidentSource, OutageKind, OutageSource, ReportChannel
from ..models import Incident, Outage

# Who may record an incident and declare it from the record. The specialist answers the
# complaint line, where a customer's phone report arrives: making them wait for an engineer
# would only delay the start of the customer's 15-minute notice promise. Data-centre staff do
# not handle incidents (they enter power outages and facility events).
RECORD_ACTORS = (Role.SPECIALIST, Role.ENGINEER, Role.MANAGER)

# The two ways staff learn of an outage, as incident sources (no new choice, no migration).
PHONE_REPORT = IncidentSource.CUSTOMER
OWN_DETECTION = IncidentSource.STAFF
RECORD_SOURCES = (PHONE_REPORT, OWN_DETECTION)


@dataclass
class StaffRecord:
    """What recording did: the incident, and when declared its outage and C4 clock (None for a
    service without the notice promise, e.g. e-mail)."""

    incident: Incident
    outage: Outage | None
    clock: Clock | None


def _caller_line(name: str, phone: str) -> str:
    # Written into the incident in the default language (Chinese), as the other stored reasons.
    with override("zh-hans"):
        return _("Phone report from %(name)s (%(phone)s).") % {"name": name, "phone": phone}


def incident_record(
    *, service: Service, actor: Any, source: str, title: str, outage_started_at: datetime,
    description: str = "", caller_name: str = "", caller_phone: str = "", declare: bool = True,
    now: datetime | None = None,
) -> StaffRecord:
    """Staff record an incident on a customer's service (a phone report by the customer, with the
    caller's name and phone, or their own detection) and, by default, declare the emergency: the
    outage starts at `outage_started_at` (not in the future), C4 starts now and the notice plan
    begins, as for a probe. Refused (409) while the service already has an open network outage:
    the running incident is where the report belongs."""
    from . import _c4_start, _incident_new, _move, _require, _set_reported

    _require(actor, *RECORD_ACTORS)
    now = now or timezone.now()
    title, caller_name, caller_phone = title.strip(), caller_name.strip(), caller_phone.strip()
    errors: dict[str, list[str]] = {}
    if source not in RECORD_SOURCES:
        errors["source"] = [_("Choose a phone report by the customer or your own detection.")]
    if not title:
        errors["title"] = [_("Required.")]
    if outage_started_at > now:
        errors["outage_started_at"] = [_("An outage cannot start in the future.")]
    if source == PHONE_REPORT:
        if not caller_name:
            errors["caller_name"] = [_("Who called? A phone report needs the caller's name.")]
        if not caller_phone:
            errors["caller_phone"] = [_("A phone report needs the number the caller can be reached on.")]
    if not service.active:
        errors["service"] = [_("This service is no longer active.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)

    with transaction.atomic():
        Service.objects.select_for_update().filter(pk=service.pk).first()  # one record at a time
        if declare:
            running = (Outage.objects.filter(service=service, kind=OutageKind.NETWORK, ended_at__isnull=True)
                       .select_related("incident").order_by("started_at").first())
            if running is not None:
                number = running.incident.number if running.incident else ""
                raise ConflictError(
                    _("This service already has an open outage (incident %(number)s): record the "
                      "report on that incident.") % {"number": number or "—"})
        text = description.strip()
        if source == PHONE_REPORT:
            text = "\n\n".join(p for p in (text, _caller_line(caller_name, caller_phone)) if p)
        inc = _incident_new(service=service, source=source, title=title, description=text, target=None,
                            detected_at=outage_started_at, actor=actor, now=now)
        audit_record(obj=inc, action="staff_record", actor=actor, now=now, reason=title, data={
            "source": source, "caller_name": caller_name, "caller_phone": caller_phone,
            "outage_started_at": outage_started_at.isoformat(), "declare": declare})
        if source == PHONE_REPORT:
            # The customer told us: this is their report for the 5-day clause.
            _set_reported(inc, at=now, via=ReportChannel.COMPLAINT_LINE, actor=actor, now=now)
        if not declare:
            return StaffRecord(incident=inc, outage=None, clock=None)
        _move(inc, "declare", actor=actor, reason=title, now=now)
        outage = Outage(service=service, incident=inc, kind=OutageKind.NETWORK, source=OutageSource.MANUAL,
                        started_at=outage_started_at, evidence=text, reported_at=inc.reported_at,
                        created_by=actor, created_at=now)
        outage.save()
        audit_record(obj=outage, action="start", actor=actor, now=now,
                     data={"incident": inc.pk, "started_at": outage_started_at.isoformat()})
        clock = _c4_start(incident=inc, actor=actor, now=now)
    return StaffRecord(incident=inc, outage=outage, clock=clock)


def declared_outage_start(incident: Incident) -> datetime | None:
    """Where the outage of a later declaration starts: an incident staff recorded (their own
    detection, or a customer's phone report) carries the start they gave as `detected_at`; any
    other incident's outage starts at the declaration (None: `incident_declare`'s default). Only
    for the first outage, so a re-declaration never reaches back over an earlier one."""
    staff_made = (incident.source == OWN_DETECTION
                  or (incident.source == PHONE_REPORT and incident.reported_via == ReportChannel.COMPLAINT_LINE))
    if staff_made and not incident.outages.exists():
        return incident.detected_at
    return None
