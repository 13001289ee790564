"""Monitoring pages: targets with their state and probe history (state changes, daily counts),
the probe mailboxes of e-mail services with their checks, and the forms for engineers and
managers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from customers.choices import Role
from customers.selectors import service_list, user_has_role
from slaportal.errors import DomainError
from slaportal.ui import choice_param, form_add_domain_error, paginate, querystring_without_page

from . import services
from .choices import TargetState
from .forms import MailboxForm, TargetForm
from .selectors import mailbox_list, target_list


def _can_edit(user) -> bool:  # type: ignore[no-untyped-def]
    return user_has_role(user, Role.ENGINEER, Role.MANAGER)


@login_required
def target_list_view(request: HttpRequest) -> HttpResponse:
    qs = target_list(user=request.user,
                     state=choice_param(request, "state", TargetState.values, label=_("State")))
    return render(request, "monitoring/target_list.html", {
        "page": paginate(request, qs), "qs": querystring_without_page(request),
        "can_edit": _can_edit(request.user)})


@login_required
def target_detail(request: HttpRequest, pk: int) -> HttpResponse:
    t = get_object_or_404(target_list(user=request.user), pk=pk)
    return render(request, "monitoring/target_detail.html", {
        "target": t, "changes": t.state_changes.all()[:100], "daily": t.daily.all()[:31],
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
        "page": paginate(request, qs), "qs": querystring_without_page(request),
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
