"""Every write of the installation workflow (C3, seed 000 §3 初装保证). Each service locks the
order row, checks the role and the transition, saves, audits in the same transaction and moves
the order's C3 clock through sla.services (it never computes a deadline of its own)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from audit.models import AuditEntry
from audit.services import audit_record
from credits.choices import CreditKind, CreditState
from credits.models import Credit
from credits.services import credit_propose, credit_withdraw
from customers.choices import Role
from customers.models import Service
from customers.selectors import user_has_role
from sla.calendars import CalendarYearUnknown, compute_due
from sla.choices import ClockState
from sla.models import Clock, SlaPolicy
from sla.services import (
    clock_cancel_for,
    clock_meet_for,
    clock_pause,
    clock_resume,
    clock_start,
    policy_effective,
)
from slaportal.errors import ConflictError, DomainError, ForbiddenError

from ..choices import CHECKLISTS, OrderState, PauseReason
from ..models import ChecklistItem, InstallationOrder
from ..selectors import order_c3_clock as order_clock
from .checklist import actor_user, checklist_tick

logger = logging.getLogger(__name__)

C3 = "C3"
# Installation work is done and recorded by the technical engineers; managers may act for them.
ACTOR_ROLES = (Role.ENGINEER, Role.MANAGER)


def refund_dedupe_key(contract_id: int) -> str:
    """One installation-fee refund per contract, however many of its orders are late (the seed
    refunds "该次初装工作收取的初装服务费": the fee is charged once per contract)."""
    return f"C3:refund:contract:{contract_id}"


def _require_actor(actor: Any) -> None:
    if not user_has_role(actor, *ACTOR_ROLES):
        raise ForbiddenError(_("Only an engineer or a manager can do this."))


_user = actor_user


def _locked(order_id: int) -> InstallationOrder:
    try:
        return (InstallationOrder.objects.select_for_update(of=("self",))
                .select_related("service", "contract", "customer").get(pk=order_id))
    except InstallationOrder.DoesNotExist:
        raise DomainError(_("No such installation order."), code="not_found") from None


# One whole sentence per transition, so each translates as a sentence.
REFUSALS = {
    "pause": gettext_lazy("An installation order that is %(state)s cannot be paused."),
    "resume": gettext_lazy("An installation order that is %(state)s cannot be resumed."),
    "complete": gettext_lazy("An installation order that is %(state)s cannot be completed."),
    "cancel": gettext_lazy("An installation order that is %(state)s cannot be cancelled."),
}


def _refusal(order: InstallationOrder, method: str) -> ConflictError:
    return ConflictError(str(REFUSALS[method]) % {"state": order.get_state_display()})


def _move(order: InstallationOrder, method: str, *, actor: Any, reason: str, now: datetime,
          data: dict[str, Any] | None = None, **kwargs: Any) -> str:
    bound = getattr(order, method)
    if not can_proceed(bound):
        raise _refusal(order, method)
    before = order.state
    bound(at=now, **kwargs)
    order.save()
    audit_record(obj=order, action=method, actor=actor, from_state=before, to_state=order.state,
                 reason=reason, now=now, data=data)
    return before


# --- Opening an order -----------------------------------------------------------------------

def order_open_for_service(*, service_id: int, created_at: datetime | None = None, actor: Any = None,
                           now: datetime | None = None) -> InstallationOrder | None:
    """Open the installation order of a new hosting service with its checklist and start its C3
    clock. Idempotent (a service has at most one order). An e-mail service gets none: its
    provisioning is promise E5, a provisioning order of its own (not built yet)."""
    now = now or timezone.now()
    created_at = created_at or now
    with transaction.atomic():
        service = Service.objects.select_for_update().select_related("contract").get(pk=service_id)
        if service.kind not in CHECKLISTS:
            return None
        existing = InstallationOrder.objects.filter(service=service).first()
        if existing is not None:
            return existing
        order = InstallationOrder(service=service, contract=service.contract,
                                  customer_id=service.customer_id, created_at=created_at)
        order.save()
        ChecklistItem.objects.bulk_create([
            ChecklistItem(order=order, code=code, position=i)
            for i, code in enumerate(CHECKLISTS[service.kind])])
        audit_record(obj=order, action="create", actor=actor, to_state=order.state, now=now,
                     reason="service created",
                     data={"service": service.pk, "items": list(CHECKLISTS[service.kind])})
        _start_clock(order, actor=actor, now=now)
    return order


def c3_started_at(order: InstallationOrder) -> datetime:
    """When the order's C3 clock starts. Seed 000 §3.2: within 3 working days after the contract
    is signed. A service entered within that first window after signing counts from the
    signing; a service added later to a running contract is a new installation, "signed" when
    it was added. Raises CalendarYearUnknown while the window cannot be computed."""
    contract = order.contract
    policy = SlaPolicy.objects.filter(code=C3).first()
    if policy is None:  # clock_start refuses it with its own message
        return order.created_at
    eff = policy_effective(policy=policy, contract=contract)
    # The window itself is the SLA engine's computation (the same call clock_start makes).
    first_window_ends = compute_due(start=contract.signed_at, target=eff.threshold, unit=policy.unit,
                                    calendar=policy.calendar)
    return contract.signed_at if order.created_at < first_window_ends else order.created_at


def _start_clock(order: InstallationOrder, *, actor: Any, now: datetime) -> Clock | None:
    """Start C3 on the order; when the calendar of a year is unknown, leave the deadline pending
    (deadline_pending_year) for orders.tasks to start later. Other refusals (C3 switched off for
    the contract) are audited and leave the order without a clock."""
    try:
        with transaction.atomic():
            started_at = c3_started_at(order)
            with translation.override("zh-hans"):  # stored: the portal's default language
                label = _("Initial installation of %(service)s (%(number)s)") % {
                    "service": order.service.name, "number": order.contract.number}
            clock = clock_start(
                subject=order, policy_code=C3, contract=order.contract, customer=order.customer,
                assignee=order.service.engineer, started_at=started_at, actor=actor, label=label,
                reason="installation order opened", now=now)
    except CalendarYearUnknown as e:
        if order.deadline_pending_year != e.year:
            order.deadline_pending_year = e.year
            order.save(update_fields=["deadline_pending_year"])
            audit_record(obj=order, action="deadline_pending", actor=actor, now=now,
                         reason=str(e.message), data={"year": e.year})
        return None
    except DomainError as e:
        audit_record(obj=order, action="no_clock", actor=actor, now=now, reason=str(e.message))
        if order.deadline_pending_year is not None:
            order.deadline_pending_year = None
            order.save(update_fields=["deadline_pending_year"])
        return None
    if order.deadline_pending_year is not None:
        order.deadline_pending_year = None
        order.save(update_fields=["deadline_pending_year"])
    if order.state == OrderState.PAUSED and clock.due_at > now:
        clock_pause(clock_id=clock.pk, actor=actor, reason=order.pause_note, now=now)
    return clock


def order_start_pending_clock(*, order_id: int, now: datetime | None = None) -> Clock | None:
    """Start the C3 clock of an order whose deadline was pending (the calendar year is known
    now). A completed order's clock is met at once with its completion time, which decides."""
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order_id)
        if order.deadline_pending_year is None or order.state == OrderState.CANCELLED:
            return None
        if order_clock(order) is not None:
            order.deadline_pending_year = None
            order.save(update_fields=["deadline_pending_year"])
            return None
        clock = _start_clock(order, actor=None, now=now)
        if clock is not None and order.state == OrderState.COMPLETED:
            _meet(order, actor=None, now=order.completed_at or now)
    return clock


def orders_start_pending_clocks(*, now: datetime | None = None) -> int:
    """Every order whose deadline waits for a calendar year: try again (the periodic task)."""
    started = 0
    for pk in (InstallationOrder.objects.filter(deadline_pending_year__isnull=False)
               .exclude(state=OrderState.CANCELLED).values_list("pk", flat=True)):
        try:
            if order_start_pending_clock(order_id=pk, now=now) is not None:
                started += 1
        except Exception:  # one bad row must not stop the others
            logger.exception("starting the pending C3 clock of installation order %s failed", pk)
    return started


def orders_open_missing(*, now: datetime | None = None) -> int:
    """Open the order of any hosting service that has none (the signal's listener failed after
    the service was committed). The service's creation time comes from its audit row."""
    opened = 0
    ct = ContentType.objects.get_for_model(Service)
    missing = (Service.objects.filter(kind__in=list(CHECKLISTS), installation_order__isnull=True)
               .values_list("pk", flat=True))
    for pk in missing:
        created = (AuditEntry.objects.filter(content_type=ct, object_id=pk, action="create")
                   .order_by("at").values_list("at", flat=True).first())
        try:
            if order_open_for_service(service_id=pk, created_at=created, now=now) is not None:
                opened += 1
        except Exception:
            logger.exception("opening the installation order of service %s failed", pk)
    return opened


# --- The checklist --------------------------------------------------------------------------

def _require_open(order: InstallationOrder) -> None:
    if not order.is_open:
        raise ConflictError(_("An installation order that is %(state)s cannot be changed.")
                            % {"state": order.get_state_display()})


def order_item_done(*, order_id: int, item_code: str, actor: Any, note: str = "",
                    now: datetime | None = None) -> ChecklistItem:
    """Tick one piece of installation work as done (by whom, when, with a note)."""
    return _tick(order_id=order_id, item_code=item_code, done=True, actor=actor, note=note, now=now)


def order_item_undo(*, order_id: int, item_code: str, actor: Any, note: str = "",
                    now: datetime | None = None) -> ChecklistItem:
    """Take a tick back (ticked by mistake); the audit trail keeps both."""
    return _tick(order_id=order_id, item_code=item_code, done=False, actor=actor, note=note, now=now)


def _tick(*, order_id: int, item_code: str, done: bool, actor: Any, note: str,
          now: datetime | None) -> ChecklistItem:
    _require_actor(actor)
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order_id)
        _require_open(order)
        item: ChecklistItem = checklist_tick(order=order, item_code=item_code, done=done, actor=actor,
                                             note=note, now=now)
    return item


# --- Pause, resume, complete, cancel --------------------------------------------------------

def order_pause(*, order_id: int, reason_code: str, note: str, actor: Any,
                now: datetime | None = None) -> InstallationOrder:
    """The customer holds the installation up (not ready, equipment not in place, another cause
    on their side): the order and its C3 clock stop until it is resumed."""
    _require_actor(actor)
    now = now or timezone.now()
    errors: dict[str, list[Any]] = {}
    if reason_code not in PauseReason.values:
        errors["reason"] = [_("Choose a customer-side cause.")]
    if not (note or "").strip():
        errors["note"] = [_("Say what the customer is holding up.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    with transaction.atomic():
        order = _locked(order_id)
        # Not _move: the transition's own arguments are the cause and the note.
        if not can_proceed(order.pause):
            raise _refusal(order, "pause")
        before = order.state
        order.pause(at=now, reason=reason_code, note=note)
        order.save()
        audit_record(obj=order, action="pause", actor=actor, from_state=before, to_state=order.state,
                     reason=note, now=now, data={"cause": reason_code})
        clock = order_clock(order)
        # A deadline already passed is not stopped by a later delay: the promise was broken.
        if clock is not None and clock.state == ClockState.RUNNING and clock.due_at > now:
            clock_pause(clock_id=clock.pk, actor=actor, now=now,
                        reason=f"{PauseReason(reason_code).label}: {note}")
    return order


def order_resume(*, order_id: int, actor: Any, note: str = "", now: datetime | None = None) -> InstallationOrder:
    """The customer-side hold is over: the order and its clock run again (the deadline moves
    by the paused span)."""
    _require_actor(actor)
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order_id)
        _move(order, "resume", actor=actor, reason=note, now=now)
        clock = order_clock(order)
        if clock is not None and clock.state == ClockState.PAUSED:
            clock_resume(clock_id=clock.pk, actor=actor, reason=note or "installation resumed", now=now)
    return order


def order_complete(*, order_id: int, actor: Any, confirm: bool, note: str = "",
                   now: datetime | None = None) -> InstallationOrder:
    """The installation is finished: every checklist item is done and the engineer confirms it.
    Meets C3 at the completion time; completed at or after the deadline, the installation-fee
    refund is proposed (once per contract). Refused with nothing saved otherwise."""
    _require_actor(actor)
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order_id)
        if not can_proceed(order.complete):
            raise _refusal(order, "complete")
        errors: dict[str, list[Any]] = {}
        pending = [str(i.get_code_display()) for i in order.items.all() if not i.done]
        if pending:
            errors["items"] = [_("Not done yet: %(items)s.") % {"items": "、".join(pending)}]
        if not confirm:
            errors["confirm"] = [_("Confirm that the installation is complete.")]
        if errors:
            raise DomainError(_("The installation cannot be completed yet."), field_errors=errors)
        was_paused = order.state == OrderState.PAUSED
        _move(order, "complete", actor=actor, reason=note, now=now, by=_user(actor), note=note)
        if was_paused:
            clock = order_clock(order)
            if clock is not None and clock.state == ClockState.PAUSED:
                clock_resume(clock_id=clock.pk, actor=actor, reason="installation completed", now=now)
        _meet(order, actor=actor, now=now)
    return order


def _meet(order: InstallationOrder, *, actor: Any, now: datetime) -> None:
    """Meet C3 with the completion time, on the SLA engine's one boundary rule: strictly before
    the deadline is in time; at or after it the clock ends breached (with the late completion)
    and the refund is proposed here as well as by the breach listener (idempotent), so it does
    not hang on a signal. A breach the sweep recorded before an in-time completion reached us is
    "met, recorded late"; the refund it caused is withdrawn (sla's clock_breach_withdrawn)."""
    if order_clock(order) is None:
        return
    clock = clock_meet_for(subject=order, policy_code=C3, actor=actor, reason="installation completed",
                           now=now)
    if clock is not None and clock.state == ClockState.BREACHED:
        order_breach_record(order=order, clock=clock, now=now)


def order_cancel(*, order_id: int, actor: Any, reason: str, now: datetime | None = None) -> InstallationOrder:
    """The installation is not going to happen (a service entered by mistake, the customer
    withdrew): managers only, with a reason; the open C3 clock is cancelled."""
    if not user_has_role(actor, Role.MANAGER):
        raise ForbiddenError(_("Only a manager can cancel an installation order."))
    if not (reason or "").strip():
        raise DomainError(_("Say why the order is cancelled."), field_errors={"reason": [_("Required.")]})
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order_id)
        _move(order, "cancel", actor=actor, reason=reason, now=now)
        order.deadline_pending_year = None
        order.save(update_fields=["deadline_pending_year"])
        clock_cancel_for(subject=order, policy_code=C3, actor=actor, reason=reason, now=now)
    return order


# --- Breach: the installation-fee refund ----------------------------------------------------

def order_breach_record(*, order: InstallationOrder, clock: Clock, now: datetime | None = None) -> Credit | None:
    """C3 is broken for this order: propose the refund of the contract's installation fee
    (seed 000 §3: 退还甲方该次初装工作收取的初装服务费), once per contract. A contract with no
    installation fee has nothing to refund: that is recorded in the order's audit trail."""
    now = now or timezone.now()
    contract = order.contract
    key = refund_dedupe_key(contract.pk)
    with transaction.atomic():
        if contract.installation_fee <= 0:
            if not _audited(order, "refund_none"):
                audit_record(obj=order, action="refund_none", now=now,
                             reason="C3 breached; the contract's installation fee is 0.00: nothing to refund",
                             data={"clock": clock.pk})
            return None
        existed = Credit.objects.filter(dedupe_key=key).first()
        if existed is not None and existed.state == CreditState.WITHDRAWN:
            # Withdrawn when an earlier breach turned out to be in time; this one is a new breach.
            key = f"{key}:order:{order.pk}"
            existed = Credit.objects.filter(dedupe_key=key).first()
        due_local = timezone.localtime(clock.due_at)
        credit = credit_propose(
            contract=contract, policy_code=C3, kind=CreditKind.REFUND_INSTALLATION,
            period=due_local.date(), amount=contract.installation_fee, evidence=clock,
            note=(f"初装未在合同签定后{clock.target.normalize():f}个工作日内完成（截止 "
                  f"{due_local:%Y-%m-%d %H:%M}），依协议第三条退还初装服务费。"
                  f" Initial installation of {order.service.name} not completed by "
                  f"{due_local:%Y-%m-%d %H:%M}: installation fee refunded (C3)."),
            dedupe_key=key, now=now)
        if not _audited(order, "refund_proposed"):
            audit_record(obj=order, action="refund_proposed", now=now, reason="C3 breached",
                         data={"credit": credit.pk, "clock": clock.pk, "new": existed is None,
                               "amount": str(contract.installation_fee)})
    return credit


def _audited(order: InstallationOrder, action: str) -> bool:
    return AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(InstallationOrder),
                                     object_id=order.pk, action=action).exists()


def order_breach_withdrawn(*, clock_id: int, reason: str, now: datetime | None = None) -> Credit | None:
    """A C3 breach of an order is no longer a breach (completed before the deadline and recorded
    late, or exempted): withdraw the contract's installation-fee refund, unless another order of
    the contract is still late. Idempotent."""
    now = now or timezone.now()
    ct = ContentType.objects.get_for_model(InstallationOrder)
    clock = Clock.objects.filter(pk=clock_id, policy__code=C3, content_type=ct).first()
    if clock is None:
        return None
    order = InstallationOrder.objects.select_related("contract").filter(pk=clock.object_id).first()
    if order is None:
        return None
    with transaction.atomic():
        others = Clock.objects.filter(
            content_type=ct, policy__code=C3, state=ClockState.BREACHED,
            object_id__in=InstallationOrder.objects.filter(contract=order.contract_id).values("pk"))
        if others.exists():
            return None
        credit = (Credit.objects.select_for_update()
                  .filter(contract=order.contract_id, kind=CreditKind.REFUND_INSTALLATION,
                          dedupe_key__startswith=refund_dedupe_key(order.contract_id),
                          state__in=[CreditState.PROPOSED, CreditState.APPROVED]).first())
        if credit is None:
            return None
        credit_withdraw(credit_id=credit.pk, now=now,
                        reason=f"初装工单 {order} 的超期判定已撤销：{reason}".strip())
        audit_record(obj=order, action="refund_withdrawn", now=now, reason=reason,
                     data={"credit": credit.pk, "clock": clock.pk})
    return credit


def orders_clocks_breached(*, clock_ids: list[int], now: datetime | None = None) -> int:
    """The sweep breached these clocks: for each C3 clock of an installation order, propose the
    refund and, if the order was already completed (late), record the late completion."""
    ct = ContentType.objects.get_for_model(InstallationOrder)
    done = 0
    for clock in Clock.objects.filter(pk__in=clock_ids, policy__code=C3, content_type=ct):
        try:
            order = InstallationOrder.objects.select_related("contract", "service").get(pk=clock.object_id)
            order_breach_record(order=order, clock=clock, now=now)
            if order.state == OrderState.COMPLETED and order.completed_at is not None:
                clock_meet_for(subject=order, policy_code=C3, reason="installation completed",
                               now=order.completed_at)
            done += 1
        except Exception:  # the sweep already committed; one bad row must not stop the others
            logger.exception("recording the C3 breach of clock %s failed", clock.pk)
    return done



# The e-mail provisioning workflow (E5) lives in its own module; its public names are here too.
from .provisioning import (  # noqa: E402
    provisioning_breach_record,
    provisioning_breach_withdrawn,
    provisioning_cancel,
    provisioning_clocks_breached,
    provisioning_complete,
    provisioning_item_done,
    provisioning_item_undo,
    provisioning_open,
    provisioning_open_for_service,
    provisioning_payment_confirm,
    provisioning_update,
)

__all__ = [
    "provisioning_breach_record", "provisioning_breach_withdrawn", "provisioning_cancel",
    "provisioning_clocks_breached", "provisioning_complete", "provisioning_item_done",
    "provisioning_item_undo", "provisioning_open", "provisioning_open_for_service",
    "provisioning_payment_confirm", "provisioning_update",
]
