"""Facility events: one event of the data centre (a power cut in a room, an upstream carrier
fault on an uplink, an agreed maintenance window) recorded once and fanned out to one outage per
affected active service; and, when its cause is force majeure (seed 第十条), the relief of the
deadline promises of the services it hit.

Force majeure, the semantics (time inside the event window does not count against C3, C5–C8):

- The clocks relieved are those of policies C3, C5, C6, C7, C8 whose contract is the contract of
  an affected service (matched by contract, whatever the clock's subject).
- While the event is ongoing, each such running clock is paused ("不可抗力：<event>") and, if it
  was already running when the event started (recorded a while after its start), its deadline is
  first extended by the part of the event already elapsed. When the event ends, the clocks it
  paused are resumed as of the end (the deadline moves by the paused span).
- An event recorded after the fact (already ended), or one that ends: each open running clock
  that ran during the event and was not paused by it has its deadline extended by the overlap of
  its running time with the event window (sla.services.clock_extend).
- A clock breached with its due_at inside the event window [started_at, ended_at (or now)] is
  exempted (breached → cancelled, sla.services.clock_exempt), which withdraws what the breach
  caused (the clock_breach_withdrawn signal).
- C4 (emergency notice): every incident of an affected service that is open during the event gets
  the force-majeure notice exemption (an open C4 clock is cancelled); a C4 clock of such an
  incident breached with its due_at inside the window is exempted (its miss and credit withdrawn).
- Each relief is recorded once per event and clock (FacilityEventClock), so applying again (on
  end, on re-classification) does nothing twice. Re-classifying away from force majeure resumes
  the clocks the event paused; extensions and exemptions already granted stay (audited), for a
  manager to review."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from customers.models import Service
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clock_exempt, clock_extend, clock_pause, clock_resume
from slaportal.errors import ConflictError, DomainError

from ..choices import (
    COUNTED_CAUSES,
    FACILITY_OUTAGE_KIND,
    FORCE_MAJEURE_CAUSES,
    FORCE_MAJEURE_POLICY_CODES,
    OPEN_INCIDENT_STATES,
    Cause,
    FacilityEventKind,
    FacilityScope,
    NoticeExemption,
    OutageSource,
    ReliefAction,
)
from ..models import FacilityEvent, FacilityEventClock, FacilityEventScope, Incident, Outage
from . import (
    C4,
    INCIDENT_ACTORS,
    POWER_ACTORS,
    _notice_exempt,
    _require,
    outage_classify,
    outage_end,
)

SCOPE_FIELDS = {FacilityScope.ROOM: "room", FacilityScope.RACK_ROW: "rack_row",
                FacilityScope.UPLINK: "uplink"}


def facility_event_services(*, scopes: list[tuple[str, str]]) -> QuerySet[Service]:
    """The active services whose room, rack row or uplink is exactly one of `scopes`; each once,
    however many scopes match it."""
    q = Q()
    for scope, value in scopes:
        if value:
            q |= Q(**{SCOPE_FIELDS[FacilityScope(scope)]: value})
    if not q:
        return Service.objects.none()
    return Service.objects.filter(q, active=True).select_related("contract").order_by("pk")


def _clean_scopes(scopes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for scope, value in scopes:
        value = (value or "").strip()
        if scope in FacilityScope.values and value and (scope, value) not in out:
            out.append((scope, value))
    return out


def _reason(event: FacilityEvent) -> str:
    return f"不可抗力：{event}（设施事件 #{event.pk}）"


def facility_event_record(
    *, title: str, kind: str, scopes: list[tuple[str, str]], started_at: datetime,
    ended_at: datetime | None = None, evidence: str = "", cause: str = "", cause_note: str = "",
    actor: Any, now: datetime | None = None,
) -> FacilityEvent:
    """Record a facility event once: one outage per affected active service (through
    Outage.save(), so outages_changed reaches settlement), each with the event's kind, times,
    cause and justification; audited. A force-majeure cause relieves the affected clocks."""
    _require(actor, *POWER_ACTORS)
    now = now or timezone.now()
    clean = _clean_scopes(scopes)
    errors: dict[str, list[str]] = {}
    if not title.strip():
        errors["title"] = [_("Required.")]
    if kind not in FacilityEventKind.values:
        errors["kind"] = [_("Unknown kind.")]
    if not clean:
        errors["scopes"] = [_("Name at least one room, rack row or uplink.")]
    if ended_at is not None and ended_at < started_at:
        errors["ended_at"] = [_("The end must not be before the start.")]
    if started_at > now:
        errors["started_at"] = [_("An outage cannot start in the future.")]
    if ended_at is not None and ended_at > now:
        errors["ended_at"] = [_("The end cannot be in the future.")]
    if cause and cause not in Cause.values:
        errors["cause"] = [_("Unknown cause.")]
    if cause and cause not in COUNTED_CAUSES and not cause_note.strip():
        errors["cause_note"] = [_("An excluded cause needs a justification.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    with transaction.atomic():
        event = FacilityEvent(title=title.strip()[:200], kind=kind, started_at=started_at,
                              ended_at=ended_at, evidence=evidence, recorded_by=actor, recorded_at=now)
        if cause:
            event.cause, event.cause_note, event.cause_set_by, event.cause_set_at = cause, cause_note, actor, now
        event.save()
        FacilityEventScope.objects.bulk_create(
            [FacilityEventScope(event=event, scope=s, value=v) for s, v in clean])
        services = list(facility_event_services(scopes=clean))
        audit_record(obj=event, action="facility_event", actor=actor, now=now, data={
            "kind": kind, "scopes": [[s, v] for s, v in clean], "started_at": started_at.isoformat(),
            "ended_at": ended_at.isoformat() if ended_at else None, "cause": cause,
            "services": [s.pk for s in services]})
        for service in services:
            o = Outage(service=service, kind=FACILITY_OUTAGE_KIND[FacilityEventKind(kind)],
                       source=OutageSource.MANUAL, started_at=started_at, ended_at=ended_at,
                       evidence=evidence or str(event), created_by=actor, created_at=now,
                       facility_event=event)
            if cause:
                o.cause, o.cause_note, o.cause_set_by, o.cause_set_at = cause, cause_note, actor, now
            o.save()  # one by one: post_save tells settlement (outages_changed)
            audit_record(obj=o, action="create", actor=actor, now=now, data={
                "facility_event": event.pk, "kind": o.kind, "started_at": started_at.isoformat(),
                "ended_at": ended_at.isoformat() if ended_at else None, "cause": cause})
        if event.is_force_majeure:
            _force_majeure_apply(event=event, actor=actor, now=now)
    return event


def facility_event_classify(*, event_id: int, cause: str, note: str, actor: Any,
                            now: datetime | None = None) -> FacilityEvent:
    """Set or change the event's cause: every outage of the event gets it, through the same rules
    and audit as outage_classify (an exclusion needs a justification). Turning force majeure on
    relieves the affected clocks; turning it off resumes the clocks the event paused."""
    _require(actor, *INCIDENT_ACTORS)
    now = now or timezone.now()
    if cause not in Cause.values:
        raise DomainError(_("Unknown cause."), field_errors={"cause": [_("Unknown cause.")]})
    if cause not in COUNTED_CAUSES and not note.strip():
        raise DomainError(_("An excluded cause needs a justification."),
                          field_errors={"note": [_("An excluded cause needs a justification.")]})
    with transaction.atomic():
        event = _locked_event(event_id)
        before = {"cause": event.cause, "note": event.cause_note}
        was_fm = event.is_force_majeure
        if before != {"cause": cause, "note": note}:
            event.cause, event.cause_note, event.cause_set_by, event.cause_set_at = cause, note, actor, now
            event.save(update_fields=["cause", "cause_note", "cause_set_by", "cause_set_at"])
            audit_record(obj=event, action="facility_event_classify", actor=actor,
                         from_state=before["cause"], to_state=cause, reason=note, now=now,
                         data={"before": before})
        for pk in event.outages.values_list("pk", flat=True):
            outage_classify(outage_id=pk, cause=cause, note=note, actor=actor, now=now)
        if event.is_force_majeure:
            _force_majeure_apply(event=event, actor=actor, now=now)
        elif was_fm:
            _resume_paused(event=event, at=now, actor=actor, now=now,
                           reason=f"不再按不可抗力处理：{event}（设施事件 #{event.pk}）")
    return event


def facility_event_end(*, event_id: int, ended_at: datetime, actor: Any,
                       now: datetime | None = None) -> FacilityEvent:
    """The event is over: every open outage of it ends at `ended_at`; under force majeure the
    clocks it paused resume as of the end and the rest of the relief is applied."""
    _require(actor, *POWER_ACTORS)
    now = now or timezone.now()
    with transaction.atomic():
        event = _locked_event(event_id)
        if event.ended_at is not None:
            raise ConflictError(_("This event has already ended."))
        if ended_at < event.started_at:
            msg = _("The end must not be before the start.")
            raise DomainError(msg, field_errors={"ended_at": [msg]})
        if ended_at > now:
            msg = _("The end cannot be in the future.")
            raise DomainError(msg, field_errors={"ended_at": [msg]})
        event.ended_at = ended_at
        event.save(update_fields=["ended_at"])
        audit_record(obj=event, action="facility_event_end", actor=actor, now=now,
                     data={"ended_at": ended_at.isoformat()})
        for pk in event.outages.filter(ended_at__isnull=True).values_list("pk", flat=True):
            outage_end(outage_id=pk, ended_at=ended_at, actor=actor, reason=str(event), now=now)
        if event.is_force_majeure:
            _force_majeure_apply(event=event, actor=actor, now=now)
    return event


def _locked_event(event_id: int) -> FacilityEvent:
    event = FacilityEvent.objects.select_for_update().filter(pk=event_id).first()
    if event is None:
        raise DomainError(_("No such facility event."), code="not_found")
    return event


# --- Force majeure ------------------------------------------------------------------------

def affected_clocks(*, event: FacilityEvent) -> QuerySet[Clock]:
    """Clocks of C3, C5–C8 whose contract is the contract of a service the event hit."""
    contracts = event.outages.values("service__contract_id")
    return (Clock.objects.filter(policy__code__in=FORCE_MAJEURE_POLICY_CODES, contract_id__in=contracts)
            .select_related("policy").order_by("pk"))


def _relief(event: FacilityEvent, clock: Clock, action: str, *, at: datetime, seconds: int = 0) -> None:
    FacilityEventClock.objects.create(event=event, clock=clock, action=action, seconds=seconds, at=at)
    audit_record(obj=event, action="force_majeure_relief", now=at, to_state=action,
                 reason=f"{clock.policy.code} · {clock.label}",
                 data={"clock": clock.pk, "action": action, "seconds": seconds})


def _force_majeure_apply(*, event: FacilityEvent, actor: Any, now: datetime) -> None:
    """Apply the relief described in the module docstring; safe to call again."""
    reason = _reason(event)
    start = event.started_at
    end = event.ended_at or now  # the part of the event that has happened
    done: dict[int, set[str]] = {}
    for clock_id, action in event.clock_reliefs.values_list("clock_id", "action"):
        done.setdefault(clock_id, set()).add(action)
    for clock in affected_clocks(event=event):
        had = done.get(clock.pk, set())
        if clock.state == ClockState.BREACHED:
            if start <= clock.due_at <= end and ReliefAction.EXEMPTED not in had:
                clock_exempt(clock_id=clock.pk, reason=reason, actor=actor, now=now)
                _relief(event, clock, ReliefAction.EXEMPTED, at=now)
            continue
        if clock.state == ClockState.PAUSED and ReliefAction.PAUSED in had \
                and ReliefAction.RESUMED not in had and event.ended_at is not None:
            # Resumed as of the end: the deadline moves by the time the event held it.
            at = max(event.ended_at, clock.paused_at or event.ended_at)
            clock_resume(clock_id=clock.pk, actor=actor, reason=reason, now=at)
            _relief(event, clock, ReliefAction.RESUMED, at=at)
            continue
        if clock.state != ClockState.RUNNING or had & {ReliefAction.PAUSED, ReliefAction.EXTENDED}:
            continue
        if clock.started_at >= end and event.ended_at is not None:
            continue  # started after the event: nothing to relieve
        overlap = int((end - max(clock.started_at, start)).total_seconds())
        if overlap > 0:
            clock_extend(clock_id=clock.pk, seconds=overlap, reason=reason, actor=actor, now=now)
            _relief(event, clock, ReliefAction.EXTENDED, at=now, seconds=overlap)
        if event.ended_at is None:
            clock_pause(clock_id=clock.pk, actor=actor, reason=reason, now=now)
            _relief(event, clock, ReliefAction.PAUSED, at=now)
    _force_majeure_notices(event=event, actor=actor, now=now, reason=reason)


def _force_majeure_notices(*, event: FacilityEvent, actor: Any, now: datetime, reason: str) -> None:
    """C4: the force-majeure notice exemption for incidents of affected services open during the
    event; a C4 breach that fell due inside the window is exempted (its miss and credit go)."""
    from django.contrib.contenttypes.models import ContentType

    start, end = event.started_at, event.ended_at or now
    services = event.outages.values("service_id")
    incidents = Incident.objects.filter(service_id__in=services, detected_at__lte=end).filter(
        Q(state__in=OPEN_INCIDENT_STATES) | Q(resolved_at__gte=start))
    ct = ContentType.objects.get_for_model(Incident)
    for inc in incidents:
        c4 = Clock.objects.filter(content_type=ct, object_id=inc.pk, policy__code=C4)
        if not inc.notice_exemption and c4.filter(state__in=[ClockState.RUNNING, ClockState.PAUSED]).exists():
            _notice_exempt(incident_id=inc.pk, exemption=NoticeExemption.FORCE_MAJEURE, note=reason,
                           actor=actor, now=now)
        for clock in c4.filter(state=ClockState.BREACHED, due_at__gte=start, due_at__lte=end):
            clock_exempt(clock_id=clock.pk, reason=reason, actor=actor, now=now)


def _resume_paused(*, event: FacilityEvent, at: datetime, actor: Any, now: datetime, reason: str) -> None:
    paused = event.clock_reliefs.filter(action=ReliefAction.PAUSED).values_list("clock_id", flat=True)
    resumed = set(event.clock_reliefs.filter(action=ReliefAction.RESUMED).values_list("clock_id", flat=True))
    for clock in Clock.objects.filter(pk__in=list(paused), state=ClockState.PAUSED).exclude(pk__in=resumed):
        clock_resume(clock_id=clock.pk, actor=actor, reason=reason, now=at)
        _relief(event, clock, ReliefAction.RESUMED, at=at)


__all__ = ["FORCE_MAJEURE_CAUSES", "affected_clocks", "facility_event_classify", "facility_event_end",
           "facility_event_record", "facility_event_services"]
