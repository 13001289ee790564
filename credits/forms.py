"""Forms of the credit pages: the manager's decision and the list filter."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import CreditState


class DecisionForm(forms.Form):
    """Why a credit is approved, rejected or applied. credits.services requires it to reject."""

    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2, "cols": 40}))


class CreditFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("All")), *CreditState.choices])
