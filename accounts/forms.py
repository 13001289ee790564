from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import LockoutKind


class LockoutLiftForm(forms.Form):
    """The lift button of one row on the managers' lock page."""

    kind = forms.ChoiceField(choices=LockoutKind.choices)
    value = forms.CharField(max_length=255)
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False)
