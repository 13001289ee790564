"""Opening service requests, routing them, moving them through their states, and the thread:
replies (the customer sees them and is told by e-mail), internal notes (never shown to the
customer, never mailed to them) and attachments. Every write locks the request, audits in the
same transaction, runs the SLA clocks through sla.services and queues mail through
notifications."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import IO, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from customers.choices import Language
from customers.models import AuthorizedContact, Customer, Service
from customers.selectors import user_customer_id, user_is_staff
from notifications.services import Message, notifications_enqueue
from sla.calendars import CalendarYearUnknown
from sla.models import Clock
from sla.services import (
    clock_cancel_for,
    clock_meet_for,
    clock_open_for,
    clock_pause,
    clock_resume,
    clock_start,
)
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from slaportal.uploads import CheckedUpload, check_upload

from ..choices import EntryKind, RequestChannel, RequestKind, RequestState
from ..models import RequestAttachment, RequestEntry, ServiceRequest
from .common import (
    SR_FIRST,
    SR_RESOLVE,
    contract_of,
    is_handler,
    locked,
    move,
    require_handler,
    require_handler_or_owner,
    thread_tag,
    user_or_none,
)

logger = logging.getLogger(__name__)


def request_route(*, customer: Customer, service: Service | None, kind: str) -> tuple[Service | None, Any]:
    """The service the request is about (the one named, else the customer's first active one)
    and who handles it: the service's dedicated engineer for a technical question, its dedicated
    specialist for everything else (seed 000 §5, §6). None when the service has nobody: the
    request shows in the unassigned queue and the manager's page warns about the service."""
    if service is None:
        service = (customer.services.filter(active=True).select_related("specialist", "engineer")
                   .order_by("id").first())
    if service is None:
        return None, None
    if kind == RequestKind.TECHNICAL:
        return service, service.engineer or service.specialist
    return service, service.specialist


def _start_clocks(sr: ServiceRequest, *, actor: Any, now: datetime) -> None:
    contract = sr.contract or (sr.service.contract if sr.service else contract_of(sr.customer))
    kind = sr.service.kind if sr.service else None
    label = f"{sr.number} {sr.title}"[:200]
    for code in (SR_FIRST, SR_RESOLVE):
        try:
            clock_start(subject=sr, policy_code=code, customer=sr.customer, contract=contract,
                        assignee=sr.assignee, label=label, actor=actor, started_at=sr.opened_at,
                        reason="service request opened", service_kind=kind, now=now)
        except CalendarYearUnknown:
            # The request must still be recorded; the manager's banner already asks for the
            # missing working-day calendar. The clock is left out and the audit says so.
            audit_record(obj=sr, action="clock_pending", actor=actor, now=now,
                         reason=f"{code}: working-day calendar missing")


def request_create(
    *,
    customer: Customer,
    actor: Any,
    kind: str,
    title: str,
    description: str,
    channel: str | None = None,
    service: Service | None = None,
    contract: Any = None,
    contact: AuthorizedContact | None = None,
    requester_name: str = "",
    requester_email: str = "",
    opened_at: datetime | None = None,
    files: list[IO[bytes]] | None = None,
    now: datetime | None = None,
) -> ServiceRequest:
    """Open a request: a customer user in the portal (always channel portal, always their own
    organisation), staff logging a phone call or an e-mail, or the system (actor None: the
    mailbox reader and the renewal task). It is routed, numbered SR-<year>-<id>, and its
    first-response and resolution clocks start at `opened_at`."""
    now = now or timezone.now()
    if actor is not None and not user_is_staff(actor):
        if user_customer_id(actor) != customer.pk:
            raise ForbiddenError(_("You can only open requests for your own organisation."))
        channel = RequestChannel.PORTAL
        opened_at = now
    elif actor is not None:
        require_handler(actor)
    errors: dict[str, list[Any]] = {}
    if kind not in RequestKind.values:
        errors["kind"] = [_("Select a valid choice.")]
    if channel not in RequestChannel.values:
        errors["channel"] = [_("Select a valid choice.")]
    if not title.strip():
        errors["title"] = [_("This field is required.")]
    if not description.strip():
        errors["description"] = [_("This field is required.")]
    if service is not None and service.customer_id != customer.pk:
        errors["service"] = [_("This service belongs to another customer.")]
    if contact is not None and contact.customer_id != customer.pk:
        errors["contact"] = [_("This contact belongs to another customer.")]
    if contract is not None and contract.customer_id != customer.pk:
        errors["contract"] = [_("This contract belongs to another customer.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    checked = [(f, check_upload(f, field="attachments")) for f in files or []]
    service, assignee = request_route(customer=customer, service=service, kind=kind)
    installation_order = None
    if kind == RequestKind.INSTALLATION and service is not None:
        from orders.models import InstallationOrder  # read-only use

        installation_order = InstallationOrder.objects.filter(service=service).first()
    sr = ServiceRequest(
        customer=customer, service=service, contract=contract, installation_order=installation_order,
        kind=kind, channel=channel, title=title.strip()[:200], description=description,
        contact=contact, requester_name=requester_name[:120] or (contact.name if contact else ""),
        requester_email=requester_email or (contact.email if contact else ""),
        assignee=assignee, opened_at=opened_at or now, created_by=user_or_none(actor),
    )
    with transaction.atomic():
        sr.save()
        sr.number = f"SR-{timezone.localtime(sr.opened_at):%Y}-{sr.pk:06d}"
        ServiceRequest.objects.filter(pk=sr.pk).update(number=sr.number)
        for f, c in checked:
            _attach(sr=sr, entry=None, f=f, checked=c, actor=actor, internal=False, now=now)
        audit_record(obj=sr, action="create", actor=actor, to_state=sr.state, now=now,
                     data={"channel": channel, "kind": kind,
                           "assignee": sr.assignee_id, "service": sr.service_id})
        _start_clocks(sr, actor=actor, now=now)
        _notify_assignee(sr, now=now)
    return sr


def _notify_assignee(sr: ServiceRequest, *, now: datetime) -> None:
    if sr.assignee is None or not sr.assignee.email:
        return
    with translation.override("zh-hans"):
        msg = Message(
            channel="email", address=sr.assignee.email, recipient_id=sr.assignee_id,
            kind="service_request_assigned", related=sr,
            subject=_("Service request %(number)s: %(title)s") % {"number": sr.number, "title": sr.title},
            body=_("%(customer)s: %(kind)s\n\n%(description)s\n")
            % {"customer": sr.customer, "kind": sr.get_kind_display(), "description": sr.description},
            idempotency_key=f"sr:{sr.pk}:assigned:{sr.assignee_id}")
    notifications_enqueue(messages=[msg], now=now)


# --- Transitions ---------------------------------------------------------------------------

def request_start(*, request_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> ServiceRequest:
    """Staff take the request up (new → in progress)."""
    require_handler(actor)
    now = now or timezone.now()
    with transaction.atomic():
        sr = locked(request_id)
        if sr.assignee_id is None:
            sr.assignee = actor  # taking an unassigned request makes it yours
        move(sr, "start", actor=actor, reason=reason, now=now)
    return sr


def request_wait(*, request_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> ServiceRequest:
    """Staff wait for the customer's answer: the resolution clock stands still meanwhile."""
    require_handler(actor)
    now = now or timezone.now()
    with transaction.atomic():
        sr = locked(request_id)
        move(sr, "wait", actor=actor, reason=reason, now=now)
        _pause_resolution(sr, actor=actor, now=now)
    return sr


def _pause_resolution(sr: ServiceRequest, *, actor: Any, now: datetime) -> None:
    clock = clock_open_for(subject=sr, policy_code=SR_RESOLVE)
    if clock is not None and clock.state == "running":
        clock_pause(clock_id=clock.pk, actor=actor, reason="waiting for the customer", now=now)


def _resume_resolution(sr: ServiceRequest, *, actor: Any, now: datetime) -> None:
    clock = clock_open_for(subject=sr, policy_code=SR_RESOLVE)
    if clock is not None and clock.state == "paused":
        clock_resume(clock_id=clock.pk, actor=actor, reason="the customer answered", now=now)


def request_resume(*, request_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> ServiceRequest:
    """Back to in progress from waiting (the customer's reply does this by itself)."""
    now = now or timezone.now()
    with transaction.atomic():
        sr = locked(request_id)
        require_handler_or_owner(actor, sr)
        move(sr, "resume", actor=actor, reason=reason, now=now)
        _resume_resolution(sr, actor=actor, now=now)
    return sr


def request_resolve(*, request_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> ServiceRequest:
    """Staff resolve the request: the resolution clock is met now (breached if at or after its
    deadline: the engine's one boundary rule)."""
    require_handler(actor)
    now = now or timezone.now()
    with transaction.atomic():
        sr = locked(request_id)
        move(sr, "resolve", actor=actor, reason=reason, now=now)
        clock_meet_for(subject=sr, policy_code=SR_RESOLVE, actor=actor, reason="request resolved", now=now)
        # Resolving without a reply is still an answer to the customer: first response kept.
        if sr.first_response_at is None:
            sr.first_response_at = now
            sr.save(update_fields=["first_response_at"])
            clock_meet_for(subject=sr, policy_code=SR_FIRST, actor=actor, reason="request resolved", now=now)
    return sr


def request_close(*, request_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> ServiceRequest:
    """Close a resolved request (staff, or the customer confirming)."""
    now = now or timezone.now()
    with transaction.atomic():
        sr = locked(request_id)
        require_handler_or_owner(actor, sr)
        move(sr, "close", actor=actor, reason=reason, now=now)
    return sr


def reopen_deadline(sr: ServiceRequest) -> datetime | None:
    """Until when the customer may reopen the request themselves."""
    if sr.resolved_at is None:
        return None
    return sr.resolved_at + timedelta(days=settings.SERVICEDESK_REOPEN_DAYS)


def request_reopen(*, request_id: int, actor: Any, reason: str, now: datetime | None = None) -> ServiceRequest:
    """Back to in progress from resolved or closed: the customer within SERVICEDESK_REOPEN_DAYS
    of the resolution, staff at any time. A new resolution clock starts now."""
    now = now or timezone.now()
    if not reason.strip():
        raise DomainError(_("Say why the request is reopened."), field_errors={"reason": [_("Required.")]})
    with transaction.atomic():
        sr = locked(request_id)
        require_handler_or_owner(actor, sr)
        deadline = reopen_deadline(sr)
        if not is_handler(actor) and deadline is not None and now >= deadline:
            raise ConflictError(_("A request can be reopened within %(days)s days of its resolution; "
                                  "please open a new one.") % {"days": settings.SERVICEDESK_REOPEN_DAYS})
        move(sr, "reopen", actor=actor, reason=reason, now=now)
        contract = sr.contract or (sr.service.contract if sr.service else contract_of(sr.customer))
        try:
            clock_start(subject=sr, policy_code=SR_RESOLVE, customer=sr.customer, contract=contract,
                        assignee=sr.assignee, label=f"{sr.number} {sr.title}"[:200], actor=actor,
                        reason="request reopened", now=now)
        except CalendarYearUnknown:
            audit_record(obj=sr, action="clock_pending", actor=actor, now=now,
                         reason=f"{SR_RESOLVE}: working-day calendar missing")
    return sr


def request_cancel(*, request_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> ServiceRequest:
    """The customer (or staff on their behalf) no longer needs an answer; open clocks are
    cancelled."""
    now = now or timezone.now()
    with transaction.atomic():
        sr = locked(request_id)
        require_handler_or_owner(actor, sr)
        move(sr, "cancel", actor=actor, reason=reason, now=now)
        clock_cancel_for(subject=sr, actor=actor, reason="request cancelled", now=now)
    return sr


def request_assign(*, request_id: int, actor: Any, assignee: Any, now: datetime | None = None) -> ServiceRequest:
    """Give the request to another member of staff (audited); open clocks follow."""
    require_handler(actor)
    now = now or timezone.now()
    if assignee is not None and not is_handler(assignee):
        raise DomainError(_("Please correct the errors below."),
                          field_errors={"assignee": [_("Not customer-service staff.")]})
    with transaction.atomic():
        sr = locked(request_id)
        before = sr.assignee_id
        sr.assignee = assignee
        sr.save(update_fields=["assignee"])
        Clock.objects.filter(content_type=ContentType.objects.get_for_model(ServiceRequest),
                             object_id=sr.pk, state__in=["running", "paused"]).update(assignee=assignee)
        audit_record(obj=sr, action="assign", actor=actor, now=now,
                     data={"from": before, "to": getattr(assignee, "pk", None)})
        _notify_assignee(sr, now=now)
    return sr


# --- The thread ------------------------------------------------------------------------------

def _attach(*, sr: ServiceRequest, entry: RequestEntry | None, f: IO[bytes], checked: CheckedUpload,
            actor: Any, internal: bool, now: datetime) -> RequestAttachment:
    att = RequestAttachment(
        request=sr, entry=entry, internal=internal, stored_name=checked.stored_name,
        original_name=(getattr(f, "name", "") or "file").rsplit("/", 1)[-1][:200],
        content_type=checked.mime, size=checked.size, sha256=checked.sha256, uploaded_at=now,
        uploaded_by=user_or_none(actor))
    att.file.save(checked.stored_name, File(f), save=False)
    att.save()
    return att


def reply_add(
    *, request_id: int, actor: Any, body: str, files: list[IO[bytes]] | None = None,
    channel: str = RequestChannel.PORTAL, contact: AuthorizedContact | None = None,
    from_email: str = "", wait_for_customer: bool = False, now: datetime | None = None,
) -> RequestEntry:
    """A reply in the thread. By staff: the first one meets the first-response clock (the
    boundary rule of sla.services.clock_meet), the customer's contacts are told by e-mail with
    the thread token in the subject, and `wait_for_customer` pauses the resolution clock. By the
    customer (portal, or e-mail with actor None and the contact): a waiting request resumes."""
    now = now or timezone.now()
    if not body.strip():
        raise DomainError(_("Please correct the errors below."), field_errors={"body": [_("Required.")]})
    checked = [(f, check_upload(f, field="files")) for f in files or []]
    with transaction.atomic():
        sr = locked(request_id)
        by_staff = actor is not None and is_handler(actor)
        if actor is not None and not by_staff:
            require_handler_or_owner(actor, sr)
            channel = RequestChannel.PORTAL
        if sr.state in (RequestState.CLOSED, RequestState.CANCELLED):
            raise ConflictError(_("A %(state)s request takes no more replies.")
                                % {"state": sr.get_state_display()})
        entry = RequestEntry.objects.create(
            request=sr, kind=EntryKind.REPLY, by_staff=by_staff, author=user_or_none(actor),
            author_contact=contact, from_email=from_email[:254], channel=channel, body=body,
            created_at=now)
        for f, c in checked:
            _attach(sr=sr, entry=entry, f=f, checked=c, actor=actor, internal=False, now=now)
        audit_record(obj=sr, action="reply", actor=actor, now=now,
                     data={"entry": entry.pk, "by_staff": by_staff, "channel": channel})
        if by_staff:
            if sr.first_response_at is None:
                sr.first_response_at = now
                sr.save(update_fields=["first_response_at"])
                clock_meet_for(subject=sr, policy_code=SR_FIRST, actor=actor,
                               reason="first staff reply", now=now)
            if sr.state == RequestState.NEW:
                move(sr, "start", actor=actor, reason="staff replied", now=now)
            if wait_for_customer and sr.state == RequestState.IN_PROGRESS:
                move(sr, "wait", actor=actor, reason="staff replied and wait for the customer", now=now)
                _pause_resolution(sr, actor=actor, now=now)
            _mail_reply(sr, entry, now=now)
        elif sr.state == RequestState.WAITING:
            move(sr, "resume", actor=actor, reason="the customer answered", now=now)
            _resume_resolution(sr, actor=actor, now=now)
    return entry


def note_add(*, request_id: int, actor: Any, body: str, files: list[IO[bytes]] | None = None,
             now: datetime | None = None) -> RequestEntry:
    """An internal note: staff only, never shown to the customer or mailed; it meets no clock."""
    require_handler(actor)
    now = now or timezone.now()
    if not body.strip():
        raise DomainError(_("Please correct the errors below."), field_errors={"body": [_("Required.")]})
    checked = [(f, check_upload(f, field="files")) for f in files or []]
    with transaction.atomic():
        sr = locked(request_id)
        entry = RequestEntry.objects.create(
            request=sr, kind=EntryKind.NOTE, by_staff=True, author=actor, channel=RequestChannel.PORTAL,
            body=body, created_at=now)
        for f, c in checked:
            _attach(sr=sr, entry=entry, f=f, checked=c, actor=actor, internal=True, now=now)
        audit_record(obj=sr, action="note", actor=actor, now=now, data={"entry": entry.pk})
    return entry


def request_attach(*, request_id: int, f: IO[bytes], actor: Any, now: datetime | None = None) -> RequestAttachment:
    """A file added to the request (checked by content); staff or the customer."""
    now = now or timezone.now()
    checked = check_upload(f, field="file")
    with transaction.atomic():
        sr = locked(request_id)
        require_handler_or_owner(actor, sr)
        if sr.state in (RequestState.CLOSED, RequestState.CANCELLED):
            raise ConflictError(_("A %(state)s request takes no more attachments.")
                                % {"state": sr.get_state_display()})
        att = _attach(sr=sr, entry=None, f=f, checked=checked, actor=actor, internal=False, now=now)
        audit_record(obj=sr, action="attach", actor=actor, now=now,
                     data={"attachment": att.pk, "sha256": att.sha256})
    return att


def reply_recipients(sr: ServiceRequest) -> list[tuple[str, AuthorizedContact | None, str]]:
    """(address, contact, language) of whoever is told of a staff reply: the requester's address
    and the customer's active authorized contacts with an e-mail address, each once."""
    out: dict[str, tuple[str, AuthorizedContact | None, str]] = {}
    if sr.requester_email:
        lang = sr.contact.language if sr.contact_id and sr.contact else sr.customer.language
        out[sr.requester_email.lower()] = (sr.requester_email, sr.contact, lang)
    for c in AuthorizedContact.objects.filter(customer_id=sr.customer_id, active=True).exclude(email=""):
        out.setdefault(c.email.lower(), (c.email, c, c.language))
    return list(out.values())


def _mail_reply(sr: ServiceRequest, entry: RequestEntry, *, now: datetime) -> None:
    messages = []
    tag = thread_tag(sr.number or str(sr.pk))
    for address, _contact, lang in reply_recipients(sr):
        with translation.override("en" if lang == Language.EN else "zh-hans"):
            subject = f"{tag} " + _("Reply to your service request: %(title)s") % {"title": sr.title}
            body = _("%(body)s\n\n--\nTo answer, reply to this e-mail (or write to %(address)s) "
                     "keeping %(tag)s in the subject. You can also answer in the portal.\n") % {
                "body": entry.body, "address": settings.SERVICEDESK_ADDRESS, "tag": tag}
        messages.append(Message(
            channel="email", address=address, kind="service_request_reply", subject=subject,
            body=body, related=sr, idempotency_key=f"sr:{sr.pk}:entry:{entry.pk}:email:{address.lower()}",
            recipient_id=None))
    notifications_enqueue(messages=messages, now=now)
