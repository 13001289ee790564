"""Forms of the e-mail measurement pages: they parse input; mailservice.services validates and
writes (a refusal comes back as a DomainError and is put on the form)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from settlement.forms import MonthField

from .choices import PlatformEventKind
from .models import MailPlatform

DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class MonthQueryForm(forms.Form):
    """?month=YYYY-MM of the measurement pages (empty: the current month). A month that has not
    started has nothing measured yet and is refused rather than shown as all zeros."""

    month = MonthField(label=_("Month"), required=False)
    q = forms.CharField(label=_("Search"), required=False, max_length=120,
                        help_text=_("Customer, service or mail domain."))

    def __init__(self, *args: Any, current: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.current = current

    def clean_month(self) -> date:
        first = self.cleaned_data.get("month") or self.current
        if first > self.current:
            raise forms.ValidationError(_("%(month)s has not started yet: nothing is measured for it.")
                                        % {"month": f"{first:%Y-%m}"}, code="future")
        return first

    def clean_q(self) -> str:
        value = (self.cleaned_data.get("q") or "").strip()
        if "\x00" in value:
            raise forms.ValidationError(_("Enter at most %(n)s ordinary characters.") % {"n": 120})
        return value


class MailPlatformForm(forms.Form):
    """A mail system of the provider (邮件系统)."""

    name = forms.CharField(label=_("name"), max_length=120)
    description = forms.CharField(label=_("description"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class MailDomainForm(forms.Form):
    """A customer's mail domain on one of the platforms, for the e-mail service of the URL."""

    domain = forms.CharField(label=_("domain"), max_length=253,
                             help_text=_("For example example.com.cn: delivery-log lines and probe "
                                         "results of this domain count for this service."))
    platform = forms.ModelChoiceField(label=_("platform"), queryset=MailPlatform.objects.none())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["platform"].queryset = MailPlatform.objects.order_by("name")  # type: ignore[attr-defined]


class PlatformEventForm(forms.Form):
    """A fault or an adjustment (maintenance) of a platform; the end may follow later."""

    kind = forms.ChoiceField(label=_("kind"), choices=PlatformEventKind.choices)
    title = forms.CharField(label=_("title"), max_length=200)
    started_at = forms.DateTimeField(label=_("started at"), widget=DT)
    ended_at = forms.DateTimeField(label=_("ended at"), widget=DT, required=False,
                                   help_text=_("Empty while it lasts."))
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class PlatformEventEndForm(forms.Form):
    ended_at = forms.DateTimeField(label=_("ended at"), widget=DT)


class PlatformEventDeleteForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300,
                             help_text=_("Why the record is wrong: kept in the audit trail."))


class BillingFigureForm(forms.Form):
    """Seed 002 §3 billing error rate: entered once a month by billing staff (a manager)."""

    month = MonthField(label=_("Month"))
    customers_billed = forms.IntegerField(label=_("customers billed"), min_value=0)
    customers_with_error = forms.IntegerField(label=_("customers with a billing error"), min_value=0)
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
