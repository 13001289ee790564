"""Operation pages: the scoped list, the request form, one request with its authorizations,
steps, messages and reports, and one POST view per action, each calling operations.services.
Another customer's request, its files and its reports are 404 (scoped querysets)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.services import audit_for
from customers.selectors import user_customer_id, user_has_role, user_is_staff
from sla.models import Clock
from sla.selectors import policy_target_display
from slaportal.errors import ConflictError, DomainError
from slaportal.paging import keyset_page
from slaportal.ui import filter_values, form_add_domain_error, querystring_without_page

from . import selectors, services
from .choices import AuthorizationStatus, OperationState, PhoneAttemptResult
from .downloads import authorization_file_response, report_file_response
from .forms import (
    FeedbackForm,
    FinishForm,
    OperationFilterForm,
    OperationForm,
    PhoneAuthorizationForm,
    ReasonForm,
    ReportForm,
    StepForm,
    WrittenAuthorizationForm,
)
from .models import OperationRequest

S = OperationState
VIEW_PERM = "operations.view_operationrequest"


def _check_access(request: HttpRequest) -> None:
    """Staff need the view permission (data-centre staff do not read operations); a customer
    user reads their own organisation's, which the scoped queryset enforces."""
    user = request.user
    if user_is_staff(user):
        if not user.has_perm(VIEW_PERM):
            raise PermissionDenied
    elif user_customer_id(user) is None:
        raise PermissionDenied


def _operation(request: HttpRequest, pk: int) -> OperationRequest:
    _check_access(request)
    return get_object_or_404(selectors.operation_list(user=request.user), pk=pk)


@login_required
def operation_list_view(request: HttpRequest) -> HttpResponse:
    _check_access(request)
    form = OperationFilterForm(request.GET or None)
    state = filter_values(request, form).get("state")
    qs = selectors.operation_list(user=request.user, state=state or None)
    return render(request, "operations/operation_list.html", {
        "form": form, "page": keyset_page(request, qs), "qs": querystring_without_page(request),
        "can_create": _may_create(request.user)})


def _may_create(user: Any) -> bool:
    if user_is_staff(user):
        return bool(user_has_role(user, *services.INTAKE_ROLES))
    return user_customer_id(user) is not None


@login_required
def operation_create_view(request: HttpRequest) -> HttpResponse:
    _check_access(request)
    if not _may_create(request.user):
        raise PermissionDenied
    form = OperationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            op = services.operation_create(actor=request.user, **data)
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("Operation request %(number)s recorded. Nothing will be done "
                                        "before an authorization is accepted.") % {"number": op.number})
            return redirect("operations:detail", op.pk)
    return render(request, "operations/operation_form.html", {"form": form},
                  status=400 if request.method == "POST" else 200)


def _detail(request: HttpRequest, op: OperationRequest, *, bound: dict[str, forms.Form] | None = None,
            status: int = 200) -> HttpResponse:
    user = request.user
    is_operator = user_has_role(user, *services.OPERATOR_ROLES)
    is_owner = user_customer_id(user) == op.customer_id
    bound = bound or {}
    open_state = op.state not in (S.REFUSED, S.CANCELLED)
    forms_ = {
        "written": bound.get("written") or WrittenAuthorizationForm(operation=op),
        "phone": bound.get("phone") or PhoneAuthorizationForm(operation=op),
        "reason": bound.get("reason") or ReasonForm(),
        "step": bound.get("step") or StepForm(),
        "feedback": bound.get("feedback") or FeedbackForm(),
        "finish": bound.get("finish") or FinishForm(),
        "report": bound.get("report") or ReportForm(),
    }
    authorizations = selectors.authorization_list(user=user, operation=op)
    return render(request, "operations/operation_detail.html", {
        "op": op, "forms": forms_, "authorizations": authorizations,
        "attempts": selectors.phone_attempt_list(user=user, operation=op),
        "steps": op.steps.select_related("recorded_by"),
        "op_messages": op.messages.select_related("sent_by"),
        "reports": selectors.operation_reports(user=user, operation=op),
        "clocks": Clock.objects.filter(content_type=ContentType.objects.get_for_model(op),
                                       object_id=op.pk).select_related("policy").order_by("started_at"),
        "audit": audit_for(op) if user_is_staff(user) else None,
        "lock": services.phone_lock_active(customer_id=op.customer_id) if is_operator else None,
        "is_operator": is_operator,
        "can_upload": open_state and (is_operator or is_owner),
        "can_phone": is_operator and op.state == S.REQUESTED,
        "can_decide": is_operator and open_state,
        "can_refuse": is_operator and op.state == S.REQUESTED,
        "can_cancel": (is_operator or is_owner) and op.state in (S.REQUESTED, S.AUTHORIZED),
        # The start button appears only with an accepted authorization; the service refuses
        # the POST anyway if someone sends it without one.
        "can_start": is_operator and op.state == S.AUTHORIZED,
        "can_step": is_operator and op.state == S.IN_PROGRESS,
        "can_feedback": is_operator and op.state in (S.AUTHORIZED, S.IN_PROGRESS, S.FINISHED, S.REPORTED),
        "can_finish": is_operator and op.state == S.IN_PROGRESS,
        "can_report": is_operator and op.state == S.FINISHED,
        "can_close": is_operator and op.state == S.REPORTED,
        "pending": AuthorizationStatus.PENDING,
    }, status=status)


@login_required
def operation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _operation(request, pk))


Action = tuple[str, Callable[..., Any], Callable[..., Any], Any]


def _written(op: OperationRequest, user: Any, cd: dict[str, Any]) -> Any:
    return services.authorization_upload_written(
        operation_id=op.pk, f=cd["file"], contact=cd["contact"], actor=user,
        signed_on=cd["signed_on"], corrects=cd["corrects"], note=cd["note"])


ACTIONS: dict[str, Action] = {
    # name: (form key, form factory, service call, success message)
    "written": ("written", lambda op, data, files: WrittenAuthorizationForm(data, files, operation=op),
                _written, gettext_lazy("The written authorization was received.")),
    "refuse": ("reason", lambda op, data, files: ReasonForm(data),
               lambda op, user, cd: services.operation_refuse(operation_id=op.pk, actor=user,
                                                              reason=cd["reason"]),
               gettext_lazy("The operation was refused.")),
    "cancel": ("reason", lambda op, data, files: ReasonForm(data),
               lambda op, user, cd: services.operation_cancel(operation_id=op.pk, actor=user,
                                                              reason=cd["reason"]),
               gettext_lazy("The operation was cancelled.")),
    "start": ("reason", lambda op, data, files: ReasonForm(data),
              lambda op, user, cd: services.operation_start(operation_id=op.pk, actor=user),
              gettext_lazy("The operation was started.")),
    "step": ("step", lambda op, data, files: StepForm(data),
             lambda op, user, cd: services.operation_step_add(
                 operation_id=op.pk, actor=user, description=cd["description"], done_at=cd["done_at"]),
             gettext_lazy("The step was logged.")),
    "feedback": ("feedback", lambda op, data, files: FeedbackForm(data),
                 lambda op, user, cd: services.operation_feedback_send(operation_id=op.pk, actor=user,
                                                                       body=cd["body"]),
                 gettext_lazy("The message was sent to the customer.")),
    "finish": ("finish", lambda op, data, files: FinishForm(data),
               lambda op, user, cd: services.operation_finish(operation_id=op.pk, actor=user,
                                                              result=cd["result"]),
               gettext_lazy("The operation was marked finished; the written report is due.")),
    "report": ("report", lambda op, data, files: ReportForm(data),
               lambda op, user, cd: services.operation_report_issue(operation_id=op.pk, actor=user,
                                                                    remarks=cd["remarks"]),
               gettext_lazy("The operation report was issued and sent to the customer.")),
    "close": ("reason", lambda op, data, files: ReasonForm(data),
              lambda op, user, cd: services.operation_close(operation_id=op.pk, actor=user,
                                                            reason=cd["reason"]),
              gettext_lazy("The operation was closed.")),
}


@login_required
@require_POST
def operation_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One action on the request. A refused action is a form error (400) or, for a state
    conflict, a message; nothing changes."""
    op = _operation(request, pk)
    key, make_form, call, done = ACTIONS[action]
    form = make_form(op, request.POST, request.FILES)
    if not form.is_valid():
        return _detail(request, op, bound={key: form}, status=400)
    if action == "report":
        step = request.POST.get("action") or "issue"
        if step == "preview":
            return _report_preview(request, op, form)
        if step not in ("issue", "confirm"):  # "edit": back to the form, remarks kept
            return _detail(request, op, bound={key: form})
    try:
        call(op, request.user, form.cleaned_data)
    except ConflictError as e:
        messages.error(request, str(e.message))
        return redirect("operations:detail", op.pk)
    except DomainError as e:
        form_add_domain_error(form, e)
        if e.code == "too_large":
            return _detail(request, op, bound={key: form}, status=413)
        return _detail(request, op, bound={key: form}, status=400 if e.status == 400 else e.status)
    messages.success(request, str(done))
    return redirect("operations:detail", op.pk)


def _report_preview(request: HttpRequest, op: OperationRequest, form: forms.Form) -> HttpResponse:
    """The written report as it will be issued, with 确认出具 (issue) and 修改 (back to the form,
    remarks kept). An issued report is immutable, so the engineer sees it first; writes nothing."""
    try:
        preview_html = services.operation_report_preview(operation_id=op.pk, actor=request.user,
                                                         remarks=form.cleaned_data["remarks"])
    except ConflictError as e:
        messages.error(request, str(e.message))
        return redirect("operations:detail", op.pk)
    except DomainError as e:
        form_add_domain_error(form, e)
        return _detail(request, op, bound={"report": form}, status=e.status)
    return render(request, "operations/report_preview.html",
                  {"op": op, "form": form, "preview_html": preview_html})


@login_required
@require_POST
def phone_authorization(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a phone authorization attempt. The attempt is logged whatever its result; a
    wrong pair is shown as 非法授权 with the refuse button next to it."""
    op = _operation(request, pk)
    form = PhoneAuthorizationForm(request.POST, operation=op)
    if not form.is_valid():
        return _detail(request, op, bound={"phone": form}, status=400)
    try:
        attempt = services.phone_authorization_attempt(operation_id=op.pk, actor=request.user,
                                                       **form.cleaned_data)
    except ConflictError as e:
        messages.error(request, str(e.message))
        return redirect("operations:detail", op.pk)
    except DomainError as e:
        form_add_domain_error(form, e)
        return _detail(request, op, bound={"phone": form}, status=e.status)
    if attempt.result == PhoneAttemptResult.ACCEPTED:
        messages.success(request, _("Phone authorization accepted. The written authorization must "
                                    "follow; send the first feedback within %(target)s.")
                         % {"target": policy_target_display("C5")})
    elif attempt.result == PhoneAttemptResult.LOCKED:
        messages.error(request, _("Phone authorization for this customer is locked after repeated "
                                  "wrong attempts. The attempt was logged."))
    else:
        messages.error(request, _("Wrong MRTG user name or password: unauthorized (非法授权). The "
                                  "attempt was logged; you may refuse the operation."))
    return redirect("operations:detail", op.pk)


@login_required
@require_POST
def authorization_decide(request: HttpRequest, pk: int, auth_pk: int, action: str) -> HttpResponse:
    op = _operation(request, pk)
    auth = get_object_or_404(selectors.authorization_list(user=request.user, operation=op), pk=auth_pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _detail(request, op, bound={"reason": form}, status=400)
    func = services.authorization_accept if action == "accept" else services.authorization_reject
    try:
        func(authorization_id=auth.pk, actor=request.user, reason=form.cleaned_data["reason"])
    except ConflictError as e:
        messages.error(request, str(e.message))
        return redirect("operations:detail", op.pk)
    except DomainError as e:
        form_add_domain_error(form, e)
        return _detail(request, op, bound={"reason": form}, status=e.status)
    messages.success(request, _("The authorization was accepted.") if action == "accept"
                     else _("The authorization was rejected."))
    return redirect("operations:detail", op.pk)


@login_required
def authorization_file(request: HttpRequest, pk: int, auth_pk: int) -> FileResponse:
    op = _operation(request, pk)
    auth = get_object_or_404(selectors.authorization_list(user=request.user, operation=op), pk=auth_pk)
    if not auth.stored_name:
        raise Http404
    return authorization_file_response(auth)


@login_required
def report_pdf(request: HttpRequest, pk: int, report_pk: int) -> FileResponse:
    op = _operation(request, pk)
    report = get_object_or_404(selectors.operation_reports(user=request.user, operation=op), pk=report_pk)
    return report_file_response(report)
