"""Customer pages: the list for staff, one customer's page (a customer user sees only their own),
the authorized-contact form and the contract form. Reads through selectors, writes through
services; another customer's object is a 404 from the scoped queryset."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from credits.selectors import credit_list
from sla.choices import OPEN_CLOCK_STATES
from sla.selectors import clock_list
from slaportal.errors import DomainError
from slaportal.paging import keyset_page
from slaportal.ui import form_add_domain_error, querystring_without_page, staff_may_view, text_param

from . import services
from .choices import ContactChannel, Role
from .forms import ContactForm, ContractForm
from .models import AuthorizedContact, Customer
from .selectors import (
    contact_list,
    contract_list,
    customer_list,
    service_list,
    user_customer_id,
    user_has_role,
    user_is_staff,
)


def can_manage_contacts(user: Any, customer: Customer) -> bool:
    """Staff whose role may change authorized contacts, or the customer's own administrator."""
    if user_is_staff(user):
        return bool(user.has_perm("customers.change_authorizedcontact"))
    link = getattr(user, "customer_link", None)
    return bool(link is not None and link.customer_id == customer.pk and link.is_customer_admin)


def can_add_contract(user: Any) -> bool:
    return user_has_role(user, Role.MANAGER) and bool(user.has_perm("customers.add_contract"))


def with_channel_labels(contacts: Any) -> list[AuthorizedContact]:
    rows = list(contacts)
    labels = dict(ContactChannel.choices)
    for c in rows:
        c.channel_labels = [labels.get(ch, ch) for ch in (c.channels or [])]
    return rows


def customer_sections(user: Any, customer: Customer) -> dict[str, Any]:
    """What a customer's page shows of its contracts, services and contacts (shared with the
    customer user's home page)."""
    # Sections a staff role may not read (roles.py; data-centre staff: contracts, contacts) are
    # left empty, as the API refuses them.
    contracts = contract_list(user=user).filter(customer=customer)
    contacts = contact_list(user=user).filter(customer=customer)
    return {
        "customer": customer,
        "contracts": contracts if staff_may_view(user, "customers.view_contract") else contracts.none(),
        # The installation order of each hosting service (orders app, by its reverse relation: no
        # import of a higher app) in the same query; the table links it.
        "services": service_list(user=user).filter(customer=customer).select_related("installation_order"),
        "contacts": with_channel_labels(contacts if staff_may_view(user, "customers.view_authorizedcontact")
                                        else contacts.none()),
        "can_manage_contacts": can_manage_contacts(user, customer),
        "can_add_contract": can_add_contract(user),
    }


@login_required
def customer_list_view(request: HttpRequest) -> HttpResponse:
    """Staff see every customer; a customer user goes straight to their own organisation."""
    if not user_is_staff(request.user):
        cid = user_customer_id(request.user)
        if cid is None:
            raise PermissionDenied
        return redirect("customers:detail", cid)
    qs = customer_list(user=request.user)
    q = text_param(request, "q", label=_("Search"))
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q))
    return render(request, "customers/customer_list.html", {
        "page": keyset_page(request, qs), "q": q, "qs": querystring_without_page(request)})


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = get_object_or_404(customer_list(user=request.user), pk=pk)
    ctx = customer_sections(request.user, customer)
    ctx["open_clocks"] = (clock_list(user=request.user)
                          .filter(customer=customer, state__in=OPEN_CLOCK_STATES).order_by("due_at")[:50])
    credits = credit_list(user=request.user).filter(customer=customer)
    ctx["credits"] = credits[:20] if staff_may_view(request.user, "credits.view_credit") else credits.none()
    return render(request, "customers/customer_detail.html", ctx)


def _contact_form_page(request: HttpRequest, customer_pk: int,
                       contact_pk: int | None) -> HttpResponse:
    customer = get_object_or_404(customer_list(user=request.user), pk=customer_pk)
    contact = None
    if contact_pk is not None:
        contact = get_object_or_404(contact_list(user=request.user).filter(customer=customer),
                                    pk=contact_pk)
    if not can_manage_contacts(request.user, customer):
        raise PermissionDenied
    if request.method == "POST":
        form = ContactForm(request.POST, contact=contact)
        if form.is_valid():
            try:
                services.contact_save(customer=customer, contact=contact, data=form.service_data(),
                                      mrtg_secret=form.cleaned_data.get("mrtg_secret") or None,
                                      actor=request.user)
            except DomainError as e:
                form_add_domain_error(form, e, aliases={"channels": "channel_1"})
            else:
                messages.success(request, _("The authorized contact was saved."))
                return redirect("customers:detail", customer.pk)
    else:
        form = ContactForm(contact=contact)
    return render(request, "customers/contact_form.html",
                  {"customer": customer, "contact": contact, "form": form})


@login_required
def contact_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    return _contact_form_page(request, customer_pk, None)


@login_required
def contact_edit(request: HttpRequest, customer_pk: int, pk: int) -> HttpResponse:
    return _contact_form_page(request, customer_pk, pk)


@login_required
def contract_create(request: HttpRequest, customer_pk: int) -> HttpResponse:
    """Managers record a signed contract. The installation promise (C3) runs on the installation
    order each hosting service added under it opens (orders app)."""
    customer = get_object_or_404(customer_list(user=request.user), pk=customer_pk)
    if not can_add_contract(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = ContractForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                contract = services.contract_create(
                    customer=customer, number=d["number"], signed_at=d["signed_at"],
                    monthly_fee=d["monthly_fee"], installation_fee=d["installation_fee"],
                    term_months=d["term_months"], starts_on=d["starts_on"],
                    exclude_unreported_outages=d["exclude_unreported_outages"], actor=request.user)
            except DomainError as e:
                # CalendarYearUnknown names the calendar; on this form that is the signing date.
                form_add_domain_error(form, e, aliases={"calendar": "signed_at"})
            else:
                messages.success(request, _("Contract %(number)s was recorded.")
                                 % {"number": contract.number})
                return redirect("customers:detail", customer.pk)
    else:
        form = ContractForm()
    return render(request, "customers/contract_form.html", {"customer": customer, "form": form})
