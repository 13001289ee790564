"""Forms of the customer pages. They only parse input; customers.services validates and saves."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import ContactChannel, Language
from .models import AuthorizedContact

CHANNEL_SLOTS = 5
CHANNEL_FIELD_NAMES = [f"channel_{i}" for i in range(1, CHANNEL_SLOTS + 1)]


class ContactForm(forms.Form):
    """An authorized contact. Notice channels are five numbered choices in the customer's order
    of preference; the MRTG secret is write-only (never rendered back, blank keeps it)."""

    name = forms.CharField(label=_("Name"), max_length=120)
    office_phone = forms.CharField(label=_("Office phone"), max_length=40, required=False)
    mobile = forms.CharField(label=_("Mobile"), max_length=40, required=False)
    pager = forms.CharField(label=_("Pager"), max_length=40, required=False)
    fax = forms.CharField(label=_("Fax"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    priority = forms.IntegerField(label=_("Priority"), min_value=1, max_value=99, initial=1,
                                  help_text=_("Contacts are tried in this order (1 first)."))
    language = forms.ChoiceField(label=_("Language"), choices=Language.choices, initial=Language.ZH)
    mrtg_username = forms.CharField(label=_("MRTG user name"), max_length=120, required=False)
    mrtg_secret = forms.CharField(
        label=_("MRTG password"), required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}))
    valid_from = forms.DateField(label=_("Valid from"), required=False,
                                 widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label=_("Valid until"), required=False,
                                  widget=forms.DateInput(attrs={"type": "date"}))
    receives_statements = forms.BooleanField(
        label=_("Receives the monthly SLA statement"), required=False,
        help_text=_("The statement PDF is e-mailed to this contact when a month is closed."))
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, contact: AuthorizedContact | None = None, **kwargs: Any) -> None:
        if contact is not None and "initial" not in kwargs:
            initial = {f: getattr(contact, f) for f in (
                "name", "office_phone", "mobile", "pager", "fax", "email", "priority", "language",
                "mrtg_username", "receives_statements", "valid_from", "valid_until", "active")}
            for slot, channel in zip(CHANNEL_FIELD_NAMES, contact.channels or [], strict=False):
                initial[slot] = channel
            kwargs["initial"] = initial
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *ContactChannel.choices]
        for i, slot in enumerate(CHANNEL_FIELD_NAMES, start=1):
            self.fields[slot] = forms.ChoiceField(
                label=_("Notice channel %(n)s") % {"n": i}, choices=choices, required=False)
        has_secret = bool(contact and contact.has_mrtg_secret)
        self.fields["mrtg_secret"].help_text = (
            _("A secret is set. Leave blank to keep it; type a new one to replace it.") if has_secret
            else _("No secret is set. It is stored hashed and never shown again."))

    def channel_fields(self) -> list[forms.BoundField]:
        return [self[slot] for slot in CHANNEL_FIELD_NAMES]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # Empty slots are skipped, so "1: e-mail, 3: mobile" means e-mail first, mobile second.
        data["channels"] = [data[s] for s in CHANNEL_FIELD_NAMES if data.get(s)]
        return data

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {f: d[f] for f in ("name", "office_phone", "mobile", "pager", "fax", "email",
                                  "channels", "priority", "language", "mrtg_username",
                                  "receives_statements", "valid_from", "valid_until", "active")}


class ContractForm(forms.Form):
    """A signed contract. The service rejects negative fees; the installation deadline (C3) is
    computed on each hosting service's installation order from the signing time."""

    number = forms.CharField(label=_("Contract number"), max_length=60)
    signed_at = forms.DateTimeField(
        label=_("Signed at"), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Asia/Shanghai time. The installation orders' deadlines (C3) count from here."))
    starts_on = forms.DateField(label=_("Starts on"), required=False,
                                widget=forms.DateInput(attrs={"type": "date"}),
                                help_text=_("Defaults to the signing date."))
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, initial=12)
    monthly_fee = forms.DecimalField(label=_("Monthly fee (CNY)"), max_digits=12, decimal_places=2)
    installation_fee = forms.DecimalField(label=_("Installation fee (CNY)"), max_digits=12,
                                          decimal_places=2, initial="0.00")
    exclude_unreported_outages = forms.BooleanField(
        label=_("Exclude outages not reported within 5 days"), required=False, initial=True)
