"""Settlement pages: the closed months, the manager's "close month" action, a month's judgements
and one judgement with the outages it counted and excluded, its versions and its credits."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.services import audit_for
from credits.models import Credit
from customers.choices import Role
from customers.selectors import user_has_role
from incidents.choices import Cause
from slaportal.errors import DomainError
from slaportal.paging import keyset_page
from slaportal.ui import (
    filter_values,
    form_add_domain_error,
    querystring_without_page,
    require_staff,
)

from . import selectors, services
from .choices import CloseTrigger, Verdict
from .forms import CloseMonthForm, JudgementFilterForm
from .models import Judgement


def _close_form_initial() -> dict[str, Any]:
    prev = services.month_previous(timezone.now())
    return {"month": f"{prev:%Y-%m}"}


@login_required
def month_list(request: HttpRequest) -> HttpResponse:
    """Closed months with their breach counts; managers close a month from here."""
    require_staff(request.user)
    return render(request, "settlement/month_list.html", {
        "page": keyset_page(request, selectors.month_list()), "qs": querystring_without_page(request),
        "form": CloseMonthForm(initial=_close_form_initial()),
        "can_close": user_has_role(request.user, Role.MANAGER),
    })


@login_required
@require_POST
def month_close_view(request: HttpRequest) -> HttpResponse:
    """A manager closes (or re-judges) a month. Closing twice changes nothing."""
    require_staff(request.user)
    if not user_has_role(request.user, Role.MANAGER):
        raise PermissionDenied
    form = CloseMonthForm(request.POST)
    if form.is_valid():
        first: date = form.cleaned_data["month"]
        try:
            r = services.month_close(year=first.year, month=first.month, actor=request.user,
                                     trigger=CloseTrigger.MANAGER, reason=form.cleaned_data["reason"])
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _(
                "%(month)s judged: %(services)s services, %(new)s new and %(re)s re-judged judgements, "
                "%(unchanged)s unchanged; %(breaches)s breaches; %(proposed)s credits proposed, "
                "%(withdrawn)s withdrawn, %(reversed)s reversed.") % {
                "month": f"{first:%Y-%m}", "services": r.services, "new": r.judged, "re": r.rejudged,
                "unchanged": r.unchanged, "breaches": r.breaches, "proposed": len(r.proposed),
                "withdrawn": len(r.withdrawn), "reversed": len(r.reversed)})
            return redirect("settlement:month_detail", year=first.year, month=first.month)
    return render(request, "settlement/month_list.html", {
        "page": keyset_page(request, selectors.month_list()), "qs": "", "form": form, "can_close": True,
    }, status=400)


@login_required
def month_detail(request: HttpRequest, year: int, month: int) -> HttpResponse:
    """One month's judgements, breaches first; customers see their own services' judgements."""
    try:
        first = date(year, month, 1)
    except ValueError:
        raise Http404 from None
    form = JudgementFilterForm(request.GET or None)
    f = filter_values(request, form)
    rows = selectors.judgements_filtered(user=request.user, month=first, customer_id=f.get("customer"),
                                         policy_code=f.get("policy") or None, verdict=f.get("verdict") or None)
    mc = selectors.month_list().filter(month=first).first()
    return render(request, "settlement/month_detail.html", {
        "first": first, "month_close": mc, "form": form,
        "page": keyset_page(request, rows.order_by("verdict", "customer__name", "service__name", "policy__code")),
        "qs": querystring_without_page(request),
    })


@login_required
def judgement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    j = get_object_or_404(selectors.judgement_list(user=request.user, current_only=False), pk=pk)
    ct = ContentType.objects.get_for_model(Judgement)
    versions = selectors.judgement_history(j)
    credits = (Credit.objects.filter(evidence_type=ct, evidence_id__in=[v.pk for v in versions])
               .select_related("policy").order_by("proposed_at"))
    causes = dict(Cause.choices)
    return render(request, "settlement/judgement_detail.html", {
        "j": j, "versions": versions, "credits": credits, "audit": audit_for(j),
        "counted": [{**o, "cause_label": causes.get(o.get("cause") or "", "")} for o in j.counted],
        "excluded": [{**o, "cause_label": causes.get(o.get("cause") or "", "")} for o in j.excluded],
        "Verdict": Verdict,
    })
