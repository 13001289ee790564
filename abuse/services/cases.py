"""Spam cases: opening (from an accepted complaint, from the abuse mailbox, by staff), the
seed's steps, evidence and the written guarantee, closing. The E4 clocks start when the case is
opened and are met by the steps: the first step done is the response (E4-RESP, 1 working day),
telling the complainant the result meets E4-RESULT (3 days)."""

from __future__ import annotations

import email
import email.policy
import hashlib
import logging
from datetime import datetime
from email.utils import getaddresses, parseaddr
from typing import IO, Any

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from audit.services import audit_record
from complaints.choices import ComplaintState, ComplaintSubject
from complaints.models import Complaint
from customers.choices import Role, ServiceKind
from customers.models import Customer, Service
from customers.selectors import user_has_role
from sla.calendars import CalendarYearUnknown
from sla.choices import ClockState
from sla.models import Clock
from sla.services import clock_cancel_for, clock_meet_for, clock_start
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from slaportal.uploads import check_upload

from ..choices import (
    CHECKLISTS,
    REQUIRES,
    VALUE_STEPS,
    CaseKind,
    CaseSource,
    CaseState,
    EvidenceKind,
    StepCode,
    Verdict,
)
from ..models import CaseEvidence, CaseStep, SpamCase

logger = logging.getLogger(__name__)

RESP, RESULT = "E4-RESP", "E4-RESULT"
# Spam is handled by the customer-service specialists (complaints, the complainant) and the
# engineers (evidence, blocking, accounts); managers may act for either. Data-centre staff have
# no part in it (least privilege).
ACTOR_ROLES = (Role.SPECIALIST, Role.ENGINEER, Role.MANAGER)
MAX_RAW_BYTES = 10 * 1024 * 1024


def _require_actor(actor: Any) -> None:
    if not user_has_role(actor, *ACTOR_ROLES):
        raise ForbiddenError(_("Only customer-service staff, engineers or managers can handle spam cases."))


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _locked(case_id: int) -> SpamCase:
    try:
        return (SpamCase.objects.select_for_update(of=("self",))
                .select_related("customer", "contract").get(pk=case_id))
    except SpamCase.DoesNotExist:
        raise DomainError(_("No such spam case."), code="not_found") from None


def email_service_of(customer: Customer) -> Service | None:
    """The customer's e-mail service (the first active one): its contract is the one the E4
    promise is made under and whose fee is waived when it is broken."""
    return (customer.services.filter(kind=ServiceKind.EMAIL).order_by("-active", "id")
            .select_related("contract").first())


# --- Opening ----------------------------------------------------------------------------------

def _create(*, kind: str, source: str, title: str, opened_at: datetime, actor: Any, now: datetime,
            customer: Customer | None = None, description: str = "", complainant_name: str = "",
            complainant_email: str = "", complaint: Complaint | None = None, message_id: str = "",
            mail_from: str = "", mail_subject: str = "") -> SpamCase:
    """Insert the case with its checklist and audit row and start its clocks (caller's
    transaction). Raises IntegrityError when the complaint or Message-ID already has a case."""
    if kind not in CaseKind.values:
        raise DomainError(_("Choose the kind of spam."), field_errors={"kind": [_("Unknown kind.")]})
    service = None
    if customer is not None:
        service = email_service_of(customer)
        if service is None:
            raise DomainError(_("Spam cases are for enterprise e-mail customers."),
                              field_errors={"customer": [_("This customer has no e-mail service.")]})
    case = SpamCase(
        kind=kind, source=source, title=(title or _("(no subject)"))[:200], description=description,
        customer=customer, service=service, contract=service.contract if service else None,
        complainant_name=complainant_name[:200], complainant_email=complainant_email[:254],
        complaint=complaint, message_id=message_id, mail_from=mail_from[:400],
        mail_subject=mail_subject[:400], opened_at=opened_at, opened_by=_user(actor))
    with transaction.atomic():  # a savepoint: a duplicate leaves the caller's transaction usable
        case.save()
    local = timezone.localtime(case.opened_at)
    case.number = f"SPAM-{local:%Y%m%d}-{case.pk:06d}"
    SpamCase.objects.filter(pk=case.pk).update(number=case.number)
    CaseStep.objects.bulk_create([CaseStep(case=case, code=code, position=i)
                                  for i, code in enumerate(CHECKLISTS[kind])])
    audit_record(obj=case, action="create", actor=actor, to_state=case.state, now=now,
                 data={"source": source, "kind": kind, "opened_at": opened_at.isoformat(),
                       "complaint": complaint.pk if complaint else None,
                       "message_id": message_id or None})
    start_clocks(case, actor=actor, now=now)
    return case


def start_clocks(case: SpamCase, *, actor: Any, now: datetime) -> list[Clock]:
    """Start E4-RESP (every case) and E4-RESULT (a case with a complainant to tell) at the
    opening time, unless already started. A refusal (the year's working-day calendar is not
    known yet, the promise switched off for the contract) is audited and leaves the case
    without that clock; abuse.tasks.reconcile tries again."""
    started = []
    codes = [RESP] + ([RESULT] if case.has_complainant else [])
    ct = ContentType.objects.get_for_model(SpamCase)
    for code in codes:
        if Clock.objects.filter(content_type=ct, object_id=case.pk, policy__code=code).exists():
            continue
        try:
            with transaction.atomic():
                clock = clock_start(
                    subject=case, policy_code=code, customer=case.customer, contract=case.contract,
                    label=f"{case.number} {case.title}"[:200], started_at=case.opened_at, actor=actor,
                    service_kind=ServiceKind.EMAIL, reason="spam case opened", now=now)
        except CalendarYearUnknown as e:
            _audit_once(case, "deadline_pending", code, actor=actor, now=now, reason=str(e.message),
                        data={"year": e.year})
            continue
        except DomainError as e:
            _audit_once(case, "no_clock", code, actor=actor, now=now, reason=str(e.message))
            continue
        started.append(clock)
        # A clock started late (its calendar year was entered later) is met by what was done in
        # the meantime, at the time it was done.
        done = case.steps.filter(done_at__isnull=False)
        if code == RESULT:
            done = done.filter(code=StepCode.NOTIFY_RESULT)
        first_done = done.order_by("done_at").values_list("done_at", flat=True).first()
        if first_done is not None:
            _meet(case, code, actor=None, reason="step done before the clock could start", now=first_done)
    return started


def _audit_once(case: SpamCase, action: str, code: str, *, actor: Any, now: datetime, reason: str,
                data: dict[str, Any] | None = None) -> None:
    """The same refusal is recorded once, not at every periodic retry."""
    from audit.services import audit_for

    if not audit_for(case).filter(action=action, data__policy=code).exists():
        audit_record(obj=case, action=action, actor=actor, now=now, reason=reason,
                     data={"policy": code, **(data or {})})


def case_open_by_staff(*, actor: Any, kind: str, title: str, description: str = "",
                       customer: Customer | None = None, complainant_name: str = "",
                       complainant_email: str = "", opened_at: datetime | None = None,
                       now: datetime | None = None) -> SpamCase:
    """Staff open a case after detecting spam themselves (or hearing of it outside the complaint
    line and the abuse mailbox). `opened_at` (default now) is when it was detected: the clocks
    start there. Naming a complainant starts the result clock as well."""
    _require_actor(actor)
    now = now or timezone.now()
    opened_at = opened_at or now
    errors: dict[str, list[Any]] = {}
    if not (title or "").strip():
        errors["title"] = [_("Required.")]
    if opened_at > now:
        errors["opened_at"] = [_("Cannot be in the future.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    with transaction.atomic():
        return _create(kind=kind, source=CaseSource.STAFF, title=title.strip(), description=description,
                       customer=customer, complainant_name=complainant_name.strip(),
                       complainant_email=complainant_email.strip(), opened_at=opened_at, actor=actor,
                       now=now)


def case_open_from_complaint(*, complaint_id: int, actor: Any = None,
                             now: datetime | None = None) -> SpamCase | None:
    """The spam case of an accepted spam complaint, opened once (the complaint is a one-to-one
    key): its clocks start at the acceptance. The complainant's organisation is the customer
    owed the promise. Returns None for any other complaint."""
    now = now or timezone.now()
    with transaction.atomic():
        c = (Complaint.objects.select_for_update(of=("self",)).select_related("customer", "complainant_contact")
             .filter(pk=complaint_id).first())
        if c is None or c.subject != ComplaintSubject.SPAM or c.accepted_at is None:
            return None
        existing = SpamCase.objects.filter(complaint=c).first()
        if existing is not None:
            return existing
        case = _create(kind=CaseKind.INBOUND, source=CaseSource.COMPLAINT, title=c.title,
                       description=c.description, customer=c.customer,
                       complainant_name=c.complainant_display or c.customer.name,
                       complainant_email=c.reply_address, complaint=c, opened_at=c.accepted_at,
                       actor=actor, now=now)
    return case


def parse_message(raw: bytes) -> dict[str, str]:
    """Message-ID, sender and subject of a raw message. A message without a Message-ID is named
    by the hash of its bytes, so reading it again still finds the same case."""
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    sha = hashlib.sha256(raw).hexdigest()
    mid = str(msg.get("Message-ID", "") or "").strip()
    name, addr = parseaddr(str(msg.get("From", "") or ""))
    reply = getaddresses([str(msg.get("Reply-To", "") or "")])
    if reply and reply[0][1]:
        name, addr = reply[0][0] or name, reply[0][1]
    try:
        body_part = msg.get_body(preferencelist=("plain",))
        body = body_part.get_content() if body_part is not None else ""
    except (KeyError, LookupError, ValueError):
        body = ""
    return {"message_id": mid[:998] or f"<sha256:{sha}>", "sha256": sha, "from_name": name.strip(),
            "from_addr": addr.strip().lower(), "subject": str(msg.get("Subject", "") or "").strip(),
            "body": str(body)[:20000]}


def _customer_by_address(addr: str) -> Customer | None:
    """The e-mail customer whose mail domain the sender writes from, if any."""
    from mailservice.models import MailDomain

    domain = addr.rpartition("@")[2].lower().rstrip(".")
    if not domain:
        return None
    md = MailDomain.objects.filter(domain=domain).select_related("customer").first()
    return md.customer if md is not None else None


def case_open_from_mail(*, raw: bytes, received_at: datetime, now: datetime | None = None) -> tuple[SpamCase, bool]:
    """One message to the abuse address → one case (spam from outside by default; staff change
    the kind while no step is done). Idempotent by Message-ID through a unique constraint: the
    reader run twice, or two readers at once, give exactly one case. The clocks start when the
    mail server received the message. Returns (case, created)."""
    now = now or timezone.now()
    if len(raw) > MAX_RAW_BYTES:
        raw = raw[:MAX_RAW_BYTES]
    info = parse_message(raw)
    existing = SpamCase.objects.filter(message_id=info["message_id"]).first()
    if existing is not None:
        return existing, False
    customer = _customer_by_address(info["from_addr"]) if info["from_addr"] else None
    if customer is not None and email_service_of(customer) is None:
        customer = None
    try:
        with transaction.atomic():
            case = _create(kind=CaseKind.INBOUND, source=CaseSource.MAILBOX, title=info["subject"],
                           description=info["body"], customer=customer,
                           complainant_name=info["from_name"] or info["from_addr"],
                           complainant_email=info["from_addr"] if "@" in info["from_addr"] else "",
                           message_id=info["message_id"], mail_from=info["from_addr"],
                           mail_subject=info["subject"], opened_at=received_at, actor=None, now=now)
            # The message as received is the first evidence (kept, served only to staff).
            case.raw_message.save(f"{info['sha256']}.eml", ContentFile(raw), save=False)
            case.raw_sha256 = info["sha256"]
            case.save(update_fields=["raw_message", "raw_sha256"])
    except IntegrityError:
        # Another reader committed the same Message-ID first: its case is the one.
        return SpamCase.objects.get(message_id=info["message_id"]), False
    return case, True


# --- Steps ------------------------------------------------------------------------------------

def _require_open(case: SpamCase) -> None:
    if not case.is_open:
        raise ConflictError(_("A spam case that is %(state)s cannot be changed.")
                            % {"state": case.get_state_display()})


def _meet(case: SpamCase, code: str, *, actor: Any, reason: str, now: datetime) -> None:
    """Meet `code` on the case at the event's time (sla's one boundary rule: strictly before
    due_at meets, at or after it breaches); a late event also proposes the fee waiver here, not
    only from the breach signal, so it does not hang on a listener."""
    from .breaches import case_breach_record

    clock = clock_meet_for(subject=case, policy_code=code, actor=actor, reason=reason, now=now)
    if clock is not None and clock.state == ClockState.BREACHED:
        case_breach_record(case=case, clock=clock, now=now)


def case_step_done(*, case_id: int, code: str, actor: Any, note: str = "", value: str = "",
                   now: datetime | None = None) -> CaseStep:
    """Record one step as done (when, by whom, with a note and what it acted on). The first step
    is the response (meets E4-RESP); telling the complainant the result meets E4-RESULT.
    Restoring an own-domain account is refused until the written guarantee is uploaded."""
    _require_actor(actor)
    now = now or timezone.now()
    value, note = (value or "").strip(), (note or "").strip()
    with transaction.atomic():
        case = _locked(case_id)
        _require_open(case)
        step = case.steps.select_for_update().filter(code=code).first()
        if step is None:
            raise DomainError(_("This case has no step %(step)s.") % {"step": code},
                              field_errors={"step": [_("Not on this case's checklist.")]}, code="not_found")
        label = step.get_code_display()
        if step.done:
            raise ConflictError(_("“%(step)s” is already done.") % {"step": label})
        needed = REQUIRES.get(code)
        if needed and not case.steps.filter(code=needed, done_at__isnull=False).exists():
            raise ConflictError(_("“%(step)s” needs “%(before)s” first.")
                                % {"step": label, "before": StepCode(needed).label})
        if code == StepCode.RESTORE_ACCOUNT and not case.evidence.filter(kind=EvidenceKind.GUARANTEE).exists():
            raise DomainError(
                _("The account cannot be restored before the user's written guarantee not to send "
                  "spam again is uploaded."),
                field_errors={"guarantee": [_("Upload the written guarantee first.")]},
                code="guarantee_missing")
        if code in VALUE_STEPS and not value:
            raise DomainError(_("Please correct the errors below."),
                              field_errors={"value": [_("Name the account, IP address or domain.")]})
        if code == StepCode.NOTIFY_RESULT and not note:
            raise DomainError(_("Please correct the errors below."),
                              field_errors={"note": [_("Say what the complainant was told.")]})
        first = not case.steps.filter(done_at__isnull=False).exists()
        step.done_at, step.done_by, step.note, step.value = now, _user(actor), note, value[:300]
        step.save(update_fields=["done_at", "done_by", "note", "value"])
        audit_record(obj=case, action="step_done", actor=actor, reason=note, now=now,
                     data={"step": code, "value": value or None})
        if first:
            _meet(case, RESP, actor=actor, reason=f"first response: {code}", now=now)
        if code == StepCode.NOTIFY_RESULT:
            _meet(case, RESULT, actor=actor, reason="result told to the complainant", now=now)
    return step


def case_evidence_add(*, case_id: int, f: IO[bytes], actor: Any, kind: str = EvidenceKind.EVIDENCE,
                      step_code: str = "", now: datetime | None = None) -> CaseEvidence:
    """Keep a file for the case: evidence (optionally of one step) or the written guarantee.
    The type comes from the bytes (PDF, PNG, JPEG), the stored name from the server."""
    _require_actor(actor)
    now = now or timezone.now()
    if kind not in EvidenceKind.values:
        raise DomainError(_("Please correct the errors below."), field_errors={"kind": [_("Unknown kind.")]})
    checked = check_upload(f, field="file")
    with transaction.atomic():
        case = _locked(case_id)
        _require_open(case)
        step = None
        if step_code:
            step = case.steps.filter(code=step_code).first()
            if step is None:
                raise DomainError(_("This case has no step %(step)s.") % {"step": step_code},
                                  field_errors={"step": [_("Not on this case's checklist.")]})
        if kind == EvidenceKind.GUARANTEE and case.kind != CaseKind.OUTBOUND:
            raise DomainError(_("A written guarantee belongs to a case of spam sent from the provider's domain."),
                              field_errors={"kind": [_("Not for this kind of case.")]})
        ev = CaseEvidence(case=case, step=step, kind=kind, stored_name=checked.stored_name,
                          original_name=(getattr(f, "name", "") or "file").rsplit("/", 1)[-1][:200],
                          content_type=checked.mime, size=checked.size, sha256=checked.sha256,
                          uploaded_at=now, uploaded_by=_user(actor))
        ev.file.save(checked.stored_name, File(f), save=False)
        ev.save()
        audit_record(obj=case, action="attach", actor=actor, now=now,
                     data={"evidence": ev.pk, "kind": kind, "sha256": ev.sha256, "step": step_code or None})
    return ev


def case_set_kind(*, case_id: int, kind: str, actor: Any, reason: str = "",
                  now: datetime | None = None) -> SpamCase:
    """Change the kind (a mailbox case is inbound until someone reads it) while no step is done:
    the checklist becomes the other kind's. The clocks keep running: the promise is the same."""
    _require_actor(actor)
    now = now or timezone.now()
    if kind not in CaseKind.values:
        raise DomainError(_("Choose the kind of spam."), field_errors={"kind": [_("Unknown kind.")]})
    with transaction.atomic():
        case = _locked(case_id)
        _require_open(case)
        if case.kind == kind:
            return case
        if case.steps.filter(done_at__isnull=False).exists():
            raise ConflictError(_("The kind cannot change once a step is done."))
        before = case.kind
        case.steps.all().delete()
        CaseStep.objects.bulk_create([CaseStep(case=case, code=code, position=i)
                                      for i, code in enumerate(CHECKLISTS[kind])])
        case.kind = kind
        case.save(update_fields=["kind"])
        audit_record(obj=case, action="set_kind", actor=actor, reason=reason, now=now,
                     data={"from": before, "to": kind})
    return case


def case_close(*, case_id: int, actor: Any, verdict: str, result: str,
               now: datetime | None = None) -> SpamCase:
    """Close the case with the verdict and the result. A case with a complainant is closed only
    after the result was told (E4-RESULT). Closing is a response too: a case closed without any
    step done (not spam) meets E4-RESP at the closing time."""
    _require_actor(actor)
    now = now or timezone.now()
    errors: dict[str, list[Any]] = {}
    if verdict not in Verdict.values:
        errors["verdict"] = [_("Choose a verdict.")]
    if not (result or "").strip():
        errors["result"] = [_("Say what was done and found.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    with transaction.atomic():
        case = _locked(case_id)
        if not can_proceed(case.close):
            raise ConflictError(_("A spam case that is %(state)s cannot be closed.")
                                % {"state": case.get_state_display()})
        notify = case.steps.filter(code=StepCode.NOTIFY_RESULT).first()
        if case.has_complainant and notify is not None and not notify.done:
            raise DomainError(_("Tell the complainant the result before closing the case."),
                              field_errors={"step": [str(StepCode.NOTIFY_RESULT.label)]}, code="result_not_told")
        responded = case.steps.filter(done_at__isnull=False).exists()
        before = case.state
        case.close(at=now, by=_user(actor), verdict=verdict, result=result.strip())
        case.save()
        audit_record(obj=case, action="close", actor=actor, from_state=before, to_state=case.state,
                     reason=result, now=now, data={"verdict": verdict})
        if not responded:
            _meet(case, RESP, actor=actor, reason="case closed", now=now)
        # Nothing is left to time: a result clock of a case without a checklist step to meet it.
        clock_cancel_for(subject=case, actor=actor, reason="spam case closed", now=now)
    return case


def case_reopen(*, case_id: int, actor: Any, reason: str, now: datetime | None = None) -> SpamCase:
    """Reopen a closed case (the spam came back); the clocks that ended stay as they ended."""
    _require_actor(actor)
    now = now or timezone.now()
    if not (reason or "").strip():
        raise DomainError(_("Say why the case is reopened."), field_errors={"reason": [_("Required.")]})
    with transaction.atomic():
        case = _locked(case_id)
        if not can_proceed(case.reopen):
            raise ConflictError(_("A spam case that is %(state)s cannot be reopened.")
                                % {"state": case.get_state_display()})
        before = case.state
        case.reopen(at=now)
        case.save()
        audit_record(obj=case, action="reopen", actor=actor, from_state=before, to_state=case.state,
                     reason=reason, now=now)
    return case


def case_complaint_withdrawn(*, complaint_id: int, reason: str = "", actor: Any = None,
                             now: datetime | None = None) -> SpamCase | None:
    """The complainant withdrew the spam complaint: the promise to them went away, so the case's
    open clocks are cancelled (audited). The case stays open for staff to close."""
    now = now or timezone.now()
    with transaction.atomic():
        case = SpamCase.objects.select_for_update().filter(complaint_id=complaint_id).first()
        if case is None:
            return None
        cancelled = clock_cancel_for(subject=case, actor=actor, reason="complaint withdrawn", now=now)
        audit_record(obj=case, action="complaint_withdrawn", actor=actor, reason=reason, now=now,
                     data={"clocks_cancelled": [c.pk for c in cancelled]})
    return case


def cases_reconcile(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic repair: open the case of any accepted spam complaint that has none (the
    listener failed after the acceptance committed), and start the clocks of open cases whose
    deadline waited for a working-day calendar year."""
    now = now or timezone.now()
    opened = started = 0
    missing = (Complaint.objects.filter(subject=ComplaintSubject.SPAM, accepted_at__isnull=False,
                                        spam_case__isnull=True)
               .exclude(state=ComplaintState.WITHDRAWN).values_list("pk", flat=True))
    for pk in missing:
        try:
            if case_open_from_complaint(complaint_id=pk, now=now) is not None:
                opened += 1
        except Exception:  # one bad row must not stop the others
            logger.exception("opening the spam case of complaint %s failed", pk)
    ct = ContentType.objects.get_for_model(SpamCase)
    for case in SpamCase.objects.filter(state=CaseState.OPEN).exclude(
            pk__in=Clock.objects.filter(content_type=ct, policy__code=RESP).values("object_id")):
        try:
            with transaction.atomic():
                started += len(start_clocks(case, actor=None, now=now))
        except Exception:
            logger.exception("starting the clocks of spam case %s failed", case.pk)
    return {"opened": opened, "clocks_started": started}


def actor_by_id(actor_id: int | None) -> Any:
    return get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
