"""Every write of the authorized-operation workflow. Each service locks the operation row,
checks the transition, saves, audits in the same transaction, starts or meets its clocks and
queues mail after commit. Nothing starts an operation without an accepted authorization: the
model's transition condition refuses it, whatever path calls it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from audit.services import audit_record
from customers.choices import Language, Role
from customers.models import AuthorizedContact, Customer, Service
from customers.selectors import staff_users_with_role, user_customer_id, user_has_role, user_is_staff
from notifications.services import Message, as_attachment, notifications_enqueue
from reports.choices import ReportKind
from reports.models import WrittenReport
from reports.selectors import report_preview_html
from reports.services import report_issue
from sla.services import clock_cancel_for, clock_meet_for, clock_open_for, clock_start
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from slaportal.uploads import check_upload

from .choices import (
    AuthorizationMethod,
    AuthorizationStatus,
    OperationState,
    PhoneAttemptResult,
    Urgency,
)
from .models import (
    Authorization,
    OperationMessage,
    OperationRequest,
    OperationStep,
    PhoneAttempt,
    PhoneAuthLock,
)

C5, C6, C7 = "C5", "C6", "C7"
S = OperationState
# Who may act on an operation: the technical engineers, and managers standing in for them.
OPERATOR_ROLES = (Role.ENGINEER, Role.MANAGER)
# Who may log a request on a contact's behalf (the call may reach customer service first).
INTAKE_ROLES = (Role.ENGINEER, Role.MANAGER, Role.SPECIALIST)


def phone_max_failures() -> int:
    return int(getattr(settings, "PHONE_AUTH_MAX_FAILURES", 5))


def phone_window() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "PHONE_AUTH_WINDOW_MINUTES", 15)))


def phone_lock_span() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "PHONE_AUTH_LOCK_MINUTES", 15)))


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _require_operator(actor: Any) -> None:
    if not user_has_role(actor, *OPERATOR_ROLES):
        raise ForbiddenError(_("Only an engineer or a manager can do this."))


def _require_owner_or_staff(actor: Any, op: OperationRequest) -> None:
    if user_is_staff(actor):
        return
    if user_customer_id(actor) != op.customer_id:
        raise ForbiddenError(_("Only the customer or staff can do this."))


def _local_day(now: datetime) -> date:
    return timezone.localtime(now).date()


def _contract_of(op: OperationRequest) -> Any:
    return op.service.contract


def _label(op: OperationRequest) -> str:
    return f"{op.number} {op.title}"[:200]


def _required(**fields: str) -> None:
    errors = {k: [_("Required.")] for k, v in fields.items() if not (v or "").strip()}
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)


# --- The request ----------------------------------------------------------------------------

def operation_create(
    *,
    service: Service,
    requested_by: AuthorizedContact,
    title: str,
    description: str,
    actor: Any,
    urgency: str = Urgency.NORMAL,
    engineer: Any = None,
    now: datetime | None = None,
) -> OperationRequest:
    """Record an operation request: made in the portal by the customer's user, or raised by
    staff on the authorized contact's behalf. Only a designated authorized contact valid today
    can ask for work on the customer's equipment (第六条)."""
    now = now or timezone.now()
    customer = service.customer
    if user_is_staff(actor):
        if not user_has_role(actor, *INTAKE_ROLES):
            raise ForbiddenError(_("Your role cannot raise operation requests."))
    elif user_customer_id(actor) != customer.pk:
        raise ForbiddenError(_("You can only request operations for your own organisation."))
    else:
        engineer = None  # the customer does not pick the engineer
    if requested_by.customer_id == customer.pk and not requested_by.is_valid_on(_local_day(now)):
        raise DomainError(_("Only a designated authorized contact may request an operation."),
                          field_errors={"requested_by": [_("Not an authorized contact today.")]})
    op = OperationRequest(
        customer=customer, service=service, requested_by=requested_by, title=title,
        description=description, urgency=urgency, engineer=engineer or service.engineer,
        raised_by=_user(actor), requested_at=now,
    )
    try:
        op.full_clean(exclude=["number", "state"])  # protected FSM field: never re-set
    except ValidationError as e:
        raise DomainError(_("Please correct the errors below."), field_errors=e.message_dict) from None
    with transaction.atomic():
        op.save()
        op.number = f"CZ{timezone.localtime(now):%Y%m%d}-{op.pk:06d}"
        OperationRequest.objects.filter(pk=op.pk).update(number=op.number)
        audit_record(obj=op, action="create", actor=actor, to_state=op.state, now=now,
                     data={"requested_by": requested_by.pk, "urgency": urgency})
        if op.engineer_id and op.engineer.email:
            with translation.override("zh-hans"):
                notifications_enqueue(messages=[Message(
                    channel="email", address=op.engineer.email, recipient_id=op.engineer_id,
                    kind="operation_requested", related=op,
                    subject=_("Operation request %(number)s: %(title)s")
                    % {"number": op.number, "title": op.title},
                    body=_("%(customer)s asks for an operation on %(service)s.\n\n%(description)s\n\n"
                           "Nothing may be done before an authorization is accepted.")
                    % {"customer": customer, "service": service, "description": description},
                    idempotency_key=f"operation:{op.pk}:requested:user:{op.engineer_id}:email")],
                    now=now)
    return op


def _locked(operation_id: int) -> OperationRequest:
    try:
        # FOR UPDATE OF self: the engineer is an outer join PostgreSQL will not lock through.
        return (OperationRequest.objects.select_for_update(of=("self",))
                .select_related("customer", "service__contract", "requested_by", "engineer")
                .get(pk=operation_id))
    except OperationRequest.DoesNotExist:
        raise DomainError(_("No such operation request."), code="not_found") from None


TRANSITION_LABELS = {
    "authorize": "authorized", "start": "started", "finish": "finished", "report": "reported on",
    "close": "closed", "refuse": "refused", "cancel": "cancelled",
}


def _move(op: OperationRequest, method: str, *, actor: Any, reason: str, now: datetime,
          args: dict[str, Any] | None = None) -> None:
    bound = getattr(op, method)
    if not can_proceed(bound):
        if method in ("start", "authorize") and op.state in (S.REQUESTED, S.AUTHORIZED):
            raise ConflictError(_("Nothing may be started before an authorization is accepted."),
                                code="not_authorized")
        raise ConflictError(
            _("An operation that is %(state)s cannot be %(action)s.")
            % {"state": op.get_state_display(), "action": TRANSITION_LABELS.get(method, method)})
    before = op.state
    bound(at=now, **(args or {}))
    op.save()
    audit_record(obj=op, action=method, actor=actor, from_state=before, to_state=op.state,
                 reason=reason, now=now)


# --- Authorizations -------------------------------------------------------------------------

def _on_accepted(op: OperationRequest, auth: Authorization, *, actor: Any, now: datetime) -> None:
    """What an accepted authorization sets going: the first one authorizes the operation and
    starts C5 (first feedback in 30 minutes); a phone one starts C7 (the written must follow)."""
    if op.state == S.REQUESTED:
        _move(op, "authorize", actor=actor, reason=f"{auth.method} authorization accepted", now=now)
        clock_start(subject=op, policy_code=C5, customer=op.customer, contract=_contract_of(op),
                    assignee=op.engineer, label=_label(op), actor=actor,
                    reason="authorization accepted", now=now)
    if auth.method == AuthorizationMethod.PHONE and not _written_arrived(op):
        if clock_open_for(subject=op, policy_code=C7) is None:
            clock_start(subject=op, policy_code=C7, customer=op.customer,
                        contract=_contract_of(op), assignee=op.engineer, label=_label(op),
                        actor=actor, reason="phone authorization accepted", now=now)


def _written_arrived(op: OperationRequest) -> bool:
    return op.authorizations.filter(
        method=AuthorizationMethod.WRITTEN,
        status__in=[AuthorizationStatus.PENDING, AuthorizationStatus.ACCEPTED]).exists()


def _check_contact(op: OperationRequest, contact: AuthorizedContact, day: date, *, field: str) -> None:
    if contact.customer_id != op.customer_id:
        raise DomainError(_("This contact belongs to another customer."),
                          field_errors={field: [_("Not a contact of this customer.")]})
    if not contact.is_valid_on(day):
        raise DomainError(
            _("%(name)s was not a designated authorized contact on %(day)s.")
            % {"name": contact.name, "day": day.isoformat()},
            field_errors={field: [_("Not an authorized contact on that day.")]})


def authorization_upload_written(
    *,
    operation_id: int,
    f: IO[bytes],
    contact: AuthorizedContact,
    actor: Any,
    signed_on: date | None = None,
    corrects: Authorization | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Authorization:
    """Receive a written authorization 书面授权: the signed scan or PDF of one of the customer's
    designated authorized contacts, valid on the day it was signed. Uploaded by staff it is
    accepted at once (they checked the signature); uploaded by the customer it waits for the
    engineer's check. Its arrival meets C7 when a phone authorization came first."""
    now = now or timezone.now()
    checked = check_upload(f, field="file")
    signed_on = signed_on or _local_day(now)
    if signed_on > _local_day(now):
        raise DomainError(_("The signing date cannot be in the future."),
                          field_errors={"signed_on": [_("In the future.")]})
    staff = user_is_staff(actor)
    if staff and not user_has_role(actor, *OPERATOR_ROLES):
        raise ForbiddenError(_("Only an engineer or a manager can do this."))
    with transaction.atomic():
        op = _locked(operation_id)
        _require_owner_or_staff(actor, op)
        if op.state in (S.REFUSED, S.CANCELLED):
            raise ConflictError(_("A %(state)s operation takes no authorization.")
                                % {"state": op.get_state_display()})
        # The signer must be a designated contact on the day they signed AND on the day the
        # document reaches us: a former contact cannot authorize today's work with a letter
        # dated back to when they still were one. A letter signed the day before the request
        # was logged is fine.
        _check_contact(op, contact, signed_on, field="contact")
        _check_contact(op, contact, _local_day(now), field="contact")
        if corrects is not None:
            corrects = Authorization.objects.select_for_update().get(pk=corrects.pk)
            if corrects.operation_id != op.pk:
                raise ConflictError(_("That authorization belongs to another operation."))
            if Authorization.objects.filter(corrects_id=corrects.pk).exists():
                raise ConflictError(_("That authorization has already been corrected."))
        auth = Authorization(
            operation=op, method=AuthorizationMethod.WRITTEN, contact=contact, signed_on=signed_on,
            stored_name=checked.stored_name,
            original_name=(getattr(f, "name", "") or "file").replace("\\", "/").rsplit("/", 1)[-1][:200],
            content_type=checked.mime, size=checked.size, sha256=checked.sha256,
            corrects=corrects, note=note, received_at=now, received_by=_user(actor),
            status=AuthorizationStatus.ACCEPTED if staff else AuthorizationStatus.PENDING,
        )
        if staff:
            auth.decided_at, auth.decided_by = now, _user(actor)
        auth.file.save(checked.stored_name, File(f), save=False)
        auth.save()
        audit_record(obj=auth, action="receive", actor=actor, to_state=auth.status, now=now,
                     data={"operation": op.pk, "sha256": auth.sha256, "contact": contact.pk,
                           "corrects": corrects.pk if corrects else None})
        audit_record(obj=op, action="written_authorization", actor=actor, now=now,
                     data={"authorization": auth.pk, "status": auth.status})
        clock_meet_for(subject=op, policy_code=C7, actor=actor,
                       reason="written authorization received", now=now)
        if auth.status == AuthorizationStatus.ACCEPTED:
            _on_accepted(op, auth, actor=actor, now=now)
    return auth


def _decide(authorization_id: int, operation_id: int | None) -> tuple[OperationRequest, Authorization]:
    try:
        op_id = operation_id or Authorization.objects.values_list("operation_id", flat=True).get(
            pk=authorization_id)
    except Authorization.DoesNotExist:
        raise DomainError(_("No such authorization."), code="not_found") from None
    op = _locked(op_id)
    try:
        auth = Authorization.objects.select_for_update().get(pk=authorization_id, operation_id=op.pk)
    except Authorization.DoesNotExist:
        raise DomainError(_("No such authorization."), code="not_found") from None
    if auth.status != AuthorizationStatus.PENDING:
        raise ConflictError(_("This authorization has already been decided."))
    return op, auth


def authorization_accept(*, authorization_id: int, actor: Any, reason: str = "",
                         now: datetime | None = None) -> Authorization:
    """The engineer has checked the signature on a written authorization the customer uploaded:
    accept it. The first accepted authorization authorizes the operation and starts C5."""
    _require_operator(actor)
    now = now or timezone.now()
    with transaction.atomic():
        op, auth = _decide(authorization_id, None)
        if op.state in (S.REFUSED, S.CANCELLED):
            raise ConflictError(_("A %(state)s operation takes no authorization.")
                                % {"state": op.get_state_display()})
        _check_contact(op, auth.contact, auth.signed_on, field="contact")
        auth.status = AuthorizationStatus.ACCEPTED
        auth.decided_at, auth.decided_by, auth.decision_reason = now, _user(actor), reason
        auth.save()
        audit_record(obj=auth, action="accept", actor=actor, from_state=AuthorizationStatus.PENDING,
                     to_state=auth.status, reason=reason, now=now)
        _on_accepted(op, auth, actor=actor, now=now)
    return auth


def authorization_reject(*, authorization_id: int, actor: Any, reason: str,
                         now: datetime | None = None) -> Authorization:
    """Reject a written authorization (no valid signature, wrong document). If it was the
    written authorization owed after a phone authorization, a new C7 clock starts."""
    _require_operator(actor)
    _required(reason=reason)
    now = now or timezone.now()
    with transaction.atomic():
        op, auth = _decide(authorization_id, None)
        auth.status = AuthorizationStatus.REJECTED
        auth.decided_at, auth.decided_by, auth.decision_reason = now, _user(actor), reason
        auth.save()
        audit_record(obj=auth, action="reject", actor=actor, from_state=AuthorizationStatus.PENDING,
                     to_state=auth.status, reason=reason, now=now)
        phone = op.authorizations.filter(method=AuthorizationMethod.PHONE,
                                         status=AuthorizationStatus.ACCEPTED).exists()
        if phone and not _written_arrived(op) and clock_open_for(subject=op, policy_code=C7) is None:
            clock_start(subject=op, policy_code=C7, customer=op.customer, contract=_contract_of(op),
                        assignee=op.engineer, label=_label(op), actor=actor,
                        reason="written authorization rejected", now=now)
    return auth


def phone_lock_active(*, customer_id: int, now: datetime | None = None) -> PhoneAuthLock | None:
    now = now or timezone.now()
    return (PhoneAuthLock.objects.filter(customer_id=customer_id, locked_at__lte=now,
                                         locked_until__gt=now).order_by("-locked_until").first())


def phone_authorization_attempt(
    *,
    operation_id: int,
    contact: AuthorizedContact,
    mrtg_username: str,
    mrtg_password: str,
    actor: Any,
    caller_name: str = "",
    caller_phone: str = "",
    now: datetime | None = None,
) -> PhoneAttempt:
    """Check a phone authorization 电话授权: the MRTG user name and password the caller gives
    against the contact's stored hash (constant time). Every attempt is logged with the engineer
    and the time. A right pair from a contact valid today is accepted; a wrong one is marked
    非法授权 and the engineer may refuse. After too many wrong attempts in the window, phone
    authorization for the customer is locked and the contacts and managers are alerted.

    Returns the attempt (whatever its result) so the refusal is committed with its log row."""
    _require_operator(actor)
    now = now or timezone.now()
    with transaction.atomic():
        op_customer = OperationRequest.objects.values_list("customer_id", flat=True).filter(
            pk=operation_id).first()
        if op_customer is None:
            raise DomainError(_("No such operation request."), code="not_found")
        # One customer's attempts are counted one at a time: two engineers cannot both slip
        # in under the limit.
        customer = Customer.objects.select_for_update().get(pk=op_customer)
        op = _locked(operation_id)
        if op.state != S.REQUESTED:
            raise ConflictError(_("An operation that is %(state)s needs no phone authorization.")
                                % {"state": op.get_state_display()})
        if contact.customer_id != op.customer_id:
            raise DomainError(_("This contact belongs to another customer."),
                              field_errors={"contact": [_("Not a contact of this customer.")]})
        attempt = PhoneAttempt(operation=op, customer=customer, contact=contact,
                               caller_name=caller_name, caller_phone=caller_phone,
                               mrtg_username_given=mrtg_username[:120], engineer=actor, at=now)
        lock = phone_lock_active(customer_id=customer.pk, now=now)
        if lock is not None:
            attempt.result = PhoneAttemptResult.LOCKED
            attempt.save()
        else:
            # check_mrtg runs the hash check whatever the user name, so timing tells nothing.
            ok = contact.check_mrtg(mrtg_username, mrtg_password)
            ok = ok and contact.is_valid_on(_local_day(now))
            attempt.result = PhoneAttemptResult.ACCEPTED if ok else PhoneAttemptResult.UNAUTHORIZED
            attempt.save()
        audit_record(obj=op, action="phone_attempt", actor=actor, now=now,
                     data={"attempt": attempt.pk, "result": attempt.result, "contact": contact.pk})
        if attempt.result == PhoneAttemptResult.ACCEPTED:
            auth = Authorization.objects.create(
                operation=op, method=AuthorizationMethod.PHONE, status=AuthorizationStatus.ACCEPTED,
                contact=contact, signed_on=_local_day(now), phone_attempt=attempt,
                received_at=now, received_by=_user(actor), decided_at=now, decided_by=_user(actor),
                note=caller_name)
            audit_record(obj=auth, action="accept", actor=actor, to_state=auth.status, now=now,
                         data={"operation": op.pk, "attempt": attempt.pk})
            _on_accepted(op, auth, actor=actor, now=now)
        elif attempt.result == PhoneAttemptResult.UNAUTHORIZED:
            _maybe_lock(customer=customer, attempt=attempt, actor=actor, now=now)
    return attempt


# Other channels that check the same MRTG user name and password (the read-only traffic view)
# register how many wrong ones they saw for a customer in a span; their failures count toward the
# one lock with the phone's. fn(customer_id=, since=, until=) -> int.
MrtgFailureCounter = Callable[..., int]
_MRTG_FAILURE_COUNTERS: dict[str, MrtgFailureCounter] = {}


def mrtg_failure_counter_register(name: str, fn: MrtgFailureCounter) -> None:
    """Count another channel's wrong MRTG passwords toward the phone-authorization lock."""
    _MRTG_FAILURE_COUNTERS[name] = fn


def mrtg_lock_evaluate(*, customer_id: int, actor: Any = None, attempt: PhoneAttempt | None = None,
                       now: datetime | None = None) -> PhoneAuthLock | None:
    """Lock phone authorization (and every channel checking the MRTG secret) for the customer when
    its wrong attempts on all channels since the window's start, or since the last lock, reached
    the limit; alert the contacts and managers. Returns the new lock, if one was made. Call it
    after recording a wrong attempt, in the same transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        # One customer's attempts are counted one at a time: two channels cannot both slip in
        # under the limit.
        customer = Customer.objects.select_for_update().get(pk=customer_id)
        if phone_lock_active(customer_id=customer_id, now=now) is not None:
            return None
        since = now - phone_window()
        last = PhoneAuthLock.objects.filter(customer=customer, locked_at__lte=now).order_by("-locked_at").first()
        if last is not None and last.locked_at > since:
            since = last.locked_at  # wrong attempts that caused a lock do not count again
        failures = PhoneAttempt.objects.filter(customer=customer, result=PhoneAttemptResult.UNAUTHORIZED,
                                               at__gt=since, at__lte=now).count()
        failures += sum(fn(customer_id=customer_id, since=since, until=now)
                        for fn in _MRTG_FAILURE_COUNTERS.values())
        if failures < phone_max_failures():
            return None
        lock = PhoneAuthLock.objects.create(customer=customer, locked_at=now,
                                            locked_until=now + phone_lock_span(),
                                            failures=min(failures, 32767), triggered_by=attempt)
        audit_record(obj=lock, action="phone_lock", actor=actor, now=now,
                     data={"customer": customer.pk, "failures": failures,
                           "until": lock.locked_until.isoformat()})
        _alert_lock(customer=customer, lock=lock, now=now)
    return lock


def _maybe_lock(*, customer: Customer, attempt: PhoneAttempt, actor: Any, now: datetime) -> None:
    mrtg_lock_evaluate(customer_id=customer.pk, actor=actor, attempt=attempt, now=now)


def _alert_lock(*, customer: Customer, lock: PhoneAuthLock, now: datetime) -> None:
    until = timezone.localtime(lock.locked_until).strftime("%Y-%m-%d %H:%M")
    messages: list[Message] = []
    fmt = {"customer": customer.name, "n": lock.failures, "until": until}
    for c in customer.authorized_contacts.filter(active=True).exclude(email=""):
        with translation.override("en" if c.language == Language.EN else "zh-hans"):
            messages.append(Message(
                channel="email", address=c.email, kind="phone_auth_locked", related=lock,
                subject=_("Phone authorization locked for %(customer)s") % fmt,
                body=_("%(n)s phone authorizations with a wrong MRTG user name or password were "
                       "attempted for %(customer)s. Phone authorization is locked until %(until)s. "
                       "If these calls were not yours, please contact us.") % fmt,
                idempotency_key=f"phone-lock:{lock.pk}:contact:{c.pk}:email"))
    with translation.override("zh-hans"):
        for u in staff_users_with_role(Role.MANAGER):
            messages.append(Message(
                channel="email", address=u.email or "", kind="phone_auth_locked", related=lock,
                recipient_id=u.pk,
                subject=_("Phone authorization locked for %(customer)s") % fmt,
                body=_("%(n)s wrong phone authorization attempts (非法授权) for %(customer)s. "
                       "Locked until %(until)s.") % fmt,
                idempotency_key=f"phone-lock:{lock.pk}:user:{u.pk}:email"))
    notifications_enqueue(messages=messages, now=now)


# --- The operation --------------------------------------------------------------------------

def _notify_contact(op: OperationRequest, *, kind: str, subject: str, body: str, key: str,
                    now: datetime, attachments: list[dict[str, str]] | None = None) -> None:
    address = op.requested_by.email
    if not address:
        return
    notifications_enqueue(messages=[Message(
        channel="email", address=address, kind=kind, subject=subject, body=body, related=op,
        idempotency_key=f"{key}:email:{address}", attachments=attachments or [])], now=now)


def _contact_language(op: OperationRequest) -> str:
    return "en" if op.requested_by.language == Language.EN else "zh-hans"


def operation_refuse(*, operation_id: int, actor: Any, reason: str,
                     now: datetime | None = None) -> OperationRequest:
    """The engineer refuses the operation (for example after a 非法授权 phone call); the
    requesting contact is told why."""
    _require_operator(actor)
    _required(reason=reason)
    now = now or timezone.now()
    with transaction.atomic():
        op = _locked(operation_id)
        _move(op, "refuse", actor=actor, reason=reason, now=now, args={"reason": reason})
        with translation.override(_contact_language(op)):
            _notify_contact(op, kind="operation_refused", key=f"operation:{op.pk}:refused", now=now,
                            subject=_("Operation request %(number)s refused") % {"number": op.number},
                            body=_("Your operation request %(number)s (%(title)s) was refused: "
                                   "%(reason)s") % {"number": op.number, "title": op.title,
                                                   "reason": reason})
    return op



def operation_cancel(*, operation_id: int, actor: Any, reason: str = "",
                     now: datetime | None = None) -> OperationRequest:
    """The customer (or staff) withdraws the request before work starts; open clocks end."""
    now = now or timezone.now()
    with transaction.atomic():
        op = _locked(operation_id)
        _require_owner_or_staff(actor, op)
        if user_is_staff(actor):
            _require_operator(actor)
        _move(op, "cancel", actor=actor, reason=reason, now=now, args={"reason": reason})
        clock_cancel_for(subject=op, actor=actor, reason="operation cancelled", now=now)
    return op


def operation_start(*, operation_id: int, actor: Any, now: datetime | None = None) -> OperationRequest:
    """Start the work. Refused unless an authorization has been accepted (第七条: 乙方工程师在
    得到甲方授权后方可对甲方系统进行授权的无责任操作)."""
    _require_operator(actor)
    now = now or timezone.now()
    with transaction.atomic():
        op = _locked(operation_id)
        _move(op, "start", actor=actor, reason="", now=now)
    return op


def operation_step_add(*, operation_id: int, description: str, actor: Any,
                       done_at: datetime | None = None, now: datetime | None = None) -> OperationStep:
    """Log one step of the work with its time (kept for the written operation report)."""
    _require_operator(actor)
    _required(description=description)
    now = now or timezone.now()
    done_at = done_at or now
    with transaction.atomic():
        op = _locked(operation_id)
        if op.state != S.IN_PROGRESS:
            raise ConflictError(_("Steps are logged while the operation is in progress."))
        if done_at > now or (op.started_at and done_at < op.started_at):
            raise DomainError(_("The step's time must be between the start and now."),
                              field_errors={"done_at": [_("Out of range.")]})
        step = OperationStep.objects.create(operation=op, done_at=done_at, description=description,
                                            recorded_by=actor, recorded_at=now)
        audit_record(obj=op, action="step", actor=actor, now=now, data={"step": step.pk})
    return step


def operation_feedback_send(*, operation_id: int, body: str, actor: Any,
                            now: datetime | None = None) -> OperationMessage:
    """Send a feedback message to the customer: by e-mail to the requesting contact and on the
    operation's portal page. The first one after the authorization meets C5."""
    _require_operator(actor)
    _required(body=body)
    now = now or timezone.now()
    with transaction.atomic():
        op = _locked(operation_id)
        if op.state in (S.REQUESTED, S.REFUSED, S.CANCELLED):
            raise ConflictError(_("Feedback follows an accepted authorization."))
        first = not op.messages.exists()
        msg = OperationMessage(operation=op, body=body, sent_at=now, sent_by=actor)
        msg.first = first
        msg.save()
        audit_record(obj=op, action="feedback", actor=actor, now=now,
                     data={"message": msg.pk, "first": first})
        if first:
            clock_meet_for(subject=op, policy_code=C5, actor=actor, reason="first feedback sent",
                           now=now)
        with translation.override(_contact_language(op)):
            _notify_contact(op, kind="operation_feedback", key=f"operation:{op.pk}:message:{msg.pk}",
                            now=now,
                            subject=_("Operation %(number)s: progress") % {"number": op.number},
                            body=_("%(body)s\n\n— %(engineer)s, operation %(number)s (%(title)s)")
                            % {"body": body, "engineer": actor.get_full_name() or actor.username,
                               "number": op.number, "title": op.title})
    return msg


def operation_finish(*, operation_id: int, result: str, actor: Any,
                     now: datetime | None = None) -> OperationRequest:
    """The work is done: record the result and start C6 (the written report within 24 hours)."""
    _require_operator(actor)
    _required(result=result)
    now = now or timezone.now()
    with transaction.atomic():
        op = _locked(operation_id)
        _move(op, "finish", actor=actor, reason="", now=now, args={"result": result})
        clock_start(subject=op, policy_code=C6, customer=op.customer, contract=_contract_of(op),
                    assignee=op.engineer, label=_label(op), actor=actor,
                    reason="operation finished", now=now)
    return op


def _fmt(dt: datetime | None) -> str:
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else ""


def _name(user: Any) -> str:
    return (user.get_full_name() or user.username) if user else ""


# The report is a Chinese document first (the agreement's wording), whatever state the message
# catalogue is in; English is the msgid.
REPORT_ZH = {
    AuthorizationMethod.WRITTEN: "书面授权", AuthorizationMethod.PHONE: "电话授权",
    Urgency.NORMAL: "一般", Urgency.URGENT: "紧急", Urgency.EMERGENCY: "特急",
}


def _both(choices: Any, value: str) -> tuple[str, str]:
    with translation.override("en"):
        en = str(choices(value).label)
    return REPORT_ZH.get(choices(value), en), en


def operation_report_content(op: OperationRequest, *, remarks: str = "") -> dict[str, Any]:
    """What the report states, frozen as data: what was authorized, by whom, how, what was done,
    when, the result and the engineer."""
    auths = []
    for a in op.authorizations.filter(status=AuthorizationStatus.ACCEPTED).select_related(
            "contact", "decided_by", "phone_attempt__engineer").order_by("decided_at", "id"):
        zh, en = _both(AuthorizationMethod, a.method)
        auths.append({
            "id": a.pk, "method": a.method, "method_zh": zh, "method_en": en,
            "contact": a.contact.name, "signed_on": a.signed_on.isoformat(),
            "accepted_at": _fmt(a.decided_at), "accepted_by": _name(a.decided_by),
            "sha256": a.sha256, "corrects": a.corrects_id,
        })
    steps = [{"at": _fmt(s.done_at), "description": s.description, "by": _name(s.recorded_by)}
             for s in op.steps.select_related("recorded_by")]
    urgency_zh, urgency_en = _both(Urgency, op.urgency)
    return {
        "number": op.number, "title": op.title, "description": op.description,
        "customer": op.customer.name, "service": str(op.service), "urgency_zh": urgency_zh,
        "urgency_en": urgency_en, "requested_by": op.requested_by.name,
        "requested_at": _fmt(op.requested_at), "authorized_at": _fmt(op.authorized_at),
        "authorizations": auths, "steps": steps, "started_at": _fmt(op.started_at),
        "finished_at": _fmt(op.finished_at), "result": op.result, "engineer": _name(op.engineer),
        "remarks": remarks,
    }


def operation_report_issue(*, operation_id: int, actor: Any, remarks: str = "",
                           corrects: WrittenReport | None = None,
                           now: datetime | None = None) -> WrittenReport:
    """Issue the written operation report 操作情况报告 (PDF, hashed, immutable), meet C6 with the
    first one and send it to the requesting contact. `corrects` issues a new version instead."""
    _require_operator(actor)
    now = now or timezone.now()
    from complaints.services import provider_header

    with transaction.atomic():
        op = _locked(operation_id)
        if corrects is None and op.state != S.FINISHED:
            raise ConflictError(_("The report is issued once the operation is finished."))
        if corrects is not None:
            if op.state not in (S.REPORTED, S.CLOSED):
                raise ConflictError(_("Only an issued report can be corrected."))
            if corrects.object_id != op.pk or corrects.kind != ReportKind.OPERATION:
                raise ConflictError(_("That report belongs to another operation."))
        else:
            _move(op, "report", actor=actor, reason="written report issued", now=now)
        language = Language.EN if op.requested_by.language == Language.EN else Language.ZH
        content = operation_report_content(op, remarks=remarks)
        report = report_issue(
            subject=op, customer=op.customer, kind=ReportKind.OPERATION,
            number_prefix=op.number or str(op.pk), content=content,
            template="reports/operation_report.html", language=language,
            context={"provider": provider_header(), "bilingual": language == Language.EN},
            actor=actor, supersedes=corrects, now=now)
        if corrects is None:
            clock_meet_for(subject=op, policy_code=C6, actor=actor, reason="written report issued",
                           now=now)
        audit_record(obj=op, action="report", actor=actor, now=now,
                     data={"report": report.number, "sha256": report.sha256, "version": report.version})
        with translation.override(_contact_language(op)):
            _notify_contact(
                op, kind="operation_report", key=f"report:{report.pk}", now=now,
                subject=_("Operation report %(number)s") % {"number": report.number},
                body=_("Dear %(name)s,\n\nPlease find attached the written report on operation "
                       "%(operation)s. You can also read it in the portal.\n\nSHA-256: %(sha)s\n")
                % {"name": op.requested_by.name, "operation": op.number, "sha": report.sha256},
                attachments=[as_attachment(name=report.filename, path=report.file.name or "",
                                           mimetype="application/pdf")])
    return report


def operation_report_preview(*, operation_id: int, actor: Any, remarks: str = "",
                             corrects: WrittenReport | None = None,
                             now: datetime | None = None) -> str:
    """The report `operation_report_issue` would issue, as an HTML fragment for the issuing page.
    Checks what issuing checks, and writes nothing: no report, no state change, no audit row,
    no message to the contact."""
    _require_operator(actor)
    from complaints.services import provider_header

    op = OperationRequest.objects.select_related("customer", "service", "requested_by", "engineer").get(
        pk=operation_id)
    if corrects is None and op.state != S.FINISHED:
        raise ConflictError(_("The report is issued once the operation is finished."))
    if corrects is not None and (corrects.object_id != op.pk or corrects.kind != ReportKind.OPERATION):
        raise ConflictError(_("That report belongs to another operation."))
    language = Language.EN if op.requested_by.language == Language.EN else Language.ZH
    return report_preview_html(
        subject=op, customer=op.customer, kind=ReportKind.OPERATION,
        number_prefix=op.number or str(op.pk), content=operation_report_content(op, remarks=remarks),
        template="reports/operation_report.html", language=language,
        context={"provider": provider_header(), "bilingual": language == Language.EN},
        actor=actor, supersedes=corrects, now=now)


def operation_close(*, operation_id: int, actor: Any, reason: str = "",
                    now: datetime | None = None) -> OperationRequest:
    """Close a reported operation."""
    _require_operator(actor)
    now = now or timezone.now()
    with transaction.atomic():
        op = _locked(operation_id)
        _move(op, "close", actor=actor, reason=reason, now=now)
    return op
