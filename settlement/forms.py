"""Forms of the settlement pages: they parse input; settlement.services validates and writes."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import Verdict

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(value: str) -> date | None:
    """'2026-02' → date(2026, 2, 1); anything else → None."""
    m = MONTH_RE.match((value or "").strip())
    if not m:
        return None
    year, month = int(m.group(1)), int(m.group(2))
    if not (2000 <= year <= 2999 and 1 <= month <= 12):
        return None
    return date(year, month, 1)


class MonthField(forms.Field):
    default_error_messages = {"invalid": _("Enter a month as YYYY-MM, e.g. 2026-02.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM",
                                                           "maxlength": 7}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> date | None:
        value = str(value or "").strip()
        if not value:
            return None
        first = parse_month(value)
        if first is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return first


class CloseMonthForm(forms.Form):
    month = MonthField(label=_("Month"))
    reason = forms.CharField(label=_("Note"), max_length=300, required=False)


class JudgementFilterForm(forms.Form):
    month = MonthField(label=_("Month"), required=False)
    customer = forms.IntegerField(label=_("Customer"), required=False, min_value=1, widget=forms.HiddenInput)
    policy = forms.CharField(label=_("Promise"), max_length=20, required=False)
    verdict = forms.ChoiceField(label=_("Verdict"), required=False,
                                choices=[("", "—"), *Verdict.choices])
