"""Forms of the installation- and provisioning-order pages. They only parse input; orders.services decides, so the
pages and the API refuse the same things with the same messages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.choices import ServiceKind
from customers.selectors import customer_list, service_list

from .choices import OrderState, PauseReason, ProvisioningState


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


# --- E-mail provisioning orders (E5) -----------------------------------------------------------

DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M:%S")


class ProvisioningFilterForm(forms.Form):
    """The queue's filters: open orders unless a state (or all) is chosen."""

    state = forms.ChoiceField(label=_("State"), required=False, choices=[
        ("", _("Open (awaiting payment or being provisioned)")), ("all", _("All")),
        *ProvisioningState.choices])
    overdue = forms.ChoiceField(label=_("Provisioning deadline"), required=False, choices=[
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
        state = d.get("state") or ""
        return {"state": state if state not in ("", "all") else None, "open_only": state == "",
                "customer_id": customer.pk if customer else None,
                "overdue": {"true": True, "false": False}.get(d.get("overdue") or "")}


class ProvisioningOpenForm(forms.Form):
    """Staff open an order for a domain of an e-mail service."""

    service = forms.ModelChoiceField(label=_("E-mail service"), queryset=None)
    domain = forms.CharField(label=_("Domain name"), max_length=253)
    new_domain = forms.BooleanField(label=_("A new domain must be registered (48 hours)"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = service_list(user=user).filter(kind=ServiceKind.EMAIL).order_by(
            "customer__name", "name")


class ProvisioningUpdateForm(_ActionForm):
    id_prefix = "update"

    domain = forms.CharField(label=_("Domain name"), max_length=253)
    new_domain = forms.BooleanField(label=_("A new domain must be registered (48 hours)"), required=False)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Required when the kind of domain changes after the payment."))


class PaymentForm(_ActionForm):
    id_prefix = "payment"

    paid_at = forms.DateTimeField(label=_("Payment received at"), widget=DT, required=False,
                                  help_text=_("Empty: now. The deadline counts from this time."))
    reference = forms.CharField(label=_("Payment reference"), required=False, max_length=200)


class ProvisioningCompleteForm(_ActionForm):
    id_prefix = "complete"

    completed_at = forms.DateTimeField(label=_("Completed at"), widget=DT, required=False,
                                       help_text=_("Empty: now. Enter the time the work was finished "
                                                   "when it is recorded later."))
    note = forms.CharField(label=_("Completion note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(
        label=_("I confirm that the e-mail service is open and every item was checked."), required=False)
