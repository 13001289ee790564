"""Every write of the incident workflow: declaring an emergency (and its outage, clock C4 and the
first notice), ending outages, the notice attempts and their escalation, the miss and its credit,
exemptions, acknowledgement, classification of causes, resolution and closing.

Each service takes the incident row lock before a transition, audits in the same transaction, and
leaves sending to notifications (queued after commit).

A package (STYLE: a services module past ~500 lines): facility events and force majeure live in
`facility.py`; every public name is importable from `incidents.services` as before. (The emergency,
notice and outage parts could move to sub-modules the same way.)"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from audit.services import audit_record
from credits.choices import CreditKind
from credits.services import credit_propose
from customers.choices import ContactChannel, Role
from customers.models import AuthorizedContact, Customer, Service
from customers.selectors import user_customer_id, user_has_role, user_is_staff
from notifications.choices import Status
from notifications.services import Message, notifications_enqueue
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clock_cancel_for, clock_meet, clock_open_for, clock_start
from slaportal.errors import ConflictError, DomainError, ForbiddenError

from ..choices import (
    COUNTED_CAUSES,
    OPEN_OUTCOMES,
    SUCCESS_OUTCOMES,
    Cause,
    IncidentSource,
    IncidentState,
    NoticeExemption,
    NoticeOutcome,
    OutageKind,
    OutageSource,
    ReportChannel,
)
from ..downtime import TZ
from ..models import Incident, NoticeAttempt, Outage

logger = logging.getLogger(__name__)

C4 = "C4"
ACK_SALT = "incidents.ack"
ACK_MAX_AGE = 30 * 24 * 3600

# Contact channel → notification channel. An office phone is called by the engineer, who
# records the outcome; a mobile gets an SMS through the gateway (SPEC: SMS, phone, pager and fax
# go through pluggable gateways).
AUTOMATIC_CHANNELS = {
    ContactChannel.MOBILE: "sms",
    ContactChannel.PAGER: "pager",
    ContactChannel.FAX: "fax",
    ContactChannel.EMAIL: "email",
}
CALL_CHANNELS = (ContactChannel.OFFICE_PHONE,)

INCIDENT_ACTORS = (Role.ENGINEER, Role.MANAGER)
POWER_ACTORS = (Role.DC_STAFF, Role.ENGINEER, Role.MANAGER)


def _require(actor: Any, *roles: str) -> None:
    if not user_has_role(actor, *roles):
        raise ForbiddenError(_("Your role does not allow this."))


def _locked(incident_id: int) -> Incident:
    try:
        return (Incident.objects.select_for_update(of=("self",))
                .select_related("service", "service__contract", "customer").get(pk=incident_id))
    except Incident.DoesNotExist:
        raise DomainError(_("No such incident."), code="not_found") from None


TRANSITION_LABELS = {
    "declare": "declared", "redeclare": "declared again", "notify": "marked notified",
    "acknowledge": "acknowledged", "resolve": "resolved", "classify": "classified", "close": "closed",
}


def _move(incident: Incident, method: str, *, actor: Any, reason: str, now: datetime,
          data: dict[str, Any] | None = None) -> None:
    bound = getattr(incident, method)
    if not can_proceed(bound):
        raise ConflictError(_("An incident that is %(state)s cannot be %(action)s.") % {
            "state": incident.get_state_display(), "action": TRANSITION_LABELS.get(method, method)})
    before = incident.state
    bound(at=now)
    incident.save()
    audit_record(obj=incident, action=method, actor=actor, from_state=before, to_state=incident.state,
                 reason=reason, now=now, data=data)


def _number(incident: Incident) -> None:
    local = timezone.localtime(incident.detected_at, TZ)
    incident.number = f"SJ{local:%Y%m%d}-{incident.pk:06d}"
    Incident.objects.filter(pk=incident.pk).update(number=incident.number)


def _incident_new(*, service: Service, source: str, title: str, description: str, target: Any,
                  detected_at: datetime, actor: Any, now: datetime) -> Incident:
    inc = Incident(customer_id=service.customer_id, service=service, target=target, source=source,
                   title=title[:200], description=description, engineer=service.engineer,
                   detected_at=detected_at)
    try:
        inc.full_clean(exclude=["number", "state", "target", "engineer"])
    except ValidationError as e:
        raise DomainError(_("Please correct the errors below."), field_errors=e.message_dict) from None
    inc.save()
    _number(inc)
    audit_record(obj=inc, action="create", actor=actor, to_state=inc.state, now=now,
                 data={"source": source})
    return inc


# --- Declaring an emergency ---------------------------------------------------------------

@dataclass
class Declaration:
    incident: Incident
    outage: Outage
    created_incident: bool
    clock: Clock | None


def emergency_declare(
    *, service: Service, source: str, title: str, outage_started_at: datetime, target: Any = None,
    description: str = "", external_key: str | None = None, evidence: str = "", actor: Any = None,
    now: datetime | None = None,
) -> Declaration:
    """Declare an emergency (紧急情况): the service cannot be obtained. Opens an incident, or
    reuses the open one of the same target (or, for an external monitor, of the same service);
    its outage starts at `outage_started_at` (the first failed probe); clock C4 starts now, at the
    declaration, and the first authorized contact is notified."""
    now = now or timezone.now()
    with transaction.atomic():
        open_qs = Incident.objects.select_for_update().filter(state__in=[
            IncidentState.DETECTED, IncidentState.DECLARED, IncidentState.NOTIFIED,
            IncidentState.ACKNOWLEDGED])
        if target is not None:
            open_qs = open_qs.filter(target=target)
        else:
            open_qs = open_qs.filter(service=service, source=source, target__isnull=True)
        incident = open_qs.order_by("-detected_at").first()
        created = incident is None
        if incident is None:
            incident = _incident_new(service=service, source=source, title=title,
                                     description=description, target=target,
                                     detected_at=outage_started_at, actor=actor, now=now)
        if incident.state == IncidentState.DETECTED:
            _move(incident, "declare", actor=actor, reason=title, now=now)
        elif incident.state in (IncidentState.NOTIFIED, IncidentState.ACKNOWLEDGED):
            _move(incident, "redeclare", actor=actor, reason=title, now=now)
        outage = Outage(service=service, incident=incident, target=target, kind=OutageKind.NETWORK,
                        source=OutageSource.WEBHOOK if source == IncidentSource.WEBHOOK else OutageSource.PROBE,
                        started_at=outage_started_at, external_key=external_key, evidence=evidence,
                        created_at=now)
        outage.save()
        audit_record(obj=outage, action="start", actor=actor, now=now,
                     data={"incident": incident.pk, "started_at": outage_started_at.isoformat()})
        clock = _c4_start(incident=incident, actor=actor, now=now)
    return Declaration(incident=incident, outage=outage, created_incident=created, clock=clock)


def _c4_start(*, incident: Incident, actor: Any, now: datetime) -> Clock | None:
    if clock_open_for(subject=incident, policy_code=C4) is not None:
        return None
    try:
        clock = clock_start(subject=incident, policy_code=C4, customer=incident.customer,
                            contract=incident.service.contract, assignee=incident.engineer,
                            label=f"{incident.number} {incident.title}"[:200], actor=actor,
                            reason="emergency declared", service_kind=incident.service.kind, now=now)
    except DomainError as e:  # switched off for this contract, or not made for this kind of service
        logger.info("C4 not started for incident %s: %s", incident.pk, e.message)
        return None
    if incident.notice_exemption:
        # Already exempt (e.g. force majeure recorded before a re-declaration): no promise runs.
        clock_cancel_for(subject=incident, policy_code=C4, actor=actor,
                         reason=f"exempt: {incident.notice_exemption}", now=now)
        return None
    _notice_next(incident=incident, clock=clock, now=now)
    return clock


def incident_declare(*, incident_id: int, actor: Any, outage_started_at: datetime | None = None,
                     reason: str = "", now: datetime | None = None) -> Incident:
    """Staff declare an emergency on a reported incident: the outage starts at the reported
    start (or now) and C4 starts now."""
    _require(actor, *INCIDENT_ACTORS)
    now = now or timezone.now()
    with transaction.atomic():
        inc = _locked(incident_id)
        _move(inc, "declare", actor=actor, reason=reason, now=now)
        outage = Outage(service=inc.service, incident=inc, target=inc.target, kind=OutageKind.NETWORK,
                        source=OutageSource.MANUAL, started_at=outage_started_at or now,
                        reported_at=inc.reported_at, created_by=actor, created_at=now)
        outage.save()
        audit_record(obj=outage, action="start", actor=actor, now=now)
        _c4_start(incident=inc, actor=actor, now=now)
    return inc


def incident_report(*, service: Service, actor: Any, title: str, description: str = "",
                    via: str = ReportChannel.PORTAL, reported_at: datetime | None = None,
                    now: datetime | None = None) -> Incident:
    """The customer reports a problem (portal), or staff log a report from the complaint line.
    The report time is what the 5-day clause looks at."""
    now = now or timezone.now()
    if not user_is_staff(actor):
        if user_customer_id(actor) != service.customer_id:
            raise ForbiddenError(_("You can only report problems with your own services."))
        via, reported_at = ReportChannel.PORTAL, now
    if not title.strip():
        raise DomainError(_("Please correct the errors below."), field_errors={"title": [_("Required.")]})
    with transaction.atomic():
        inc = _incident_new(service=service, source=IncidentSource.CUSTOMER,
                            title=title, description=description, target=None,
                            detected_at=reported_at or now, actor=actor, now=now)
        inc.reported_at, inc.reported_via = reported_at or now, via
        inc.save(update_fields=["reported_at", "reported_via"])
    return inc


def incident_record_report(*, incident_id: int, actor: Any, reported_at: datetime, via: str,
                           now: datetime | None = None) -> Incident:
    """Staff record that the customer reported this incident (e.g. on the complaint line) at a
    given time; the earliest report wins."""
    _require(actor, Role.SPECIALIST, *INCIDENT_ACTORS)
    now = now or timezone.now()
    with transaction.atomic():
        inc = _locked(incident_id)
        _set_reported(inc, at=reported_at, via=via, actor=actor, now=now)
    return inc


def _set_reported(inc: Incident, *, at: datetime, via: str, actor: Any, now: datetime) -> None:
    if inc.reported_at is not None and inc.reported_at <= at:
        return
    before = inc.reported_at
    inc.reported_at, inc.reported_via = at, via
    inc.save(update_fields=["reported_at", "reported_via"])
    audit_record(obj=inc, action="reported", actor=actor, now=now,
                 data={"reported_at": at.isoformat(), "via": via,
                       "before": before.isoformat() if before else None})


# --- Outages ------------------------------------------------------------------------------

def outage_end(*, outage_id: int, ended_at: datetime, actor: Any = None, reason: str = "",
               now: datetime | None = None) -> Outage:
    """End an open outage (the first successful probe, a resolved alert, or staff)."""
    now = now or timezone.now()
    if actor is not None and getattr(actor, "is_authenticated", False):
        _require(actor, *POWER_ACTORS)
    with transaction.atomic():
        o = Outage.objects.select_for_update().filter(pk=outage_id).first()
        if o is None:
            raise DomainError(_("No such outage."), code="not_found")
        if o.ended_at is not None:
            raise ConflictError(_("This outage has already ended."))
        if ended_at < o.started_at:
            raise DomainError(_("The end must not be before the start."),
                              field_errors={"ended_at": [_("The end must not be before the start.")]})
        o.ended_at = ended_at
        o.save(update_fields=["ended_at"])
        audit_record(obj=o, action="end", actor=actor, reason=reason, now=now,
                     data={"ended_at": ended_at.isoformat()})
    return o


def outages_end_for_target(*, target_id: int, ended_at: datetime, now: datetime | None = None) -> list[int]:
    """The first successful probe after a failure ends the target's open outage(s)."""
    ids = list(Outage.objects.filter(target_id=target_id, ended_at__isnull=True,
                                     started_at__lte=ended_at).values_list("pk", flat=True))
    for pk in ids:
        outage_end(outage_id=pk, ended_at=ended_at, reason="probe succeeded", now=now)
    return ids


def outage_record(*, service: Service, actor: Any, started_at: datetime, ended_at: datetime | None,
                  evidence: str, kind: str = OutageKind.POWER, cause: str = "", cause_note: str = "",
                  incident: Incident | None = None, now: datetime | None = None) -> Outage:
    """Staff enter an outage by hand — typically a power event (mains and UPS both without
    power) — with its start, end and evidence."""
    _require(actor, *POWER_ACTORS)
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if not evidence.strip():
        errors["evidence"] = [_("Describe the evidence (meter readings, UPS log, photos).")]
    if ended_at is not None and ended_at < started_at:
        errors["ended_at"] = [_("The end must not be before the start.")]
    if started_at > now:
        errors["started_at"] = [_("An outage cannot start in the future.")]
    if cause and cause not in Cause.values:
        errors["cause"] = [_("Unknown cause.")]
    if cause and cause not in COUNTED_CAUSES and not cause_note.strip():
        errors["cause_note"] = [_("An excluded cause needs a justification.")]
    if incident is not None and incident.service_id != service.pk:
        errors["incident"] = [_("The incident is about another service.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    with transaction.atomic():
        o = Outage(service=service, incident=incident, kind=kind, source=OutageSource.MANUAL,
                   started_at=started_at, ended_at=ended_at, evidence=evidence, created_by=actor,
                   created_at=now)
        if cause:
            o.cause, o.cause_note, o.cause_set_by, o.cause_set_at = cause, cause_note, actor, now
        o.save()
        audit_record(obj=o, action="create", actor=actor, now=now, data={
            "kind": kind, "started_at": started_at.isoformat(),
            "ended_at": ended_at.isoformat() if ended_at else None, "cause": cause})
    return o


def outage_classify(*, outage_id: int, cause: str, note: str, actor: Any,
                    now: datetime | None = None) -> Outage:
    """Set (or change) an outage's cause. Every exclusion needs a justification; who set it, when,
    and the previous cause are audited. When the incident is resolved and every outage of it has a
    cause, the incident moves to 'cause classified'."""
    _require(actor, *INCIDENT_ACTORS)
    now = now or timezone.now()
    if cause not in Cause.values:
        raise DomainError(_("Unknown cause."), field_errors={"cause": [_("Unknown cause.")]})
    if cause not in COUNTED_CAUSES and not note.strip():
        raise DomainError(_("An excluded cause needs a justification."),
                          field_errors={"note": [_("An excluded cause needs a justification.")]})
    with transaction.atomic():
        o = Outage.objects.select_for_update().filter(pk=outage_id).first()
        if o is None:
            raise DomainError(_("No such outage."), code="not_found")
        before = {"cause": o.cause, "note": o.cause_note}
        if before == {"cause": cause, "note": note}:
            return o
        o.cause, o.cause_note, o.cause_set_by, o.cause_set_at = cause, note, actor, now
        o.save(update_fields=["cause", "cause_note", "cause_set_by", "cause_set_at"])
        audit_record(obj=o, action="classify" if not before["cause"] else "reclassify", actor=actor,
                     from_state=before["cause"], to_state=cause, reason=note, now=now,
                     data={"before": before})
        if o.incident_id:
            inc = _locked(o.incident_id)
            if inc.state == IncidentState.RESOLVED and not inc.outages.filter(cause="").exists():
                _move(inc, "classify", actor=actor, reason="every outage has a cause", now=now)
    return o


# --- Incident transitions -----------------------------------------------------------------

def incident_resolve(*, incident_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> Incident:
    """The problem is fixed. Refused while one of its outages is still open."""
    _require(actor, *INCIDENT_ACTORS)
    now = now or timezone.now()
    with transaction.atomic():
        inc = _locked(incident_id)
        if inc.outages.filter(ended_at__isnull=True).exists():
            raise ConflictError(_("An outage of this incident is still open; end it first."))
        _move(inc, "resolve", actor=actor, reason=reason, now=now)
        if inc.outages.exists() and not inc.outages.filter(cause="").exists():
            _move(inc, "classify", actor=actor, reason="every outage has a cause", now=now)
        elif not inc.outages.exists():
            _move(inc, "classify", actor=actor, reason="no outage", now=now)
    return inc


def incident_close(*, incident_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> Incident:
    _require(actor, *INCIDENT_ACTORS)
    now = now or timezone.now()
    with transaction.atomic():
        inc = _locked(incident_id)
        _move(inc, "close", actor=actor, reason=reason, now=now)
    return inc


def incident_acknowledge(*, incident_id: int, actor: Any = None, by: str = "", via: str = "portal",
                         now: datetime | None = None) -> Incident:
    """The customer acknowledges the emergency, from the portal or the e-mail link. This is a
    report by the customer (5-day clause) and proof that a contact was reached (C4 met)."""
    now = now or timezone.now()
    with transaction.atomic():
        inc = _locked(incident_id)
        if actor is not None and not user_is_staff(actor) and user_customer_id(actor) != inc.customer_id:
            raise ForbiddenError(_("Only the customer can acknowledge this incident."))
        if inc.acknowledged_at is not None and (inc.declared_at is None
                                                or inc.acknowledged_at >= inc.declared_at):
            return inc  # a second click on the e-mail link changes nothing
        # (acknowledged before a re-declaration: the new emergency is acknowledged anew)
        if not by:
            by = (actor.get_full_name() or actor.get_username()) if actor is not None else ""
        inc.acknowledged_by = by[:200]
        _move(inc, "acknowledge", actor=actor, reason=f"via {via}", now=now, data={"by": by, "via": via})
        _set_reported(inc, at=now, via=ReportChannel.ACKNOWLEDGEMENT, actor=actor, now=now)
        clock = _c4_latest(inc)
        if clock is not None and clock.state in (ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED):
            clock_meet(clock_id=clock.pk, actor=actor, reason="customer acknowledged", now=now)
        _cancel_open_attempts(inc, now=now)
    return inc


def ack_token(*, incident: Incident, contact: AuthorizedContact) -> str:
    return signing.dumps({"i": incident.pk, "c": contact.pk}, salt=ACK_SALT, compress=True)


def ack_token_read(token: str) -> tuple[int, int]:
    """The incident and contact of an acknowledgement link; a bad or old link is refused."""
    try:
        data = signing.loads(token, salt=ACK_SALT, max_age=ACK_MAX_AGE)
        return int(data["i"]), int(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise DomainError(_("This acknowledgement link is not valid or has expired."), code="bad_link") from None


def incident_acknowledge_by_token(*, token: str, now: datetime | None = None) -> Incident:
    incident_id, contact_id = ack_token_read(token)
    contact = AuthorizedContact.objects.filter(pk=contact_id).first()
    if contact is None or not Incident.objects.filter(pk=incident_id, customer_id=contact.customer_id).exists():
        raise DomainError(_("This acknowledgement link is not valid or has expired."), code="bad_link")
    return incident_acknowledge(incident_id=incident_id, by=contact.name, via="email_link", now=now)


# --- Notifying the customer (C4) ----------------------------------------------------------

def notice_plan(*, customer: Customer, at: datetime) -> list[tuple[AuthorizedContact, str]]:
    """Who is told, in order: contacts by priority, each contact's channels in the customer's
    order of preference (next channel, then next contact)."""
    day = timezone.localtime(at, TZ).date()
    plan = []
    for c in AuthorizedContact.objects.filter(customer=customer, active=True).order_by("priority", "name", "pk"):
        if not c.is_valid_on(day):
            continue
        for ch in c.channels or []:
            if ch in ContactChannel.values and c.address_for(ch):
                plan.append((c, ch))
    return plan


def _c4_latest(inc: Incident) -> Clock | None:
    return (Clock.objects.filter(content_type=ContentType.objects.get_for_model(Incident),
                                 object_id=inc.pk, policy__code=C4)
            .exclude(state=ClockState.CANCELLED).order_by("-started_at", "-pk").first())


def _notice_message(*, inc: Incident, contact: AuthorizedContact, channel: str, attempt: NoticeAttempt) -> Message:
    lang = contact.language or "zh-hans"
    with translation.override(lang):
        link = settings.PORTAL_BASE_URL.rstrip("/") + reverse(
            "incidents:ack", args=[ack_token(incident=inc, contact=contact)])
        subject = _("[Emergency] %(number)s %(service)s cannot be obtained") % {
            "number": inc.number, "service": inc.service.name}
        declared = timezone.localtime(inc.declared_at or inc.detected_at, TZ)
        body = _("Dear %(name)s,\n\nWe declared an emergency at %(at)s: %(title)s.\n"
                 "Service: %(service)s\nIncident: %(number)s\n\n"
                 "Please acknowledge that you received this notice: %(link)s\n") % {
            "name": contact.name, "at": f"{declared:%Y-%m-%d %H:%M:%S}", "title": inc.title,
            "service": inc.service.name, "number": inc.number, "link": link}
        if channel != ContactChannel.EMAIL:
            body = _("[Emergency] %(number)s %(service)s: %(title)s, since %(at)s.") % {
                "number": inc.number, "service": inc.service.name, "title": inc.title,
                "at": f"{declared:%H:%M}"}
    return Message(channel=AUTOMATIC_CHANNELS[ContactChannel(channel)], address=attempt.address,
                   kind="incident_notice", subject=subject, body=body, related=attempt,
                   idempotency_key=f"incident-notice:{attempt.pk}")


def _notice_next(*, incident: Incident, clock: Clock, now: datetime) -> NoticeAttempt | None:
    """Make the next attempt of the plan for this clock (None when the plan is exhausted)."""
    done = NoticeAttempt.objects.filter(clock=clock).count()
    plan = notice_plan(customer=incident.customer, at=clock.started_at)
    if done >= len(plan):
        if done == 0:
            audit_record(obj=incident, action="notice_no_contact", now=now,
                         reason="no authorized contact with a notice channel")
        return None
    contact, channel = plan[done]
    attempt = NoticeAttempt.objects.create(
        incident=incident, clock=clock, seq=done + 1, contact=contact, channel=channel,
        address=contact.address_for(channel), started_at=now,
        outcome=NoticeOutcome.AWAITING_CALL if channel in CALL_CHANNELS else NoticeOutcome.PENDING)
    if channel in CALL_CHANNELS:
        engineer = incident.engineer if incident.engineer_id else None
        if engineer is not None and engineer.email:
            notifications_enqueue(messages=[Message(
                channel="email", address=engineer.email, kind="incident_call",
                subject=_("Call %(name)s now: %(number)s") % {"name": contact.name, "number": incident.number},
                body=_("Call %(name)s at %(phone)s about %(number)s and record the outcome on the incident page.")
                % {"name": contact.name, "phone": attempt.address, "number": incident.number},
                recipient_id=incident.engineer_id, related=attempt,
                idempotency_key=f"incident-call:{attempt.pk}:engineer")], now=now)
        return attempt
    ids = notifications_enqueue(messages=[_notice_message(inc=incident, contact=contact, channel=channel,
                                                          attempt=attempt)], now=now)
    attempt.notification_id = ids[0] if ids else None
    attempt.save(update_fields=["notification"])
    return attempt


def _notice_succeeded(*, attempt: NoticeAttempt, actor: Any, now: datetime) -> None:
    inc = _locked(attempt.incident_id)
    if attempt.clock_id:
        clock = Clock.objects.get(pk=attempt.clock_id)
        if clock.state != ClockState.CANCELLED and not (clock.state == ClockState.MET):
            clock_meet(clock_id=clock.pk, actor=actor, reason=f"contact reached: {attempt}", now=now)
    if inc.state == IncidentState.DECLARED:
        _move(inc, "notify", actor=actor, reason=str(attempt), now=now)
    _cancel_open_attempts(inc, now=now)


def _cancel_open_attempts(inc: Incident, *, now: datetime) -> None:
    NoticeAttempt.objects.filter(incident=inc, outcome=NoticeOutcome.AWAITING_CALL).update(
        outcome=NoticeOutcome.CANCELLED, finished_at=now)


def _notice_failed(*, attempt: NoticeAttempt, now: datetime) -> NoticeAttempt | None:
    if attempt.clock_id is None:
        return None
    clock = Clock.objects.get(pk=attempt.clock_id)
    if clock.state in (ClockState.MET, ClockState.CANCELLED):
        return None
    inc = Incident.objects.select_related("customer", "service", "engineer").get(pk=attempt.incident_id)
    if inc.acknowledged_at is not None and inc.state == IncidentState.ACKNOWLEDGED:
        return None
    return _notice_next(incident=inc, clock=clock, now=now)


def notice_call_record(*, attempt_id: int, reached: bool, actor: Any, note: str = "",
                       called_at: datetime | None = None, now: datetime | None = None) -> NoticeAttempt:
    """The engineer called the contact: reached meets C4; no answer moves to the next channel.

    `called_at` is when the call was made, as the engineer gives it (default: now, the time it is
    recorded). The call's own time decides the clock (SPEC: a call made at 14:59 and recorded at
    15:03 meets a 15:00 deadline); the record keeps both times (finished_at is the call, the audit
    row is written at the recording time with `called_at` in its data)."""
    _require(actor, *INCIDENT_ACTORS)
    now = now or timezone.now()
    called_at = called_at or now
    with transaction.atomic():
        a = NoticeAttempt.objects.select_for_update().filter(pk=attempt_id).first()
        if a is None:
            raise DomainError(_("No such notice attempt."), code="not_found")
        if a.outcome != NoticeOutcome.AWAITING_CALL:
            raise ConflictError(_("This attempt is already recorded as %(outcome)s.")
                                % {"outcome": a.get_outcome_display()})
        if called_at > now:
            msg = _("The call cannot have been made in the future.")
            raise DomainError(msg, field_errors={"called_at": [msg]})
        if called_at < a.started_at:
            msg = _("The call cannot have been made before the attempt started.")
            raise DomainError(msg, field_errors={"called_at": [msg]})
        a.outcome = NoticeOutcome.REACHED if reached else NoticeOutcome.NO_ANSWER
        a.finished_at, a.recorded_by, a.detail = called_at, actor, note[:500]
        a.save(update_fields=["outcome", "finished_at", "recorded_by", "detail"])
        audit_record(obj=a.incident, action="notice_call", actor=actor, reason=note, now=now,
                     data={"attempt": a.pk, "contact": a.contact_id, "outcome": a.outcome,
                           "called_at": called_at.isoformat(), "recorded_at": now.isoformat()})
        if reached:
            _notice_succeeded(attempt=a, actor=actor, now=called_at)
        elif not _superseded(a):
            _notice_failed(attempt=a, now=now)
    return a


def _superseded(attempt: NoticeAttempt) -> bool:
    """A later attempt of the same clock exists: the plan has already moved past this one."""
    if attempt.clock_id is None:
        return False
    return NoticeAttempt.objects.filter(clock_id=attempt.clock_id, seq__gt=attempt.seq).exists()


def notices_escalate_unrecorded_calls(*, now: datetime | None = None) -> list[int]:
    """A phone call the engineer has not recorded within NOTICE_CALL_WAIT_MINUTES must not hold
    up the 15-minute notice: the next channel of the plan starts beside it. The call stays open,
    so a late "reached" still meets the clock; a late "no answer" does not skip a channel."""
    now = now or timezone.now()
    wait = timedelta(minutes=settings.NOTICE_CALL_WAIT_MINUTES)
    stale = list(NoticeAttempt.objects.filter(
        outcome=NoticeOutcome.AWAITING_CALL, started_at__lte=now - wait,
        clock__state=ClockState.RUNNING).values_list("pk", flat=True)[:500])
    started = []
    for pk in stale:
        with transaction.atomic():
            a = NoticeAttempt.objects.select_related("incident").get(pk=pk)
            _locked(a.incident_id)  # one advancer per incident at a time
            if _superseded(a) or NoticeAttempt.objects.get(pk=pk).outcome != NoticeOutcome.AWAITING_CALL:
                continue
            nxt = _notice_failed(attempt=a, now=now)
            audit_record(obj=a.incident, action="notice_call_unrecorded", now=now,
                         data={"attempt": a.pk, "next": nxt.pk if nxt else None})
            if nxt is not None:
                started.append(nxt.pk)
    return started


def notices_advance(*, now: datetime | None = None) -> int:
    """Move notice attempts on once their notification has been sent or has failed: a delivered
    notice meets C4, a failed one makes the next attempt. Idempotent (the attempt row is claimed
    with a conditional UPDATE)."""
    now = now or timezone.now()
    moved = 0
    rows = list(NoticeAttempt.objects.filter(outcome=NoticeOutcome.PENDING,
                                             notification__status__in=[Status.SENT, Status.FAILED])
                .values_list("pk", "notification__status", "notification__detail",
                             "notification__finished_at")[:500])
    for pk, status, detail, finished in rows:
        outcome = NoticeOutcome.DELIVERED if status == Status.SENT else NoticeOutcome.FAILED
        with transaction.atomic():
            if not NoticeAttempt.objects.filter(pk=pk, outcome=NoticeOutcome.PENDING).update(
                    outcome=outcome, finished_at=finished or now, detail=(detail or "")[:500]):
                continue
            a = NoticeAttempt.objects.select_related("incident").get(pk=pk)
            at = finished or now
            if outcome == NoticeOutcome.DELIVERED:
                _notice_succeeded(attempt=a, actor=None, now=at)
            elif not _superseded(a):
                _notice_failed(attempt=a, now=now)
            moved += 1
    moved += len(notices_escalate_unrecorded_calls(now=now))
    return moved


def _c4_credit_key(*, customer_id: int, day: date) -> str:
    return f"C4:customer:{customer_id}:{day.isoformat()}"


def _c4_day_credits(*, customer_id: int, day: date) -> Any:
    """The C4 credits of one customer and day, newest first: the one of the day's dedupe key
    and, after a withdrawal, its successors (key + ":2", ":3"…)."""
    from credits.models import Credit

    key = _c4_credit_key(customer_id=customer_id, day=day)
    return Credit.objects.filter(Q(dedupe_key=key) | Q(dedupe_key__startswith=f"{key}:")).order_by("-pk")


def _c4_day_credit_live(*, customer_id: int, day: date) -> Any:
    from credits.choices import LIVE_CREDIT_STATES

    return _c4_day_credits(customer_id=customer_id, day=day).filter(state__in=LIVE_CREDIT_STATES).first()


def notice_miss_record(*, clock_id: int, now: datetime | None = None) -> Any:
    """C4 breached: record the miss on the incident and, unless an exemption applies, propose one
    day's rent as a credit — at most one per customer and calendar day (Asia/Shanghai), however
    many notices were missed that day (the credit's dedupe key).

    The miss is always recorded. When one day's rent rounds to 0.00 nothing is owed: no credit
    is proposed and the audit trail says why. Locks the incident, then the clock (the order the
    notice services use), so a late "reached" arriving meanwhile is seen either before (nothing
    to record) or after (it withdraws what this wrote)."""
    now = now or timezone.now()
    first = Clock.objects.select_related("policy").filter(pk=clock_id).first()
    if first is None or first.policy.code != C4:
        return None
    with transaction.atomic():
        inc = _locked(first.object_id)
        clock = Clock.objects.select_for_update().get(pk=clock_id)
        if clock.state != ClockState.BREACHED:
            return None
        if _reached_in_time(clock):
            audit_record(obj=inc, action="notice_reached_in_time", now=now, data={"clock": clock.pk})
            return None
        if inc.notice_missed_at is None:
            inc.notice_missed_at = clock.breached_at or now
            inc.save(update_fields=["notice_missed_at"])
        audit_record(obj=inc, action="notice_missed", now=now, data={"clock": clock.pk},
                     reason=f"未在期限 {timezone.localtime(clock.due_at, TZ):%Y-%m-%d %H:%M:%S} 前通知到授权人")
        if inc.notice_exemption:
            return None
        contract = inc.service.contract
        # The day (and month, for the rent) of the miss: when the promised time ran out.
        day = timezone.localtime(clock.due_at, TZ).date()
        amount = contract.one_day_rent(day.year, day.month)
        if amount <= 0:
            audit_record(obj=inc, action="notice_miss_no_credit", now=now,
                         data={"clock": clock.pk, "day": day.isoformat(), "amount": str(amount)},
                         reason=f"{day:%Y-%m-%d} 的一日租金为 {amount} 元，无应扣金额，不提出赔偿")
            return None
        live = _c4_day_credit_live(customer_id=inc.customer_id, day=day)
        if live is not None:
            return live  # one deduction per calendar day however many notices were missed
        # A withdrawn credit keeps its dedupe key: a later miss on the same day needs a new key.
        n = _c4_day_credits(customer_id=inc.customer_id, day=day).count()
        key = _c4_credit_key(customer_id=inc.customer_id, day=day)
        return credit_propose(
            contract=contract, policy_code=C4, kind=CreditKind.DEDUCT_DAY_RENT, period=day,
            amount=amount, evidence=clock,
            note=_("Emergency notice for %(number)s not given within the promised time. "
                   "Payable on the customer's claim; one deduction per calendar day.")
            % {"number": inc.number},
            dedupe_key=key if n == 0 else f"{key}:{n + 1}", now=now)


def notice_miss_withdraw(*, clock_id: int, reason: str, now: datetime | None = None) -> Incident | None:
    """A breached C4 clock is no longer a breach (met, recorded late; or exempted): withdraw what
    the breach caused, with the reason, audited. The incident's miss is cleared (its history
    stays in the audit trail) unless another breached notice of the same incident remains; the
    day's credit is withdrawn (credits.credit_withdraw) unless another notice of the same customer
    is still missed that day (one credit covers every miss of a day: it is kept, unchanged) or
    it is already applied (on the bill: an audit note says a reversing entry is needed)."""
    from credits.choices import CreditState
    from credits.services import credit_withdraw

    now = now or timezone.now()
    first = Clock.objects.select_related("policy").filter(pk=clock_id).first()
    if first is None or first.policy.code != C4:
        return None
    with transaction.atomic():
        inc = _locked(first.object_id)
        clock = Clock.objects.select_for_update().get(pk=clock_id)
        if clock.state == ClockState.BREACHED:
            return inc  # nothing was withdrawn after all
        ct = ContentType.objects.get_for_model(Incident)
        c4 = Clock.objects.filter(policy__code=C4, content_type=ct)
        still = c4.filter(object_id=inc.pk, state=ClockState.BREACHED).exclude(pk=clock.pk)
        if inc.notice_missed_at is not None:
            before = inc.notice_missed_at
            other = still.order_by("breached_at").values_list("breached_at", flat=True).first()
            inc.notice_missed_at = other
            inc.save(update_fields=["notice_missed_at"])
            audit_record(obj=inc, action="notice_miss_withdrawn", reason=reason, now=now,
                         data={"clock": clock.pk, "missed_at": before.isoformat(),
                               "still_missed_at": other.isoformat() if other else None})
        day = timezone.localtime(clock.due_at, TZ).date()
        credit = _c4_day_credit_live(customer_id=inc.customer_id, day=day)
        if credit is None:
            return inc
        start = datetime.combine(day, time.min, tzinfo=TZ)
        others = c4.filter(customer_id=inc.customer_id, state=ClockState.BREACHED,
                           due_at__gte=start, due_at__lt=start + timedelta(days=1)).exclude(pk=clock.pk)
        if Incident.objects.filter(pk__in=others.values("object_id"), notice_missed_at__isnull=False,
                                   notice_exemption="").exists():
            audit_record(obj=inc, action="notice_credit_kept", now=now, data={"credit": credit.pk},
                         reason=f"同日（{day:%Y-%m-%d}）该客户仍有其他未按时通知，一日租金扣减保留")
            return inc
        if credit.state == CreditState.APPLIED:
            audit_record(obj=inc, action="notice_credit_kept", now=now, data={"credit": credit.pk},
                         reason="该扣减已入账（已执行），不能撤回，需冲正处理；未再提出新的赔偿")
            return inc
        credit_withdraw(credit_id=credit.pk, reason=reason, now=now)
    return inc


def _reached_in_time(clock: Clock) -> bool:
    """A contact was reached before the deadline (strictly: at due_at exactly is a miss), but the
    notices task (every few seconds) had not yet seen the delivery when the sweep (every second)
    breached the clock: not a miss."""
    return NoticeAttempt.objects.filter(clock=clock).filter(
        Q(outcome__in=SUCCESS_OUTCOMES, finished_at__lt=clock.due_at)
        | Q(outcome=NoticeOutcome.PENDING, notification__status=Status.SENT,
            notification__finished_at__lt=clock.due_at)).exists()


def notice_exempt(*, incident_id: int, exemption: str, note: str, actor: Any,
                  now: datetime | None = None) -> Incident:
    """Record that the notice promise does not apply (seed 第四条): contact details outdated or
    wrong through the customer's fault, or force majeure. An open C4 clock is cancelled."""
    _require(actor, *INCIDENT_ACTORS)
    return _notice_exempt(incident_id=incident_id, exemption=exemption, note=note, actor=actor, now=now)


def _notice_exempt(*, incident_id: int, exemption: str, note: str, actor: Any,
                   now: datetime | None = None) -> Incident:
    """notice_exempt without the role check, for a force-majeure facility event recorded by
    data-centre staff (the event, not the person, is the ground for the exemption)."""
    now = now or timezone.now()
    errors: dict[str, list[str]] = {}
    if exemption not in NoticeExemption.values:
        errors["exemption"] = [_("Unknown exemption.")]
    if not note.strip():
        errors["note"] = [_("Say why the exemption applies.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    with transaction.atomic():
        inc = _locked(incident_id)
        before = inc.notice_exemption
        inc.notice_exemption, inc.notice_exemption_note = exemption, note
        inc.notice_exempted_by, inc.notice_exempted_at = actor, now
        inc.save(update_fields=["notice_exemption", "notice_exemption_note", "notice_exempted_by",
                                "notice_exempted_at"])
        audit_record(obj=inc, action="notice_exempt", actor=actor, from_state=before,
                     to_state=exemption, reason=note, now=now)
        clock_cancel_for(subject=inc, policy_code=C4, actor=actor, reason=f"exempt: {exemption}", now=now)
        NoticeAttempt.objects.filter(incident=inc, outcome__in=OPEN_OUTCOMES).update(
            outcome=NoticeOutcome.CANCELLED, finished_at=now)
    return inc


# Facility events and force majeure (a sub-domain of its own; same public names from here).
from .facility import (  # noqa: E402
    affected_clocks,
    facility_event_classify,
    facility_event_end,
    facility_event_record,
    facility_event_services,
)

# Incidents staff record themselves (a phone report, their own detection).
from .staff import RECORD_ACTORS, StaffRecord, declared_outage_start, incident_record  # noqa: E402

__all__ = ["RECORD_ACTORS", "StaffRecord", "affected_clocks", "declared_outage_start", "facility_event_classify",
           "facility_event_end", "facility_event_record", "facility_event_services", "incident_record"]
