"""People and contacts as the forms and pages show them (issue 14: forms that fit the data).

Staff and users are shown by their full name, never by their login name; an authorized contact
is shown with its customer, and contact drop-downs carry each option's customer so that
static/js/forms.js can narrow them to the chosen customer."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext

from customers.choices import Role

ROLE_ORDER = [Role.DC_STAFF, Role.ENGINEER, Role.MANAGER, Role.SPECIALIST]


def person_name(user: Any) -> str:
    """The full name of a user (falling back to the login name); '' for no one. Anything that
    is not a user (a name already, a contact) is shown as it is."""
    if user is None or user == "":
        return ""
    full = getattr(user, "get_full_name", None)
    if callable(full):
        name = str(full() or "").strip()
        return name or str(user.get_username())
    return str(user)


def person_name_expr(user_path: str) -> Any:
    """person_name() in SQL for a user reached by `user_path` ("assignee", "service__engineer"):
    the full name ("first last", trimmed), else the login name; NULL for no one. For values()
    rows and UNIONs, where no user object is at hand."""
    from django.db.models import CharField, Value
    from django.db.models.functions import Coalesce, Concat, NullIf, Trim

    full = Trim(Concat(f"{user_path}__first_name", Value(" "), f"{user_path}__last_name",
                       output_field=CharField()))
    return Coalesce(NullIf(full, Value("")), f"{user_path}__username", output_field=CharField())


def person_roles(user: Any) -> list[str]:
    """The user's staff roles as translated labels, in a fixed order."""
    names = {g.name for g in user.groups.all()}
    return [str(Role(r).label) for r in ROLE_ORDER if r in names]


def person_label(user: Any) -> str:
    """'王建国（机房值班）': the name and the staff roles, for choosing a person in a form."""
    roles = person_roles(user)
    return f"{person_name(user)}（{'、'.join(roles)}）" if roles else person_name(user)


def contact_label(contact: Any) -> str:
    """'李明（华夏数据科技有限公司）': an authorized contact with its customer."""
    return f"{contact.name}（{contact.customer.name}）"


class CustomerTaggedSelect(forms.Select):
    """A <select> whose options carry data-customer="<customer id>" (static/js/forms.js hides
    the options of other customers). `filter_by` names the field whose value (or whose chosen
    option's data-customer) is the customer."""

    def __init__(self, *args: Any, filter_by: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filter_by = filter_by
        self.customer_of: dict[str, int] = {}

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        attrs = dict(attrs or {})
        if self.filter_by:
            attrs["data-filter-customer"] = self.filter_by
        return super().get_context(name, value, attrs)

    def create_option(self, name: str, value: Any, label: Any, selected: Any, index: int,
                      subindex: int | None = None, attrs: dict[str, Any] | None = None) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        customer_id = getattr(instance, "customer_id", None)
        if customer_id is not None:
            option["attrs"]["data-customer"] = str(customer_id)
        return option


class ContactChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """An authorized contact, labelled with its customer; options tagged with the customer."""

    def __init__(self, *args: Any, filter_by: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("widget", CustomerTaggedSelect(filter_by=filter_by))
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj: Any) -> str:
        return contact_label(obj)


class CustomerObjectChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """Another object of a customer (a service): options tagged with the customer, so that a
    contact select can follow it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", CustomerTaggedSelect())
        super().__init__(*args, **kwargs)


class PersonChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A staff member, labelled by full name (and roles when `with_roles`)."""

    def __init__(self, *args: Any, with_roles: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.with_roles = with_roles

    def label_from_instance(self, obj: Any) -> str:
        return person_label(obj) if self.with_roles else person_name(obj)


def check_contact_customer(form: forms.Form, field: str, customer: Any) -> None:
    """A form error on `field` when its contact belongs to another customer than `customer`."""
    contact = form.cleaned_data.get(field)
    if contact is not None and customer is not None and contact.customer_id != customer.pk:
        form.add_error(field, gettext("This contact belongs to another customer."))

