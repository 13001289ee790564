"""Sign-in throttling on top of django-axes.

Axes records every failed sign-in (the login page, the admin login and POST /api/auth/token/
all go through django.contrib.auth.authenticate with the request) as AccessAttempt rows keyed on
(user name, client address, user agent). We count those rows twice, separately:

- per user name: LOGIN_LOCKOUT_USER_FAILURES failures within LOGIN_LOCKOUT_MINUTES lock that user
  name, from any address (a password guessed from many addresses);
- per client address: LOGIN_LOCKOUT_IP_FAILURES (higher: a customer's whole office shares one
  address) lock the address, whatever user name it tries (one address trying many users).

A lock ends LOGIN_LOCKOUT_MINUTES after the failures that caused it; attempts while locked are not
counted, so hammering does not extend it. A manager can lift a lock early (accounts.services).
Axes compares one count with one limit (AXES_FAILURE_LIMIT, the per-user limit), so the handler
below folds the address's own limit into the count it reports: an address past its limit counts
as a user at the limit.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

LOCKED_OUT_CODE = "login_locked_out"


def user_limit() -> int:
    return int(settings.LOGIN_LOCKOUT_USER_FAILURES)


def ip_limit() -> int:
    return int(settings.LOGIN_LOCKOUT_IP_FAILURES)


def cool_off() -> timedelta:
    return timedelta(minutes=float(settings.LOGIN_LOCKOUT_MINUTES))


def cool_off_for_axes(request: HttpRequest | None = None) -> timedelta:
    """AXES_COOLOFF_TIME (a callable, so the setting is read at call time)."""
    return cool_off()


def failure_limit_for_axes(request: HttpRequest | None, credentials: dict[str, Any] | None) -> int:
    """AXES_FAILURE_LIMIT: the per-user limit (the per-address one is folded into the count)."""
    return user_limit()


def client_ip(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: the client's address. Behind TRUSTED_PROXY_COUNT reverse proxies
    that each append the address they received the request from to X-Forwarded-For, the client is
    the entry the outermost of them appended (counted from the right); anything further left was
    sent by the client and could be forged. With no proxies: REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:
        return remote


def _rows(now: datetime, **lookup: Any) -> list[tuple[datetime, int]]:
    """(last failure, failures) of the attempt rows still inside the cool-off window, newest first."""
    return list(AccessAttempt.objects.filter(attempt_time__gte=now - cool_off(), **lookup)
                .order_by("-attempt_time").values_list("attempt_time", "failures_since_start"))


def locked_until(rows: list[tuple[datetime, int]], limit: int) -> datetime | None:
    """When a lock over `rows` (newest first) ends: once the oldest row needed to reach the limit
    leaves the window, the newer ones alone are below it. None: not locked."""
    total = 0
    for at, failures in rows:
        total += failures
        if total >= limit:
            return at + cool_off()
    return None


def lock_state(*, username: str | None, ip_address: str | None,
               now: datetime | None = None) -> tuple[int, int, datetime | None]:
    """(failures counted for the user name, for the address, when the later of their locks ends
    or None when neither is locked)."""
    now = now or timezone.now()
    user_rows = _rows(now, username=username) if username else []
    ip_rows = _rows(now, ip_address=ip_address) if ip_address else []
    ends = [t for t in (locked_until(user_rows, user_limit()), locked_until(ip_rows, ip_limit())) if t]
    return (sum(n for _, n in user_rows), sum(n for _, n in ip_rows), max(ends) if ends else None)


class LoginLockoutHandler(AxesDatabaseHandler):
    """Axes' database handler with separate limits per user name and per client address, and a
    successful sign-in that clears only that user's own failures (never the address's: an attacker
    holding one valid account must not be able to reset the count of the address they guess from)."""

    def get_failures(self, request: Any, credentials: dict[str, Any] | None = None) -> int:
        username = get_client_username(request, credentials)
        by_user, by_ip, _ends = lock_state(username=username, ip_address=request.axes_ip_address,
                                           now=request.axes_attempt_time)
        if by_ip >= ip_limit():
            return max(by_user, user_limit())
        return by_user

    def user_logged_in(self, sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
        from .services import login_failures_clear

        super().user_logged_in(sender, request, user, **kwargs)
        login_failures_clear(username=user.get_username())


def lockout_message(until: datetime | None) -> str:
    if until is None:
        return _("Too many failed sign-in attempts. Sign-in is locked for a while; try again later, "
                 "or ask a manager to lift the lock.")
    return _("Too many failed sign-in attempts. Sign-in for this account or from your network "
             "address is locked until %(time)s; try again then, or ask a manager to lift the "
             "lock.") % {"time": timezone.localtime(until).strftime("%H:%M")}


def locked_response_for(request: HttpRequest, credentials: dict[str, Any] | None,
                        *, api: bool) -> HttpResponse:
    """The answer to a locked-out sign-in: the Chinese-first page, or for the API the project's
    error body {"detail", "code"}; 429 with Retry-After either way."""
    now = timezone.now()
    username = get_client_username(request, credentials)
    _u, _i, until = lock_state(username=username, ip_address=getattr(request, "axes_ip_address", None),
                               now=now)
    retry_after = max(60, int(((until or now + cool_off()) - now).total_seconds()))
    response: HttpResponse
    if api:
        response = JsonResponse({"detail": lockout_message(until), "code": LOCKED_OUT_CODE}, status=429)
    else:
        response = render(request, "accounts/lockout.html", {
            "until": until, "minutes": max(1, round(retry_after / 60)),
            "cool_off_minutes": round(cool_off().total_seconds() / 60),
        }, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def lockout_response(request: HttpRequest, original_response: HttpResponse | None,
                     credentials: dict[str, Any] | None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE, called by AxesMiddleware for a request axes flagged as locked out."""
    api = request.path.startswith("/api/")
    if api and original_response is not None and original_response.status_code == 429:
        return original_response  # the token view already answered with the lockout body
    return locked_response_for(request, credentials, api=api)
