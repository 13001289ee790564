"""Credit pages: the scoped ledger with its filters and the bulk apply, one credit with its audit
trail and the decision buttons (approve / reject / apply / reverse, POST), proposing by hand, and
the billing export of a month. Each view parses its input and calls credits.services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.services import audit_for
from customers.choices import Role
from customers.selectors import contract_list, customer_list, user_has_role, user_is_staff
from slaportal.downloads import bytes_download
from slaportal.errors import ConflictError, DomainError
from slaportal.paging import keyset_page
from slaportal.ui import (
    filter_values,
    form_add_domain_error,
    querystring_without_page,
    require_view_perm,
)

from . import services
from .choices import CreditState
from .exports import export_csv
from .forms import BulkApplyForm, CreditFilterForm, CreditProposeForm, DecisionForm, ExportForm, ReverseForm
from .models import Credit
from .selectors import (
    credit_export,
    credit_filter,
    credit_list,
    user_may_apply,
    user_may_export,
    user_may_propose,
)


@login_required
def credit_list_view(request: HttpRequest) -> HttpResponse:
    """The ledger the user may see (a customer user: their own), filtered by state, customer,
    month and promise. Who may apply sees a box on each approved credit and 'apply selected'."""
    require_view_perm(request.user, "credits.view_credit")
    staff = user_is_staff(request.user)
    form = CreditFilterForm(request.GET or None,
                            customers=customer_list(user=request.user) if staff else None)
    values = filter_values(request, form)
    customer = values.get("customer")
    policy = values.get("policy")
    qs = credit_filter(credit_list(user=request.user), state=values.get("state") or None,
                       customer_id=customer.pk if customer is not None else None,
                       month=values.get("month"), policy_code=policy.code if policy is not None else None)
    may_apply = user_may_apply(request.user)
    return render(request, "credits/credit_list.html", {
        "form": form, "page": keyset_page(request, qs), "qs": querystring_without_page(request),
        "may_apply": may_apply, "may_propose": user_may_propose(request.user),
        "may_export": user_may_export(request.user), "export_form": ExportForm(),
        "selectable": may_apply,
    })


def _detail(request: HttpRequest, credit: Credit, *, form: DecisionForm | None = None,
            reverse_form: ReverseForm | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    is_manager = user_has_role(user, Role.MANAGER)
    proposed = credit.state == CreditState.PROPOSED
    own = credit.proposed_by_id is not None and credit.proposed_by_id == user.pk
    reversal = credit.reversal
    return render(request, "credits/credit_detail.html", {
        "credit": credit, "audit": audit_for(credit), "evidence": credit.evidence,
        "reversal": reversal,
        "can_approve": is_manager and proposed and not own,
        "own_proposal": is_manager and proposed and own,
        "can_reject": is_manager and proposed,
        "can_decide": is_manager and proposed,
        "can_apply": user_may_apply(user) and credit.state == CreditState.APPROVED,
        "can_reverse": (user_may_propose(user) and credit.state == CreditState.APPLIED
                        and credit.reverses_id is None and reversal is None),
        "form": form or DecisionForm(),
        "reverse_form": reverse_form or ReverseForm(),
    }, status=status)


@login_required
def credit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_view_perm(request.user, "credits.view_credit")
    return _detail(request, get_object_or_404(credit_list(user=request.user), pk=pk))


ACTIONS: dict[str, tuple[Callable[..., Credit], Any]] = {
    "approve": (services.credit_approve, gettext_lazy("The credit was approved.")),
    "reject": (services.credit_reject, gettext_lazy("The credit was rejected.")),
    "apply": (services.credit_apply, gettext_lazy("The credit was marked as applied.")),
}


@login_required
@require_POST
def credit_decide(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Approve, reject (a reason is required) or apply. A credit no longer in the right state
    (someone decided first) is a message, and nothing changes; approving one's own proposal is a
    form error (four-eyes)."""
    credit = get_object_or_404(credit_list(user=request.user), pk=pk)
    allowed = user_may_apply(request.user) if action == "apply" else user_has_role(request.user, Role.MANAGER)
    if not allowed:
        raise PermissionDenied
    func, done = ACTIONS[action]
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _detail(request, credit, form=form, status=400)
    kwargs: dict[str, Any] = {"credit_id": credit.pk, "actor": request.user,
                              "reason": form.cleaned_data["reason"]}
    try:
        func(**kwargs)
    except ConflictError as e:
        messages.error(request, str(e.message))
        return redirect("credits:detail", credit.pk)
    except DomainError as e:
        form_add_domain_error(form, e)
        return _detail(request, credit, form=form, status=e.status)
    messages.success(request, str(done))
    return redirect("credits:detail", credit.pk)


@login_required
@require_POST
def credit_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    """Propose a reversing entry for an applied credit (staff who may propose credits); the
    reversal's page opens, where another manager approves it."""
    credit = get_object_or_404(credit_list(user=request.user), pk=pk)
    if not user_may_propose(request.user):
        raise PermissionDenied
    form = ReverseForm(request.POST)
    if not form.is_valid():
        return _detail(request, credit, reverse_form=form, status=400)
    try:
        reversal = services.credit_reverse(credit_id=credit.pk, reason=form.cleaned_data["reason"],
                                           actor=request.user)
    except ConflictError as e:
        messages.error(request, str(e.message))
        return redirect("credits:detail", credit.pk)
    except DomainError as e:
        form_add_domain_error(form, e)
        return _detail(request, credit, reverse_form=form, status=e.status)
    messages.success(request, _("A reversal was proposed: another manager must approve it."))
    return redirect("credits:detail", reversal.pk)


@login_required
@require_POST
def credit_bulk_apply(request: HttpRequest) -> HttpResponse:
    """'Apply selected' on the list: each ticked credit is applied on its own; the page says
    which were applied and which were refused and why."""
    if not user_may_apply(request.user):
        raise PermissionDenied
    back = reverse("credits:list") + "?state=" + CreditState.APPROVED
    form = BulkApplyForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, str(e))
        return redirect(back)
    # Only ids in the user's scope reach the service (staff see every customer's credits).
    wanted = form.cleaned_data["ids"]
    visible = set(credit_list(user=request.user).filter(pk__in=wanted).values_list("pk", flat=True))
    result = services.credits_apply(credit_ids=[i for i in wanted if i in visible], actor=request.user,
                                    reason=form.cleaned_data["reason"])
    for missing in (i for i in dict.fromkeys(wanted) if i not in visible):
        result.refused[missing] = (_("No such credit."), "not_found")
    if result.applied:
        messages.success(request, _("Marked as applied: %(ids)s.")
                         % {"ids": ", ".join(f"#{i}" for i in result.applied)})
    for credit_id, (message, _code) in result.refused.items():
        messages.error(request, _("Credit %(n)s was not applied: %(reason)s") % {"n": credit_id, "reason": message})
    return redirect(back)


@login_required
def credit_create(request: HttpRequest) -> HttpResponse:
    """Propose a credit by hand (staff with credits.add_credit): contract, promise, remedy,
    amount or days as the remedy requires, period, and the reason (required)."""
    if not user_may_propose(request.user):
        raise PermissionDenied
    contracts = contract_list(user=request.user).order_by("customer__name", "number")
    form = CreditProposeForm(request.POST or None, contracts=contracts)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            d = form.cleaned_data
            try:
                credit = services.credit_propose(
                    contract=d["contract"], policy_code=d["policy"].code, kind=d["kind"], period=d["period"],
                    amount=d["amount"], days=d["days"], note=d["reason"], actor=request.user)
            except DomainError as e:
                form_add_domain_error(form, e, aliases={"note": "reason"})
            else:
                messages.success(request, _("The credit was proposed: a manager decides on it."))
                return redirect("credits:detail", credit.pk)
        status = 400
    return render(request, "credits/credit_form.html", {"form": form}, status=status)


@login_required
def credit_export_csv(request: HttpRequest) -> HttpResponse:
    """Billing's export of a month (?month=YYYY-MM, default the current one): the approved and applied credits whose
    period falls in it, as CSV (UTF-8 with a BOM, headers in the user's language). Without a
    valid month: the form with the error (400)."""
    if not user_may_export(request.user):
        raise PermissionDenied
    # No month named (or ?month= empty): the current one (Asia/Shanghai), as the API.
    data = request.GET if request.GET.get("month") else {"month": f"{timezone.localdate():%Y-%m}"}
    form = ExportForm(data)
    if not form.is_valid():
        return render(request, "credits/credit_export.html", {"form": form}, status=400)
    month = form.cleaned_data["month"]
    text = export_csv(credit_export(user=request.user, month=month))
    return bytes_download(text, stem=f"credits-{month:%Y-%m}", content_type="text/csv")
