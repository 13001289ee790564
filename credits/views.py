"""Credit pages: the scoped ledger, one credit with its audit trail, and the manager's
approve / reject / apply buttons (POST), each calling credits.services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audit.services import audit_for
from customers.choices import Role
from customers.selectors import user_has_role
from slaportal.errors import ConflictError, DomainError
from slaportal.ui import (
    filter_values,
    form_add_domain_error,
    paginate,
    querystring_without_page,
    require_view_perm,
)

from . import services
from .choices import CreditState
from .forms import CreditFilterForm, DecisionForm
from .models import Credit
from .selectors import credit_list


@login_required
def credit_list_view(request: HttpRequest) -> HttpResponse:
    require_view_perm(request.user, "credits.view_credit")
    form = CreditFilterForm(request.GET or None)
    qs = credit_list(user=request.user)
    state = filter_values(request, form).get("state")
    if state:
        qs = qs.filter(state=state)
    return render(request, "credits/credit_list.html", {
        "form": form, "page": paginate(request, qs), "qs": querystring_without_page(request)})


def _detail(request: HttpRequest, credit: Credit, *, form: DecisionForm | None = None,
            status: int = 200) -> HttpResponse:
    is_manager = user_has_role(request.user, Role.MANAGER)
    return render(request, "credits/credit_detail.html", {
        "credit": credit, "audit": audit_for(credit), "evidence": credit.evidence,
        "can_decide": is_manager and credit.state == CreditState.PROPOSED,
        "can_apply": is_manager and credit.state == CreditState.APPROVED,
        "form": form or DecisionForm(),
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
    (someone decided first) is a message, and nothing changes."""
    credit = get_object_or_404(credit_list(user=request.user), pk=pk)
    if not user_has_role(request.user, Role.MANAGER):
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
        return _detail(request, credit, form=form, status=400)
    messages.success(request, str(done))
    return redirect("credits:detail", credit.pk)
