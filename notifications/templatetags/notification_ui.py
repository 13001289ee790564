"""Template helpers of the notification log: the outcome in the reader's language and a link to
what the notification is about. The stored detail stays as written (the admin and the API show
it); the page shows what staff read."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from notifications.channels.base import NOT_DELIVERED_NO_GATEWAY
from notifications.channels.email import ACCEPTED, NO_ADDRESS, NOT_ACCEPTED

register = template.Library()

# The outcomes the channels store Chinese first with the English after it ("已被邮件服务器接收
# (accepted by the mail server)"): on the page, only the reader's language.
OUTCOMES: dict[str, Promise] = {
    ACCEPTED: gettext_lazy("accepted by the mail server"),
    NOT_ACCEPTED: gettext_lazy("not accepted by the mail server"),
    NO_ADDRESS: gettext_lazy("no e-mail address"),
    NOT_DELIVERED_NO_GATEWAY: gettext_lazy("not delivered: no gateway configured"),
    "NOTIFICATION_WEBHOOK_URL is not set": gettext_lazy("not delivered: no webhook address configured"),
}
# A technical message (an exception, a gateway's answer) a person cannot act on from this page:
# named by what it means; the text itself is in the admin.
_TECHNICAL = re.compile(r"(?:\b\w+(?:Error|Exception)\b|\bunreachable\b|\bErrno\b)")


@register.filter
def outcome_detail(value: str) -> str:
    """A notification's stored detail as staff read it: the known outcomes translated (any
    "attempt 2: " prefix the sender wrote kept), a technical error named, "HTTP 200" as is."""
    if not value:
        return ""
    text = value
    for stored, label in OUTCOMES.items():
        text = text.replace(stored, str(label))
    if _TECHNICAL.search(text):
        return str(gettext_lazy("the gateway could not be reached or refused the message "
                                "(details in the administration)"))
    return text


def _statement_url(obj: Any) -> str:
    return reverse("settlement:statement_detail", args=[obj.customer_id, obj.month.year, obj.month.month])


# What a notification can be about, by app label and model: the page that shows it. An object of
# any other kind (a sign-in lock) has no page of its own: the row shows no link.
_PAGES: dict[tuple[str, str], Callable[[Any], tuple[str, Any]]] = {
    ("sla", "clock"): lambda o: (reverse("sla:clock_detail", args=[o.pk]), o),
    ("complaints", "complaint"): lambda o: (reverse("complaints:detail", args=[o.pk]), o),
    ("incidents", "incident"): lambda o: (reverse("incidents:detail", args=[o.pk]), o),
    ("incidents", "noticeattempt"): lambda o: (reverse("incidents:detail", args=[o.incident_id]), o.incident),
    ("operations", "operationrequest"): lambda o: (reverse("operations:detail", args=[o.pk]), o),
    ("access_requests", "visit"): lambda o: (reverse("access_requests:detail", args=[o.pk]), o),
    ("servicedesk", "servicerequest"): lambda o: (reverse("servicedesk:detail", args=[o.pk]), o),
    ("orders", "installationorder"): lambda o: (reverse("orders:detail", args=[o.pk]), o),
    ("orders", "provisioningorder"): lambda o: (reverse("orders:provisioning_detail", args=[o.pk]), o),
    ("settlement", "monthlystatement"): lambda o: (_statement_url(o), o),
}


@register.simple_tag
def related_page(notification: Any) -> dict[str, str] | None:
    """{"url", "label"} of the page of what the notification is about, or None (nothing related,
    deleted, or a kind with no page). The label names the kind and its number: 投诉 TS-2026-0001."""
    obj = notification.related if notification.content_type_id else None
    if obj is None:
        return None
    meta = obj._meta
    page = _PAGES.get((meta.app_label, meta.model_name))
    if page is None:
        return None
    try:
        url, shown = page(obj)
    except NoReverseMatch:
        return None
    if meta.model_name == "monthlystatement":
        number = f"{obj.month:%Y-%m}"
    else:
        number = getattr(shown, "number", "") or f"#{shown.pk}"
    return {"url": url, "label": f"{shown._meta.verbose_name} {number}"}
