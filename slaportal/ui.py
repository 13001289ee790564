"""Small helpers shared by the server-rendered pages: pagination, list filters that ignore a bad
value with a message, turning a DomainError into form errors, and the role checks views use
before rendering."""

from __future__ import annotations

import html
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages as django_messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.http import HttpRequest
from django.utils.translation import gettext as _

from customers.selectors import user_is_staff
from slaportal.errors import DomainError

PAGE_SIZE = 50


def paginate(request: HttpRequest, qs: models.QuerySet[Any], *, per_page: int = PAGE_SIZE) -> Page:
    """The requested page of `qs`; a page number out of range gives the last page."""
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


def querystring_without_page(request: HttpRequest) -> str:
    """The current filters, to carry over into pagination links."""
    q = request.GET.copy()
    q.pop("page", None)
    return q.urlencode()


# --- Rows written in Python -------------------------------------------------------------------
# Long lists (complaints, clocks, work queues) write their rows in Python: the template language
# costs about a tenth of a millisecond per row of nine cells, enough to be most of a list page.

def esc(value: Any) -> str:
    """`value` as HTML text, escaped as the template language escapes it ("" for None); a value
    that is already HTML (SafeString, format_html) is kept as it is."""
    if value is None:
        return ""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return html.escape(str(value), quote=True)


def local_minute(value: Any) -> str:
    """An aware time as the filter date:"Y-m-d H:i" writes it: in the current time zone."""
    from django.utils import timezone

    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


# --- List filters ------------------------------------------------------------------------------
# A list page never fails on its query string (a bookmarked or hand-edited link): a value that is
# not valid is ignored, the page says which filter was ignored and why, and the form shows it.

# The dates a filter may name (as the API's, slaportal.api.QUERY_DATE_MIN/MAX): a day's start and
# end in Asia/Shanghai, and the day after, can be computed.
FILTER_DATE_MIN = date(1900, 1, 1)
FILTER_DATE_MAX = date(9998, 12, 31)
FILTER_DATE_VALIDATORS = [MinValueValidator(FILTER_DATE_MIN), MaxValueValidator(FILTER_DATE_MAX)]


def ignored_filter(request: HttpRequest, label: Any, reason: Any) -> None:
    django_messages.warning(request, _("The filter “%(label)s” was ignored: %(reason)s")
                     % {"label": label, "reason": reason})


def filter_values(request: HttpRequest, form: forms.Form) -> dict[str, Any]:
    """The valid values of a list page's filter form (nothing for an unbound one); each field
    whose value is not valid is left out, with a message."""
    if not form.is_bound:
        return {}
    if not form.is_valid():
        for name, errors in form.errors.items():
            field = form.fields.get(name)
            ignored_filter(request, field.label if field is not None and field.label else name,
                           " ".join(str(e) for e in errors))
    return dict(form.cleaned_data)


def choice_param(request: HttpRequest, name: str, choices: Any, *, label: Any) -> str | None:
    """A query parameter that must be one of `choices` (values); anything else is ignored with a
    message. Missing or empty: None."""
    value = request.GET.get(name) or None
    if value is not None and value not in set(choices):
        ignored_filter(request, label, _("Select a valid choice."))
        return None
    return value


def text_param(request: HttpRequest, name: str, *, label: Any, max_length: int = 120) -> str:
    """A free-text query parameter (a search); a NUL character or an overlong value is ignored
    with a message (PostgreSQL cannot even compare a NUL)."""
    value = request.GET.get(name, "").strip()
    if "\x00" in value or len(value) > max_length:
        ignored_filter(request, label, _("Enter at most %(n)s ordinary characters.") % {"n": max_length})
        return ""
    return value


def form_add_domain_error(form: forms.Form, err: DomainError, *,
                          aliases: dict[str, str] | None = None) -> None:
    """Put a service's refusal on the form: the message on top, each field error on its field
    (or the field it is an alias of), errors about no form field as non-field errors."""
    aliases = aliases or {}
    form.add_error(None, str(err.message))
    for field, messages in (err.field_errors or {}).items():
        target = aliases.get(field, field)
        name = target if target in form.fields else None
        for msg in messages if isinstance(messages, list | tuple) else [messages]:
            if name is None and str(msg) == str(err.message):
                continue
            form.add_error(name, str(msg))


def staff_may_view(user: Any, perm: str) -> bool:
    """Least privilege inside the staff, as the API's StaffNeedsViewPerm: a staff user reads a
    model only with its view permission (roles.py). A customer user passes: the scoped querysets
    keep them to their own customer (another customer's object stays a 404)."""
    return not user_is_staff(user) or bool(user.has_perm(perm))


def require_view_perm(user: Any, perm: str) -> None:
    if not staff_may_view(user, perm):
        raise PermissionDenied


def require_staff(user: Any) -> None:
    """Staff pages: a customer user (or a login without a role) may not open them."""
    if not user_is_staff(user):
        raise PermissionDenied
