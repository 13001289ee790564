"""Managers' page of the sign-in locks in force, with a button to lift each one (audited)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.choices import Role
from customers.selectors import user_has_role
from slaportal.errors import DomainError

from . import lockout, selectors, services
from .forms import LockoutLiftForm


def _require_manager(request: HttpRequest) -> None:
    if not user_has_role(request.user, Role.MANAGER):
        raise PermissionDenied


@login_required
def lockout_list(request: HttpRequest) -> HttpResponse:
    """Every user name and client address whose sign-in is locked now, and the last lifts."""
    _require_manager(request)
    return render(request, "accounts/lockout_list.html", {
        "lockouts": selectors.lockout_list(),
        "releases": selectors.lockout_release_list()[:20],
        "user_limit": lockout.user_limit(), "ip_limit": lockout.ip_limit(),
        "cool_off_minutes": round(lockout.cool_off().total_seconds() / 60),
        "now": timezone.now(),
    })


@login_required
@require_POST
def lockout_lift(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = LockoutLiftForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a lock to lift."))
        return redirect("accounts:lockouts")
    try:
        release = services.lockout_lift(actor=request.user, **form.cleaned_data)
    except DomainError as e:
        messages.error(request, str(e.message))
        return redirect("accounts:lockouts")
    messages.success(request, _("Sign-in lock on %(what)s lifted: %(n)s failed attempts cleared.")
                     % {"what": release.value, "n": release.failures})
    return redirect("accounts:lockouts")
