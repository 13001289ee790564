"""Forms of the service-desk pages. They only parse input; servicedesk.services validates and
saves, so the pages and the API refuse the same things with the same messages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.people import ContactChoiceField, CustomerTaggedSelect, check_contact_customer
from complaints.forms import MultipleFileField
from customers.selectors import contact_list, customer_list, service_list
from operations.models import OperationRequest

from .choices import RequestChannel, RequestKind, RequestState


class CustomerRequestForm(forms.Form):
    """A customer user opens a request in the portal (their organisation, channel portal)."""

    kind = forms.ChoiceField(label=_("Kind"), choices=RequestKind.choices)
    service = forms.ModelChoiceField(label=_("Service"), queryset=None, required=False,
                                     empty_label=_("Not about one service"))
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}))
    attachments = MultipleFileField(label=_("Attachments"), required=False,
                                    help_text=_("PDF, PNG or JPEG, up to 10 MB each."))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = service_list(user=user).filter(active=True)

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {"kind": d["kind"], "service": d.get("service"), "title": d["title"],
                "description": d["description"], "files": d.get("attachments") or []}


STAFF_CHANNELS = [(RequestChannel.PHONE, RequestChannel.PHONE.label),
                  (RequestChannel.EMAIL, RequestChannel.EMAIL.label),
                  (RequestChannel.PORTAL, RequestChannel.PORTAL.label)]


class StaffRequestForm(CustomerRequestForm):
    """Staff log a request that came by phone (or an e-mail typed in)."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None)
    service = forms.ModelChoiceField(label=_("Service"), queryset=None, required=False,
                                     empty_label=_("Not about one service"),
                                     widget=CustomerTaggedSelect(filter_by="customer"))
    channel = forms.ChoiceField(label=_("Received by"), choices=STAFF_CHANNELS, initial=RequestChannel.PHONE)
    contact = ContactChoiceField(label=_("Caller (authorized contact)"), queryset=None, required=False,
                                 filter_by="customer")
    requester_name = forms.CharField(label=_("Requester"), max_length=120, required=False)
    requester_email = forms.EmailField(label=_("Requester e-mail"), required=False)

    field_order = ["customer", "channel", "contact", "requester_name", "requester_email", "kind",
                   "service", "title", "description", "attachments"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        self.fields["customer"].queryset = customer_list(user=user).order_by("name")
        self.fields["contact"].queryset = contact_list(user=user).filter(active=True).order_by(
            "customer__name", "priority", "name")
        self.fields["service"].queryset = self.fields["service"].queryset.select_related(
            "customer").order_by("customer__name", "name")
        self.fields["service"].label_from_instance = lambda s: f"{s.name}（{s.customer.name}）"

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        check_contact_customer(self, "contact", d.get("customer"))
        return d

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {**super().service_kwargs(), "customer": d["customer"], "channel": d["channel"],
                "contact": d.get("contact"), "requester_name": d.get("requester_name") or "",
                "requester_email": d.get("requester_email") or ""}


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 4}))
    files = MultipleFileField(label=_("Attachments"), required=False,
                              help_text=_("PDF, PNG or JPEG, up to 10 MB each."))
    wait_for_customer = forms.BooleanField(
        label=_("Wait for the customer's answer (the resolution clock stands still)"), required=False)


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Internal note (the customer never sees it)"),
                           widget=forms.Textarea(attrs={"rows": 3}))
    files = MultipleFileField(label=_("Attachments"), required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class QueueFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("All open")), *RequestState.choices])
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("All")), *RequestKind.choices])


class ServiceChangeForm(forms.Form):
    """What was agreed: the new values (blank: unchanged) and the operation for equipment work."""

    name = forms.CharField(label=_("New name"), max_length=200, required=False)
    room = forms.CharField(label=_("New machine room"), max_length=80, required=False)
    rack_row = forms.CharField(label=_("New rack row"), max_length=80, required=False)
    uplink = forms.CharField(label=_("New uplink"), max_length=80, required=False)
    note = forms.CharField(label=_("What was agreed"), widget=forms.Textarea(attrs={"rows": 3}))
    needs_operation = forms.BooleanField(label=_("Needs work on the customer's equipment"), required=False)
    operation = forms.ModelChoiceField(label=_("Existing authorized operation"), queryset=None,
                                       required=False)
    operation_contact = forms.ModelChoiceField(
        label=_("Or raise one for this authorized contact"), queryset=None, required=False)

    def __init__(self, *args: Any, sr: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["operation"].queryset = OperationRequest.objects.filter(service_id=sr.service_id)
        self.fields["operation_contact"].queryset = sr.customer.authorized_contacts.filter(active=True)

    def changes(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {k: d[k] for k in ("name", "room", "rack_row", "uplink") if d.get(k)}


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("PDF, PNG or JPEG, up to 10 MB."))
