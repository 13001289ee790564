"""The staff list of notification attempts: channel, address, time, outcome and what each is
about (the idempotency key is in the admin)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from customers.selectors import user_is_staff
from slaportal.ui import filter_values, paginate, querystring_without_page

from .forms import NotificationFilterForm
from .models import Notification


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
        "form": form, "page": paginate(request, qs), "qs": querystring_without_page(request)})
