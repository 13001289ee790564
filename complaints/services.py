"""Every write of the complaint workflow. Each service locks the complaint row, checks the
transition, saves, audits in the same transaction, and queues mail after commit."""

from __future__ import annotations

from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from audit.services import audit_record
from customers.choices import Language, Role, ServiceKind
from customers.models import AuthorizedContact, Customer
from customers.selectors import user_customer_id, user_has_role, user_is_staff
from notifications.services import Message, as_attachment, notifications_enqueue
from reports.choices import ReportKind
from reports.models import WrittenReport
from reports.selectors import report_preview_html
from reports.services import report_issue, reports_for
from sla.services import clock_cancel_for, clock_meet_for, clock_start
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from slaportal.uploads import check_upload

from .choices import (
    EMAIL_ONLY_SUBJECTS,
    ComplaintChannel,
    ComplaintState,
    ComplaintSubject,
    ComplaintTarget,
)
from .models import Complaint, ComplaintAttachment
from .signals import complaint_accepted, complaint_withdrawn

C8 = "C8"


def _contract_of(customer: Customer) -> Any:
    return customer.contracts.order_by("-signed_at").first()


def complaint_create(
    *,
    customer: Customer,
    actor: Any,
    channel: str,
    subject: str,
    title: str,
    description: str,
    target: str = ComplaintTarget.PROVIDER,
    target_employee: str = "",
    complainant_contact: AuthorizedContact | None = None,
    complainant_name: str = "",
    complainant_email: str = "",
    complainant_phone: str = "",
    complainant_language: str | None = None,
    specialist: Any = None,
    received_at: datetime | None = None,
    files: list[IO[bytes]] | None = None,
    now: datetime | None = None,
) -> Complaint:
    """Log a complaint (a specialist from the complaint line, e-mail or a letter) or file one
    (a customer user in the portal: always channel 'portal', always their own organisation)."""
    now = now or timezone.now()
    if not user_is_staff(actor):
        if user_customer_id(actor) != customer.pk:
            raise ForbiddenError(_("You can only file complaints for your own organisation."))
        channel = ComplaintChannel.PORTAL
        received_at = now
        specialist = None
    elif not user_has_role(actor, *HANDLER_ROLES):
        raise ForbiddenError(_("Only customer-service staff can log complaints."))
    if subject in EMAIL_ONLY_SUBJECTS and not customer.services.filter(kind=ServiceKind.EMAIL).exists():
        raise DomainError(_("Spam and virus complaints are for enterprise e-mail customers."),
                          field_errors={"subject": [_("This customer has no e-mail service.")]})
    if specialist is None:
        svc = customer.services.filter(specialist__isnull=False).order_by("id").first()
        specialist = svc.specialist if svc else None
    if complainant_language is None:
        complainant_language = (complainant_contact.language if complainant_contact
                                else customer.language or Language.ZH)
    complaint = Complaint(
        customer=customer, channel=channel, subject=subject, title=title, description=description,
        target=target, target_employee=target_employee, complainant_contact=complainant_contact,
        complainant_name=complainant_name, complainant_email=complainant_email,
        complainant_phone=complainant_phone, complainant_language=complainant_language,
        specialist=specialist, received_at=received_at or now,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    try:
        complaint.full_clean(exclude=["number", "state"])  # protected FSM field: never re-set
    except ValidationError as e:
        raise DomainError(_("Please correct the errors below."), field_errors=e.message_dict) from None
    checked = [(f, check_upload(f, field="attachments")) for f in files or []]
    with transaction.atomic():
        complaint.save()
        local = timezone.localtime(complaint.received_at)
        complaint.number = f"TS{local:%Y%m%d}-{complaint.pk:06d}"
        Complaint.objects.filter(pk=complaint.pk).update(number=complaint.number)
        for f, c in checked:
            _attach(complaint=complaint, f=f, checked=c, actor=actor, now=now)
        audit_record(obj=complaint, action="create", actor=actor, to_state=complaint.state,
                     now=now, data={"channel": channel})
    return complaint


def _attach(*, complaint: Complaint, f: IO[bytes], checked: Any, actor: Any, now: datetime) -> ComplaintAttachment:
    att = ComplaintAttachment(
        complaint=complaint, stored_name=checked.stored_name,
        original_name=(getattr(f, "name", "") or "file").rsplit("/", 1)[-1][:200],
        content_type=checked.mime, size=checked.size, sha256=checked.sha256, uploaded_at=now,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    att.file.save(checked.stored_name, File(f), save=False)
    att.save()
    return att


def complaint_attach(*, complaint_id: int, f: IO[bytes], actor: Any, now: datetime | None = None) -> ComplaintAttachment:
    now = now or timezone.now()
    checked = check_upload(f, field="file")
    with transaction.atomic():
        complaint = Complaint.objects.select_for_update().get(pk=complaint_id)
        if not user_has_role(actor, *HANDLER_ROLES) and user_customer_id(actor) != complaint.customer_id:
            raise ForbiddenError(_("Only staff or the customer can add attachments."))
        if complaint.state in (ComplaintState.CLOSED, ComplaintState.WITHDRAWN):
            raise ConflictError(_("A %(state)s complaint takes no more attachments.")
                                % {"state": complaint.get_state_display()})
        att = _attach(complaint=complaint, f=f, checked=checked, actor=actor, now=now)
        audit_record(obj=complaint, action="attach", actor=actor, now=now,
                     data={"attachment": att.pk, "sha256": att.sha256})
    return att


def _locked(complaint_id: int) -> Complaint:
    try:
        return Complaint.objects.select_for_update().select_related("customer").get(pk=complaint_id)
    except Complaint.DoesNotExist:
        raise DomainError(_("No such complaint."), code="not_found") from None


def _move(complaint: Complaint, method: str, *, actor: Any, reason: str, now: datetime) -> str:
    bound = getattr(complaint, method)
    if not can_proceed(bound):
        raise ConflictError(
            _("A complaint that is %(state)s cannot be %(action)s.")
            % {"state": complaint.get_state_display(), "action": TRANSITION_LABELS.get(method, method)})
    before = complaint.state
    bound(at=now)
    complaint.save()
    audit_record(obj=complaint, action=method, actor=actor, from_state=before,
                 to_state=complaint.state, reason=reason, now=now)
    return before


TRANSITION_LABELS = {
    "accept": "accepted", "investigate": "investigated", "issue_report": "reported on",
    "resolve": "resolved", "close": "closed", "reopen": "reopened", "withdraw": "withdrawn",
}


# Complaints are handled by the specialists (with engineers for technical-support complaints)
# and watched by managers; data-centre staff have no part in them (least privilege).
HANDLER_ROLES = (Role.SPECIALIST, Role.ENGINEER, Role.MANAGER)


def _require_staff(actor: Any) -> None:
    if not user_has_role(actor, *HANDLER_ROLES):
        raise ForbiddenError(_("Only customer-service staff can do this."))


def complaint_accept(*, complaint_id: int, actor: Any, specialist: Any = None, reason: str = "",
                     now: datetime | None = None) -> Complaint:
    """Accept the complaint (受理) and start clock C8: the first written report is due within the
    policy's hours. A spam complaint is promise E4 instead (seed 002 §4): no C8 clock; the
    anti-spam app, told by `complaint_accepted` after commit, opens a spam case whose clocks
    (response within 1 working day, result within 3 days) start at this acceptance."""
    _require_staff(actor)
    now = now or timezone.now()
    with transaction.atomic():
        c = _locked(complaint_id)
        if specialist is not None:
            c.specialist = specialist
        _move(c, "accept", actor=actor, reason=reason, now=now)
        if c.subject != ComplaintSubject.SPAM:
            clock_start(subject=c, policy_code=C8, customer=c.customer, contract=_contract_of(c.customer),
                        assignee=c.specialist, label=f"{c.number} {c.title}"[:200], actor=actor,
                        reason="complaint accepted", now=now)
        pk, subject, actor_id = c.pk, c.subject, getattr(actor, "pk", None)
        transaction.on_commit(lambda: complaint_accepted.send(
            sender=Complaint, complaint_id=pk, subject=subject, accepted_at=now, actor_id=actor_id))
    return c


def complaint_investigate(*, complaint_id: int, actor: Any, reason: str = "",
                          now: datetime | None = None) -> Complaint:
    _require_staff(actor)
    now = now or timezone.now()
    with transaction.atomic():
        c = _locked(complaint_id)
        _move(c, "investigate", actor=actor, reason=reason, now=now)
    return c


def complaint_resolve(*, complaint_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> Complaint:
    _require_staff(actor)
    now = now or timezone.now()
    with transaction.atomic():
        c = _locked(complaint_id)
        _move(c, "resolve", actor=actor, reason=reason, now=now)
    return c


def complaint_close(*, complaint_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> Complaint:
    _require_staff(actor)
    now = now or timezone.now()
    with transaction.atomic():
        c = _locked(complaint_id)
        _move(c, "close", actor=actor, reason=reason, now=now)
    return c


def complaint_reopen(*, complaint_id: int, actor: Any, reason: str, now: datetime | None = None) -> Complaint:
    """Back to investigating from resolved or closed. Staff or the complainant's organisation."""
    now = now or timezone.now()
    if not reason.strip():
        raise DomainError(_("Say why the complaint is reopened."), field_errors={"reason": [_("Required.")]})
    with transaction.atomic():
        c = _locked(complaint_id)
        if not user_has_role(actor, *HANDLER_ROLES) and user_customer_id(actor) != c.customer_id:
            raise ForbiddenError(_("Only staff or the customer can reopen a complaint."))
        _move(c, "reopen", actor=actor, reason=reason, now=now)
    return c


def complaint_withdraw(*, complaint_id: int, actor: Any, reason: str = "", now: datetime | None = None) -> Complaint:
    """The customer withdraws the complaint before it is resolved; its open clock is cancelled."""
    now = now or timezone.now()
    with transaction.atomic():
        c = _locked(complaint_id)
        if not user_has_role(actor, *HANDLER_ROLES) and user_customer_id(actor) != c.customer_id:
            raise ForbiddenError(_("Only the customer or customer-service staff can withdraw a complaint."))
        _move(c, "withdraw", actor=actor, reason=reason, now=now)
        clock_cancel_for(subject=c, policy_code=C8, actor=actor, reason="complaint withdrawn", now=now)
        pk, subject, actor_id = c.pk, c.subject, getattr(actor, "pk", None)
        transaction.on_commit(lambda: complaint_withdrawn.send(
            sender=Complaint, complaint_id=pk, subject=subject, withdrawn_at=now, actor_id=actor_id,
            reason=reason))
    return c


REPORT_FIELDS = ("findings", "actions_taken", "next_steps", "expected_resolution")
REPORTABLE_STATES = (ComplaintState.ACCEPTED, ComplaintState.INVESTIGATING,
                     ComplaintState.REPORT_ISSUED, ComplaintState.RESOLVED)


def complaint_report_issue(
    *, complaint_id: int, actor: Any, findings: str, actions_taken: str, next_steps: str = "",
    expected_resolution: str = "", corrects: WrittenReport | None = None, now: datetime | None = None,
) -> WrittenReport:
    """Issue a written report 投诉处理情况报告 (the first one meets C8), render it to PDF, store
    it with its hash, and send it to the complainant by e-mail; the portal shows it at once.
    `corrects` makes it a new version of an earlier report instead of a new report."""
    _require_staff(actor)
    now = now or timezone.now()
    content = _report_content(findings=findings, actions_taken=actions_taken, next_steps=next_steps,
                              expected_resolution=expected_resolution)
    with transaction.atomic():
        c = _locked(complaint_id)
        if c.state not in REPORTABLE_STATES:
            raise ConflictError(_("A complaint that is %(state)s takes no report.")
                                % {"state": c.get_state_display()})
        if corrects is not None and (corrects.object_id != c.pk):
            raise ConflictError(_("That report belongs to another complaint."))
        if c.state in (ComplaintState.ACCEPTED, ComplaintState.INVESTIGATING) and corrects is None:
            _move(c, "issue_report", actor=actor, reason="written report issued", now=now)
        language = Language.EN if c.complainant_language == Language.EN else Language.ZH
        report = report_issue(
            subject=c, customer=c.customer, kind=ReportKind.COMPLAINT, number_prefix=c.number or str(c.pk),
            content=content, template="reports/complaint_report.html", language=language,
            context=_report_context(c, bilingual=language == Language.EN), actor=actor,
            supersedes=corrects, now=now,
        )
        if report.sequence == 1 and report.version == 1:
            clock_meet_for(subject=c, policy_code=C8, actor=actor, reason="first written report issued",
                           now=now)
        audit_record(obj=c, action="report", actor=actor, now=now,
                     data={"report": report.number, "sha256": report.sha256, "version": report.version})
        _send_report(complaint=c, report=report, now=now)
    return report


def complaint_report_preview(
    *, complaint_id: int, actor: Any, findings: str, actions_taken: str, next_steps: str = "",
    expected_resolution: str = "", corrects: WrittenReport | None = None, now: datetime | None = None,
) -> str:
    """The report `complaint_report_issue` would issue with these fields, as an HTML fragment for
    the issuing page. Checks what issuing checks, and writes nothing: no report, no file, no
    state change, no audit row, no e-mail."""
    _require_staff(actor)
    content = _report_content(findings=findings, actions_taken=actions_taken, next_steps=next_steps,
                              expected_resolution=expected_resolution)
    c = Complaint.objects.select_related("customer", "specialist").get(pk=complaint_id)
    if c.state not in REPORTABLE_STATES:
        raise ConflictError(_("A complaint that is %(state)s takes no report.")
                            % {"state": c.get_state_display()})
    if corrects is not None and (corrects.object_id != c.pk):
        raise ConflictError(_("That report belongs to another complaint."))
    language = Language.EN if c.complainant_language == Language.EN else Language.ZH
    return report_preview_html(
        subject=c, customer=c.customer, kind=ReportKind.COMPLAINT, number_prefix=c.number or str(c.pk),
        content=content, template="reports/complaint_report.html", language=language,
        context=_report_context(c, bilingual=language == Language.EN), actor=actor,
        supersedes=corrects, now=now)


def _report_content(*, findings: str, actions_taken: str, next_steps: str,
                    expected_resolution: str) -> dict[str, str]:
    errors = {}
    if not findings.strip():
        errors["findings"] = [_("Required.")]
    if not actions_taken.strip():
        errors["actions_taken"] = [_("Required.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    return {"findings": findings, "actions_taken": actions_taken, "next_steps": next_steps,
            "expected_resolution": expected_resolution}


def _report_context(c: Complaint, *, bilingual: bool) -> dict[str, Any]:
    def both(field: str) -> tuple[str, str]:
        out = []
        for lang in ("zh-hans", "en"):
            with translation.override(lang):
                out.append(str(getattr(c, f"get_{field}_display")()))
        return out[0], out[1]

    subject_zh, subject_en = both("subject")
    channel_zh, channel_en = both("channel")
    sp = c.specialist
    return {"complaint": c, "provider": provider_header(), "bilingual": bilingual,
            "subject_zh": subject_zh, "subject_en": subject_en, "channel_zh": channel_zh,
            "channel_en": channel_en,
            "specialist_name": (sp.get_full_name() or sp.username) if sp else "—"}


def provider_header() -> dict[str, str]:
    return {
        "name": getattr(settings, "PROVIDER_NAME", "SLA Portal 数据中心服务"),
        "address": getattr(settings, "PROVIDER_ADDRESS", ""),
        "phone": getattr(settings, "PROVIDER_COMPLAINT_LINE", ""),
    }


def _send_report(*, complaint: Complaint, report: WrittenReport, now: datetime) -> None:
    address = complaint.reply_address
    if not address:
        return
    lang = "en" if complaint.complainant_language == Language.EN else "zh-hans"
    with translation.override(lang):
        subject = _("Complaint handling report %(number)s") % {"number": report.number}
        body = _("Dear %(name)s,\n\nPlease find attached the written report on your complaint "
                 "%(complaint)s. You can also read it in the portal.\n\nSHA-256: %(sha)s\n") % {
            "name": complaint.complainant_display, "complaint": complaint.number, "sha": report.sha256}
    notifications_enqueue(messages=[Message(
        channel="email", address=address, kind="complaint_report", subject=subject, body=body,
        idempotency_key=f"report:{report.pk}:email:{address}", related=complaint,
        attachments=[as_attachment(name=report.filename, path=str(report.file.name),
                                   mimetype="application/pdf")],
    )], now=now)


def complaint_reports(complaint: Complaint) -> Any:
    return reports_for(complaint)
