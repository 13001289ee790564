"""Monthly statement pages (月度服务品质报告): the scoped list, one customer's month with its
current version and every earlier one, the PDF downloads, and "ask for the statement of any past
month" (SPEC: the customer can ask for it at any time). Another customer's statement, PDF or
month is a 404: every lookup starts from the user's scope (customers.selectors)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from customers.models import Customer
from customers.selectors import customer_list, user_customer_id, user_is_staff
from reports.models import WrittenReport
from slaportal.downloads import file_download
from slaportal.errors import DomainError
from slaportal.paging import keyset_page
from slaportal.ui import (
    filter_values,
    form_add_domain_error,
    querystring_without_page,
    require_view_perm,
)

from . import statements as st
from .forms import MonthField
from .models import MonthlyStatement
from .services import month_previous

# A statement lists the month's credits: staff read it with the permission to read credits (not
# data-centre staff), customer users their own organisation's.
STATEMENT_VIEW_PERM = "credits.view_credit"


class StatementFilterForm(forms.Form):
    month = MonthField(label=gettext_lazy("Month"), required=False)
    customer = forms.IntegerField(label=gettext_lazy("Customer"), required=False, min_value=1)


class StatementRequestForm(forms.Form):
    """Which month (and, for staff, which customer): the service refuses a month not ended."""

    customer = forms.ModelChoiceField(label=gettext_lazy("Customer"), queryset=Customer.objects.none())
    month = MonthField(label=gettext_lazy("Month"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.staff = user_is_staff(user)
        if self.staff:
            self.fields["customer"].queryset = customer_list(user=user).order_by("name")  # type: ignore[attr-defined]
        else:
            del self.fields["customer"]


def _require_reader(user: Any) -> bool:
    """Staff read every statement; a customer user their organisation's. Returns staff."""
    staff = user_is_staff(user)
    if not staff and user_customer_id(user) is None:
        raise PermissionDenied
    require_view_perm(user, STATEMENT_VIEW_PERM)
    return staff


def _first(year: int, month: int) -> date:
    try:
        first = date(year, month, 1)
    except ValueError:
        raise Http404 from None
    if not 2000 <= year <= 2999:
        raise Http404
    return first


def _scoped_customer(request: HttpRequest, customer_id: int) -> Customer:
    _require_reader(request.user)
    return get_object_or_404(customer_list(user=request.user), pk=customer_id)


def _list_page(request: HttpRequest, *, form: StatementRequestForm | None = None, status: int = 200) -> HttpResponse:
    staff = _require_reader(request.user)
    filters = StatementFilterForm(request.GET or None)
    f = filter_values(request, filters)
    qs = st.statement_list(user=request.user, customer_id=f.get("customer") if staff else None,
                           month=f.get("month"))
    page = keyset_page(request, qs)
    st.statements_with_current(list(page.object_list))
    if form is None:
        prev = month_previous(timezone.now())
        form = StatementRequestForm(user=request.user, initial={"month": f"{prev:%Y-%m}"})
    return render(request, "settlement/statement_list.html", {
        "page": page, "qs": querystring_without_page(request), "filters": filters, "staff": staff,
        "customers": customer_list(user=request.user).order_by("name").values_list("pk", "name") if staff else [],
        "chosen_customer": f.get("customer"), "form": form,
    }, status=status)


@login_required
def statement_list_view(request: HttpRequest) -> HttpResponse:
    return _list_page(request)


@login_required
@require_POST
def statement_request_view(request: HttpRequest) -> HttpResponse:
    """Ask for the statement of a month that has ended; issued now if there is none yet (or if
    the month changed since), provisional when the month is not closed yet."""
    staff = _require_reader(request.user)
    form = StatementRequestForm(request.POST, user=request.user)
    if form.is_valid():
        customer = form.cleaned_data["customer"] if staff else None
        customer_id = customer.pk if customer is not None else user_customer_id(request.user)
        if customer_id is None:  # _require_reader let only staff and customer users through
            raise PermissionDenied
        first: date = form.cleaned_data["month"]
        try:
            _statement, report = st.statement_request(customer_id=customer_id, first=first, actor=request.user)
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The statement for %(month)s is ready: report %(number)s.")
                             % {"month": f"{first:%Y-%m}", "number": report.number})
            return redirect("settlement:statement_detail", customer_id=customer_id, year=first.year,
                            month=f"{first.month:02d}")
    return _list_page(request, form=form, status=400)


@login_required
def statement_detail(request: HttpRequest, customer_id: int, year: int, month: int) -> HttpResponse:
    customer = _scoped_customer(request, customer_id)
    first = _first(year, month)
    statement = MonthlyStatement.objects.filter(customer=customer, month=first).first()
    reports = list(st.statement_reports(statement)) if statement is not None else []
    current = reports[-1] if reports else None
    ended = st.month_has_ended(first, now=timezone.now())
    form = StatementRequestForm(user=request.user, initial={"month": f"{first:%Y-%m}", "customer": customer.pk})
    return render(request, "settlement/statement_detail.html", {
        "customer": customer, "first": first, "statement": statement, "reports": list(reversed(reports)),
        "current": current, "content": current.content if current else None, "ended": ended,
        "staff": user_is_staff(request.user), "form": form,
    })


def _pdf(report: WrittenReport) -> FileResponse:
    resp = file_download(report.file, stem=report.number, content_type="application/pdf")
    resp["X-Content-SHA256"] = report.sha256
    return resp


@login_required
def statement_pdf(request: HttpRequest, customer_id: int, year: int, month: int) -> FileResponse:
    """The current version's PDF."""
    customer = _scoped_customer(request, customer_id)
    statement = get_object_or_404(MonthlyStatement, customer=customer, month=_first(year, month))
    report = st.statement_current_report(statement)
    if report is None:
        raise Http404
    return _pdf(report)


@login_required
def statement_version_pdf(request: HttpRequest, customer_id: int, year: int, month: int,
                          report_pk: int) -> FileResponse:
    """Any version's PDF (a report of another statement is a 404)."""
    customer = _scoped_customer(request, customer_id)
    statement = get_object_or_404(MonthlyStatement, customer=customer, month=_first(year, month))
    return _pdf(get_object_or_404(st.statement_reports(statement), pk=report_pk))
