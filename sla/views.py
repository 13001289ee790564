"""SLA pages: the overdue review (managers and staff) with its CSV export, the breach history,
clocks with their audit trail and notifications, and the list of promises."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.people import person_name
from audit.services import audit_for
from customers.selectors import user_is_staff
from notifications.services import notifications_for
from slaportal.downloads import as_download
from slaportal.paging import keyset_page
from slaportal.ui import filter_values, querystring_without_page, require_staff

from . import selectors
from .breaches import breach_chart, breach_dict, breach_rows, overdue_period_rows
from .choices import OPEN_CLOCK_STATES
from .forms import BreachFilterForm, ClockFilterForm, OverdueFilterForm
from .selectors import Bucket, clock_list, overdue_review
from .templatetags.sla_ui import seconds_left, time_left_text


def _overdue_rows(request: HttpRequest) -> tuple[OverdueFilterForm, Any]:
    form = OverdueFilterForm(request.GET or None, user=request.user)
    return form, overdue_review(user=request.user, **form.filters(filter_values(request, form)))


@login_required
def overdue(request: HttpRequest) -> HttpResponse:
    """Every running clock that is overdue or inside its warning window, most urgent first.
    Read-only: clocks move through their workflows, not from here."""
    require_staff(request.user)
    form, rows = _overdue_rows(request)
    bucket_labels = {Bucket.OVERDUE: _("overdue"), Bucket.WARNING: _("warning")}
    return render(request, "sla/overdue.html", {
        "form": form, "page": keyset_page(request, rows), "qs": querystring_without_page(request),
        "now": timezone.now(), "bucket_labels": bucket_labels, "period_rows": _period_rows(request, form),
    })


def _period_rows(request: HttpRequest, form: OverdueFilterForm) -> list[dict[str, Any]]:
    """Monthly breaches awaiting a decision or billing, under the same filters (a bucket filter
    other than "overdue" leaves them out: they are overdue by nature)."""
    f = form.filters(filter_values(request, form))
    if f["bucket"] not in (None, Bucket.OVERDUE):
        return []
    return overdue_period_rows(user=request.user, customer_id=f["customer_id"], policy_code=f["policy_code"],
                               assignee_id=f["assignee_id"])


@login_required
def overdue_csv(request: HttpRequest) -> HttpResponse:
    """The same filtered rows as the page, all of them, as CSV. UTF-8 with a BOM so Excel reads
    the Chinese; times in Asia/Shanghai."""
    require_staff(request.user)
    _form, rows = _overdue_rows(request)
    now = timezone.now()
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    response = as_download(HttpResponse(content_type="text/csv; charset=utf-8"), stem=f"overdue-{stamp}",
                           content_type="text/csv")
    response.write("\ufeff")
    w = csv.writer(response)
    w.writerow([_("Promise"), _("Promise name"), _("Item"), _("Customer"), _("Contract"),
                _("Assignee"), _("State"), _("Bucket"), _("Started at"), _("Due at"),
                _("Minutes left (negative: overdue)"), _("Time left"), _("Clause")])
    fmt = "%Y-%m-%d %H:%M:%S"
    bucket_labels = {Bucket.OVERDUE: _("overdue"), Bucket.WARNING: _("warning"),
                     Bucket.ON_TRACK: _("on track")}
    for c in rows.select_related("contract").iterator(chunk_size=1000):
        w.writerow([
            c.policy.code, c.policy.name, c.label, c.customer.name if c.customer else "",
            c.contract.number if c.contract else "",
            person_name(c.assignee), c.get_state_display(),
            bucket_labels.get(c.bucket, c.bucket),
            timezone.localtime(c.started_at).strftime(fmt), timezone.localtime(c.due_at).strftime(fmt),
            seconds_left(c, now) // 60, time_left_text(c, now), c.policy.clause,
        ])
    for r in _period_rows(request, _form):
        w.writerow([
            r["code"], r["name"], f'{r["item"]} · {r["month"]:%Y-%m}', r["customer"].name,
            r["judgement"].contract.number, person_name(r["assignee"]),
            r["state"], _("monthly promise broken"), "",
            timezone.localtime(r["breached_at"]).strftime(fmt) if r["breached_at"] else "",
            "", "", r["clause"],
        ])
    return response


def _breach_rows(request: HttpRequest) -> tuple[BreachFilterForm, Any]:
    form = BreachFilterForm(request.GET or None, user=request.user)
    return form, breach_rows(user=request.user, **form.filters(filter_values(request, form)))


@login_required
def breaches(request: HttpRequest) -> HttpResponse:
    """Clock breaches and monthly breaches (period promises judged at month close), newest first;
    the last 90 days unless the filter says otherwise."""
    require_staff(request.user)
    form, rows = _breach_rows(request)
    page = keyset_page(request, rows)
    # The chart keeps the customer and promise filters but always spans the last 12 months.
    f = form.filters(filter_values(request, form))
    chart = breach_chart(user=request.user, customer_id=f["customer_id"], policy_code=f["policy_code"])
    return render(request, "sla/breach_list.html", {
        "chart": chart, "form": form, "page": page, "rows": [breach_dict(r) for r in page.object_list],
        "qs": querystring_without_page(request)})


@login_required
def breaches_csv(request: HttpRequest) -> HttpResponse:
    """The breach history's filtered rows as CSV (UTF-8 with BOM; Asia/Shanghai times)."""
    require_staff(request.user)
    _form, rows = _breach_rows(request)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = as_download(HttpResponse(content_type="text/csv; charset=utf-8"), stem=f"breaches-{stamp}",
                           content_type="text/csv")
    response.write("\ufeff")
    w = csv.writer(response)
    w.writerow([_("Kind"), _("Breached at"), _("Month"), _("Promise"), _("Promise name"), _("Item"),
                _("Customer"), _("Assignee"), _("Due at"), _("Fulfilled late at"), _("Clause")])
    fmt = "%Y-%m-%d %H:%M:%S"
    english = (translation.get_language() or "").startswith("en")
    kinds = {"clock": _("clock"), "month": _("monthly promise")}
    for row in rows.iterator(chunk_size=1000):
        r = breach_dict(row)
        w.writerow([
            kinds.get(r["source"], r["source"]), timezone.localtime(r["at"]).strftime(fmt),
            f'{r["month"]:%Y-%m}' if r["month"] else "", r["code"],
            r["name_en"] if english else r["name_zh"], r["item"], r["customer_name"] or "",
            r["assignee_name"] or "", timezone.localtime(r["due"]).strftime(fmt) if r["due"] else "",
            timezone.localtime(r["completed"]).strftime(fmt) if r["completed"] else "", r["clause"],
        ])
    return response


@login_required
def clock_list_view(request: HttpRequest) -> HttpResponse:
    """Clocks the user may see (a customer user: their own), open ones by default."""
    form = ClockFilterForm(request.GET or None)
    qs = clock_list(user=request.user)
    state = filter_values(request, form).get("state") or ""
    if not state:
        qs = qs.filter(state__in=OPEN_CLOCK_STATES).order_by("due_at", "id")
    elif state != "all":
        qs = qs.filter(state=state).order_by("-due_at", "-id")
    else:
        qs = qs.order_by("-due_at", "-id")
    return render(request, "sla/clock_list.html", {
        "form": form, "page": keyset_page(request, qs), "qs": querystring_without_page(request)})


@login_required
def clock_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One clock, its audit trail and (for staff) the escalations sent about it."""
    clock = get_object_or_404(clock_list(user=request.user).select_related("contract"), pk=pk)
    staff = user_is_staff(request.user)
    return render(request, "sla/clock_detail.html", {
        "clock": clock, "audit": audit_for(clock),
        # Escalations go to staff mailboxes; a customer sees the clock and its history only.
        "notifications": notifications_for(clock).select_related("recipient") if staff else None,
    })


@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    """The agreement's promises as the portal enforces them."""
    return render(request, "sla/policy_list.html", {"policies": selectors.policy_list().order_by("code")})
