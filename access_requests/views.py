"""Visit pages: the customer's bookings, staff decisions and escort assignment, the staff
schedule per room, the door (security), and the visit log as CSV and PDF. Every read comes
from access_requests.selectors (another customer's visit is a 404); every write is one service
call."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.services import audit_for
from customers.choices import Role
from customers.selectors import user_customer_id, user_has_role, user_is_staff
from slaportal.downloads import bytes_download
from slaportal.errors import ConflictError, DomainError
from slaportal.paging import keyset_page
from slaportal.ui import filter_values, form_add_domain_error, querystring_without_page

from . import services
from .choices import CANCELLABLE_STATES, DOOR_STATES, VisitState
from .exports import log_file_stem, visit_log_csv, visit_log_pdf
from .forms import (
    ApproveForm,
    ChangeForm,
    CheckInForm,
    CheckOutForm,
    CloseForm,
    DoorLookupForm,
    EscortForm,
    ReasonForm,
    ScheduleForm,
    VisitBookForm,
    VisitFilterForm,
    VisitorFormSet,
)
from .models import Visit
from .selectors import (
    door_expected_today,
    door_lookup,
    is_security,
    may_see_full_id,
    visit_get,
    visit_list,
    visit_log,
    visit_schedule,
)

S = VisitState


def _require_reader(user: Any) -> None:
    """Staff read visits with the view permission (roles.py); a customer user reads their own."""
    if user_is_staff(user):
        if not user.has_perm("access_requests.view_visit"):
            raise PermissionDenied
    elif user_customer_id(user) is None:
        raise PermissionDenied


def _visit_or_404(request: HttpRequest, pk: int) -> Visit:
    _require_reader(request.user)
    try:
        return visit_get(user=request.user, pk=pk)
    except Visit.DoesNotExist:
        raise Http404 from None


def _is_approver(user: Any) -> bool:
    return user_has_role(user, Role.DC_STAFF, Role.MANAGER)


@login_required
def visit_list_view(request: HttpRequest) -> HttpResponse:
    _require_reader(request.user)
    form = VisitFilterForm(request.GET or None)
    d = filter_values(request, form)
    kwargs: dict[str, Any] = {
        "state": d.get("state") or None, "room_id": d["room"].pk if d.get("room") else None,
        "date_from": d.get("date_from"), "date_to": d.get("date_to"), "q": d.get("q") or None}
    qs = visit_list(user=request.user, **kwargs)
    if not any(kwargs.values()):
        # By default: what is still to come or inside, soonest first.
        qs = qs.filter(state__in=(S.REQUESTED, S.APPROVED, S.CHECKED_IN))
    return render(request, "access_requests/visit_list.html", {
        "form": form, "page": keyset_page(request, qs), "qs": querystring_without_page(request),
        "can_book": not user_is_staff(request.user) or request.user.has_perm("access_requests.add_visit"),
        "is_security": is_security(request.user), "is_staff_user": user_is_staff(request.user),
    })


@login_required
def visit_book_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    _require_reader(user)
    staff = user_is_staff(user)
    if staff and not user.has_perm("access_requests.add_visit"):
        raise PermissionDenied
    form = VisitBookForm(request.POST or None, staff=staff)
    formset = VisitorFormSet(request.POST or None, prefix="visitors")
    status = 200
    if request.method == "POST":
        if form.is_valid() and formset.is_valid():
            d = dict(form.cleaned_data)
            customer = d.pop("customer", None) if staff else user.customer_link.customer
            visitors = [services.VisitorInput(**f.cleaned_data) for f in formset.forms
                        if f.cleaned_data and not f.cleaned_data.get("DELETE")]
            try:
                visit = services.visit_book(customer=customer, actor=user, visitors=visitors, **d)
            except DomainError as e:
                form_add_domain_error(form, e)
            else:
                messages.success(request, _("Visit %(number)s was requested.") % {"number": visit.number})
                return redirect("access_requests:detail", visit.pk)
        status = 400
    return render(request, "access_requests/visit_form.html", {
        "form": form, "formset": formset, "lead_hours": f"{services.lead_time().total_seconds() / 3600:g}",
    }, status=status)


def _detail(request: HttpRequest, visit: Visit, *, forms: dict[str, Any] | None = None,
            status: int = 200) -> HttpResponse:
    user = request.user
    approver = _is_approver(user)
    own = user_customer_id(user) == visit.customer_id
    initial_change = {"room": visit.room_id,
                      "expected_entry_at": timezone.localtime(visit.expected_entry_at),
                      "expected_exit_at": timezone.localtime(visit.expected_exit_at)}
    audit = list(audit_for(visit))
    ctx: dict[str, Any] = {
        "visit": visit, "visitors": visit.visitors.all(), "audit": audit,
        "checkin_overrides": [e for e in audit if e.action == services.CHECK_IN_OVERRIDE],
        "can_decide": approver and visit.state == S.REQUESTED,
        "can_assign": approver and visit.state == S.APPROVED,
        "can_change": (approver and visit.state in CANCELLABLE_STATES) or (own and visit.state == S.REQUESTED),
        "can_cancel": (approver or own) and visit.state in CANCELLABLE_STATES,
        "can_close": approver and visit.state == S.CHECKED_OUT,
        "can_door": is_security(user) and visit.state in DOOR_STATES,
        "approve_form": ApproveForm(initial={"escort": visit.escort_id}), "decline_form": ReasonForm(),
        "escort_form": EscortForm(initial={"escort": visit.escort_id}), "cancel_form": ReasonForm(),
        "change_form": ChangeForm(initial=initial_change), "close_form": CloseForm(),
    }
    ctx.update(forms or {})
    return render(request, "access_requests/visit_detail.html", ctx, status=status)


@login_required
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _visit_or_404(request, pk))


def _act(request: HttpRequest, visit: Visit, form_name: str, form: Any, call: Any, done: str) -> HttpResponse:
    """Run one service call from a detail-page form: a state conflict is a message and a
    redirect (someone acted first), a refusal shows on the form."""
    if not form.is_valid():
        return _detail(request, visit, forms={form_name: form}, status=400)
    try:
        call(form.cleaned_data)
    except ConflictError as e:
        if e.code == "escort_overlap":
            form_add_domain_error(form, e)
            return _detail(request, visit, forms={form_name: form, "show_overlap": True}, status=409)
        messages.error(request, str(e.message))
        return redirect("access_requests:detail", visit.pk)
    except DomainError as e:
        form_add_domain_error(form, e)
        return _detail(request, visit, forms={form_name: form}, status=400)
    messages.success(request, done)
    return redirect("access_requests:detail", visit.pk)


@login_required
@require_POST
def visit_approve(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit_or_404(request, pk)
    if not _is_approver(request.user):
        raise PermissionDenied
    return _act(request, visit, "approve_form", ApproveForm(request.POST), lambda d: services.visit_approve(
        visit_id=visit.pk, actor=request.user, escort=d["escort"], reason=d["reason"],
        allow_escort_overlap=d["allow_escort_overlap"]), _("The visit was approved; the customer is notified."))


@login_required
@require_POST
def visit_decline(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit_or_404(request, pk)
    if not _is_approver(request.user):
        raise PermissionDenied
    return _act(request, visit, "decline_form", ReasonForm(request.POST), lambda d: services.visit_decline(
        visit_id=visit.pk, actor=request.user, reason=d["reason"]),
        _("The visit was declined; the customer is notified."))


@login_required
@require_POST
def visit_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit_or_404(request, pk)
    return _act(request, visit, "cancel_form", ReasonForm(request.POST), lambda d: services.visit_cancel(
        visit_id=visit.pk, actor=request.user, reason=d["reason"]), _("The visit was cancelled."))


@login_required
@require_POST
def visit_escort(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit_or_404(request, pk)
    if not _is_approver(request.user):
        raise PermissionDenied
    return _act(request, visit, "escort_form", EscortForm(request.POST), lambda d: services.visit_change(
        visit_id=visit.pk, actor=request.user, escort=d["escort"],
        allow_escort_overlap=d["allow_escort_overlap"]), _("The escort was assigned."))


@login_required
@require_POST
def visit_change(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit_or_404(request, pk)
    return _act(request, visit, "change_form", ChangeForm(request.POST), lambda d: services.visit_change(
        visit_id=visit.pk, actor=request.user, room=d["room"], expected_entry_at=d["expected_entry_at"],
        expected_exit_at=d["expected_exit_at"], allow_escort_overlap=d["allow_escort_overlap"]),
        _("The visit was changed."))


@login_required
@require_POST
def visit_close(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit_or_404(request, pk)
    if not _is_approver(request.user):
        raise PermissionDenied
    return _act(request, visit, "close_form", CloseForm(request.POST), lambda d: services.visit_close(
        visit_id=visit.pk, actor=request.user, work_done=d["work_done"]), _("The visit was closed."))


# --- the door --------------------------------------------------------------------------------

def _require_security(user: Any) -> None:
    if not is_security(user):
        raise PermissionDenied


@login_required
def door_view(request: HttpRequest) -> HttpResponse:
    """Security looks a visit up by booking number or visitor name; without a search the page
    lists today's expected visitors (and anyone still inside)."""
    _require_security(request.user)
    form = DoorLookupForm(request.GET or None)
    results = None
    q = filter_values(request, form).get("q")
    if q:
        results = list(door_lookup(user=request.user, q=q)[:50])
        if len(results) == 1:
            return redirect("access_requests:door_visit", results[0].pk)
    today = None if q else list(door_expected_today(user=request.user)[:200])
    return render(request, "access_requests/door.html", {"form": form, "results": results, "today": today})


def _door_page(request: HttpRequest, visit: Visit, *, errors: dict[int, CheckInForm] | None = None,
               status: int = 200) -> HttpResponse:
    errors = errors or {}
    rows = [(p, errors.get(p.pk) or CheckInForm(initial={"visitor": p.pk})) for p in visit.visitors.all()]
    earliest, latest = services.checkin_window_bounds(visit)
    return render(request, "access_requests/door_visit.html", {
        "visit": visit, "rows": rows, "show_full_id": may_see_full_id(request.user, visit),
        "can_check_out": visit.state == S.CHECKED_IN,
        "outside_window": not services.checkin_inside_window(visit, timezone.now()),
        "window_earliest": earliest, "window_latest": latest,
        "window_minutes": int(services.checkin_window().total_seconds() // 60)}, status=status)


@login_required
def door_visit(request: HttpRequest, pk: int) -> HttpResponse:
    # At the door too the visit is looked up first: another customer's is a 404, never a 403.
    visit = _visit_or_404(request, pk)
    _require_security(request.user)
    return _door_page(request, visit)


@login_required
@require_POST
def door_check_in(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit_or_404(request, pk)
    _require_security(request.user)
    form = CheckInForm(request.POST)
    if not form.is_valid():
        if "visitor" in form.errors:
            raise Http404  # a tampered form: no visitor id
        return _door_page(request, visit, errors={form.cleaned_data["visitor"]: form}, status=400)
    d = form.cleaned_data
    try:
        person = services.visitor_check_in(visit_id=visit.pk, visitor_id=d["visitor"], actor=request.user,
                                           pass_number=d["pass_number"],
                                           id_document_confirmed=d["id_document_confirmed"],
                                           override_reason=d["override_reason"])
    except DomainError as e:
        if e.code == "not_listed" or isinstance(e, ConflictError):
            messages.error(request, str(e.message))
            return redirect("access_requests:door_visit", visit.pk)
        form_add_domain_error(form, e)
        return _door_page(request, _visit_or_404(request, pk), errors={d["visitor"]: form}, status=400)
    messages.success(request, _("%(name)s is checked in.") % {"name": person.name})
    return redirect("access_requests:door_visit", visit.pk)


@login_required
@require_POST
def door_check_out(request: HttpRequest, pk: int) -> HttpResponse:
    visit = _visit_or_404(request, pk)
    _require_security(request.user)
    form = CheckOutForm(request.POST)
    visitor_id = form.cleaned_data.get("visitor") if form.is_valid() else None
    try:
        services.visitor_check_out(visit_id=visit.pk, actor=request.user, visitor_id=visitor_id)
    except DomainError as e:
        messages.error(request, str(e.message))
    else:
        messages.success(request, _("The exit was logged."))
    return redirect("access_requests:door_visit", visit.pk)


# --- staff schedule and the visit log ---------------------------------------------------------

@login_required
def schedule_view(request: HttpRequest) -> HttpResponse:
    """Upcoming visits per room and day, with escorts booked twice at the same time marked."""
    if not user_is_staff(request.user):
        raise PermissionDenied
    _require_reader(request.user)
    form = ScheduleForm(request.GET or None)
    d = filter_values(request, form)
    start: date = d.get("start") or timezone.localdate()
    days: int = d.get("days") or 7
    room_id = d["room"].pk if d.get("room") else None
    day_list, rooms, clashes = visit_schedule(user=request.user, start=start, days=days, room_id=room_id)
    return render(request, "access_requests/schedule.html", {
        "form": form, "days": day_list, "rooms": rooms, "clashes": clashes})


def _log_args(request: HttpRequest) -> dict[str, Any] | None:
    """The visit log's filters; None if one is not valid (a download must not quietly leave a
    filter out: the caller sends the user back to the list, which says what is wrong)."""
    form = VisitFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return None
    d = form.cleaned_data if form.is_bound else {}
    return {"date_from": d.get("date_from"), "date_to": d.get("date_to"),
            "room_id": d["room"].pk if d.get("room") else None}


def _back_to_list(request: HttpRequest) -> HttpResponse:
    return redirect(f"{reverse('access_requests:list')}?{request.GET.urlencode()}")


@login_required
def log_csv(request: HttpRequest) -> HttpResponse:
    _require_reader(request.user)
    args = _log_args(request)
    if args is None:
        return _back_to_list(request)
    return bytes_download(visit_log_csv(visit_log(user=request.user, **args)), stem=log_file_stem(args),
                          content_type="text/csv")


@login_required
def log_pdf(request: HttpRequest) -> HttpResponse:
    _require_reader(request.user)
    args = _log_args(request)
    if args is None:
        return _back_to_list(request)
    pdf = visit_log_pdf(visit_log(user=request.user, **args), date_from=args.get("date_from"),
                        date_to=args.get("date_to"))
    return bytes_download(pdf, stem=log_file_stem(args), content_type="application/pdf")
