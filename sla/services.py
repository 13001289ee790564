"""Every write of the SLA engine: starting, pausing, resuming, meeting and cancelling clocks,
and the sweep that claims warnings and breaches. Workflows call these; they never compute a
deadline themselves (STYLE.md)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from audit.models import AuditEntry
from audit.services import audit_record, audited_save
from customers.choices import Role
from customers.selectors import staff_users_with_role
from notifications.services import Message, notifications_enqueue, notifications_enqueue_fresh
from runtime.bulk import claim_update, copy_rows
from runtime.loops import CLOCKS, wake
from slaportal.errors import ConflictError, DomainError

from .calendars import compute_due
from .choices import ClockState, PolicyKind
from .mirrors import mirror_clocks
from .models import Clock, ContractPolicy, SlaPolicy, WorkdayOverride
from .signals import clock_breach_withdrawn, clock_transitioned, clocks_breached, clocks_warned

logger = logging.getLogger(__name__)

SWEEP_BATCH = 2000


@dataclass(frozen=True)
class EffectivePolicy:
    policy: SlaPolicy
    threshold: Decimal
    warning_percent: int
    active: bool


def policy_effective(*, policy: SlaPolicy, contract: Any = None) -> EffectivePolicy:
    """The policy's target with the contract's override, if any, applied."""
    ov = None
    if contract is not None:
        ov = ContractPolicy.objects.filter(contract=contract, policy=policy).first()
    return EffectivePolicy(
        policy=policy,
        threshold=ov.threshold if ov and ov.threshold is not None else policy.threshold,
        warning_percent=ov.warning_percent if ov and ov.warning_percent else policy.warning_percent,
        active=policy.active and (ov.active if ov else True),
    )


def clock_start(
    *,
    subject: models.Model,
    policy_code: str,
    customer: Any = None,
    contract: Any = None,
    assignee: Any = None,
    label: str = "",
    started_at: datetime | None = None,
    actor: Any = None,
    reason: str = "",
    service_kind: str | None = None,
    now: datetime | None = None,
) -> Clock:
    """Start the clock of promise `policy_code` for `subject`. The deadline comes from the
    policy (with the contract's override) on the policy's calendar. With `service_kind`, a
    promise not made for that kind of service (the policy row's service_kinds) is refused."""
    now = now or timezone.now()
    started_at = started_at or now
    try:
        policy = SlaPolicy.objects.get(code=policy_code)
    except SlaPolicy.DoesNotExist:
        raise DomainError(_("No SLA policy with code %(code)s.") % {"code": policy_code}) from None
    if policy.kind != PolicyKind.DEADLINE:
        raise DomainError(_("Policy %(code)s is measured over a period; it has no clock.")
                          % {"code": policy_code})
    eff = policy_effective(policy=policy, contract=contract)
    if not eff.active:
        raise DomainError(_("Promise %(code)s does not apply to this contract.") % {"code": policy_code})
    if not policy.applies_to_kind(service_kind):
        raise DomainError(_("Promise %(code)s is not made for this kind of service.") % {"code": policy_code})
    due_at = compute_due(start=started_at, target=eff.threshold, unit=policy.unit,
                         calendar=policy.calendar)
    warn_at = started_at + (due_at - started_at) * eff.warning_percent / 100
    if customer is None and contract is not None:
        customer = contract.customer
    clock = Clock(
        content_type=ContentType.objects.get_for_model(subject), object_id=subject.pk,
        label=(label or str(subject))[:200], policy=policy, customer=customer, contract=contract,
        assignee=assignee, target=eff.threshold, unit=policy.unit, calendar=policy.calendar,
        started_at=started_at, due_at=due_at, warn_at=warn_at,
    )
    try:
        with transaction.atomic():
            clock.save()
            mirror_clocks(clocks=[clock])  # the item's stored deadline/state (sla.mirrors)
            audit_record(obj=clock, action="start", actor=actor, to_state=ClockState.RUNNING,
                         reason=reason, now=now,
                         data={"due_at": due_at.isoformat(), "target": str(eff.threshold)})
            # The sweep loop sleeps until the earliest deadline it knows; this one may be earlier.
            wake(CLOCKS)
    except IntegrityError:
        raise ConflictError(_("Clock %(code)s is already running for this item.")
                            % {"code": policy_code}) from None
    return clock


def _transition(
    *, clock_id: int, method: str, actor: Any, reason: str, now: datetime | None,
    refuse: Callable[[Clock], str] | None = None,
) -> Clock:
    now = now or timezone.now()
    with transaction.atomic():
        try:
            clock = Clock.objects.select_for_update().select_related("policy").get(pk=clock_id)
        except Clock.DoesNotExist:
            raise DomainError(_("No such clock.")) from None
        bound = getattr(clock, method)
        if not can_proceed(bound):
            raise ConflictError(
                _("A %(state)s clock cannot be %(action)s.")
                % {"state": clock.get_state_display(), "action": method}
            )
        before = clock.state
        bound(at=now)
        clock.save()
        mirror_clocks(clocks=[clock])
        audit_record(obj=clock, action=method, actor=actor, from_state=before,
                     to_state=clock.state, reason=reason, now=now)
        if clock.state == ClockState.RUNNING:
            wake(CLOCKS)  # resumed: its deadline moved
        transaction.on_commit(lambda: clock_transitioned.send(
            sender=Clock, clock=clock, from_state=before, to_state=clock.state))
    return clock


def clock_pause(*, clock_id: int, actor: Any = None, reason: str = "", now: datetime | None = None) -> Clock:
    """Stop the time (for example while waiting on the customer)."""
    return _transition(clock_id=clock_id, method="pause", actor=actor, reason=reason, now=now)


def clock_resume(*, clock_id: int, actor: Any = None, reason: str = "", now: datetime | None = None) -> Clock:
    """Restart the time; due_at and warn_at move by the paused span."""
    return _transition(clock_id=clock_id, method="resume", actor=actor, reason=reason, now=now)


def clock_cancel(*, clock_id: int, actor: Any = None, reason: str = "", now: datetime | None = None) -> Clock:
    """The obligation went away (a withdrawn complaint, a cancelled request)."""
    return _transition(clock_id=clock_id, method="cancel", actor=actor, reason=reason, now=now)


def clock_meet(*, clock_id: int, actor: Any = None, reason: str = "", now: datetime | None = None) -> Clock:
    """The promise was kept at `now` — the time of the fulfilling event itself, which a caller
    that learns of it late passes explicitly (a call made at 14:59 and recorded at 15:03).

    One boundary rule for every clock (SPEC "Calendars and time"): "within N" is met by an
    event strictly before due_at; at due_at exactly, or later, the clock is breached. So:

    - running, event before due_at: met.
    - running, event at or after due_at (the sweep has not got there yet): the breach is recorded
      as it would have been (breached_at = due_at, audited, `clocks_breached` sent after commit so
      its consequences follow; the sweep writes the escalation) with the late fulfilment
      (completed_at). The clock ends breached.
    - paused: the time stands still, so the event is in time: met.
    - breached by the sweep, event strictly before due_at: "met, recorded late" (meet_in_time,
      audited; breached_at stays as history) and `clock_breach_withdrawn` is sent after commit
      so what the breach caused is withdrawn.
    - breached, event at or after due_at: the late fulfilment is recorded (completed_at) and the
      clock stays breached: a late report is still late."""
    now = now or timezone.now()
    with transaction.atomic():
        clock = Clock.objects.select_for_update().filter(pk=clock_id).first()
        if clock is None:
            raise DomainError(_("No such clock."))
        if clock.state == ClockState.BREACHED and now < clock.due_at:
            local = timezone.localtime(now).strftime("%Y-%m-%d %H:%M:%S")
            why = f"按时履行、迟录：事件发生于 {local}，早于期限 {_local(clock.due_at)}（{reason}）"
            clock = _transition(clock_id=clock_id, method="meet_in_time", actor=actor, now=now,
                                reason=why)
            pk = clock.pk
            transaction.on_commit(lambda: clock_breach_withdrawn.send(
                sender=Clock, clock_id=pk, reason=why, to_state=ClockState.MET))
            return clock
        if clock.state == ClockState.BREACHED:
            if clock.completed_at is None:
                clock.completed_at = now
                clock.save(update_fields=["completed_at"])
                mirror_clocks(clocks=[clock])
                audit_record(obj=clock, action="complete_late", actor=actor,
                             from_state=clock.state, to_state=clock.state, reason=reason, now=now)
            return clock
        if clock.state == ClockState.RUNNING and now >= clock.due_at:
            return _breach_on_late_event(clock=clock, actor=actor, reason=reason, now=now)
        # Still inside the transaction that holds the row lock: a sweep cannot breach the clock
        # between the check above and the transition (it would turn "late" into a 409).
        return _transition(clock_id=clock_id, method="meet", actor=actor, reason=reason, now=now)


def _local(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S")


def _breach_on_late_event(*, clock: Clock, actor: Any, reason: str, now: datetime) -> Clock:
    """A running clock learns of its fulfilling event only now, and the event came at or after
    due_at: record the breach exactly as the sweep would have (at due_at), then the late
    fulfilment. The caller holds the row lock."""
    clock.breach(at=clock.due_at)
    clock.completed_at = now
    clock.save()
    mirror_clocks(clocks=[clock])
    audit_record(obj=clock, action="breach", from_state=ClockState.RUNNING,
                 to_state=ClockState.BREACHED, now=clock.due_at,
                 reason=f"期限 {_local(clock.due_at)} 已到，履行事件发生于 {_local(now)}（不早于期限）",
                 data={"event_at": now.isoformat(), "recorded_at": timezone.now().isoformat()})
    audit_record(obj=clock, action="complete_late", actor=actor, from_state=ClockState.BREACHED,
                 to_state=ClockState.BREACHED, reason=reason, now=now)
    wake(CLOCKS)  # the sweep writes the breach escalation (breached_at set, not yet escalated)
    pk = clock.pk
    transaction.on_commit(lambda: clocks_breached.send(sender=Clock, clock_ids=[pk]))
    transaction.on_commit(lambda: clock_transitioned.send(
        sender=Clock, clock=clock, from_state=ClockState.RUNNING, to_state=ClockState.BREACHED))
    return clock


def clock_extend(*, clock_id: int, seconds: int, reason: str, actor: Any = None,
                 now: datetime | None = None) -> Clock:
    """Move an open clock's deadline (and warning time) later by `seconds`: time that must not
    count against the promise and was not paused when it passed (a force-majeure event recorded
    after the fact). Audited with the deadline before and after."""
    now = now or timezone.now()
    if seconds <= 0:
        raise DomainError(_("An extension must be longer than zero."))
    if not reason.strip():
        raise DomainError(_("Say why the deadline moves."))
    with transaction.atomic():
        clock = Clock.objects.select_for_update().filter(pk=clock_id).first()
        if clock is None:
            raise DomainError(_("No such clock."))
        if not clock.is_open:
            raise ConflictError(_("A %(state)s clock cannot be extended.")
                                % {"state": clock.get_state_display()})
        before = clock.due_at
        span = timedelta(seconds=seconds)
        clock.due_at += span
        clock.warn_at += span
        clock.save(update_fields=["due_at", "warn_at"])
        mirror_clocks(clocks=[clock])
        audit_record(obj=clock, action="extend", actor=actor, from_state=clock.state,
                     to_state=clock.state, reason=reason, now=now,
                     data={"seconds": seconds, "due_before": before.isoformat(),
                           "due_after": clock.due_at.isoformat()})
        wake(CLOCKS)
    return clock


def clock_exempt(*, clock_id: int, reason: str, actor: Any = None, now: datetime | None = None) -> Clock:
    """A breach that does not count (force majeure): breached → cancelled, with the reason,
    audited; `clock_breach_withdrawn` is sent after commit so its consequences are withdrawn.
    Idempotent on a clock already exempted."""
    if not reason.strip():
        raise DomainError(_("Say why the breach is exempted."))
    with transaction.atomic():
        current = Clock.objects.select_for_update().filter(pk=clock_id).first()
        if current is not None and current.state == ClockState.CANCELLED and current.breached_at:
            return current
        clock = _transition(clock_id=clock_id, method="exempt", actor=actor, reason=reason, now=now)
        pk = clock.pk
        transaction.on_commit(lambda: clock_breach_withdrawn.send(
            sender=Clock, clock_id=pk, reason=reason, to_state=ClockState.CANCELLED))
    return clock


def clock_open_for(*, subject: models.Model, policy_code: str) -> Clock | None:
    return Clock.objects.filter(
        content_type=ContentType.objects.get_for_model(subject), object_id=subject.pk,
        policy__code=policy_code, state__in=[ClockState.RUNNING, ClockState.PAUSED],
    ).first()


def clock_meet_for(*, subject: models.Model, policy_code: str, actor: Any = None,
                   reason: str = "", now: datetime | None = None) -> Clock | None:
    """Meet the clock of `policy_code` on `subject` (open or breached); None if there is none."""
    clock = (Clock.objects.filter(content_type=ContentType.objects.get_for_model(subject),
                                  object_id=subject.pk, policy__code=policy_code)
             .exclude(state__in=[ClockState.CANCELLED, ClockState.MET]).order_by("-started_at").first())
    if clock is None:
        return None
    return clock_meet(clock_id=clock.pk, actor=actor, reason=reason, now=now)


def clock_cancel_for(*, subject: models.Model, policy_code: str | None = None, actor: Any = None,
                     reason: str = "", now: datetime | None = None) -> list[Clock]:
    qs = Clock.objects.filter(content_type=ContentType.objects.get_for_model(subject),
                              object_id=subject.pk, state__in=[ClockState.RUNNING, ClockState.PAUSED])
    if policy_code:
        qs = qs.filter(policy__code=policy_code)
    return [clock_cancel(clock_id=pk, actor=actor, reason=reason, now=now)
            for pk in qs.values_list("pk", flat=True)]


# --- The sweep ----------------------------------------------------------------------------

@dataclass
class SweepResult:
    breached: list[int] = field(default_factory=list)
    warned: list[int] = field(default_factory=list)
    notifications: int = 0


def _claim(sql_set: str, sql_where: str, params_set: list[Any], params_where: list[Any],
           *, order_by: str) -> list[int]:
    """Claim at most SWEEP_BATCH clocks, most overdue first (runtime.bulk.claim_update)."""
    return claim_update(Clock, set_sql=sql_set, set_params=params_set, where_sql=sql_where,
                        where_params=params_where, order_by=order_by, limit=SWEEP_BATCH)


def clocks_sweep(*, now: datetime | None = None) -> SweepResult:
    """Claim every running clock whose warning time or deadline has passed and record it with
    its audit row (committed batch by batch: a breach is visible to everyone at once), then
    write the escalations of every recorded breach and warning not yet escalated. Safe to run
    concurrently and to retry: a claimed row is never claimed again, an escalated one never
    escalated again; a sweep that died between the two steps leaves work the next one finishes."""
    now = now or timezone.now()
    ts = connection.ops.adapt_datetimefield_value(now)
    result = SweepResult()
    ct_id = ContentType.objects.get_for_model(Clock).pk
    while True:
        with transaction.atomic():
            breached = _claim("state = %s, breached_at = %s", "state = %s AND due_at <= %s",
                              [ClockState.BREACHED, ts], [ClockState.RUNNING, ts], order_by="due_at")
            warned = _claim("warned_at = %s", "state = %s AND warned_at IS NULL AND warn_at <= %s",
                            [ts], [ClockState.RUNNING, ts], order_by="warn_at")
            if not breached and not warned:
                break
            # The breached clocks' items show it in the same transaction (a warning changes no
            # field an item keeps).
            mirror_clocks(clock_ids=breached)
            # The claim made these rows ours alone: their audit rows are new, appended with COPY
            # on PostgreSQL.
            copy_rows(AuditEntry, ("content_type_id", "object_id", "action", "from_state", "to_state",
                                   "actor_id", "at", "reason", "data"),
                      [(ct_id, i, "breach", ClockState.RUNNING, ClockState.BREACHED, None, now,
                        "due_at passed", {}) for i in breached]
                      + [(ct_id, i, "warn", ClockState.RUNNING, ClockState.RUNNING, None, now,
                          "warn_at passed", {}) for i in warned])
            result.breached += breached
            result.warned += warned
        if len(breached) < SWEEP_BATCH and len(warned) < SWEEP_BATCH:
            break
    if result.breached:
        ids_b = list(result.breached)
        transaction.on_commit(lambda: clocks_breached.send(sender=Clock, clock_ids=ids_b))
    if result.warned:
        ids_w = list(result.warned)
        transaction.on_commit(lambda: clocks_warned.send(sender=Clock, clock_ids=ids_w))
    result.notifications = clocks_escalate(now=now)
    return result


def clocks_escalate_pending() -> bool:
    """Is there a recorded breach or warning whose escalations are not written yet?"""
    return (Clock.objects.filter(breached_at__isnull=False, breach_escalated_at__isnull=True).exists()
            or Clock.objects.filter(warned_at__isnull=False, warn_escalated_at__isnull=True).exists())


def clocks_escalate(*, now: datetime | None = None) -> int:
    """Write the escalation e-mails of recorded breaches and warnings not yet escalated, batch
    by batch, each batch claimed (so two sweeps never escalate one clock twice) and written in
    the claim's transaction. Returns the number of notification rows written."""
    now = now or timezone.now()
    ts = connection.ops.adapt_datetimefield_value(now)
    written = 0
    while True:
        with transaction.atomic():
            breached = _claim("breach_escalated_at = %s",
                              "breached_at IS NOT NULL AND breach_escalated_at IS NULL", [ts], [],
                              order_by="breached_at")
            warned = _claim("warn_escalated_at = %s",
                            "warned_at IS NOT NULL AND warn_escalated_at IS NULL", [ts], [],
                            order_by="warned_at")
            if not breached and not warned:
                break
            written += _escalate(breached=breached, warned=warned, now=now)
        if len(breached) < SWEEP_BATCH and len(warned) < SWEEP_BATCH:
            break
    return written


def _escalate(*, breached: list[int], warned: list[int], now: datetime) -> int:
    # The claim made these escalations ours alone: their keys cannot exist yet, so they are
    # appended with COPY on PostgreSQL (a storm of 10,000 breaches is 30,000 escalations).
    managers = list(staff_users_with_role(Role.MANAGER).only("id", "email"))
    clocks = Clock.objects.filter(pk__in=breached + warned).select_related("policy", "customer", "assignee")
    messages: list[Message] = []
    breached_set, warned_set = set(breached), set(warned)
    with translation.override("zh-hans"):
        for clock in clocks:
            if clock.pk in warned_set:
                messages += escalation_messages(clock=clock, event="warning", managers=managers)
            if clock.pk in breached_set:
                messages += escalation_messages(clock=clock, event="breach", managers=managers)
    return notifications_enqueue_fresh(messages=messages, now=now)


def escalation_messages(*, clock: Clock, event: str, managers: list[Any]) -> list[Message]:
    """One e-mail per recipient: the managers and the clock's assignee, each exactly once."""
    recipients = {u.pk: u for u in managers}
    if clock.assignee_id:
        recipients.setdefault(clock.assignee_id, clock.assignee)
    if event == "breach":
        subject = _("[SLA breached] %(code)s %(policy)s · %(label)s")
    else:
        subject = _("[SLA warning] %(code)s %(policy)s · %(label)s")
    fmt = {"code": clock.policy.code, "policy": clock.policy.name, "label": clock.label}
    local_due = timezone.localtime(clock.due_at).strftime("%Y-%m-%d %H:%M:%S")
    body = _("Promise: %(code)s %(policy)s\nItem: %(label)s\nCustomer: %(customer)s\n"
             "Started: %(started)s\nDue: %(due)s\nState: %(state)s\n") % {
        **fmt, "customer": clock.customer or "-",
        "started": timezone.localtime(clock.started_at).strftime("%Y-%m-%d %H:%M:%S"),
        "due": local_due, "state": clock.get_state_display() if event == "warning" else _("breached"),
    }
    return [
        Message(channel="email", address=u.email or "", kind=f"clock_{event}",
                subject=subject % fmt, body=body, recipient_id=uid, related=clock,
                idempotency_key=f"clock:{clock.pk}:{event}:user:{uid}:email")
        for uid, u in recipients.items()
    ]


def calendar_coverage_alert(*, now: datetime | None = None) -> list[int]:
    """Tell the managers, once per missing year, that the working-day calendar of the current
    or next year must be entered before deadlines can be computed in it."""
    from .calendars import missing_years

    now = now or timezone.now()
    years = missing_years(timezone.localtime(now).date())
    managers = list(staff_users_with_role(Role.MANAGER))
    messages = []
    with translation.override("zh-hans"):
        for y in years:
            for u in managers:
                messages.append(Message(
                    channel="email", address=u.email or "", kind="calendar_missing",
                    subject=_("The working-day calendar for %(year)s is missing") % {"year": y},
                    body=_("Enter the %(year)s holidays and make-up working days under SLA → "
                           "Working-day overrides.") % {"year": y},
                    recipient_id=u.pk, idempotency_key=f"calendar-missing:{y}:user:{u.pk}"))
        notifications_enqueue(messages=messages, now=now)
    return years


# --- Policies and calendar facts (admin-like writes the API and the pages share) ----------

POLICY_FIELDS = ("code", "name_zh", "name_en", "kind", "metric", "starts_on", "comparison",
                 "threshold", "unit", "calendar", "warning_percent", "remedy", "clause", "service_kinds",
                 "active")


def policy_save(*, data: dict[str, Any], policy: SlaPolicy | None = None, actor: Any = None,
                now: datetime | None = None) -> SlaPolicy:
    """Create or change an SLA policy (a promise). The whole row is validated (a deadline needs a
    positive target in a unit its calendar can count) before anything is written; the change is
    audited with the fields before and after. Running clocks keep the target they started with."""
    obj = policy or SlaPolicy()
    audited_save(obj=obj, fields=POLICY_FIELDS, data=data, actor=actor, now=now)
    return obj


CONTRACT_POLICY_FIELDS = ("threshold", "warning_percent", "active", "note")


def contract_policy_save(*, data: dict[str, Any], override: ContractPolicy | None = None,
                         actor: Any = None, now: datetime | None = None) -> ContractPolicy:
    """Create or change a per-contract override of a policy's target. Validated against the
    policy's kind, unit and calendar; one override per contract and policy."""
    obj = override or ContractPolicy(contract=data.get("contract"), policy=data.get("policy"))
    audited_save(obj=obj, fields=CONTRACT_POLICY_FIELDS, data=data, actor=actor, now=now)
    return obj


def workday_override_save(*, data: dict[str, Any], override: WorkdayOverride | None = None,
                          actor: Any = None, now: datetime | None = None) -> WorkdayOverride:
    """Record (or correct) whether one date is a working day on the cn-workdays calendar. It wins
    over the holidays library and makes its year count as known."""
    obj = override or WorkdayOverride()
    audited_save(obj=obj, fields=("date", "is_working_day", "note"), data=data, actor=actor, now=now)
    return obj
