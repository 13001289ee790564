"""Every write of the e-mail provisioning workflow (promise E5, seed 002 §8 开通的保障).

An order is opened with a new e-mail service (or by staff) and waits for the payment. Confirming
the payment starts its E5 clock from the time the money was received: E5-EXIST (24 h) when the
customer already has the domain, E5-NEW (48 h) when one must be registered. Completing it meets
the clock and tells the customer's authorized contacts; completed at or after the deadline, "that
month's fee waived" is proposed (seed 002 §8.3: 免收甲方当月之费用). Each service locks the order
row, checks the role and the transition, saves, audits in the same transaction and moves the
clock through sla.services (it never computes a deadline of its own)."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime
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
from customers.choices import Language, Role, ServiceKind
from customers.models import Service
from customers.selectors import user_has_role
from notifications.services import Message, notifications_enqueue
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clock_cancel_for, clock_meet_for, clock_start
from slaportal.errors import ConflictError, DomainError, ForbiddenError

from ..choices import (
    E5_CODES,
    E5_EXISTING,
    E5_NEW,
    ProvisioningItemCode,
    ProvisioningState,
    provisioning_checklist,
)
from ..models import ProvisioningItem, ProvisioningOrder
from ..selectors import provisioning_clock
from .checklist import actor_user, checklist_tick

logger = logging.getLogger(__name__)

# Customer service takes the order and confirms the payment (缴费 is theirs, SPEC "Service
# requests"); the engineers do the work; managers may do either. Only managers cancel.
OPEN_ROLES = (Role.SPECIALIST, Role.ENGINEER, Role.MANAGER)
PAYMENT_ROLES = (Role.SPECIALIST, Role.MANAGER)
WORK_ROLES = (Role.ENGINEER, Role.MANAGER)
NOTIFIED = ProvisioningItemCode.CUSTOMER_NOTIFIED
S = ProvisioningState

# A host name as DNS allows it (RFC 1123 labels), at least two labels: "example.cn".
DOMAIN_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def policy_code_for(new_domain: bool) -> str:
    """The E5 promise an order is held to: 48 h when a new domain must be registered, else 24 h."""
    return E5_NEW if new_domain else E5_EXISTING


def waiver_dedupe_key(contract_id: int, period: date) -> str:
    """One waiver of a month's fee per contract and month, however many of its orders were late
    that month: the seed waives 当月之费用, which can be waived only once."""
    return f"E5:waive:contract:{contract_id}:{period:%Y-%m}"


def _require(actor: Any, roles: tuple[str, ...], message: str) -> None:
    if not user_has_role(actor, *roles):
        raise ForbiddenError(message)


_user = actor_user


def _locked(order_id: int) -> ProvisioningOrder:
    try:
        return (ProvisioningOrder.objects.select_for_update(of=("self",))
                .select_related("service", "contract", "customer").get(pk=order_id))
    except ProvisioningOrder.DoesNotExist:
        raise DomainError(_("No such provisioning order."), code="not_found") from None


# One whole sentence per transition, so each translates as a sentence.
REFUSALS = {
    "confirm_payment": gettext_lazy("The payment of a provisioning order that is %(state)s cannot be "
                                    "confirmed."),
    "complete": gettext_lazy("A provisioning order that is %(state)s cannot be completed."),
    "cancel": gettext_lazy("A provisioning order that is %(state)s cannot be cancelled."),
    "change": gettext_lazy("A provisioning order that is %(state)s cannot be changed."),
}


def _refusal(order: ProvisioningOrder, what: str) -> ConflictError:
    return ConflictError(str(REFUSALS[what]) % {"state": order.get_state_display()})


def _require_open(order: ProvisioningOrder) -> None:
    if not order.is_open:
        raise _refusal(order, "change")


def domain_clean(value: str) -> str:
    """A domain name as stored: trimmed, lower case, no trailing dot. Raises DomainError."""
    domain = (value or "").strip().lower().rstrip(".")
    if not DOMAIN_RE.match(domain):
        raise DomainError(_("Please correct the errors below."),
                          field_errors={"domain": [_("Enter a domain name such as example.cn.")]})
    return domain


def _not_future(at: datetime, now: datetime, field: str) -> None:
    if at > now:
        raise DomainError(_("Please correct the errors below."),
                          field_errors={field: [_("This time is in the future.")]})


def _create_items(order: ProvisioningOrder) -> None:
    ProvisioningItem.objects.bulk_create([
        ProvisioningItem(order=order, code=code, position=i)
        for i, code in enumerate(provisioning_checklist(new_domain=order.new_domain))])


# --- Opening ----------------------------------------------------------------------------------

def provisioning_open(*, service_id: int, domain: str, new_domain: bool, actor: Any,
                      now: datetime | None = None) -> ProvisioningOrder:
    """Staff open a provisioning order for a domain of an e-mail service (one more domain for a
    customer, or an order the service's creation did not open). It waits for the payment."""
    _require(actor, OPEN_ROLES, _("Only customer service, an engineer or a manager can open a "
                                  "provisioning order."))
    now = now or timezone.now()
    clean = domain_clean(domain)
    with transaction.atomic():
        service = Service.objects.select_for_update().select_related("contract").filter(pk=service_id).first()
        if service is None or service.kind != ServiceKind.EMAIL:
            raise DomainError(_("Please correct the errors below."),
                              field_errors={"service": [_("Choose an enterprise e-mail service.")]})
        live = ProvisioningOrder.objects.filter(service=service, domain=clean).exclude(state=S.CANCELLED)
        if live.exists():
            raise DomainError(_("Please correct the errors below."), field_errors={
                "domain": [_("This service already has a provisioning order for this domain.")]})
        order = ProvisioningOrder.objects.create(
            service=service, contract=service.contract, customer_id=service.customer_id, domain=clean,
            new_domain=new_domain, created_at=now, created_by=_user(actor))
        _create_items(order)
        audit_record(obj=order, action="create", actor=actor, to_state=order.state, now=now,
                     reason="由工作人员创建",
                     data={"service": service.pk, "domain": clean, "new_domain": new_domain})
    return order


def provisioning_open_for_service(*, service_id: int, created_at: datetime | None = None,
                                  actor: Any = None, now: datetime | None = None) -> ProvisioningOrder | None:
    """A new e-mail service opens its provisioning order, waiting for the payment; its domain is
    entered by staff before the work is done. Idempotent: a service that has any order gets no
    second one here. Not an e-mail service: None."""
    now = now or timezone.now()
    with transaction.atomic():
        service = Service.objects.select_for_update().select_related("contract").get(pk=service_id)
        if service.kind != ServiceKind.EMAIL:
            return None
        existing = ProvisioningOrder.objects.filter(service=service).order_by("id").first()
        if existing is not None:
            return existing
        order = ProvisioningOrder.objects.create(
            service=service, contract=service.contract, customer_id=service.customer_id,
            created_at=created_at or now, created_by=_user(actor))
        _create_items(order)
        audit_record(obj=order, action="create", actor=actor, to_state=order.state, now=now,
                     reason="service created", data={"service": service.pk, "new_domain": False})
    return order


def provisioning_update(*, order_id: int, domain: str, new_domain: bool, actor: Any, reason: str = "",
                        now: datetime | None = None) -> ProvisioningOrder:
    """Enter or correct the domain and whether it must be registered, while the order is open.

    Changing the flag after the payment was confirmed restarts the right clock: the running E5
    clock of the old case is cancelled (audited with the reason) and the other case's clock is
    started from the same payment time, so the deadline is what it would have been had the flag
    been right from the start (24 h or 48 h after the payment, never counted from the change).
    Refused when the old clock is already breached: that deadline passed under the promise in
    force; a manager exempts the breach on the clock's page if the flag was wrong."""
    _require(actor, OPEN_ROLES, _("Only customer service, an engineer or a manager can change a "
                                  "provisioning order."))
    now = now or timezone.now()
    clean = domain_clean(domain)
    with transaction.atomic():
        order = _locked(order_id)
        _require_open(order)
        flag_changed = order.new_domain != new_domain
        if flag_changed and order.state == S.IN_PROGRESS and not (reason or "").strip():
            raise DomainError(_("Please correct the errors below."), field_errors={
                "reason": [_("Say why the kind of domain changes after the payment was confirmed.")]})
        if clean != order.domain and ProvisioningOrder.objects.filter(
                service=order.service_id, domain=clean).exclude(state=S.CANCELLED).exclude(pk=order.pk).exists():
            raise DomainError(_("Please correct the errors below."), field_errors={
                "domain": [_("This service already has a provisioning order for this domain.")]})
        clock = provisioning_clock(order) if flag_changed else None
        if clock is not None and clock.state == ClockState.BREACHED:
            raise ConflictError(_("The deadline of this order has already passed; the kind of domain "
                                  "can no longer change. A manager can exempt the breach if it was "
                                  "recorded wrongly."))
        before = {"domain": order.domain, "new_domain": order.new_domain}
        order.domain, order.new_domain = clean, new_domain
        order.save(update_fields=["domain", "new_domain"])
        if flag_changed:
            _reshape_checklist(order)
        audit_record(obj=order, action="update", actor=actor, reason=reason, now=now,
                     data={"before": before, "after": {"domain": clean, "new_domain": new_domain}})
        if flag_changed and order.state == S.IN_PROGRESS:
            clock_cancel_for(subject=order, policy_code=policy_code_for(not new_domain), actor=actor,
                             reason=f"域名类型更正：{reason}".strip(), now=now)
            _start_clock(order, actor=actor, now=now, reason=f"域名类型更正：{reason}")
    return order


def _reshape_checklist(order: ProvisioningOrder) -> None:
    """A new domain adds its registration to the checklist (first); an existing one drops it
    (the audit trail keeps whether it had been ticked)."""
    reg = ProvisioningItemCode.DOMAIN_REGISTRATION
    if order.new_domain:
        ProvisioningItem.objects.get_or_create(order=order, code=reg, defaults={"position": 0})
    else:
        ProvisioningItem.objects.filter(order=order, code=reg).delete()


# --- Payment: the clock starts -----------------------------------------------------------------

def _start_clock(order: ProvisioningOrder, *, actor: Any, now: datetime, reason: str) -> Clock | None:
    """Start E5-EXIST or E5-NEW from the payment time. A promise switched off for the contract
    (or not made for the service's kind) is audited and leaves the order without a clock."""
    code = policy_code_for(order.new_domain)
    assert order.payment_confirmed_at is not None
    try:
        with transaction.atomic():
            with translation.override("zh-hans"):  # stored: the portal's default language
                label = _("E-mail provisioning of %(domain)s (%(number)s)") % {
                    "domain": order.domain or order.service.name, "number": order.contract.number}
            return clock_start(
                subject=order, policy_code=code, contract=order.contract, customer=order.customer,
                assignee=order.service.engineer, started_at=order.payment_confirmed_at, actor=actor,
                label=label, reason=reason, service_kind=order.service.kind, now=now)
    except DomainError as e:
        audit_record(obj=order, action="no_clock", actor=actor, now=now, reason=str(e.message),
                     data={"policy": code})
        return None


def provisioning_payment_confirm(*, order_id: int, actor: Any, paid_at: datetime | None = None,
                                 reference: str = "", now: datetime | None = None) -> ProvisioningOrder:
    """The provider has received the customer's payment (seed 002 §8.1): record when (`paid_at`,
    which may be earlier than now when recorded late, never later) and start the E5 clock from
    that time. Before this no clock runs."""
    _require(actor, PAYMENT_ROLES, _("Only customer service or a manager can confirm a payment."))
    now = now or timezone.now()
    paid_at = paid_at or now
    _not_future(paid_at, now, "paid_at")
    with transaction.atomic():
        order = _locked(order_id)
        if not can_proceed(order.confirm_payment):
            raise _refusal(order, "confirm_payment")
        before = order.state
        order.confirm_payment(at=paid_at, by=_user(actor), reference=(reference or "").strip())
        order.save()
        audit_record(obj=order, action="confirm_payment", actor=actor, from_state=before,
                     to_state=order.state, reason=reference, now=now,
                     data={"paid_at": paid_at.isoformat(), "policy": policy_code_for(order.new_domain)})
        _start_clock(order, actor=actor, now=now, reason="payment confirmed")
    return order


# --- The checklist -----------------------------------------------------------------------------

def provisioning_item_done(*, order_id: int, item_code: str, actor: Any, note: str = "",
                           now: datetime | None = None) -> ProvisioningItem:
    """Tick one piece of the provisioning work as done (by whom, when, with a note)."""
    return _tick(order_id=order_id, item_code=item_code, done=True, actor=actor, note=note, now=now)


def provisioning_item_undo(*, order_id: int, item_code: str, actor: Any, note: str = "",
                           now: datetime | None = None) -> ProvisioningItem:
    """Take a tick back (ticked by mistake); the audit trail keeps both."""
    return _tick(order_id=order_id, item_code=item_code, done=False, actor=actor, note=note, now=now)


def _tick(*, order_id: int, item_code: str, done: bool, actor: Any, note: str,
          now: datetime | None) -> ProvisioningItem:
    _require(actor, WORK_ROLES, _("Only an engineer or a manager can do this."))
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order_id)
        _require_open(order)
        item: ProvisioningItem = checklist_tick(order=order, item_code=item_code, done=done, actor=actor,
                                                note=note, now=now)
    return item


# --- Completion: the clock is met and the customer told ---------------------------------------

def _contacts(order: ProvisioningOrder, day: date) -> list[Any]:
    """The customer's authorized contacts in force that day with an e-mail address."""
    return [c for c in order.customer.authorized_contacts.filter(active=True).exclude(email="")
            .order_by("priority", "pk") if c.is_valid_on(day)]


def _completion_messages(order: ProvisioningOrder, contacts: list[Any]) -> list[Message]:
    """The notice that the service is open, in each contact's language (Chinese by default)."""
    out = []
    for c in contacts:
        with translation.override("en" if c.language == Language.EN else "zh-hans"):
            fmt = {"name": c.name, "domain": order.domain, "contract": order.contract.number,
                   "paid": _local(order.payment_confirmed_at), "done": _local(order.completed_at)}
            out.append(Message(
                channel="email", address=c.email, kind="provisioning_completed", related=order,
                subject=_("Your enterprise e-mail service for %(domain)s is open") % fmt,
                body=_("Dear %(name)s,\n\nThe enterprise e-mail service for the domain %(domain)s "
                       "(contract %(contract)s) is open: the mailboxes are created and the "
                       "administrator account has been handed over.\n\nPayment confirmed at "
                       "%(paid)s; provisioning completed at %(done)s.\n\nIf anything does not "
                       "work, please contact your customer-service specialist.\n") % fmt,
                idempotency_key=f"provisioning:{order.pk}:contact:{c.pk}:email"))
    return out


def _local(at: datetime | None) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else "—"


def provisioning_complete(*, order_id: int, actor: Any, confirm: bool, note: str = "",
                          completed_at: datetime | None = None,
                          now: datetime | None = None) -> ProvisioningOrder:
    """The service is open: the domain is set, every item of the work is done and the engineer
    confirms. Meets the E5 clock at `completed_at` (when the work was finished; now unless recorded
    late) on the SLA engine's one boundary rule, and tells the customer's authorized contacts by
    e-mail (ticking "customer notified"). At or after the deadline, "that month's fee waived" is
    proposed. Refused with nothing saved otherwise."""
    _require(actor, WORK_ROLES, _("Only an engineer or a manager can do this."))
    now = now or timezone.now()
    completed_at = completed_at or now
    _not_future(completed_at, now, "completed_at")
    with transaction.atomic():
        order = _locked(order_id)
        if not can_proceed(order.complete):
            raise _refusal(order, "complete")
        errors: dict[str, list[Any]] = {}
        if not order.domain:
            errors["domain"] = [_("Enter the domain name first.")]
        items = list(order.items.select_for_update().order_by("position", "id"))
        pending = [str(i.get_code_display()) for i in items if not i.done and i.code != NOTIFIED]
        if pending:
            errors["items"] = [_("Not done yet: %(items)s.") % {"items": "、".join(pending)}]
        assert order.payment_confirmed_at is not None
        if completed_at < order.payment_confirmed_at:
            errors["completed_at"] = [_("The work cannot be completed before the payment was confirmed.")]
        contacts = _contacts(order, timezone.localtime(now).date())
        notified = next((i for i in items if i.code == NOTIFIED), None)
        if not contacts and (notified is None or not notified.done):
            errors["items"] = [*errors.get("items", []), _(
                "No authorized contact of the customer has an e-mail address: tell the customer "
                "another way and tick “Customer notified” first.")]
        if not confirm:
            errors["confirm"] = [_("Confirm that the service is open.")]
        if errors:
            raise DomainError(_("The provisioning cannot be completed yet."), field_errors=errors)
        before = order.state
        order.complete(at=completed_at, by=_user(actor), note=note)
        order.save()
        audit_record(obj=order, action="complete", actor=actor, from_state=before, to_state=order.state,
                     reason=note, now=now, data={"completed_at": completed_at.isoformat()})
        if contacts:
            addresses = [c.email for c in contacts]
            if notified is not None and not notified.done:
                notified.done_at, notified.done_by = now, _user(actor)
                notified.note = _("E-mail sent to %(addresses)s") % {"addresses": "、".join(addresses)}
                notified.save(update_fields=["done_at", "done_by", "note"])
            notifications_enqueue(messages=_completion_messages(order, contacts), now=now)
            audit_record(obj=order, action="notify", actor=actor, now=now,
                         data={"contacts": [c.pk for c in contacts], "addresses": addresses})
        _meet(order, actor=actor, at=completed_at, now=now)
    return order


def _meet(order: ProvisioningOrder, *, actor: Any, at: datetime, now: datetime) -> None:
    """Meet E5 with the completion time on the one boundary rule (sla.services.clock_meet):
    strictly before the deadline is in time; at or after it the clock ends breached and the
    waiver is proposed here as well as by the breach listener (idempotent), so it does not hang
    on a signal. A breach the sweep recorded before an in-time completion reached us becomes
    "met, recorded late", and the waiver it caused is withdrawn (clock_breach_withdrawn)."""
    if provisioning_clock(order) is None:
        return
    clock = None
    for code in E5_CODES:
        clock = clock_meet_for(subject=order, policy_code=code, actor=actor,
                               reason="邮件服务已开通", now=at) or clock
    if clock is not None and clock.state == ClockState.BREACHED:
        provisioning_breach_record(order=order, clock=clock, now=now)


def provisioning_cancel(*, order_id: int, actor: Any, reason: str,
                        now: datetime | None = None) -> ProvisioningOrder:
    """The service is not going to be opened (entered by mistake, the customer withdrew or did
    not pay): managers only, with a reason; a running E5 clock is cancelled."""
    _require(actor, (Role.MANAGER,), _("Only a manager can cancel a provisioning order."))
    if not (reason or "").strip():
        raise DomainError(_("Say why the order is cancelled."), field_errors={"reason": [_("Required.")]})
    now = now or timezone.now()
    with transaction.atomic():
        order = _locked(order_id)
        if not can_proceed(order.cancel):
            raise _refusal(order, "cancel")
        before = order.state
        order.cancel(at=now, reason=reason.strip())
        order.save()
        audit_record(obj=order, action="cancel", actor=actor, from_state=before, to_state=order.state,
                     reason=reason, now=now)
        clock_cancel_for(subject=order, actor=actor, reason=reason, now=now)
    return order


# --- Breach: that month's fee waived ------------------------------------------------------------

# Audit reasons written by the system are stored in Chinese, the portal's default language (as
# sla.services does): sla_ui.audit_reason shows free text as written.
def _audited(order: ProvisioningOrder, action: str, clock_id: int) -> bool:
    return AuditEntry.objects.filter(content_type=ContentType.objects.get_for_model(ProvisioningOrder),
                                     object_id=order.pk, action=action, data__clock=clock_id).exists()


def provisioning_breach_record(*, order: ProvisioningOrder, clock: Clock,
                               now: datetime | None = None) -> Credit | None:
    """E5 is broken for this order: propose waiving the fee of the month the deadline fell in
    (seed 002 §8.3), once per contract and month. A contract with no monthly fee has nothing to
    waive: that is recorded in the order's audit trail."""
    now = now or timezone.now()
    contract = order.contract
    due_local = timezone.localtime(clock.due_at)
    period = due_local.date().replace(day=1)
    key = waiver_dedupe_key(contract.pk, period)
    with transaction.atomic():
        if contract.monthly_fee <= 0:
            if not _audited(order, "waiver_none", clock.pk):
                audit_record(obj=order, action="waiver_none", now=now,
                             reason="开通超期；合同月费为 0.00，无费用可免",
                             data={"clock": clock.pk})
            return None
        existed = Credit.objects.filter(dedupe_key=key).first()
        if existed is not None and existed.state == CreditState.WITHDRAWN:
            # Withdrawn when an earlier breach turned out to be in time; this one is a new breach.
            key = f"{key}:order:{order.pk}"
            existed = Credit.objects.filter(dedupe_key=key).first()
        hours = clock.target.normalize()
        credit = credit_propose(
            contract=contract, policy_code=clock.policy.code, kind=CreditKind.WAIVE_MONTH_RENT,
            period=period, amount=contract.monthly_fee, evidence=clock,
            note=(f"邮件服务 {order.domain or order.service.name} 未在确认收款后{hours:f}小时内开通（截止 "
                  f"{due_local:%Y-%m-%d %H:%M}），依保证书第八条免收当月之费用。"
                  f" E-mail provisioning of {order.domain or order.service.name} not completed by "
                  f"{due_local:%Y-%m-%d %H:%M}: that month's fee waived (E5)."),
            dedupe_key=key, now=now)
        if not _audited(order, "waiver_proposed", clock.pk):
            audit_record(obj=order, action="waiver_proposed", now=now, reason="开通超期",
                         data={"credit": credit.pk, "clock": clock.pk, "new": existed is None,
                               "amount": str(contract.monthly_fee), "period": period.isoformat()})
    return credit


def provisioning_breach_withdrawn(*, clock_id: int, reason: str,
                                  now: datetime | None = None) -> Credit | None:
    """An E5 breach of an order is no longer a breach (completed before the deadline and recorded
    late, or exempted): withdraw that month's waiver, unless another order of the contract is
    still late that month. Idempotent."""
    now = now or timezone.now()
    ct = ContentType.objects.get_for_model(ProvisioningOrder)
    clock = Clock.objects.filter(pk=clock_id, policy__code__in=E5_CODES, content_type=ct).first()
    if clock is None:
        return None
    order = ProvisioningOrder.objects.select_related("contract").filter(pk=clock.object_id).first()
    if order is None:
        return None
    period = timezone.localtime(clock.due_at).date().replace(day=1)
    with transaction.atomic():
        others = [c for c in Clock.objects.filter(
            content_type=ct, policy__code__in=E5_CODES, state=ClockState.BREACHED,
            object_id__in=ProvisioningOrder.objects.filter(contract=order.contract_id).values("pk"))
            if timezone.localtime(c.due_at).date().replace(day=1) == period]
        if others:
            return None
        credit = (Credit.objects.select_for_update()
                  .filter(contract=order.contract_id, kind=CreditKind.WAIVE_MONTH_RENT,
                          dedupe_key__startswith=waiver_dedupe_key(order.contract_id, period),
                          state__in=[CreditState.PROPOSED, CreditState.APPROVED]).first())
        if credit is None:
            return None
        credit_withdraw(credit_id=credit.pk, now=now,
                        reason=f"开通工单 {order} 的超期判定已撤销：{reason}".strip())
        audit_record(obj=order, action="waiver_withdrawn", now=now, reason=reason,
                     data={"credit": credit.pk, "clock": clock.pk})
    return credit


def provisioning_clocks_breached(*, clock_ids: list[int], now: datetime | None = None) -> int:
    """The sweep breached these clocks: for each E5 clock of a provisioning order, propose the
    waiver (the deadline passed with the order still open)."""
    ct = ContentType.objects.get_for_model(ProvisioningOrder)
    done = 0
    for clock in Clock.objects.filter(pk__in=clock_ids, policy__code__in=E5_CODES,
                                      content_type=ct).select_related("policy"):
        try:
            order = ProvisioningOrder.objects.select_related("contract", "service").get(pk=clock.object_id)
            provisioning_breach_record(order=order, clock=clock, now=now)
            done += 1
        except Exception:  # the sweep already committed; one bad row must not stop the others
            logger.exception("recording the E5 breach of clock %s failed", clock.pk)
    return done
