"""Forms of the complaint pages. They only parse input; complaints.services validates and saves,
so the pages and the API refuse the same things with the same messages."""

from __future__ import annotations

import html
from typing import Any

from django import forms
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from accounts.people import ContactChoiceField, PersonChoiceField, check_contact_customer
from customers.choices import Language, Role
from customers.selectors import contact_list, customer_list, staff_users_with_role

from .choices import ComplaintChannel, ComplaintState, ComplaintSubject, ComplaintTarget

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by content in the service (check_upload)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class ComplaintFilterForm(forms.Form):
    """The list's filters. Staff also filter by customer; a customer user sees only their own."""

    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("All")), *ComplaintState.choices])
    subject = forms.ChoiceField(label=_("Subject"), required=False,
                                choices=[("", _("All")), *ComplaintSubject.choices])
    overdue = forms.ChoiceField(label=_("First report"), required=False, choices=[
        ("", _("All")), ("true", _("Overdue")), ("false", _("Not overdue"))])
    customer = forms.ModelChoiceField(label=_("Customer"), required=False, queryset=None,
                                      empty_label=_("All"))

    def __init__(self, *args: Any, user: Any, staff: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if staff:
            self.fields["customer"].queryset = customer_list(user=user).order_by("name")
        else:
            del self.fields["customer"]

    def customer_options(self) -> list[tuple[int, str, bool]]:
        """(id, name, selected) for the customer filter. The template writes the options itself:
        Django renders each <option> through its own template include, which costs more than
        the whole complaint table once there are a few hundred customers."""
        if "customer" not in self.fields:
            return []
        chosen = str(self["customer"].value() or "")
        return [(pk, name, str(pk) == chosen)
                for pk, name in self.fields["customer"].queryset.values_list("pk", "name")]

    def customer_options_html(self) -> str:
        """The customer filter's <option>s, written in Python (a few hundred customers cost a
        template loop more than the rest of the page)."""
        return mark_safe("".join(  # noqa: S308 - the id is an integer, the name is escaped
            f'<option value="{int(pk)}"{" selected" if selected else ""}>{html.escape(str(name))}</option>'
            for pk, name, selected in self.customer_options()))

    def selector_kwargs(self, d: dict[str, Any]) -> dict[str, Any]:
        """The valid filters `d` (slaportal.ui.filter_values) as complaint_list() keyword arguments."""
        customer = d.get("customer")
        return {"state": d.get("state") or None, "subject": d.get("subject") or None,
                "customer_id": customer.pk if customer else None,
                "overdue": {"true": True, "false": False}.get(d.get("overdue") or "")}


class _ComplaintFields(forms.Form):
    subject = forms.ChoiceField(label=_("Subject"), choices=ComplaintSubject.choices)
    target = forms.ChoiceField(label=_("Complaint against"), choices=ComplaintTarget.choices,
                               initial=ComplaintTarget.PROVIDER)
    target_employee = forms.CharField(label=_("Employee named"), max_length=120, required=False,
                                      help_text=_("Only when the complaint is about a named employee."))
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}))
    attachments = MultipleFileField(label=_("Attachments"), required=False,
                                    help_text=_("PDF, PNG or JPEG, up to 10 MB each."))


class StaffComplaintForm(_ComplaintFields):
    """A specialist logs a complaint that arrived by the complaint line, e-mail or a letter."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None)
    channel = forms.ChoiceField(label=_("Received by"), choices=ComplaintChannel.choices,
                                initial=ComplaintChannel.COMPLAINT_LINE)
    received_at = forms.DateTimeField(
        label=_("Received at"), required=False, input_formats=DATETIME_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Asia/Shanghai time; leave blank for now."))
    complainant_contact = ContactChoiceField(
        label=_("Complainant (authorized contact)"), queryset=None, required=False, filter_by="customer",
        help_text=_("Or leave empty and give the complainant's name below."))
    complainant_name = forms.CharField(label=_("Complainant"), max_length=120, required=False)
    complainant_email = forms.EmailField(label=_("Complainant e-mail"), required=False)
    complainant_phone = forms.CharField(label=_("Complainant phone"), max_length=40, required=False)
    complainant_language = forms.ChoiceField(
        label=_("Complainant language"), required=False, choices=[("", _("As the contact or customer")),
                                                                  *Language.choices])
    specialist = PersonChoiceField(label=_("Handling specialist"), queryset=None, required=False,
                                        help_text=_("Defaults to the customer's specialist."))

    field_order = ["customer", "channel", "received_at", "complainant_contact", "complainant_name",
                   "complainant_email", "complainant_phone", "complainant_language", "subject",
                   "target", "target_employee", "title", "description", "attachments", "specialist"]

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customer_list(user=user).order_by("name")
        self.fields["complainant_contact"].queryset = (
            contact_list(user=user).filter(active=True).order_by("customer__name", "priority"))
        self.fields["specialist"].queryset = staff_users_with_role(Role.SPECIALIST).order_by(
            "first_name", "last_name", "username")

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        check_contact_customer(self, "complainant_contact", d.get("customer"))
        return d

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "customer": d["customer"], "channel": d["channel"], "received_at": d.get("received_at"),
            "complainant_contact": d.get("complainant_contact"),
            "complainant_name": d.get("complainant_name", ""),
            "complainant_email": d.get("complainant_email", ""),
            "complainant_phone": d.get("complainant_phone", ""),
            "complainant_language": d.get("complainant_language") or None,
            "subject": d["subject"], "target": d["target"],
            "target_employee": d.get("target_employee", ""), "title": d["title"],
            "description": d["description"], "specialist": d.get("specialist"),
            "files": d.get("attachments") or [],
        }


class CustomerComplaintForm(_ComplaintFields):
    """A customer user files a complaint in the portal (channel 'portal', their organisation)."""

    complainant_name = forms.CharField(label=_("Your name"), max_length=120)
    complainant_email = forms.EmailField(label=_("Your e-mail"), required=False,
                                         help_text=_("The written report is sent here."))
    complainant_phone = forms.CharField(label=_("Your phone"), max_length=40, required=False)

    field_order = ["complainant_name", "complainant_email", "complainant_phone", "subject", "target",
                   "target_employee", "title", "description", "attachments"]

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "channel": ComplaintChannel.PORTAL, "complainant_name": d["complainant_name"],
            "complainant_email": d.get("complainant_email", ""),
            "complainant_phone": d.get("complainant_phone", ""), "subject": d["subject"],
            "target": d["target"], "target_employee": d.get("target_employee", ""),
            "title": d["title"], "description": d["description"],
            "files": d.get("attachments") or [],
        }


class ReportForm(forms.Form):
    """A written report 投诉处理情况报告 (or a correction of one: a new version)."""

    findings = forms.CharField(label=_("Findings"), widget=forms.Textarea(attrs={"rows": 5}))
    actions_taken = forms.CharField(label=_("Actions taken"), widget=forms.Textarea(attrs={"rows": 4}))
    next_steps = forms.CharField(label=_("Next steps"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 3}))
    expected_resolution = forms.CharField(label=_("Expected resolution"), max_length=200, required=False,
                                          help_text=_("For example: 2026-03-05, or 'within 3 days'."))


class ReasonForm(forms.Form):
    """A transition's reason (kept in the audit trail; required to reopen)."""

    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=_("PDF, PNG or JPEG, up to 10 MB."))
