"""The staff list of notification attempts: channel, address, time, outcome and what each is
about (the idempotency key is in the admin)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from customers.selectors import user_is_staff
from slaportal.paging import keyset_page
from slaportal.ui import filter_values, querystring_without_page

from . import selectors, services
from .forms import InboxFilterForm, NotificationFilterForm
from .models import InboxItem, Notification
from .templatetags.notification_ui import related_page


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    """Every attempt, newest first. Staff whose role may view notifications only: the rows carry
    staff and customer addresses across all customers."""
    if not (user_is_staff(request.user) and request.user.has_perm("notifications.view_notification")):
        raise PermissionDenied
    form = NotificationFilterForm(request.GET or None)
    # "related": each row links to what it is about; one query per kind, not one per row.
    qs = Notification.objects.select_related("recipient").prefetch_related("related").order_by("-created_at", "-id")
    values = filter_values(request, form)
    if values.get("status"):
        qs = qs.filter(status=values["status"])
    if values.get("channel"):
        qs = qs.filter(channel=values["channel"])
    return render(request, "notifications/notification_list.html", {
        "form": form, "page": keyset_page(request, qs), "qs": querystring_without_page(request)})


# --- The in-app notification centre: every signed-in user, their own items only --------------

@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The user's notifications, newest first, unread ones highlighted."""
    form = InboxFilterForm(request.GET or None)
    values = filter_values(request, form)
    unread = {"unread": True, "read": False}.get(values.get("show") or "")
    qs = selectors.inbox_list(user=request.user, unread=unread).prefetch_related("related")
    return render(request, "notifications/inbox.html", {
        "form": form, "page": keyset_page(request, qs), "qs": querystring_without_page(request),
        "unread_total": selectors.inbox_unread_count(user=request.user)})


@login_required
@require_POST
def inbox_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.inbox_item_mark_read(user=request.user, item_id=pk)
    except InboxItem.DoesNotExist:
        raise Http404 from None
    return redirect(_back(request))


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    n = services.inbox_mark_all_read(user=request.user)
    if n:
        messages.success(request, ngettext("%(n)d notification marked read.",
                                           "%(n)d notifications marked read.", n) % {"n": n})
    return redirect(_back(request))


@login_required
def inbox_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Open an item: mark it read, then go to what it is about (the inbox when it has no page,
    or the object is gone). A GET, so the item is an ordinary link; marking read is idempotent."""
    try:
        item = services.inbox_item_mark_read(user=request.user, item_id=pk)
    except InboxItem.DoesNotExist:
        raise Http404 from None
    page = related_page(item)
    return redirect(page["url"] if page else reverse("notifications:inbox"))


def _back(request: HttpRequest) -> str:
    """Back to the inbox page the form was on (only a path on this site)."""
    nxt = request.POST.get("next", "")
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return nxt
    return reverse("notifications:inbox")
