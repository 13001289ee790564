"""Traffic pages: switch ports with their daily/weekly/monthly/yearly graphs for the portal
(customers their own, staff all), the staff forms, and the MRTG view: a read-only traffic view
opened with the customer's MRTG user name and password, without a portal account."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.lockout import client_ip
from customers.choices import Role
from customers.selectors import service_list, user_has_role
from slaportal.errors import DomainError
from slaportal.paging import keyset_page
from slaportal.ui import form_add_domain_error, querystring_without_page

from . import services
from .choices import GraphRange
from .forms import MrtgLoginForm, SwitchPortForm
from .selectors import switchport_list, switchport_list_for_customer, traffic_graph

MRTG_SESSION_KEY = "traffic_mrtg"
MRTG_SESSION_HOURS = 8


def _can_edit(user: Any) -> bool:
    return user_has_role(user, Role.ENGINEER, Role.MANAGER)


def _graphs(port: Any, data_url_name: str, **kw: Any) -> list[dict[str, Any]]:
    from django.urls import reverse

    return [{"range": r.value, "label": r.label, "url": reverse(data_url_name, kwargs={**kw, "graph": r.value})}
            for r in GraphRange]


@login_required
def port_list(request: HttpRequest) -> HttpResponse:
    qs = switchport_list(user=request.user)
    return render(request, "traffic/port_list.html", {
        "page": keyset_page(request, qs), "qs": querystring_without_page(request),
        "can_edit": _can_edit(request.user)})


@login_required
def port_detail(request: HttpRequest, pk: int) -> HttpResponse:
    port = get_object_or_404(switchport_list(user=request.user), pk=pk)
    return render(request, "traffic/port_detail.html", {
        "port": port, "graphs": _graphs(port, "traffic:data", pk=port.pk), "can_edit": _can_edit(request.user)})


@login_required
def port_data(request: HttpRequest, pk: int, graph: str) -> JsonResponse:
    port = get_object_or_404(switchport_list(user=request.user), pk=pk)
    if graph not in GraphRange.values:
        raise Http404
    return JsonResponse(traffic_graph(port=port, graph=graph))


def _form_page(request: HttpRequest, pk: int | None) -> HttpResponse:
    # The lookup comes before the role check: another customer's port is a 404, not a 403.
    port = get_object_or_404(switchport_list(user=request.user), pk=pk) if pk else None
    if not _can_edit(request.user):
        raise PermissionDenied
    form = SwitchPortForm(request.POST or None, instance=port, services=service_list(user=request.user))
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "service"}
        service = port.service if port is not None else form.cleaned_data["service"]
        try:
            saved = services.switchport_save(service=service, data=data, actor=request.user, port=port)
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The switch port was saved."))
            return redirect("traffic:detail", saved.pk)
    return render(request, "traffic/port_form.html", {"form": form, "port": port})


@login_required
def port_create(request: HttpRequest) -> HttpResponse:
    return _form_page(request, None)


@login_required
def port_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _form_page(request, pk)


# --- The MRTG view ---------------------------------------------------------------------------

def _mrtg_customer(request: HttpRequest) -> int:
    """The customer an MRTG session was opened for, or a redirect to the sign-in."""
    s = request.session.get(MRTG_SESSION_KEY)
    if not s or s.get("until", 0) < timezone.now().timestamp():
        raise _MrtgSignIn
    return int(s["customer"])


class _MrtgSignIn(Exception):
    pass


@require_http_methods(["GET", "POST"])
def mrtg_login(request: HttpRequest) -> HttpResponse:
    form = MrtgLoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.mrtg_login(username=form.cleaned_data["username"],
                                          password=form.cleaned_data["password"], client_ip=client_ip(request))
        except DomainError as e:
            form.add_error(None, str(e.message))
            status = 429 if e.code == "rate_limited" else 403 if e.code == "locked" else 200
        else:
            # A new session key: a session fixed by someone else before sign-in learns nothing.
            request.session.cycle_key()
            request.session[MRTG_SESSION_KEY] = {
                "customer": contact.customer_id, "contact": contact.pk,
                "until": (timezone.now() + timedelta(hours=MRTG_SESSION_HOURS)).timestamp()}
            return redirect("traffic:mrtg-view")
    return render(request, "traffic/mrtg_login.html", {"form": form}, status=status)


def mrtg_logout(request: HttpRequest) -> HttpResponse:
    request.session.pop(MRTG_SESSION_KEY, None)
    return redirect("traffic:mrtg-login")


def mrtg_view(request: HttpRequest) -> HttpResponse:
    try:
        cid = _mrtg_customer(request)
    except _MrtgSignIn:
        return redirect("traffic:mrtg-login")
    ports = list(switchport_list_for_customer(customer_id=cid).filter(active=True))
    return render(request, "traffic/mrtg_view.html", {"ports": ports})


def mrtg_port(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        cid = _mrtg_customer(request)
    except _MrtgSignIn:
        return redirect("traffic:mrtg-login")
    port = get_object_or_404(switchport_list_for_customer(customer_id=cid), pk=pk)
    return render(request, "traffic/port_detail.html", {
        "port": port, "graphs": _graphs(port, "traffic:mrtg-data", pk=port.pk), "can_edit": False, "mrtg": True})


def mrtg_data(request: HttpRequest, pk: int, graph: str) -> JsonResponse:
    try:
        cid = _mrtg_customer(request)
    except _MrtgSignIn:
        raise Http404 from None
    port = get_object_or_404(switchport_list_for_customer(customer_id=cid), pk=pk)
    if graph not in GraphRange.values:
        raise Http404
    return JsonResponse(traffic_graph(port=port, graph=graph))
