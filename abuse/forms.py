"""Forms of the anti-spam pages: they parse and type-check; the rules live in abuse.services so
the pages and the API refuse the same things."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.choices import ServiceKind
from customers.models import Customer
from monitoring.choices import MailSecurity

from .choices import CaseKind, EvidenceKind, Verdict

DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CaseCreateForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=CaseKind.choices)
    title = forms.CharField(label=_("title"), max_length=200)
    description = forms.CharField(label=_("description"), widget=forms.Textarea, required=False)
    customer = forms.ModelChoiceField(
        label=_("customer"), required=False,
        queryset=Customer.objects.filter(services__kind=ServiceKind.EMAIL).distinct().order_by("name"),
        help_text=_("The e-mail customer the case concerns, if any."))
    complainant_name = forms.CharField(label=_("complainant"), max_length=200, required=False)
    complainant_email = forms.EmailField(label=_("complainant e-mail"), required=False)
    opened_at = forms.DateTimeField(label=_("detected at"), required=False, widget=DT,
                                    input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])


class StepForm(forms.Form):
    value = forms.CharField(label=_("account, IP or domain"), max_length=300, required=False)
    note = forms.CharField(label=_("note"), max_length=4000, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class EvidenceForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=EvidenceKind.choices, initial=EvidenceKind.EVIDENCE)
    step = forms.CharField(required=False, widget=forms.HiddenInput)
    file = forms.FileField(label=_("file"))


class KindForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=CaseKind.choices)
    reason = forms.CharField(label=_("reason"), max_length=2000, required=False)


class CloseForm(forms.Form):
    verdict = forms.ChoiceField(label=_("verdict"), choices=Verdict.choices)
    result = forms.CharField(label=_("result"), widget=forms.Textarea(attrs={"rows": 3}))


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=2000)


class PublicationForm(forms.Form):
    reference = forms.CharField(label=_("reference"), max_length=200)
    published_at = forms.DateTimeField(label=_("published at"), widget=DT,
                                       input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    url = forms.URLField(label=_("address"), required=False, max_length=500, assume_scheme="https")
    file = forms.FileField(label=_("file"), required=False)


class ProcessForm(forms.Form):
    blocked = forms.CharField(label=_("what was blocked"), widget=forms.Textarea(attrs={"rows": 2}))


class ListingForm(forms.Form):
    organisation = forms.CharField(label=_("organisation"), max_length=200)
    listed_item = forms.CharField(label=_("domain or IP listed"), max_length=253)
    listed_at = forms.DateTimeField(label=_("listed at"), widget=DT,
                                    input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
    url = forms.URLField(label=_("address"), required=False, max_length=500, assume_scheme="https")
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReportForm(forms.Form):
    note = forms.CharField(label=_("report"), widget=forms.Textarea(attrs={"rows": 2}))


class DeskForm(forms.Form):
    organisation = forms.CharField(label=_("anti-spam desk"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("contact person"), max_length=120)
    phone = forms.CharField(label=_("phone"), max_length=40)
    email = forms.EmailField(label=_("abuse address"))
    notice = forms.CharField(label=_("notice to users"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    imap_host = forms.CharField(label=_("IMAP server"), max_length=253, required=False)
    imap_port = forms.IntegerField(label=_("IMAP port"), min_value=1, max_value=65535, initial=993)
    imap_security = forms.ChoiceField(label=_("IMAP encryption"), choices=MailSecurity.choices)
    imap_login = forms.CharField(label=_("IMAP login"), max_length=200, required=False)
    imap_password = forms.CharField(label=_("IMAP password"), required=False, widget=forms.PasswordInput,
                                    help_text=_("Leave empty to keep the stored one."))
    imap_folder = forms.CharField(label=_("IMAP folder"), max_length=200, initial="INBOX")
    reading_enabled = forms.BooleanField(label=_("read the abuse mailbox"), required=False)

    def service_kwargs(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        password = data.pop("imap_password") or None
        return {"data": data, "password": password}
