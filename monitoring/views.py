"""Monitoring pages: targets with their state and probe history (state changes, daily counts),
the probe mailboxes of e-mail services with their checks, the forms for engineers and
managers, and the customer's live status page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from customers.choices import Role
from customers.models import Customer
from customers.selectors import customer_list, service_list, user_customer_id, user_has_role, user_is_staff
from slaportal.errors import DomainError
from slaportal.paging import keyset_page
from slaportal.ui import choice_param, form_add_domain_error, querystring_without_page

from . import services
from .choices import TargetState
from .forms import MailboxForm, TargetForm
from .models import Target
from .selectors import (
    CHART_RANGES,
    StatusBoard,
    last_result_text,
    mailbox_list,
    status_board,
    status_counts,
    status_targets,
    target_chart_data,
    target_hours,
    target_list,
)


def _can_edit(user) -> bool:  # type: ignore[no-untyped-def]
    return user_has_role(user, Role.ENGINEER, Role.MANAGER)


@login_required
def target_list_view(request: HttpRequest) -> HttpResponse:
    qs = target_list(user=request.user,
                     state=choice_param(request, "state", TargetState.values, label=_("State")))
    page = keyset_page(request, qs)
    for t in page.object_list:
        # The translated text the status page shows, never the probe's raw exception.
        t.last_result = last_result_text(t)
        t.last_result_failed = t.last_probe_at is not None and not (
            t.last_ok_at is not None and t.last_ok_at >= t.last_probe_at)
    return render(request, "monitoring/target_list.html", {
        "page": page, "qs": querystring_without_page(request),
        "can_edit": _can_edit(request.user)})


@login_required
def target_detail(request: HttpRequest, pk: int) -> HttpResponse:
    t = get_object_or_404(target_list(user=request.user), pk=pk)
    chart_range = choice_param(request, "range", CHART_RANGES, label=_("Time range")) or "24h"
    cells = target_hours(target=t, hours=CHART_RANGES[chart_range])
    return render(request, "monitoring/target_detail.html", {
        "target": t, "last_result": last_result_text(t),
        "chart_range": chart_range, "hour_cells": cells, "chart_data": target_chart_data(cells=cells),
        "chart_has_latency": any(c.avg_ms is not None for c in cells),
        "changes": t.state_changes.all()[:100], "daily": t.daily.all()[:31],
        "outages": t.outages.all()[:20], "can_edit": _can_edit(request.user)})


def _form_page(request: HttpRequest, pk: int | None) -> HttpResponse:
    # The lookup comes before the role check: another customer's target is a 404, not a 403.
    target = get_object_or_404(target_list(user=request.user), pk=pk) if pk else None
    if not _can_edit(request.user):
        raise PermissionDenied
    form = TargetForm(request.POST or None, instance=target, services=service_list(user=request.user))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "service"}
        try:
            t = services.target_save(service=form.cleaned_data["service"], data=data, actor=request.user,
                                     target=target)
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The target was saved."))
            return redirect("monitoring:detail", t.pk)
    return render(request, "monitoring/target_form.html", {"form": form, "target": target})


@login_required
def target_create(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@login_required
def target_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form_page(request, pk)


@login_required
def mailbox_list_view(request: HttpRequest) -> HttpResponse:
    qs = mailbox_list(user=request.user)
    return render(request, "monitoring/mailbox_list.html", {
        "page": keyset_page(request, qs), "qs": querystring_without_page(request),
        "can_edit": _can_edit(request.user)})


@login_required
def mailbox_detail(request: HttpRequest, pk: int) -> HttpResponse:
    mb = get_object_or_404(mailbox_list(user=request.user), pk=pk)
    return render(request, "monitoring/mailbox_detail.html", {
        "mailbox": mb, "checks": mb.targets.all().order_by("-active", "kind"),
        "can_edit": _can_edit(request.user)})


def _mailbox_form_page(request: HttpRequest, pk: int | None) -> HttpResponse:
    # The lookup comes before the role check: another customer's mailbox is a 404, not a 403.
    mb = get_object_or_404(mailbox_list(user=request.user), pk=pk) if pk else None
    if not _can_edit(request.user):
        raise PermissionDenied
    initial = {"service": request.GET.get("service")} if mb is None and request.GET.get("service") else None
    form = MailboxForm(request.POST or None, instance=mb, initial=initial,
                       services=service_list(user=request.user))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "service"}
        service = mb.service if mb is not None else form.cleaned_data["service"]
        try:
            saved = services.mailbox_save(service=service, data=data, actor=request.user, mailbox=mb)
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The probe mailbox was saved."))
            return redirect("monitoring:mailbox-detail", saved.pk)
    return render(request, "monitoring/mailbox_form.html", {"form": form, "mailbox": mb})


@login_required
def mailbox_create(request: HttpRequest) -> HttpResponse:
    return _mailbox_form_page(request, None)


@login_required
def mailbox_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _mailbox_form_page(request, pk)


# --- The customer's live status page (issue 13) -----------------------------------------------------
STATUS_STAFF_PAGE_SIZE = 100


def status_scope(request: HttpRequest) -> tuple[Customer | None, str | None, list[Target], Page | None]:
    """The customer, state filter, targets and (staff without a customer only) page of the status
    page and of /api/status/, read from ?customer=, ?state= and ?page=. A customer user always gets
    their own customer; naming another customer is a 404."""
    customer: Customer | None = None
    raw = request.GET.get("customer") or None
    own = user_customer_id(request.user)
    if raw is not None:
        if not raw.isdigit():
            raise Http404
        customer = get_object_or_404(customer_list(user=request.user), pk=int(raw))
    elif own is not None and not user_is_staff(request.user):
        customer = get_object_or_404(customer_list(user=request.user), pk=own)
    state = request.GET.get("state") or None
    if state not in TargetState.values:
        state = None
    qs = status_targets(user=request.user, customer_id=customer.pk if customer else None, state=state)
    if customer is None and user_is_staff(request.user):
        # All customers at once can be 10,000 targets: a page of them, the bars for that page only.
        page = keyset_page(request, qs, per_page=STATUS_STAFF_PAGE_SIZE)
        return customer, state, list(page.object_list), page
    return customer, state, list(qs), None


def _cell_titles(board: StatusBoard) -> list[list[tuple[str, str]]]:
    """(colour class, tooltip) per cell, formatted once per page: 18,000 cells for 200 targets."""
    with_data = _("%(day)s · uptime %(uptime)s%% · outages %(minutes)s min")
    no_data = _("%(day)s · no data")
    rows = []
    for ts in board.targets:
        cells = []
        for c in ts.days:
            day = c.day.isoformat()
            if c.uptime is None:
                cells.append((c.level, no_data % {"day": day}))
            else:
                cells.append((c.level, with_data % {"day": day, "uptime": c.uptime, "minutes": c.outage_minutes}))
        rows.append(cells)
    return rows


@login_required
def status_page(request: HttpRequest) -> HttpResponse:
    """Live status: each target's state now, its last 90 days, open incidents and planned
    maintenance. Server-rendered; static/js/status.js refreshes it from /api/status/."""
    customer, state, targets, page = status_scope(request)
    board = status_board(user=request.user, customer_id=customer.pk if customer else None, targets=targets)
    counts = status_counts(user=request.user, customer_id=customer.pk if customer else None)
    rows = [(ts, cells, last_result_text(ts.target)) for ts, cells in zip(board.targets, _cell_titles(board),
                                                                            strict=True)]
    api_query = request.GET.copy()
    return render(request, "monitoring/status.html", {
        "board": board, "rows": rows, "customer": customer, "state": state, "page": page,
        "qs": querystring_without_page(request), "api_url": reverse("api-status") + (
            "?" + api_query.urlencode() if api_query else ""),
        "is_staff_view": user_is_staff(request.user),
        "customers": customer_list(user=request.user).only("id", "name") if user_is_staff(request.user) else None,
        "states": TargetState.choices,
        "counts": [(v, label, counts[v]) for v, label in TargetState.choices],
        "first_day": board.days[0], "last_day": board.days[-1]})
