"""/metrics for Prometheus, and the staff mailbox of the local mail catcher (收件箱)."""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from customers.selectors import user_is_staff

from .mailcatcher import MailStore, attachment_read, message_read
from .metrics import CONTENT_TYPE, metrics_render

MAILBOX_PAGE_SIZE = 50
# A request relayed by a proxy on this host arrives from 127.0.0.1: it is not a local client.
_PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def metrics_access(request: HttpRequest) -> int | None:
    """None when the client may read /metrics, else the status to answer (401 or 403).

    METRICS_TOKEN set: every client (local ones too) sends `Authorization: Bearer <token>`,
    compared in constant time. Unset: only a client on the loopback address, not relayed by a
    proxy, may read it."""
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        ok = scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
        return None if ok else 401
    if _is_loopback(request.META.get("REMOTE_ADDR", "")) and not any(
            request.META.get(h) for h in _PROXY_HEADERS):
        return None
    return 403


@require_safe
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """The portal's figures in the Prometheus text format (runtime/metrics.py), read at scrape
    time. Needs no login: access is by token or loopback (metrics_access)."""
    denied = metrics_access(request)
    if denied == 401:
        resp = HttpResponse("Unauthorized: send Authorization: Bearer <METRICS_TOKEN>\n", status=401,
                            content_type="text/plain; charset=utf-8")
        resp["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return resp
    if denied:
        return HttpResponse("Forbidden: /metrics answers loopback clients only unless METRICS_TOKEN "
                            "is set\n", status=403, content_type="text/plain; charset=utf-8")
    return HttpResponse(metrics_render(), content_type=CONTENT_TYPE)


# --- the mailbox of the local mail catcher --------------------------------------------------------


def _mailbox_store(request: HttpRequest) -> MailStore:
    """The caught messages, for staff whose role reads notifications (the same content as the
    notification list: every customer's addresses). A customer user gets a 404: the page does
    not exist for them; a staff role without the permission a 403."""
    user = request.user
    if not user_is_staff(user):
        raise Http404
    if not user.has_perm("notifications.view_notification"):
        raise PermissionDenied
    return MailStore(settings.MAILCATCHER_DIR)


@login_required
@require_safe
def mailbox_list(request: HttpRequest) -> HttpResponse:
    """Caught messages, newest first, a page at a time (only that page's files are read)."""
    store = _mailbox_store(request)
    page = Paginator(store.names(), MAILBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    messages = [m for m in (message_read(store, name) for name in page.object_list) if m is not None]
    return render(request, "runtime/mailbox_list.html", {
        "page": page, "caught": messages, "folder": str(store.folder),
        "folder_exists": store.folder.is_dir()})


@login_required
@require_safe
def mailbox_detail(request: HttpRequest, name: str) -> HttpResponse:
    """One caught message: its headers, the text/plain body, the HTML body as escaped source,
    and the attachments."""
    msg = message_read(_mailbox_store(request), name)
    if msg is None:
        raise Http404
    return render(request, "runtime/mailbox_detail.html", {
        "msg": msg, "text": msg.text(), "html": msg.html()})


@login_required
@require_safe
def mailbox_attachment(request: HttpRequest, name: str, index: int) -> HttpResponse:
    """An attachment as a download under a name the server chooses, never shown inline."""
    found = attachment_read(_mailbox_store(request), name, index)
    if found is None:
        raise Http404
    att, data = found
    resp = HttpResponse(data, content_type="application/octet-stream")
    resp["Content-Disposition"] = f'attachment; filename="{att.download_name}"'
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Cache-Control"] = "private, no-store"
    return resp
