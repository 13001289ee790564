"""E-mail measurement pages (seed 002 §1–§3): the month's figures of every e-mail service the user
may see, one service's month with its latency histogram and daily chart, the provider's mail
platforms with their faults and adjustments, and the monthly billing figures.

Every figure comes from mailservice.selectors.mail_month_figures (what the month close judges);
every write goes through mailservice.services, whose refusals come back as form errors. A
customer user sees their own e-mail services (another customer's is a 404); platforms, their
events and the billing figures are the provider's and staff only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.choices import Role
from customers.selectors import user_has_role, user_is_staff
from incidents.downtime import TZ, compare, merge_intervals, month_bounds
from sla.choices import Comparison, Unit
from sla.models import ContractPolicy, SlaPolicy
from slaportal.errors import DomainError, ForbiddenError
from slaportal.paging import keyset_page
from slaportal.ui import form_add_domain_error, querystring_without_page, require_staff

from . import charts, selectors, services
from .choices import Direction, LatencySource, PlatformEventKind
from .forms import (
    BillingFigureForm,
    MailDomainForm,
    MailPlatformForm,
    MonthQueryForm,
    PlatformEventDeleteForm,
    PlatformEventEndForm,
    PlatformEventForm,
)
from .models import BUCKET_FIELDS, BUCKET_LABELS, MailDomain, MailPlatform, PlatformEvent

# The promises whose figures the pages show, in the agreement's order (seed 002 §1–§3).
CODES = ("E1", "E2-AVG", "E2-SLOW", "E3-FAULT", "E3-ADJUST", "E3-AVAIL", "E3-DAYS", "E3-BILL", "E3-WEB")
# Who records platform faults, adjustments, platforms and domains; who enters billing figures.
EDITORS = (Role.ENGINEER, Role.MANAGER)
BILLING = (Role.MANAGER,)


def _current_month(now: datetime | None = None) -> date:
    local = timezone.localtime(now or timezone.now(), TZ)
    return date(local.year, local.month, 1)


def _shift(first: date, months: int) -> date:
    n = first.year * 12 + first.month - 1 + months
    return date(n // 12, n % 12 + 1, 1)


# --- Targets: the policy rows (with the contract's override), never a number in code ----------

@dataclass
class Target:
    code: str
    name: str
    comparison: str
    threshold: Decimal
    unit: str
    active: bool

    @property
    def text(self) -> str:
        symbol = str(Comparison(self.comparison).label) if self.comparison in Comparison.values else ""
        if self.code == "E3-BILL":
            # The agreement writes the billing error rate as 3×10⁻⁵, not as 0.003 %.
            from .templatetags.mail_ui import rate_sci

            return f"{symbol} {rate_sci(self.threshold)}"
        number = f"{self.threshold.normalize():f}"
        if self.unit == Unit.PERCENT:
            return f"{symbol} {number}%"
        unit = str(Unit(self.unit).label) if self.unit in Unit.values else self.unit
        return f"{symbol} {number} {unit}"


def _targets(contract_id: int | None = None) -> dict[str, Target]:
    policies = list(SlaPolicy.objects.filter(code__in=CODES))
    overrides = ({o.policy_id: o for o in ContractPolicy.objects.filter(contract_id=contract_id,
                                                                        policy__in=policies)}
                 if contract_id else {})
    out = {}
    for p in policies:
        ov = overrides.get(p.pk)
        out[p.code] = Target(
            code=p.code, name=p.name, comparison=p.comparison,
            threshold=ov.threshold if ov is not None and ov.threshold is not None else p.threshold,
            unit=p.unit, active=p.active and (ov.active if ov is not None else True))
    return out


def _month_form(request: HttpRequest) -> tuple[MonthQueryForm, date | None]:
    """The month asked for (default: the current one), or None with the form's errors."""
    current = _current_month()
    form = MonthQueryForm(request.GET or None, current=current)
    if not form.is_bound:
        return MonthQueryForm(initial={"month": f"{current:%Y-%m}"}, current=current), current
    if not form.is_valid():
        return form, None
    return form, form.cleaned_data["month"]


# --- /mail/: the month of every e-mail service the user may see ------------------------------

@login_required
def service_list(request: HttpRequest) -> HttpResponse:
    """Every e-mail service the user may see with the month's figures and a verdict per promise;
    paginated, and the figures computed for the page's services only (thousands of domains)."""
    form, first = _month_form(request)
    qs = selectors.email_services_visible(user=request.user)
    if first is None:
        return render(request, "mailservice/service_list.html", {
            "form": form, "page": None, "rows": [], "targets": _targets(), "staff": user_is_staff(request.user),
        }, status=400)
    q = form.cleaned_data.get("q", "") if form.is_bound else ""
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(customer__name__icontains=q)
                       | Q(mail_domains__domain__icontains=q.lower())).distinct()
    page = keyset_page(request, qs.order_by("customer__name", "name", "pk"))
    page_services = list(page.object_list)
    figures = selectors.mail_month_figures(services=page_services, year=first.year, month=first.month)
    domains: dict[int, list[str]] = {}
    for sid, domain in (MailDomain.objects.filter(service_id__in=[s.pk for s in page_services])
                        .order_by("domain").values_list("service_id", "domain")):
        domains.setdefault(sid, []).append(domain)
    rows = []
    for s in page_services:
        f = figures.get(s.pk)
        avg = f.average_minutes * 60 if f is not None and f.average_minutes is not None else None
        rows.append({"service": s, "f": f, "domains": domains.get(s.pk, []), "avg_seconds": avg})
    return render(request, "mailservice/service_list.html", {
        "form": form, "first": first, "page": page, "rows": rows, "qs": querystring_without_page(request),
        "search": q,
        "targets": _targets(), "staff": user_is_staff(request.user),
        "prev": _shift(first, -1), "next": _shift(first, 1) if first < _current_month() else None,
    })


# --- /mail/services/<pk>/: one service's month ------------------------------------------------

def _histogram(d: selectors.DirectionFigures, title: str) -> charts.Chart:
    # The buckets over 1 hour are the messages seed 002 §2 counts against the promise.
    return charts.histogram_chart(d.histogram, [str(label) for label in BUCKET_LABELS], title=title,
                                  bad_from=len(BUCKET_FIELDS) - 1)


def _daily_charts(f: selectors.MailMonthFigures, avg_target: Target | None) -> tuple[charts.Chart, charts.Chart]:
    from .templatetags.mail_ui import latency

    # The E2 average line in seconds, from the policy row (its unit is minutes in the seed).
    per_unit = {Unit.MINUTES: 60, Unit.HOURS: 3600}
    line = None
    if avg_target is not None:
        line = float(avg_target.threshold) * per_unit.get(avg_target.unit, 1)  # type: ignore[call-overload]
    avg_days, msg_days = [], []
    for day, n, avg, slow in f.daily:
        tip = _("%(day)s: %(n)s messages, average %(avg)s, %(slow)s over 1 hour") % {
            "day": f"{day:%m-%d}", "n": n, "avg": latency(avg), "slow": slow}
        avg_days.append(charts.DayValue(day=day.day, value=charts.seconds(avg), title=tip, bad=slow > 0))
        msg_days.append(charts.DayValue(day=day.day, value=float(n) if n else None, title=tip, bad=slow > 0))
    avg_chart = charts.daily_chart(
        avg_days, title=_("Average latency per day (seconds)"), line=line,
        line_label=avg_target.text if avg_target is not None else "",
        empty_text=_("No message was measured this month."))
    msg_chart = charts.daily_chart(msg_days, title=_("Messages measured per day"),
                                   empty_text=_("No message was measured this month."))
    return avg_chart, msg_chart


def _figure_rows(f: selectors.MailMonthFigures, targets: dict[str, Target]) -> list[dict[str, Any]]:
    """The operations figures (seed 002 §3), each with its target and verdict."""
    from .templatetags.mail_ui import latency, minutes, percent4, rate_sci

    rows = [
        ("E3-FAULT", _("%(m)s min") % {"m": minutes(f.fault_minutes)}, ""),
        ("E3-ADJUST", _("%(m)s min") % {"m": minutes(f.adjustment_minutes)}, ""),
        ("E3-AVAIL", f"{percent4(f.availability_percent)}%", ""),
        ("E3-DAYS", f"{f.fault_free_days_year} / {f.days_in_year}",
         _("%(n)s days with a fault so far this year") % {"n": f.fault_days_year}),
        ("E3-BILL", rate_sci(f.billing_error_rate_percent) if f.billing_error_rate_percent is not None
         else _("not entered yet"), ""),
        ("E3-WEB", latency(f.webmail_average_seconds) if f.webmail_average_seconds is not None
         else _("no webmail probe yet"), ""),
    ]
    out = []
    for code, value, note in rows:
        t = targets.get(code)
        if code == "E3-DAYS" and f.days_broken_in is not None:
            note = _("fewer than the target since %(month)s") % {"month": f"{f.days_broken_in:%Y-%m}"}
        out.append({"code": code, "name": t.name if t else code, "value": value, "note": note,
                    "target": t.text if t else "—", "verdict": f.verdicts.get(code)})
    return out


@login_required
def service_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One e-mail service's month: connectivity, send and receive latency with the histogram and
    the daily chart, the operations figures, its domains and platforms."""
    service = get_object_or_404(selectors.email_services_visible(user=request.user), pk=pk)
    form, first = _month_form(request)
    domains = list(MailDomain.objects.filter(service=service).select_related("platform").order_by("domain"))
    staff = user_is_staff(request.user)
    ctx: dict[str, Any] = {"service": service, "form": form, "domains": domains, "staff": staff,
                           "can_edit": user_has_role(request.user, *EDITORS)}
    if first is None:
        return render(request, "mailservice/service_detail.html", ctx, status=400)
    f = selectors.mail_month_figures(services=[service], year=first.year, month=first.month)[service.pk]
    targets = _targets(service.contract_id)
    avg_chart, msg_chart = _daily_charts(f, targets.get("E2-AVG"))
    source_labels = dict(LatencySource.choices)
    ctx.update({
        "first": first, "f": f, "targets": targets,
        "avg_seconds": f.average_minutes * 60 if f.average_minutes is not None else None,
        "prev": _shift(first, -1), "next": _shift(first, 1) if first < _current_month() else None,
        "directions": [(str(Direction.SEND.label), f.send), (str(Direction.RECEIVE.label), f.receive)],
        "histograms": [_histogram(f.send, str(Direction.SEND.label)),
                       _histogram(f.receive, str(Direction.RECEIVE.label))],
        "avg_chart": avg_chart, "msg_chart": msg_chart,
        "source_label": source_labels.get(f.latency_source or "", ""),
        "operations": _figure_rows(f, targets),
        "events": [{**e, "kind_label": PlatformEventKind(e["kind"]).label if e["kind"] in PlatformEventKind.values
                    else e["kind"], "started": datetime.fromisoformat(e["started_at"]),
                    "ended": datetime.fromisoformat(e["ended_at"]) if e["ended_at"] else None,
                    "minutes": Decimal(e["counted_seconds"]) / 60} for e in f.events],
        "downtime_url": f"{reverse('incidents:downtime', args=[service.pk])}?month={first:%Y-%m}",
    })
    # Seed 002 §5/§7: backups and virus-signature freshness of the service's platforms.
    from .guarantee_views import service_summary

    ctx.update(service_summary(service, first))
    return render(request, "mailservice/service_detail.html", ctx)


# --- Domains (staff) --------------------------------------------------------------------------

def _require_editor(user: Any) -> None:
    require_staff(user)
    if not user_has_role(user, *EDITORS):
        raise PermissionDenied


@login_required
def domain_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a mail domain to an e-mail service (engineers and managers)."""
    _require_editor(request.user)
    service = get_object_or_404(selectors.email_services_visible(user=request.user), pk=pk)
    form = MailDomainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.mail_domain_save(actor=request.user, service=service, data=dict(form.cleaned_data))
        except ForbiddenError:
            raise PermissionDenied from None
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The mail domain was added."))
            return redirect("mailservice:service_detail", service.pk)
    return render(request, "mailservice/domain_form.html", {"form": form, "service": service},
                  status=400 if form.errors else 200)


# --- Platforms (staff) ------------------------------------------------------------------------

def _event_minutes(events: list[PlatformEvent], first: date, now: datetime) -> dict[str, Decimal]:
    """Fault and adjustment minutes of the month (overlaps merged; an open event up to now)."""
    start, end = month_bounds(first.year, first.month)
    horizon = min(end, max(now, start))
    out = {}
    for kind in PlatformEventKind.values:
        spans = []
        for e in events:
            if e.kind != kind:
                continue
            s, t = max(e.started_at, start), min(e.ended_at or horizon, horizon)
            if t > s:
                spans.append((s, t))
        seconds = sum((t - s).total_seconds() for s, t in merge_intervals(spans))
        out[kind] = Decimal(int(seconds)) / 60
    return out


@login_required
def platform_list(request: HttpRequest) -> HttpResponse:
    """The provider's mail platforms with their domains and the month's fault and adjustment
    totals."""
    require_staff(request.user)
    form, first = _month_form(request)
    platforms = list(selectors.mail_platforms(user=request.user)
                     .annotate(domain_count=Count("domains")).order_by("name"))
    rows = []
    if first is not None:
        events = list(selectors.platform_events(year=first.year, month=first.month))
        now = timezone.now()
        for p in platforms:
            mine = [e for e in events if e.platform_id == p.pk]
            rows.append({"platform": p, "minutes": _event_minutes(mine, first, now), "events": len(mine)})
    return render(request, "mailservice/platform_list.html", {
        "form": form, "first": first, "rows": rows, "can_edit": user_has_role(request.user, *EDITORS),
        "prev": _shift(first, -1) if first else None,
        "next": _shift(first, 1) if first and first < _current_month() else None,
    }, status=400 if first is None else 200)


def _platform_context(request: HttpRequest, platform: MailPlatform, first: date | None,
                      form: MonthQueryForm) -> dict[str, Any]:
    domains = (MailDomain.objects.filter(platform=platform).select_related("service", "customer")
               .order_by("domain"))
    ctx: dict[str, Any] = {
        "platform": platform, "form": form, "first": first,
        "domains": keyset_page(request, domains), "qs": querystring_without_page(request),
        "can_edit": user_has_role(request.user, *EDITORS),
        "event_form": PlatformEventForm(), "end_form": PlatformEventEndForm(),
        "delete_form": PlatformEventDeleteForm(),
    }
    if first is not None:
        events = list(selectors.platform_events(platform_id=platform.pk, year=first.year, month=first.month))
        ctx.update({"events": events, "minutes": _event_minutes(events, first, timezone.now()),
                    "prev": _shift(first, -1),
                    "next": _shift(first, 1) if first < _current_month() else None})
    return ctx


@login_required
def platform_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One platform: its domains, the month's faults and adjustments, and (engineers, managers)
    the form to record one."""
    require_staff(request.user)
    platform = get_object_or_404(selectors.mail_platforms(user=request.user), pk=pk)
    form, first = _month_form(request)
    return render(request, "mailservice/platform_detail.html",
                  _platform_context(request, platform, first, form), status=400 if first is None else 200)


@login_required
def platform_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Add a platform, or rename / describe one (engineers and managers)."""
    _require_editor(request.user)
    platform = get_object_or_404(selectors.mail_platforms(user=request.user), pk=pk) if pk else None
    initial = {"name": platform.name, "description": platform.description} if platform else None
    form = MailPlatformForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.mail_platform_save(actor=request.user, data=dict(form.cleaned_data),
                                                platform=platform)
        except ForbiddenError:
            raise PermissionDenied from None
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("Saved."))
            return redirect("mailservice:platform_detail", saved.pk)
    return render(request, "mailservice/platform_form.html", {"form": form, "platform": platform},
                  status=400 if form.errors else 200)


def _event_data(form: PlatformEventForm, platform: MailPlatform) -> dict[str, Any]:
    return {**form.cleaned_data, "platform": platform}


def _month_of(dt: datetime) -> str:
    return f"{timezone.localtime(dt, TZ):%Y-%m}"


@login_required
def event_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a fault or an adjustment of the platform; a refusal shows on the platform page.
    The role is checked before the platform is looked up (and before the method), so a customer
    user gets the same 403 whatever the id."""
    _require_editor(request.user)
    platform = get_object_or_404(selectors.mail_platforms(user=request.user), pk=pk)
    if request.method != "POST":
        return redirect("mailservice:platform_detail", platform.pk)
    form = PlatformEventForm(request.POST)
    if form.is_valid():
        try:
            event = services.platform_event_save(actor=request.user, data=_event_data(form, platform))
        except ForbiddenError:
            raise PermissionDenied from None
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The %(kind)s was recorded.") % {"kind": event.get_kind_display()})
            return redirect(f"{reverse('mailservice:platform_detail', args=[platform.pk])}"
                            f"?month={_month_of(event.started_at)}")
    month_form, first = MonthQueryForm(current=_current_month()), _current_month()
    ctx = _platform_context(request, platform, first, month_form)
    ctx["event_form"] = form
    return render(request, "mailservice/platform_detail.html", ctx, status=400)


def _event_or_404(request: HttpRequest, pk: int) -> PlatformEvent:
    require_staff(request.user)
    return get_object_or_404(selectors.platform_events(), pk=pk)


@login_required
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Correct a recorded fault or adjustment (audited by the service)."""
    _require_editor(request.user)
    event = _event_or_404(request, pk)
    initial = {"kind": event.kind, "title": event.title, "note": event.note,
               "started_at": timezone.localtime(event.started_at, TZ),
               "ended_at": timezone.localtime(event.ended_at, TZ) if event.ended_at else None}
    form = PlatformEventForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.platform_event_save(actor=request.user, data=_event_data(form, event.platform),
                                                 event=event)
        except ForbiddenError:
            raise PermissionDenied from None
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("Saved."))
            return redirect(f"{reverse('mailservice:platform_detail', args=[event.platform_id])}"
                            f"?month={_month_of(event.started_at)}")
    return render(request, "mailservice/event_form.html", {"form": form, "event": event, "action": "edit"},
                  status=400 if form.errors else 200)


@login_required
def event_end(request: HttpRequest, pk: int) -> HttpResponse:
    """Record when an open fault or adjustment ended."""
    _require_editor(request.user)
    event = _event_or_404(request, pk)
    form = PlatformEventEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.platform_event_end(actor=request.user, event_id=event.pk,
                                                ended_at=form.cleaned_data["ended_at"])
        except ForbiddenError:
            raise PermissionDenied from None
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("Saved."))
            return redirect(f"{reverse('mailservice:platform_detail', args=[event.platform_id])}"
                            f"?month={_month_of(event.started_at)}")
    return render(request, "mailservice/event_form.html", {"form": form, "event": event, "action": "end"},
                  status=400 if form.errors else 200)


@login_required
def event_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Delete a fault or adjustment recorded by mistake, with the reason (kept in the audit)."""
    _require_editor(request.user)
    event = _event_or_404(request, pk)
    form = PlatformEventDeleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        platform_id, month = event.platform_id, _month_of(event.started_at)
        try:
            services.platform_event_delete(actor=request.user, event_id=event.pk,
                                           reason=form.cleaned_data["reason"])
        except ForbiddenError:
            raise PermissionDenied from None
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The record was deleted."))
            return redirect(f"{reverse('mailservice:platform_detail', args=[platform_id])}?month={month}")
    return render(request, "mailservice/event_form.html", {"form": form, "event": event, "action": "delete"},
                  status=400 if form.errors else 200)


# --- Billing figures (staff; managers enter them) ---------------------------------------------

@login_required
def billing(request: HttpRequest) -> HttpResponse:
    """The monthly billing figures with their error rate; a manager enters or corrects a month."""
    require_staff(request.user)
    can_enter = user_has_role(request.user, *BILLING)
    if request.method == "POST" and not can_enter:
        raise PermissionDenied
    previous = _shift(_current_month(), -1)
    form = BillingFigureForm(request.POST or None, initial={"month": f"{previous:%Y-%m}"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.billing_figure_save(actor=request.user, month=data["month"],
                                         customers_billed=data["customers_billed"],
                                         customers_with_error=data["customers_with_error"],
                                         note=data.get("note") or "")
        except ForbiddenError:
            raise PermissionDenied from None
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The billing figures of %(month)s were saved.")
                             % {"month": f"{data['month']:%Y-%m}"})
            return redirect("mailservice:billing")
    page = keyset_page(request, selectors.billing_figures())
    targets = _targets()
    target = targets.get("E3-BILL")
    for b in page.object_list:
        b.rate_percent = (Decimal(b.customers_with_error) * 100 / Decimal(b.customers_billed)
                          if b.customers_billed else None)
        b.kept = (compare(b.rate_percent, target.comparison, target.threshold)
                  if target is not None and target.active and b.rate_percent is not None else None)
    return render(request, "mailservice/billing.html", {
        "form": form, "page": page, "qs": querystring_without_page(request), "can_enter": can_enter,
        "target": target,
    }, status=400 if form.errors else 200)
