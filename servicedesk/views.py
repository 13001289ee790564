"""Service-desk pages: the customer's requests, the new-request form, one request with its
thread; the staff work queue (mine / unassigned / all, with the time left on each clock), the
reply, note, transition and service-change forms; the manager's page (contracts expiring, services
without a dedicated specialist or engineer) and the mailbox's unmatched messages. Reads go
through servicedesk.selectors (another customer's request is a 404), writes through services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_fsm import can_proceed

from audit.services import audit_for
from customers.choices import Role
from customers.selectors import user_customer_id, user_has_role, user_is_staff
from slaportal.downloads import file_download
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from slaportal.paging import keyset_page
from slaportal.ui import filter_values, form_add_domain_error, querystring_without_page

from . import services
from .choices import RequestState
from .forms import (
    AttachmentForm,
    CustomerRequestForm,
    NoteForm,
    QueueFilterForm,
    ReasonForm,
    ReplyForm,
    ServiceChangeForm,
    StaffRequestForm,
)
from .models import InboundMail, RequestAttachment, ServiceRequest
from .selectors import (
    contracts_expiring,
    inbound_unmatched,
    request_attachments,
    request_clocks,
    request_entries,
    request_list,
    row_clocks,
    services_without_dedicated_staff,
)
from .services.common import HANDLER_ROLES, is_handler

# action -> (service, done message, who: "staff" or "both")
TRANSITIONS: dict[str, tuple[Callable[..., ServiceRequest], Any, str]] = {
    "start": (services.request_start, gettext_lazy("The request is in progress."), "staff"),
    "wait": (services.request_wait, gettext_lazy("Waiting for the customer; the resolution clock stands still."), "staff"),
    "resume": (services.request_resume, gettext_lazy("The request is in progress again."), "staff"),
    "resolve": (services.request_resolve, gettext_lazy("The request was resolved."), "staff"),
    "close": (services.request_close, gettext_lazy("The request was closed."), "both"),
    "reopen": (services.request_reopen, gettext_lazy("The request was reopened."), "both"),
    "cancel": (services.request_cancel, gettext_lazy("The request was cancelled."), "both"),
}
TRANSITION_BUTTONS = {
    "start": gettext_lazy("Take it up"), "wait": gettext_lazy("Wait for the customer"),
    "resume": gettext_lazy("Resume"), "resolve": gettext_lazy("Resolve"), "close": gettext_lazy("Close"),
    "reopen": gettext_lazy("Reopen"), "cancel": gettext_lazy("Cancel the request"),
}
AUDIT_LABELS = {
    "create": gettext_lazy("opened"), "reply": gettext_lazy("reply"), "note": gettext_lazy("internal note"),
    "attach": gettext_lazy("file attached"), "assign": gettext_lazy("assigned"),
    "start": gettext_lazy("taken up"), "wait": gettext_lazy("waiting for the customer"),
    "resume": gettext_lazy("resumed"), "resolve": gettext_lazy("resolved"), "close": gettext_lazy("closed"),
    "reopen": gettext_lazy("reopened"), "cancel": gettext_lazy("cancelled"),
    "change_agreed": gettext_lazy("service change agreed"),
    "change_applied": gettext_lazy("service change applied"),
    "clock_pending": gettext_lazy("clock not started: working-day calendar missing"),
}


def _scoped(request: HttpRequest, pk: int) -> ServiceRequest:
    user = request.user
    if not (is_handler(user) or user_customer_id(user) is not None):
        raise PermissionDenied
    return get_object_or_404(request_list(user=user), pk=pk)


def _rows(page: Any) -> Any:
    for sr in page.object_list:
        sr.first_clock, sr.resolve_clock = row_clocks(sr)
    return page


def allowed_transitions(user: Any, sr: ServiceRequest) -> list[str]:
    staff = is_handler(user)
    own = user_customer_id(user) == sr.customer_id
    out = []
    for name, (_func, _done, who) in TRANSITIONS.items():
        if not (staff or (who == "both" and own)):
            continue
        if not can_proceed(getattr(sr, name)):
            continue
        if name == "reopen" and not staff:
            deadline = services.reopen_deadline(sr)
            if deadline is not None and timezone.now() >= deadline:
                continue
        out.append(name)
    return out


@login_required
def request_list_view(request: HttpRequest) -> HttpResponse:
    """A customer's requests; for staff, the work queue (?view=mine|unassigned|all)."""
    user = request.user
    staff = is_handler(user)
    if not staff and user_customer_id(user) is None:
        raise PermissionDenied
    form = QueueFilterForm(request.GET or None)
    f = filter_values(request, form)
    view = request.GET.get("view", "mine" if staff else "all")
    if view not in ("mine", "unassigned", "all"):
        view = "all"
    kw: dict[str, Any] = {"state": f.get("state") or None, "kind": f.get("kind") or None}
    if staff and not kw["state"]:
        kw["open_only"] = True
    if staff and view == "mine":
        kw["assignee_id"] = user.pk
    elif staff and view == "unassigned":
        kw["unassigned"] = True
    qs = request_list(user=user, **kw)
    return render(request, "servicedesk/request_list.html", {
        "form": form, "page": _rows(keyset_page(request, qs)), "qs": querystring_without_page(request),
        "staff": staff, "view": view, "is_manager": user_has_role(user, Role.MANAGER)})


@login_required
def request_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    staff = is_handler(user)
    if not staff and (user_is_staff(user) or user_customer_id(user) is None):
        raise PermissionDenied
    form_class = StaffRequestForm if staff else CustomerRequestForm
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, user=user)
        if form.is_valid():
            data = form.service_kwargs()
            if not staff:
                data["customer"] = user.customer_link.customer
                if user.email:
                    data["requester_email"] = user.email
                data["requester_name"] = user.get_full_name() or user.get_username()
            try:
                sr = services.request_create(actor=user, **data)
            except DomainError as e:
                form_add_domain_error(form, e)
            else:
                messages.success(request, _("Service request %(number)s was opened.") % {"number": sr.number})
                return redirect("servicedesk:detail", sr.pk)
    else:
        form = form_class(user=user)
    return render(request, "servicedesk/request_form.html", {"form": form, "staff": staff},
                  status=400 if form.errors else 200)


# Reasons the services write themselves, shown in the reader's language (free text as written).
AUDIT_REASONS = {
    "staff replied": gettext_lazy("staff replied"),
    "the customer answered": gettext_lazy("the customer answered"),
    "staff replied and wait for the customer": gettext_lazy("staff replied and wait for the customer"),
}


def _audit_rows(sr: ServiceRequest) -> list[Any]:
    states = dict(RequestState.choices)
    rows = list(audit_for(sr))
    for e in rows:
        e.reason = str(AUDIT_REASONS.get(e.reason, e.reason))
        e.action_label = str(AUDIT_LABELS.get(e.action, e.action))
        e.from_label = str(states.get(e.from_state, e.from_state))
        e.to_label = str(states.get(e.to_state, e.to_state))
    return rows


def _detail(request: HttpRequest, sr: ServiceRequest, *, status: int = 200, **forms: Any) -> HttpResponse:
    user = request.user
    staff = is_handler(user)
    ctx: dict[str, Any] = {
        "sr": sr, "staff": staff, "entries": request_entries(user=user, sr=sr),
        "attachments": request_attachments(user=user, sr=sr),
        "actions": [(a, TRANSITION_BUTTONS[a]) for a in allowed_transitions(user, sr)],
        "reason_form": forms.get("reason_form") or ReasonForm(),
        "reply_form": forms.get("reply_form") or ReplyForm(),
        "can_reply": sr.state not in (RequestState.CLOSED, RequestState.CANCELLED),
        "attachment_form": AttachmentForm(), "reopen_until": services.reopen_deadline(sr),
    }
    if staff:
        ctx.update({
            "clocks": request_clocks(sr), "audit": _audit_rows(sr),
            "note_form": forms.get("note_form") or NoteForm(),
            "changes": sr.changes.select_related("service", "operation").all(),
            "change_form": (forms.get("change_form") or ServiceChangeForm(sr=sr)) if sr.service_id else None,
        })
    return render(request, "servicedesk/request_detail.html", ctx, status=status)


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _scoped(request, pk))


@login_required
@require_POST
def request_transition(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    sr = _scoped(request, pk)
    func, done, _who = TRANSITIONS[action]
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _detail(request, sr, reason_form=form, status=400)
    try:
        func(request_id=sr.pk, actor=request.user, reason=form.cleaned_data["reason"])
    except ForbiddenError:
        raise PermissionDenied from None
    except ConflictError as e:
        messages.error(request, str(e.message))
        return redirect("servicedesk:detail", sr.pk)
    except DomainError as e:
        form_add_domain_error(form, e)
        return _detail(request, sr, reason_form=form, status=400)
    messages.success(request, str(done))
    return redirect("servicedesk:detail", sr.pk)


@login_required
@require_POST
def reply_create(request: HttpRequest, pk: int) -> HttpResponse:
    sr = _scoped(request, pk)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.reply_add(request_id=sr.pk, actor=request.user, body=d["body"], files=d.get("files") or [],
                               wait_for_customer=bool(d.get("wait_for_customer")) and is_handler(request.user))
        except ForbiddenError:
            raise PermissionDenied from None
        except DomainError as e:
            form_add_domain_error(form, e, aliases={"files": "files"})
        else:
            messages.success(request, _("Your reply was added."))
            return redirect("servicedesk:detail", sr.pk)
    return _detail(request, sr, reply_form=form, status=400)


@login_required
@require_POST
def note_create(request: HttpRequest, pk: int) -> HttpResponse:
    sr = _scoped(request, pk)
    if not is_handler(request.user):
        raise PermissionDenied
    form = NoteForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.note_add(request_id=sr.pk, actor=request.user, body=form.cleaned_data["body"],
                              files=form.cleaned_data.get("files") or [])
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The internal note was added."))
            return redirect("servicedesk:detail", sr.pk)
    return _detail(request, sr, note_form=form, status=400)


@login_required
@require_POST
def change_create(request: HttpRequest, pk: int) -> HttpResponse:
    sr = _scoped(request, pk)
    if not is_handler(request.user) or not sr.service_id:
        raise PermissionDenied
    form = ServiceChangeForm(request.POST, sr=sr)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.service_change_agree(
                request_id=sr.pk, actor=request.user, changes=form.changes(), note=d["note"],
                needs_operation=d["needs_operation"], operation=d.get("operation"),
                operation_contact=d.get("operation_contact"))
        except DomainError as e:
            form_add_domain_error(form, e, aliases={"changes": "name"})
        else:
            messages.success(request, _("The agreed change was recorded."))
            return redirect("servicedesk:detail", sr.pk)
    return _detail(request, sr, change_form=form, status=400)


@login_required
@require_POST
def change_apply(request: HttpRequest, pk: int, change_pk: int) -> HttpResponse:
    sr = _scoped(request, pk)
    if not is_handler(request.user):
        raise PermissionDenied
    change = get_object_or_404(sr.changes.all(), pk=change_pk)
    try:
        services.service_change_apply(change_id=change.pk, actor=request.user)
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(request, _("The service record was changed."))
    return redirect("servicedesk:detail", sr.pk)


def attachment_response(att: RequestAttachment) -> FileResponse:
    """Always a download, under a name the server builds, with the type checked at upload."""
    return file_download(att.file, stem=f"request-{att.request_id}-attachment-{att.pk}",
                         content_type=att.content_type)


@login_required
def attachment_download(request: HttpRequest, pk: int, attachment_pk: int) -> FileResponse:
    sr = _scoped(request, pk)
    return attachment_response(get_object_or_404(request_attachments(user=request.user, sr=sr), pk=attachment_pk))


@login_required
@require_POST
def attachment_upload(request: HttpRequest, pk: int) -> HttpResponse:
    sr = _scoped(request, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.request_attach(request_id=sr.pk, f=form.cleaned_data["file"], actor=request.user)
        except DomainError as e:
            messages.error(request, str(e.message))
        else:
            messages.success(request, _("The file was attached."))
    else:
        messages.error(request, _("Choose a file to attach."))
    return redirect("servicedesk:detail", sr.pk)


@login_required
def manager_page(request: HttpRequest) -> HttpResponse:
    """Contracts expiring in the next 90 days, services without a dedicated specialist or
    engineer (the seed guarantees both), and the mailbox's unmatched messages."""
    if not user_has_role(request.user, Role.MANAGER):
        raise PermissionDenied
    return render(request, "servicedesk/manager.html", {
        "expiring": contracts_expiring(within_days=90), "uncovered": services_without_dedicated_staff(),
        "unmatched_count": inbound_unmatched().count()})


@login_required
def mailbox_page(request: HttpRequest) -> HttpResponse:
    """Messages from the service mailbox that were not appended or opened by themselves."""
    if not user_has_role(request.user, *HANDLER_ROLES):
        raise PermissionDenied
    return render(request, "servicedesk/mailbox.html", {"page": keyset_page(request, inbound_unmatched())})


@login_required
@require_POST
def mailbox_action(request: HttpRequest, mail_pk: int) -> HttpResponse:
    if not user_has_role(request.user, *HANDLER_ROLES):
        raise PermissionDenied
    mail = get_object_or_404(InboundMail, pk=mail_pk)
    try:
        if request.POST.get("action") == "append":
            number = request.POST.get("request", "").strip()
            sr = ServiceRequest.objects.filter(number=number).first()
            if sr is None:
                raise DomainError(_("No service request with that number."))
            services.inbound_mail_append(mail_id=mail.pk, request_id=sr.pk, actor=request.user)
            messages.success(request, _("The message was appended to %(number)s.") % {"number": sr.number})
        else:
            services.inbound_mail_dismiss(mail_id=mail.pk, actor=request.user)
            messages.success(request, _("The message was dismissed."))
    except DomainError as e:
        messages.error(request, str(e.message))
    return redirect("servicedesk:mailbox")
