"""Forms of the installation-order pages. They only parse input; orders.services decides, so the
pages and the API refuse the same things with the same messages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.selectors import customer_list

from .choices import OrderState, PauseReason


class OrderFilterForm(forms.Form):
    """The list's filters. Staff also filter by customer; a customer user sees only their own."""

    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("All")), *OrderState.choices])
    overdue = forms.ChoiceField(label=_("Installation deadline"), required=False, choices=[
        ("", _("All")), ("true", _("Overdue")), ("false", _("Not overdue"))])
    customer = forms.ModelChoiceField(label=_("Customer"), required=False, queryset=None,
                                      empty_label=_("All"))

    def __init__(self, *args: Any, user: Any, staff: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if staff:
            self.fields["customer"].queryset = customer_list(user=user).order_by("name")
        else:
            del self.fields["customer"]

    def selector_kwargs(self, d: dict[str, Any]) -> dict[str, Any]:
        customer = d.get("customer")
        return {"state": d.get("state") or None, "customer_id": customer.pk if customer else None,
                "overdue": {"true": True, "false": False}.get(d.get("overdue") or "")}


class _ActionForm(forms.Form):
    """The order page shows several of these at once: each gets its own element ids."""

    id_prefix = "action"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"id_{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class ItemForm(_ActionForm):
    id_prefix = "item"

    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.TextInput())


class PauseForm(_ActionForm):
    id_prefix = "pause"

    reason = forms.ChoiceField(label=_("Customer-side cause"), choices=PauseReason.choices)
    note = forms.CharField(label=_("What is the customer holding up?"), max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class ResumeForm(_ActionForm):
    id_prefix = "resume"

    note = forms.CharField(label=_("Note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class CompleteForm(_ActionForm):
    id_prefix = "complete"

    note = forms.CharField(label=_("Confirmation note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(
        label=_("I confirm that the installation is complete and every item was checked."),
        required=False)


class CancelForm(_ActionForm):
    id_prefix = "cancel"

    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
