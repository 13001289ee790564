"""Pages of seed 002 §5 and §7: the staff work queue (backups per platform with the last runs and
breached days, virus-signature freshness, accounts awaiting deletion with the days left), the
staff forms (a run, a signature update, a reporter token shown once, a locked account, a
deletion), and one e-mail service's backups / anti-virus / locked accounts month for its owner
(another customer's service is a 404). Writes go through mailservice.backups and .retention."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.choices import Role
from customers.models import Service
from customers.selectors import user_has_role, user_is_staff
from incidents.downtime import TZ
from slaportal.errors import DomainError, ForbiddenError
from slaportal.ui import form_add_domain_error, require_staff

from . import selectors
from .backups import AV_CODE, backup_run_record, reporter_token_create, signature_update_record
from .guarantee import guarantee_month, staff_queue
from .guarantee_forms import (
    BackupRunForm,
    LockedAccountForm,
    LockedDeleteForm,
    ReporterTokenForm,
    SignatureUpdateForm,
)
from .models import LockedAccount, ReporterToken
from .retention import WARN_DAYS, locked_account_delete, locked_account_record, locked_accounts_awaiting

EDITORS = (Role.ENGINEER, Role.MANAGER)


def _require_editor(user: Any) -> None:
    require_staff(user)
    if not user_has_role(user, *EDITORS):
        raise PermissionDenied


def _month(request: HttpRequest) -> date | None:
    from .forms import MonthQueryForm

    current = timezone.localtime(timezone.now(), TZ).date().replace(day=1)
    form = MonthQueryForm(request.GET or None, current=current)
    if not form.is_bound:
        return current
    return form.cleaned_data["month"] if form.is_valid() else None


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    """The staff work queue of backups, anti-virus and locked accounts."""
    require_staff(request.user)
    accounts = locked_accounts_awaiting(user=request.user)
    return render(request, "mailservice/guarantee_queue.html", {
        "rows": staff_queue(), "accounts": accounts, "warn_days": WARN_DAYS,
        "near": sum(1 for a in accounts if getattr(a, "near", False) or getattr(a, "may_delete", False)),
        "can_edit": user_has_role(request.user, *EDITORS),
        "reporters": ReporterToken.objects.select_related("platform").order_by("platform__name", "name"),
    })


def _form_page(request: HttpRequest, form: Any, title: str, *, extra: dict[str, Any] | None = None,
               status: int = 200) -> HttpResponse:
    return render(request, "mailservice/guarantee_form.html", {"form": form, "title": title, **(extra or {})},
                  status=status)


@login_required
def run_create(request: HttpRequest) -> HttpResponse:
    """Enter a backup run by hand (engineers, managers)."""
    _require_editor(request.user)
    form = BackupRunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        platform = data.pop("platform")
        try:
            backup_run_record(platform=platform, data=data, actor=request.user)
        except ForbiddenError:
            raise PermissionDenied from None
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The backup run was recorded."))
            return redirect("mailservice:guarantee_queue")
    return _form_page(request, form, _("Enter a backup run"), status=400 if form.errors else 200)


@login_required
def signature_create(request: HttpRequest) -> HttpResponse:
    """Enter a virus-signature update by hand (engineers, managers)."""
    _require_editor(request.user)
    form = SignatureUpdateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            signature_update_record(platform=d["platform"], scanner=d["scanner"], version=d["version"],
                                    updated_at=d["updated_at"], actor=request.user)
        except ForbiddenError:
            raise PermissionDenied from None
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The virus signature update was recorded."))
            return redirect("mailservice:guarantee_queue")
    return _form_page(request, form, _("Enter a virus signature update"), status=400 if form.errors else 200)


@login_required
def reporter_create(request: HttpRequest) -> HttpResponse:
    """Make a reporter token; the token is shown once, on the page answering the POST."""
    _require_editor(request.user)
    form = ReporterTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, raw = reporter_token_create(actor=request.user, platform=form.cleaned_data["platform"],
                                               name=form.cleaned_data["name"])
        except ForbiddenError:
            raise PermissionDenied from None
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            return _form_page(request, ReporterTokenForm(), _("Make a reporter token"),
                              extra={"token": token, "raw_token": raw})
    return _form_page(request, form, _("Make a reporter token"), status=400 if form.errors else 200)


@login_required
def account_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a locked or terminated mail account of an e-mail service (engineers, managers)."""
    _require_editor(request.user)
    service = get_object_or_404(selectors.email_services_visible(user=request.user), pk=pk)
    form = LockedAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            a = locked_account_record(actor=request.user, service=service, **form.cleaned_data)
        except ForbiddenError:
            raise PermissionDenied from None
        except DomainError as e:
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("Recorded: the data of %(address)s may be deleted from %(date)s.") % {
                "address": a.address, "date": f"{timezone.localtime(a.deletable_from, TZ):%Y-%m-%d %H:%M}"})
            return redirect("mailservice:service_guarantee", service.pk)
    return _form_page(request, form, _("Record a locked or terminated account"),
                      extra={"service": service}, status=400 if form.errors else 200)


@login_required
def account_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the deletion of a locked account's data: refused before the date, with the date."""
    _require_editor(request.user)
    account = get_object_or_404(LockedAccount.objects.select_related("service"), pk=pk)
    # Every field is optional (empty: deleted now), so an empty POST is still a submission.
    form = LockedDeleteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            locked_account_delete(actor=request.user, account_id=account.pk, deleted_at=d.get("deleted_at"),
                                  note=d.get("note") or "", early_loss=bool(d.get("early_loss")))
        except DomainError as e:  # also a ForbiddenError: an engineer recording an early loss
            form_add_domain_error(form, e)
        else:
            messages.success(request, _("The deletion was recorded."))
            return redirect("mailservice:guarantee_queue")
    return _form_page(request, form, _("Record the deletion of %(address)s") % {"address": account.address},
                      extra={"account": account}, status=400 if form.errors else 200)


def service_summary(service: Service, first: date) -> dict[str, Any]:
    """The backups and anti-virus lines of one service's month, for its /mail/ page."""
    g = guarantee_month(services=[service], year=first.year, month=first.month)[service.pk]
    return {"guarantee": g, "av": g.measurements.get(AV_CODE),
            "backup_verdicts": {c: g.measurements[c].kept for c in ("E6-INCR", "E6-FULL", "E6-KEEP")
                                if c in g.measurements}}


@login_required
def service_guarantee(request: HttpRequest, pk: int) -> HttpResponse:
    """One e-mail service's backups, virus signatures and locked accounts for a month."""
    service = get_object_or_404(selectors.email_services_visible(user=request.user), pk=pk)
    first = _month(request)
    if first is None:
        first = timezone.localtime(timezone.now(), TZ).date().replace(day=1)
    g = guarantee_month(services=[service], year=first.year, month=first.month)[service.pk]
    days_by_date: dict[date, list[Any]] = {}
    for d in g.days:
        days_by_date.setdefault(d.day, []).append(d)
    accounts = list(LockedAccount.objects.filter(service=service).order_by("-locked_at", "-pk"))
    now = timezone.now()
    for a in accounts:
        a.waiting = a.deleted_at is None and a.deletable_from > now  # type: ignore[attr-defined]
    names = {p.pk: p.name for p in g.platforms}
    return render(request, "mailservice/service_guarantee.html", {
        "service": service, "first": first, "g": g, "accounts": accounts, "names": names,
        "days": sorted(g.days, key=lambda d: (d.day, d.platform_id), reverse=True),
        "staff": user_is_staff(request.user), "can_edit": user_has_role(request.user, *EDITORS),
    })
