"""Complaint pages: the scoped list, one complaint (facts, attachments, the C8 deadline, reports,
audit trail and the transitions the user may make), the staff "log a complaint" form, the
customer's "file a complaint" form, the report form and the downloads. Reads through
complaints.selectors (another customer's complaint is a 404), writes through complaints.services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from accounts.people import person_name
from audit.services import audit_for
from customers.models import Customer
from customers.selectors import user_customer_id, user_is_staff
from reports.models import WrittenReport
from sla.choices import ClockState
from sla.selectors import policy_target_display
from sla.templatetags.sla_ui import state_label
from slaportal.downloads import file_download
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from slaportal.paging import keyset_page
from slaportal.ui import (
    esc,
    filter_values,
    form_add_domain_error,
    local_minute,
    querystring_without_page,
    require_view_perm,
)

from . import services
from .choices import ComplaintState, ComplaintSubject
from .forms import (
    AttachmentForm,
    ComplaintFilterForm,
    CustomerComplaintForm,
    ReasonForm,
    ReportForm,
    StaffComplaintForm,
)
from .models import Complaint, ComplaintAttachment
from .selectors import complaint_attachments, complaint_c8_clock, complaint_list

# action -> (service, done message, who may: "staff" or "both")
TRANSITIONS: dict[str, tuple[Callable[..., Complaint], Any, str]] = {
    "accept": (services.complaint_accept, gettext_lazy("The complaint was accepted; the 24-hour "
                                                       "first-report clock is running."), "staff"),
    "investigate": (services.complaint_investigate,
                    gettext_lazy("The complaint is under investigation."), "staff"),
    "resolve": (services.complaint_resolve, gettext_lazy("The complaint was resolved."), "staff"),
    "close": (services.complaint_close, gettext_lazy("The complaint was closed."), "staff"),
    "reopen": (services.complaint_reopen, gettext_lazy("The complaint was reopened."), "both"),
    "withdraw": (services.complaint_withdraw, gettext_lazy("The complaint was withdrawn."), "both"),
}
TRANSITION_BUTTONS = {
    "accept": gettext_lazy("Accept"), "investigate": gettext_lazy("Start investigation"),
    "resolve": gettext_lazy("Resolve"), "close": gettext_lazy("Close"),
    "reopen": gettext_lazy("Reopen"), "withdraw": gettext_lazy("Withdraw"),
}


def _scoped(request: HttpRequest, pk: int) -> Complaint:
    require_view_perm(request.user, "complaints.view_complaint")
    return get_object_or_404(complaint_list(user=request.user), pk=pk)


def allowed_transitions(user: Any, complaint: Complaint) -> list[str]:
    """The transitions this user may make from the complaint's current state."""
    staff = user_is_staff(user)
    own = user_customer_id(user) == complaint.customer_id
    out = []
    for name, (_func, _done, who) in TRANSITIONS.items():
        if not (staff or (who == "both" and own)):
            continue
        if can_proceed(getattr(complaint, name)):
            out.append(name)
    return out


def can_report(user: Any, complaint: Complaint) -> bool:
    return user_is_staff(user) and complaint.state in services.REPORTABLE_STATES


@login_required
def complaint_list_view(request: HttpRequest) -> HttpResponse:
    require_view_perm(request.user, "complaints.view_complaint")
    staff = user_is_staff(request.user)
    if not staff and user_customer_id(request.user) is None:
        raise PermissionDenied
    form = ComplaintFilterForm(request.GET or None, user=request.user, staff=staff)
    qs = complaint_list(user=request.user, **form.selector_kwargs(filter_values(request, form)))
    page = keyset_page(request, qs)
    return render(request, "complaints/complaint_list.html", {
        "form": form, "page": page, "rows": complaint_rows(page.object_list, staff=staff),
        "qs": querystring_without_page(request),
        "staff": staff, "can_create": staff or user_customer_id(request.user) is not None})


def complaint_rows(complaints: Any, *, staff: bool) -> list[SafeString]:
    """The list's rows as HTML, written here rather than by the template language: the same
    cells, every value escaped (slaportal.ui.esc), at a small part of the cost per row (the list
    page spent over half its time rendering 50 rows of nine cells)."""
    detail = reverse("complaints:detail", args=[0])[:-2]  # "/complaints/"; + pk + "/"
    out = []
    for c in complaints:
        due = "—"
        if c.c8_due_at:
            late = "late" if c.c8_state == ClockState.BREACHED else ""
            due = (f'<span class="{late}">{local_minute(c.c8_due_at)}</span> '
                   f'<span class="pill {esc(c.c8_state)}">{esc(state_label(c.c8_state))}</span>')
        customer = f"<td>{esc(c.customer.name)}</td>" if staff else ""
        specialist = f"<td>{esc(person_name(c.specialist) or '—')}</td>" if staff else ""
        out.append(mark_safe(  # noqa: S308 - every value above and below is escaped by esc()
            f'<tr><td><a href="{detail}{int(c.pk)}/">{esc(c.number)}</a></td>{customer}'
            f"<td>{esc(c.title)}</td><td>{esc(c.get_subject_display())}</td>"
            f"<td>{esc(c.get_channel_display())}</td><td>{local_minute(c.received_at)}</td>"
            f'<td><span class="pill {esc(c.state)}">{esc(c.get_state_display())}</span></td>'
            f"<td>{due}</td>{specialist}</tr>"))
    return out


AUDIT_LABELS = {
    "create": gettext_lazy("logged"), "attach": gettext_lazy("file attached"),
    "accept": gettext_lazy("accepted"), "investigate": gettext_lazy("investigation started"),
    "issue_report": gettext_lazy("first report issued"), "report": gettext_lazy("report issued"),
    "resolve": gettext_lazy("resolved"), "close": gettext_lazy("closed"),
    "reopen": gettext_lazy("reopened"), "withdraw": gettext_lazy("withdrawn"),
}


def _audit_rows(complaint: Complaint) -> list[Any]:
    """The audit trail with translated action and state labels."""
    states = dict(ComplaintState.choices)
    rows = list(audit_for(complaint))
    for e in rows:
        e.action_label = str(AUDIT_LABELS.get(e.action, e.action))
        e.from_label = str(states.get(e.from_state, e.from_state))
        e.to_label = str(states.get(e.to_state, e.to_state))
    return rows


def _detail(request: HttpRequest, complaint: Complaint, *, reason_form: ReasonForm | None = None,
            failed_action: str = "", status: int = 200) -> HttpResponse:
    user = request.user
    reports = list(services.complaint_reports(complaint))
    superseded = {r.supersedes_id for r in reports if r.supersedes_id}
    for r in reports:
        r.current = r.pk not in superseded
    actions = allowed_transitions(user, complaint)
    return render(request, "complaints/complaint_detail.html", {
        "complaint": complaint, "attachments": complaint_attachments(complaint),
        "reports": reports, "clock": complaint_c8_clock(complaint), "audit": _audit_rows(complaint),
        "actions": [(a, TRANSITION_BUTTONS[a]) for a in actions],
        "staff": user_is_staff(user), "can_report": can_report(user, complaint),
        "can_attach": complaint.state not in (ComplaintState.CLOSED, ComplaintState.WITHDRAWN),
        "reason_form": reason_form or ReasonForm(), "failed_action": failed_action,
        "attachment_form": AttachmentForm(),
    }, status=status)


@login_required
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _scoped(request, pk))


@login_required
def complaint_create(request: HttpRequest) -> HttpResponse:
    """Staff log a complaint for any customer; a customer user files one for their own
    organisation through the portal."""
    user = request.user
    require_view_perm(user, "complaints.view_complaint")
    staff = user_is_staff(user)
    customer: Customer | None = None
    if not staff:
        cid = user_customer_id(user)
        if cid is None:
            raise PermissionDenied
        customer = user.customer_link.customer
    form_class = StaffComplaintForm if staff else CustomerComplaintForm
    kw: dict[str, Any] = {"user": user} if staff else {}
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, **kw)
        if form.is_valid():
            data = form.service_kwargs()
            if customer is not None:
                data["customer"] = customer
            try:
                complaint = services.complaint_create(actor=user, **data)
            except DomainError as e:
                form_add_domain_error(form, e)
            else:
                messages.success(request, _("Complaint %(number)s was recorded.")
                                 % {"number": complaint.number})
                return redirect("complaints:detail", complaint.pk)
    else:
        initial = {} if staff else {"complainant_name": user.get_full_name() or user.get_username(),
                                    "complainant_email": user.email}
        form = form_class(initial=initial, **kw)
    return render(request, "complaints/complaint_form.html",
                  {"form": form, "staff": staff, "customer": customer,
                   "c8_target": policy_target_display("C8")})


@login_required
@require_POST
def complaint_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One transition as a POST. An illegal move (someone else moved first, or the state does
    not allow it) is a message and nothing changes; a missing reason is a form error."""
    complaint = _scoped(request, pk)
    func, done, _who = TRANSITIONS[action]
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _detail(request, complaint, reason_form=form, failed_action=action, status=400)
    try:
        func(complaint_id=complaint.pk, actor=request.user, reason=form.cleaned_data["reason"])
    except ForbiddenError:
        raise PermissionDenied
    except ConflictError as e:
        messages.error(request, str(e.message))
        return redirect("complaints:detail", complaint.pk)
    except DomainError as e:
        form_add_domain_error(form, e)
        return _detail(request, complaint, reason_form=form, failed_action=action, status=400)
    if action == "accept" and complaint.subject == ComplaintSubject.SPAM:
        done = _("The complaint was accepted; a spam case runs its response and result clocks.")
    messages.success(request, str(done))
    return redirect("complaints:detail", complaint.pk)


def _report_page(request: HttpRequest, pk: int, corrects_pk: int | None) -> HttpResponse:
    complaint = _scoped(request, pk)
    # Both lookups before the role check: a report id that is not this complaint's is a 404.
    corrects: WrittenReport | None = None
    if corrects_pk is not None:
        corrects = get_object_or_404(services.complaint_reports(complaint), pk=corrects_pk)
    if not user_is_staff(request.user):
        raise PermissionDenied
    preview_html = ""
    if request.method == "POST":
        form = ReportForm(request.POST)
        # An issued report is immutable, so the page shows it first (action=preview, writes
        # nothing); "edit" goes back to the form with the fields kept; "issue" (the confirm
        # button, or a client that posts no action) issues it as before.
        action = request.POST.get("action") or "issue"
        if action == "preview" and form.is_valid():
            try:
                preview_html = services.complaint_report_preview(
                    complaint_id=complaint.pk, actor=request.user, corrects=corrects,
                    **form.cleaned_data)
            except ForbiddenError:
                raise PermissionDenied
            except ConflictError as e:
                messages.error(request, str(e.message))
                return redirect("complaints:detail", complaint.pk)
            except DomainError as e:
                form_add_domain_error(form, e)
        elif action in ("issue", "confirm") and form.is_valid():
            try:
                report = services.complaint_report_issue(
                    complaint_id=complaint.pk, actor=request.user, corrects=corrects,
                    **form.cleaned_data)
            except ForbiddenError:
                raise PermissionDenied
            except ConflictError as e:
                messages.error(request, str(e.message))
                return redirect("complaints:detail", complaint.pk)
            except DomainError as e:
                form_add_domain_error(form, e)
            else:
                messages.success(request, _("Report %(number)s was issued and sent to the "
                                            "complainant.") % {"number": report.number})
                return redirect("complaints:detail", complaint.pk)
    else:
        form = ReportForm(initial=dict(corrects.content) if corrects else None)
    return render(request, "complaints/report_form.html",
                  {"complaint": complaint, "form": form, "corrects": corrects,
                   "preview_html": preview_html},
                  status=400 if form.errors else 200)


@login_required
def report_create(request: HttpRequest, pk: int) -> HttpResponse:
    return _report_page(request, pk, None)


@login_required
def report_correct(request: HttpRequest, pk: int, report_pk: int) -> HttpResponse:
    return _report_page(request, pk, report_pk)


@login_required
def report_pdf(request: HttpRequest, pk: int, report_pk: int) -> FileResponse:
    """The issued PDF, only through the complaint the user may see (another customer: 404)."""
    complaint = _scoped(request, pk)
    report = get_object_or_404(services.complaint_reports(complaint), pk=report_pk)
    return pdf_response(report)


def pdf_response(report: WrittenReport) -> FileResponse:
    """The issued PDF, named after its (server-made) report number."""
    resp = file_download(report.file, stem=report.number, content_type="application/pdf")
    resp["X-Content-SHA256"] = report.sha256
    return resp


def attachment_response(att: ComplaintAttachment) -> FileResponse:
    """Always a download (never rendered inline), under a name the server builds, with the
    extension and Content-Type of the type checked at upload; never the uploader's file name."""
    return file_download(att.file, stem=f"complaint-{att.complaint_id}-attachment-{att.pk}",
                         content_type=att.content_type)


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    complaint = _scoped(request, pk)
    return attachment_response(get_object_or_404(complaint.attachments.all(), pk=attachment_pk))


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    complaint = _scoped(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.complaint_attach(complaint_id=complaint.pk, f=form.cleaned_data["file"],
                                      actor=request.user)
        except DomainError as e:
            messages.error(request, str(e.message))
        else:
            messages.success(request, _("The file was attached."))
    else:
        messages.error(request, _("Choose a file to attach."))
    return redirect("complaints:detail", complaint.pk)
