"""Forms of the operation pages. They parse input; the rules live in the services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from accounts.people import (
    ContactChoiceField,
    CustomerObjectChoiceField,
    PersonChoiceField,
    check_contact_customer,
)
from customers.choices import Role
from customers.models import AuthorizedContact
from customers.selectors import contact_list, service_list, user_is_staff

from .choices import OperationState, Urgency
from .models import Authorization, OperationRequest


class OperationFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("All"))] + list(OperationState.choices))


class OperationForm(forms.Form):
    service = CustomerObjectChoiceField(label=_("Service / device"), queryset=None)
    requested_by = ContactChoiceField(label=_("Requested by (authorized contact)"), queryset=None,
                                      filter_by="service")
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("What is to be done"), widget=forms.Textarea(attrs={"rows": 5}))
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices, initial=Urgency.NORMAL)
    engineer = PersonChoiceField(label=_("Engineer"), queryset=None, required=False,
                                      help_text=_("Leave empty for the service's engineer."))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = user_is_staff(user)
        self.fields["service"].queryset = service_list(user=user).filter(active=True).select_related(
            "customer").order_by("customer__name", "name")
        self.fields["requested_by"].queryset = contact_list(user=user).filter(active=True).order_by(
            "customer__name", "priority", "name")
        if staff:
            self.fields["service"].label_from_instance = lambda s: f"{s.name}（{s.customer.name}）"
            self.fields["engineer"].queryset = get_user_model().objects.filter(
                groups__name=Role.ENGINEER, is_active=True).distinct().order_by(
                "first_name", "last_name", "username")
        else:
            # A customer user sees only their own contacts: the customer need not be repeated.
            self.fields["requested_by"].label_from_instance = lambda c: c.name
            del self.fields["engineer"]

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        service = d.get("service")
        check_contact_customer(self, "requested_by", service.customer if service else None)
        return d


def _contacts(op: OperationRequest) -> Any:
    return AuthorizedContact.objects.filter(customer_id=op.customer_id, active=True)


class WrittenAuthorizationForm(forms.Form):
    file = forms.FileField(label=_("Signed authorization (PDF, PNG or JPEG)"))
    contact = forms.ModelChoiceField(label=_("Signed by (authorized contact)"), queryset=None)
    signed_on = forms.DateField(label=_("Signed on"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}),
                                help_text=_("Default: today."))
    corrects = forms.ModelChoiceField(label=_("Corrects an earlier authorization"), queryset=None,
                                      required=False)
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, operation: OperationRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = _contacts(operation)
        self.fields["corrects"].queryset = Authorization.objects.filter(
            operation=operation, corrected_by__isnull=True)


class PhoneAuthorizationForm(forms.Form):
    contact = forms.ModelChoiceField(label=_("Caller (authorized contact)"), queryset=None)
    caller_name = forms.CharField(label=_("Caller as announced"), max_length=120, required=False)
    caller_phone = forms.CharField(label=_("Calling number"), max_length=40, required=False)
    mrtg_username = forms.CharField(label=_("MRTG user name given"), max_length=120, strip=False,
                                    widget=forms.TextInput(attrs={"autocomplete": "off"}))
    mrtg_password = forms.CharField(label=_("MRTG password given"), max_length=256, strip=False,
                                    widget=forms.PasswordInput(attrs={"autocomplete": "off"},
                                                               render_value=False))

    def __init__(self, *args: Any, operation: OperationRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = _contacts(operation)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class StepForm(forms.Form):
    description = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 2}))
    done_at = forms.DateTimeField(label=_("Done at"), required=False,
                                  widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
                                  help_text=_("Default: now."))


class FeedbackForm(forms.Form):
    body = forms.CharField(label=_("Message to the customer"), widget=forms.Textarea(attrs={"rows": 3}))


class FinishForm(forms.Form):
    result = forms.CharField(label=_("Result"), widget=forms.Textarea(attrs={"rows": 3}))


class ReportForm(forms.Form):
    remarks = forms.CharField(label=_("Remarks"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
