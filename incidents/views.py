"""Incident pages: list, detail (outages, notice attempts with channel, address, time and outcome,
the C4 clock, the audit trail, and the actions each role may take), the e-mail acknowledgement
link, the customer's report form, staff-entered outages and the monthly downtime page."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit.services import audit_for
from customers.selectors import service_list, user_customer_id, user_has_role, user_is_staff
from slaportal.errors import DomainError
from slaportal.paging import keyset_page
from slaportal.ui import choice_param, form_add_domain_error, querystring_without_page

from . import services
from .choices import CAUSE_SEED_TEXT, IncidentState, NoticeOutcome, OutageKind
from .downtime import TZ, service_month_downtime
from .forms import (
    CallForm,
    ClassifyForm,
    CustomerReportForm,
    ExemptForm,
    FacilityEventEndForm,
    FacilityEventForm,
    OutageForm,
    ReasonForm,
    ReportForm,
    StaffIncidentForm,
)
from .models import FacilityEvent, Incident, NoticeAttempt
from .selectors import (
    availability_chart,
    facility_event_list,
    incident_list,
    notice_attempts_for,
    outage_list,
    outage_timeline,
)


def _can_handle(user: Any) -> bool:
    return user_has_role(user, *services.INCIDENT_ACTORS)


@login_required
def incident_list_view(request: HttpRequest) -> HttpResponse:
    state = choice_param(request, "state", IncidentState.values, label=_("State"))
    qs = incident_list(user=request.user, state=state)
    return render(request, "incidents/incident_list.html", {
        "page": keyset_page(request, qs), "qs": querystring_without_page(request),
        "states": IncidentState.choices, "state": state,
        "can_enter_outage": user_has_role(request.user, *services.POWER_ACTORS),
        "can_record": user_has_role(request.user, *services.RECORD_ACTORS),
        "can_report": user_customer_id(request.user) is not None})


@login_required
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    inc = get_object_or_404(incident_list(user=request.user), pk=pk)
    return render(request, "incidents/incident_detail.html", _detail_context(request, inc))


def _detail_context(request: HttpRequest, inc: Incident, **forms: Any) -> dict[str, Any]:
    outages = list(inc.outages.select_related("cause_set_by").order_by("started_at"))
    for o in outages:
        o.seed_text = CAUSE_SEED_TEXT.get(o.cause, "") if o.cause else ""
    staff = user_is_staff(request.user)
    return {
        "incident": inc, "outages": outages, "attempts": notice_attempts_for(inc),
        "c4": services._c4_latest(inc), "audit": audit_for(inc)[:50] if staff else [],
        "can_handle": _can_handle(request.user), "is_staff": staff,
        "can_ack": (not staff and user_customer_id(request.user) == inc.customer_id
                    and inc.acknowledged_at is None and inc.is_open),
        "classify_form": forms.get("classify_form") or ClassifyForm(),
        "exempt_form": forms.get("exempt_form") or ExemptForm(),
        "call_form": CallForm(), "reason_form": forms.get("reason_form") or ReasonForm(),
        "report_form": forms.get("report_form") or ReportForm(),
        "awaiting": NoticeOutcome.AWAITING_CALL,
    }


ACTIONS = ("acknowledge", "resolve", "close", "declare", "exempt", "record_report")


@login_required
@require_POST
def incident_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    inc = get_object_or_404(incident_list(user=request.user), pk=pk)
    u = request.user
    forms: dict[str, Any] = {}
    try:
        if action == "acknowledge":
            services.incident_acknowledge(incident_id=inc.pk, actor=u, via="portal")
        elif action in ("resolve", "close", "declare"):
            form = forms["reason_form"] = ReasonForm(request.POST)
            form.is_valid()
            reason = form.cleaned_data.get("reason", "")
            if action == "declare":
                # An incident staff recorded as detected: its outage starts when they said it did.
                services.incident_declare(incident_id=inc.pk, actor=u, reason=reason,
                                          outage_started_at=services.declared_outage_start(inc))
            else:
                fn = {"resolve": services.incident_resolve, "close": services.incident_close}[action]
                fn(incident_id=inc.pk, actor=u, reason=reason)
        elif action == "exempt":
            form = forms["exempt_form"] = ExemptForm(request.POST)
            if not form.is_valid():
                raise DomainError(_("Please correct the errors below."))
            services.notice_exempt(incident_id=inc.pk, actor=u, **form.cleaned_data)
        elif action == "record_report":
            form = forms["report_form"] = ReportForm(request.POST)
            if not form.is_valid():
                raise DomainError(_("Please correct the errors below."))
            services.incident_record_report(incident_id=inc.pk, actor=u, **form.cleaned_data)
        else:
            raise Http404
    except DomainError as e:
        if e.status == 403:
            raise PermissionDenied from None
        target = next(iter(forms.values()), None)
        if target is not None:
            form_add_domain_error(target, e)
        else:
            messages.error(request, str(e.message))
        inc.refresh_from_db()
        return render(request, "incidents/incident_detail.html", _detail_context(request, inc, **forms),
                      status=400 if e.status != 409 else 409)
    messages.success(request, _("Saved."))
    return redirect("incidents:detail", inc.pk)


@login_required
@require_POST
def attempt_record(request: HttpRequest, pk: int, attempt_pk: int) -> HttpResponse:
    inc = get_object_or_404(incident_list(user=request.user), pk=pk)
    attempt = get_object_or_404(NoticeAttempt.objects.filter(incident=inc), pk=attempt_pk)
    form = CallForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Please correct the errors below."))
        return redirect("incidents:detail", inc.pk)
    try:
        services.notice_call_record(attempt_id=attempt.pk, actor=request.user, **form.cleaned_data)
    except DomainError as e:
        if e.status == 403:
            raise PermissionDenied from None
        messages.error(request, str(e.message))
    return redirect("incidents:detail", inc.pk)


@login_required
@require_POST
def outage_classify(request: HttpRequest, pk: int, outage_pk: int) -> HttpResponse:
    inc = get_object_or_404(incident_list(user=request.user), pk=pk)
    outage = get_object_or_404(inc.outages.all(), pk=outage_pk)
    form = ClassifyForm(request.POST)
    try:
        if not form.is_valid():
            raise DomainError(_("Please correct the errors below."))
        services.outage_classify(outage_id=outage.pk, actor=request.user, **form.cleaned_data)
    except DomainError as e:
        if e.status == 403:
            raise PermissionDenied from None
        form_add_domain_error(form, e)
        return render(request, "incidents/incident_detail.html",
                      _detail_context(request, inc, classify_form=form), status=400)
    messages.success(request, _("The cause was recorded."))
    return redirect("incidents:detail", inc.pk)


def acknowledge_link(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the notice e-mail: no login; the signed token names the incident and contact.
    GET shows what is acknowledged; POST acknowledges (a mail scanner's GET changes nothing)."""
    try:
        incident_id, contact_id = services.ack_token_read(token)
    except DomainError:
        return render(request, "incidents/acknowledge.html", {"invalid": True}, status=400)
    inc = Incident.objects.select_related("service").filter(pk=incident_id).first()
    if inc is None:
        return render(request, "incidents/acknowledge.html", {"invalid": True}, status=400)
    done = False
    if request.method == "POST":
        try:
            inc = services.incident_acknowledge_by_token(token=token)
            done = True
        except DomainError:
            return render(request, "incidents/acknowledge.html", {"invalid": True}, status=400)
    return render(request, "incidents/acknowledge.html", {"incident": inc, "done": done})


@login_required
def customer_report(request: HttpRequest) -> HttpResponse:
    """A customer user reports a problem with one of their services."""
    if user_customer_id(request.user) is None:
        raise PermissionDenied
    svcs = service_list(user=request.user)
    form = CustomerReportForm(request.POST or None, services=svcs)
    if request.method == "POST" and form.is_valid():
        try:
            inc = services.incident_report(actor=request.user, **form.cleaned_data)
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("Your report was received."))
            return redirect("incidents:detail", inc.pk)
    return render(request, "incidents/report_form.html", {"form": form})


@login_required
def incident_create(request: HttpRequest) -> HttpResponse:
    """Staff record an incident (a customer's phone report, or their own detection) and declare
    the emergency from it, or save it as detected to declare later from its page."""
    if not user_has_role(request.user, *services.RECORD_ACTORS):
        raise PermissionDenied
    now = timezone.now()
    svcs = service_list(user=request.user).filter(active=True).order_by("customer__name", "name", "pk")
    form = StaffIncidentForm(request.POST or None, services=svcs, now=now)
    if request.method == "POST" and form.is_valid():
        try:
            rec = services.incident_record(actor=request.user, now=timezone.now(), **form.cleaned_data)
        except DomainError as e:
            if e.status == 403:
                raise PermissionDenied from None
            form_add_domain_error(form, e)
        else:
            inc = rec.incident
            if rec.outage is None:
                msg = _("Incident %(number)s was saved as detected; declare the emergency from its page.")
            elif rec.clock is None:
                msg = _("Emergency %(number)s was declared. This service has no emergency notice "
                        "promise: no notice clock was started.")
            else:
                msg = _("Emergency %(number)s was declared: the customer's authorized contacts are "
                        "being notified.")
            messages.success(request, msg % {"number": inc.number})
            return redirect("incidents:detail", inc.pk)
    return render(request, "incidents/incident_form.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def outage_create(request: HttpRequest) -> HttpResponse:
    """Staff enter an outage by hand (power: mains and UPS both without power)."""
    if not user_has_role(request.user, *services.POWER_ACTORS):
        raise PermissionDenied
    form = OutageForm(request.POST or None, services=service_list(user=request.user))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            o = services.outage_record(actor=request.user, **data)
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The outage was recorded."))
            return redirect(f"{_downtime_url(o.service_id)}?month={timezone.localtime(o.started_at, TZ):%Y-%m}")
    return render(request, "incidents/outage_form.html", {"form": form})


def _downtime_url(service_id: int) -> str:
    from django.urls import reverse

    return reverse("incidents:downtime", args=[service_id])


# The months a downtime query may name: the month after the last must still be a date.
MONTH_MIN_YEAR, MONTH_MAX_YEAR = 1900, 9998


def parse_month(value: str | None) -> tuple[int, int]:
    """'YYYY-MM' → (year, month); missing → the current month in Asia/Shanghai. Anything else,
    or a year outside 1900–9998, is a DomainError on `month`."""
    if value:
        try:
            y_text, m_text = value.split("-", 1)
            if not (len(y_text) == 4 and y_text.isdigit() and m_text.isdigit()):
                raise ValueError(value)
            y, m = int(y_text), int(m_text)
            date(y, m, 1)
            if not MONTH_MIN_YEAR <= y <= MONTH_MAX_YEAR:
                raise ValueError(value)
            return y, m
        except (TypeError, ValueError):
            message = _("Give the month as YYYY-MM, between %(min)s-01 and %(max)s-12.") % {
                "min": MONTH_MIN_YEAR, "max": MONTH_MAX_YEAR}
            raise DomainError(message, field_errors={"month": [message]}) from None
    now = timezone.localtime(timezone.now(), TZ)
    return now.year, now.month


@login_required
def downtime(request: HttpRequest, service_pk: int) -> HttpResponse:
    """A service's counted downtime for the current or any past month, with every outage, its
    cause and justification."""
    service = get_object_or_404(service_list(user=request.user), pk=service_pk)
    try:
        year, month = parse_month(request.GET.get("month"))
    except DomainError as e:
        messages.error(request, str(e.message))
        year, month = parse_month(None)
    network = service_month_downtime(service=service, year=year, month=month)
    power = service_month_downtime(service=service, year=year, month=month, kind=OutageKind.POWER)
    outages = list(outage_list(user=request.user, service_id=service.pk).filter(
        started_at__lt=network.month_end).exclude(ended_at__lte=network.month_start))
    for o in outages:
        o.excluded_reason = network.excluded.get(o.pk) if o.kind == OutageKind.NETWORK else power.excluded.get(o.pk)
    prev = (year - 1, 12) if month == 1 else (year, month - 1)
    nxt = (year + 1, 1) if month == 12 else (year, month + 1)
    chart = availability_chart(service=service, year=year, month=month)
    return render(request, "incidents/downtime.html", {
        "availability": chart, "timeline": outage_timeline(
            outages=outages, month_start=network.month_start, month_end=network.month_end),
        "service": service, "network": network, "power": power, "results": [network, power], "outages": outages,
        "month": f"{year}-{month:02d}", "prev": f"{prev[0]}-{prev[1]:02d}", "next": f"{nxt[0]}-{nxt[1]:02d}",
        "incidents": incident_list(user=request.user, service_id=service.pk)[:20],
    })


# --- Facility events (staff only) ---------------------------------------------------------

def _require_facility_staff(user: Any) -> None:
    if not user_is_staff(user):
        raise PermissionDenied


@login_required
def facility_event_list_view(request: HttpRequest) -> HttpResponse:
    """Events of the data centre (power cuts, carrier faults, maintenance windows), newest first."""
    _require_facility_staff(request.user)
    qs = facility_event_list(user=request.user)
    return render(request, "incidents/facility_event_list.html", {
        "page": keyset_page(request, qs), "qs": querystring_without_page(request),
        "can_record": user_has_role(request.user, *services.POWER_ACTORS)})


@login_required
def facility_event_create(request: HttpRequest) -> HttpResponse:
    """Record an event once; it makes one outage per affected active service."""
    if not user_has_role(request.user, *services.POWER_ACTORS):
        raise PermissionDenied
    form = FacilityEventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            event = services.facility_event_record(actor=request.user, **form.service_kwargs())
        except DomainError as e:
            form_add_domain_error(form, e, aliases={"scopes": "rooms"})
        else:
            messages.success(request, _("The facility event was recorded for %(n)d services.")
                             % {"n": event.outages.count()})
            return redirect("incidents:facility_event_detail", event.pk)
    return render(request, "incidents/facility_event_form.html", {"form": form})


def _facility_context(request: HttpRequest, event: FacilityEvent, **forms: Any) -> dict[str, Any]:
    outages = list(event.outages.select_related("service", "customer", "cause_set_by").order_by(
        "customer__name", "service__name"))
    reliefs = list(event.clock_reliefs.select_related("clock", "clock__policy", "clock__customer"))
    return {
        "event": event, "outages": outages, "reliefs": reliefs, "scopes": list(event.scopes.all()),
        "seed_text": CAUSE_SEED_TEXT.get(event.cause, "") if event.cause else "",  # type: ignore[call-overload]
        "audit": audit_for(event)[:100],
        "can_end": event.ended_at is None and user_has_role(request.user, *services.POWER_ACTORS),
        "can_classify": _can_handle(request.user),
        "end_form": forms.get("end_form") or FacilityEventEndForm(),
        "classify_form": forms.get("classify_form") or ClassifyForm(
            initial={"cause": event.cause, "note": event.cause_note}),
    }


@login_required
def facility_event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # The selector shows a customer user no event: any id is a 404, as for another tenant's object.
    event = get_object_or_404(facility_event_list(user=request.user), pk=pk)
    return render(request, "incidents/facility_event_detail.html", _facility_context(request, event))


@login_required
@require_POST
def facility_event_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    event = get_object_or_404(facility_event_list(user=request.user), pk=pk)
    forms: dict[str, Any] = {}
    try:
        if action == "end":
            form = forms["end_form"] = FacilityEventEndForm(request.POST)
            if not form.is_valid():
                raise DomainError(_("Please correct the errors below."))
            services.facility_event_end(event_id=event.pk, actor=request.user, **form.cleaned_data)
        elif action == "classify":
            cform = forms["classify_form"] = ClassifyForm(request.POST)
            if not cform.is_valid():
                raise DomainError(_("Please correct the errors below."))
            services.facility_event_classify(event_id=event.pk, actor=request.user, **cform.cleaned_data)
        else:
            raise Http404
    except DomainError as e:
        if e.status == 403:
            raise PermissionDenied from None
        for f in forms.values():
            form_add_domain_error(f, e)
        event.refresh_from_db()
        return render(request, "incidents/facility_event_detail.html",
                      _facility_context(request, event, **forms), status=409 if e.status == 409 else 400)
    messages.success(request, _("Saved."))
    return redirect("incidents:facility_event_detail", event.pk)
