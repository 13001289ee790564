"""Small helpers shared by the server-rendered pages: pagination, turning a DomainError into
form errors, and the role checks views use before rendering."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db import models
from django.http import HttpRequest

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
