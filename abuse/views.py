"""Anti-spam pages: the staff work queue (open cases with the time left on each clock, red when
breached; ISC lists to process; listings to report), one case with its steps and forms, the
customer's own cases (another customer's is a 404), the ISC and listing records and the abuse
desk. Reads through abuse.selectors, writes through abuse.services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.choices import Role
from customers.selectors import user_customer_id, user_has_role, user_is_staff
from slaportal.downloads import file_download
from slaportal.errors import ConflictError, DomainError, ForbiddenError
from slaportal.paging import keyset_page
from slaportal.ui import form_add_domain_error

from . import selectors, services
from .choices import VALUE_STEPS, CaseKind, CaseState, PublicationState
from .forms import (
    CaseCreateForm,
    CloseForm,
    DeskForm,
    EvidenceForm,
    KindForm,
    ListingForm,
    ProcessForm,
    PublicationForm,
    ReopenForm,
    ReportForm,
    StepForm,
)
from .models import SpamCase


def _require_handler(user: Any) -> None:
    if not selectors.user_may_handle(user):
        raise PermissionDenied


def _scoped(request: HttpRequest, pk: int) -> SpamCase:
    if user_is_staff(request.user):
        _require_handler(request.user)
    elif user_customer_id(request.user) is None:
        raise PermissionDenied
    return get_object_or_404(selectors.case_list(user=request.user), pk=pk)


@login_required
def case_list_view(request: HttpRequest) -> HttpResponse:
    """Staff: the work queue. A customer user: the cases about their organisation."""
    staff = user_is_staff(request.user)
    if staff:
        _require_handler(request.user)
    elif user_customer_id(request.user) is None:
        raise PermissionDenied
    state = request.GET.get("state", CaseState.OPEN if staff else "")
    if state not in CaseState.values:
        state = ""
    qs = selectors.case_list(user=request.user, state=state or None)
    page = keyset_page(request, qs)
    for case in page:
        case.resp_clock = _annot_clock(case.resp_due_at, case.resp_state)
        case.result_clock = _annot_clock(case.result_due_at, case.result_state)
    ctx: dict[str, Any] = {"page": page, "staff": staff, "state": state, "states": CaseState.choices}
    if staff:
        pubs = list(selectors.publication_list(user=request.user, state=PublicationState.OPEN)[:50])
        for p in pubs:
            pa: Any = p  # annotated by the selector
            pa.clock = _annot_clock(pa.isc_due_at, pa.isc_state)
        ctx.update({"publications": pubs,
                    "listings": list(selectors.listing_list(user=request.user, reported=False)[:50])})
    return render(request, "abuse/case_list.html", ctx)


class _ClockView:
    """What the time-left tags need (state, due_at, paused_at) from the list's annotations."""

    def __init__(self, due_at: Any, state: str) -> None:
        self.due_at, self.state, self.paused_at = due_at, state, None

    def get_state_display(self) -> str:
        from sla.choices import ClockState

        return str(ClockState(self.state).label) if self.state in ClockState.values else self.state


def _annot_clock(due_at: Any, state: str | None) -> _ClockView | None:
    return _ClockView(due_at, state) if due_at is not None and state else None


@login_required
def case_create(request: HttpRequest) -> HttpResponse:
    """Staff open a case after detecting spam."""
    _require_handler(request.user)
    form = CaseCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_open_by_staff(actor=request.user, **form.cleaned_data)
        except ForbiddenError:
            raise PermissionDenied from None
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("Spam case %(number)s was opened.") % {"number": case.number})
            return redirect("abuse:detail", case.pk)
    return render(request, "abuse/case_form.html", {"form": form}, status=400 if form.errors else 200)


def _detail(request: HttpRequest, case: SpamCase, *, status: int = 200, **forms_: Any) -> HttpResponse:
    staff = user_is_staff(request.user)
    clocks = selectors.case_clocks(case)
    steps = list(selectors.case_steps(case))
    done = {s.code for s in steps if s.done}
    identified = next((s.value for s in steps if s.code in ("identify_source", "identify_account") and s.value), "")
    for step in steps:
        sa: Any = step  # what the row's form needs, for the template
        sa.needs_value = step.code in VALUE_STEPS
        sa.initial_value = identified if step.code in ("block_source", "suspend_account") else ""
    return render(request, "abuse/case_detail.html", {
        "case": case, "staff": staff, "steps": steps, "any_done": bool(done),
        "resp": clocks[selectors.RESP], "result": clocks[selectors.RESULT],
        "evidence": list(selectors.case_evidence(case)) if staff else [],
        "audit": list(selectors.case_audit(case)) if staff else [],
        "has_guarantee": case.evidence.filter(kind="guarantee").exists(),
        "step_form": forms_.get("step_form") or StepForm(), "failed_step": forms_.get("failed_step", ""),
        "evidence_form": forms_.get("evidence_form") or EvidenceForm(),
        "kind_form": forms_.get("kind_form") or KindForm(initial={"kind": case.kind}),
        "close_form": forms_.get("close_form") or CloseForm(),
        "reopen_form": forms_.get("reopen_form") or ReopenForm(),
        "kinds": CaseKind.choices,
    }, status=status)


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _scoped(request, pk))


def _act(request: HttpRequest, case: SpamCase, form: Any, call: Callable[[], Any], done: str,
         form_name: str, **extra: Any) -> HttpResponse:
    """Run one service for a posted form: a refused role is 403, a state conflict a message, bad
    input the page again with the form's errors (400)."""
    if not form.is_valid():
        return _detail(request, case, status=400, **{form_name: form}, **extra)
    try:
        call()
    except ForbiddenError:
        raise PermissionDenied from None
    except ConflictError as e:
        messages.error(request, str(e.message))
        return redirect("abuse:detail", case.pk)
    except DomainError as e:
        form_add_domain_error(form, e)
        messages.error(request, str(e.message))
        return _detail(request, case, status=400, **{form_name: form}, **extra)
    messages.success(request, done)
    return redirect("abuse:detail", case.pk)


@login_required
@require_POST
def step_done(request: HttpRequest, pk: int, code: str) -> HttpResponse:
    case = _scoped(request, pk)
    _require_handler(request.user)
    get_object_or_404(case.steps.all(), code=code)
    form = StepForm(request.POST)
    return _act(request, case, form, lambda: services.case_step_done(
        case_id=case.pk, code=code, actor=request.user, **form.cleaned_data),
        _("The step was recorded."), "step_form", failed_step=code)


@login_required
@require_POST
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    case = _scoped(request, pk)
    _require_handler(request.user)
    form = EvidenceForm(request.POST, request.FILES)
    return _act(request, case, form, lambda: services.case_evidence_add(
        case_id=case.pk, f=form.cleaned_data["file"], kind=form.cleaned_data["kind"],
        step_code=form.cleaned_data["step"], actor=request.user), _("The file was kept."), "evidence_form")


@login_required
def evidence_download(request: HttpRequest, pk: int, evidence_pk: int) -> FileResponse:
    """Staff only: evidence names accounts and addresses of third parties."""
    case = _scoped(request, pk)
    if not user_is_staff(request.user):
        raise Http404
    ev = get_object_or_404(case.evidence.all(), pk=evidence_pk)
    return file_download(ev.file, stem=f"{case.number}-evidence-{ev.pk}", content_type=ev.content_type)


@login_required
def raw_message(request: HttpRequest, pk: int) -> FileResponse:
    """The abuse e-mail as received (staff only), always as a download."""
    case = _scoped(request, pk)
    if not user_is_staff(request.user) or not case.raw_message:
        raise Http404
    return file_download(case.raw_message, stem=f"{case.number}-message", content_type="message/rfc822")


@login_required
@require_POST
def set_kind(request: HttpRequest, pk: int) -> HttpResponse:
    case = _scoped(request, pk)
    _require_handler(request.user)
    form = KindForm(request.POST)
    return _act(request, case, form, lambda: services.case_set_kind(
        case_id=case.pk, actor=request.user, **form.cleaned_data), _("The kind was changed."), "kind_form")


@login_required
@require_POST
def close(request: HttpRequest, pk: int) -> HttpResponse:
    case = _scoped(request, pk)
    _require_handler(request.user)
    form = CloseForm(request.POST)
    return _act(request, case, form, lambda: services.case_close(
        case_id=case.pk, actor=request.user, **form.cleaned_data), _("The case was closed."), "close_form")


@login_required
@require_POST
def reopen(request: HttpRequest, pk: int) -> HttpResponse:
    case = _scoped(request, pk)
    _require_handler(request.user)
    form = ReopenForm(request.POST)
    return _act(request, case, form, lambda: services.case_reopen(
        case_id=case.pk, actor=request.user, **form.cleaned_data), _("The case was reopened."), "reopen_form")


# --- ISC lists and blacklist listings (staff) -------------------------------------------------

@login_required
def publications(request: HttpRequest) -> HttpResponse:
    _require_handler(request.user)
    form = PublicationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            data = dict(form.cleaned_data)
            services.publication_record(actor=request.user, f=data.pop("file") or None, **data)
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The ISC list was recorded; it must be processed within one working day."))
            return redirect("abuse:publications")
    rows = list(selectors.publication_list(user=request.user)[:200])
    for p in rows:
        pa: Any = p  # annotated by the selector
        pa.clock = _annot_clock(pa.isc_due_at, pa.isc_state)
    return render(request, "abuse/publication_list.html",
                  {"rows": rows, "form": form, "process_form": ProcessForm()}, status=400 if form.errors else 200)


@login_required
@require_POST
def publication_process(request: HttpRequest, pk: int) -> HttpResponse:
    _require_handler(request.user)
    pub = get_object_or_404(selectors.publication_list(user=request.user), pk=pk)
    form = ProcessForm(request.POST)
    if form.is_valid():
        try:
            services.publication_process(publication_id=pub.pk, actor=request.user, **form.cleaned_data)
        except DomainError as e:
            messages.error(request, str(e.message))
        else:
            messages.success(request, _("The ISC list was processed."))
    else:
        messages.error(request, _("Say what was blocked."))
    return redirect("abuse:publications")


@login_required
def listings(request: HttpRequest) -> HttpResponse:
    _require_handler(request.user)
    form = ListingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.listing_record(actor=request.user, **form.cleaned_data)
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The listing was recorded; report it to the ISC."))
            return redirect("abuse:listings")
    return render(request, "abuse/listing_list.html",
                  {"rows": list(selectors.listing_list(user=request.user)[:200]), "form": form,
                   "report_form": ReportForm()}, status=400 if form.errors else 200)


@login_required
@require_POST
def listing_report(request: HttpRequest, pk: int) -> HttpResponse:
    _require_handler(request.user)
    listing = get_object_or_404(selectors.listing_list(user=request.user), pk=pk)
    form = ReportForm(request.POST)
    if form.is_valid():
        try:
            services.listing_report(listing_id=listing.pk, actor=request.user, **form.cleaned_data)
        except DomainError as e:
            messages.error(request, str(e.message))
        else:
            messages.success(request, _("The report to the ISC was recorded."))
    else:
        messages.error(request, _("Say what was reported."))
    return redirect("abuse:listings")


@login_required
def desk(request: HttpRequest) -> HttpResponse:
    """The abuse desk: every signed-in user reads the contact; managers change it."""
    current = selectors.desk_get()
    manager = user_has_role(request.user, Role.MANAGER)
    form = None
    if manager:
        initial = {f: getattr(current, f) for f in DeskForm.base_fields if f != "imap_password"} if current else {}
        form = DeskForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.desk_save(actor=request.user, **form.service_kwargs())
            except DomainError as e:
                form_add_domain_error(form, e)
            else:
                messages.success(request, _("The abuse desk was saved."))
                return redirect("abuse:desk")
    elif request.method == "POST":
        raise PermissionDenied
    return render(request, "abuse/desk.html", {"desk": current, "form": form, "manager": manager},
                  status=400 if form is not None and form.errors else 200)
