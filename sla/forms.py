"""Filter form of the overdue review (GET parameters; the page and its CSV share it)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from accounts.people import PersonChoiceField
from customers.choices import Role
from customers.selectors import customer_list

from .choices import ClockState
from .models import SlaPolicy
from .selectors import Bucket


class OverdueFilterForm(forms.Form):
    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None, required=False,
                                      empty_label=_("All customers"))
    assignee = PersonChoiceField(label=_("Assignee"), queryset=None, required=False,
                                 empty_label=_("Everyone"))
    policy = forms.ChoiceField(label=_("Promise"), required=False)
    bucket = forms.ChoiceField(label=_("Show"), required=False, choices=[
        ("", _("Overdue and warning")), (Bucket.OVERDUE, _("Overdue")),
        (Bucket.WARNING, _("Due within the warning window"))])

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customer_list(user=user)  # type: ignore[attr-defined]
        self.fields["assignee"].queryset = (  # type: ignore[attr-defined]
            get_user_model().objects.filter(groups__name__in=list(Role.values), is_active=True)
            .distinct().order_by("username"))
        # Every promise: clocks, and the period promises whose monthly breaches await a decision.
        self.fields["policy"].choices = [("", _("All promises"))] + [  # type: ignore[attr-defined]
            (p.code, f"{p.code} {p.name}") for p in SlaPolicy.objects.order_by("code")]

    def filters(self, d: dict[str, Any]) -> dict[str, Any]:
        """The valid filters `d` (slaportal.ui.filter_values) as overdue_review() keyword arguments."""
        return {
            "customer_id": d["customer"].pk if d.get("customer") else None,
            "assignee_id": d["assignee"].pk if d.get("assignee") else None,
            "policy_code": d.get("policy") or None,
            "bucket": d.get("bucket") or None,
        }


class BreachFilterForm(forms.Form):
    """Filters of the breach history (page and CSV): clock and monthly breaches alike."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=None, required=False,
                                      empty_label=_("All customers"))
    policy = forms.ChoiceField(label=_("Promise"), required=False)
    since = forms.DateField(label=_("Breached from"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            help_text=_("Default: the last 90 days."))
    until = forms.DateField(label=_("Breached until"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["customer"].queryset = customer_list(user=user)  # type: ignore[attr-defined]
        self.fields["policy"].choices = [("", _("All promises"))] + [  # type: ignore[attr-defined]
            (p.code, f"{p.code} {p.name}") for p in SlaPolicy.objects.order_by("code")]

    def clean(self) -> dict[str, Any]:
        d = super().clean()
        if d.get("since") and d.get("until") and d["until"] < d["since"]:
            self.add_error("until", _("Must not be before the start."))
        return d

    def filters(self, d: dict[str, Any]) -> dict[str, Any]:
        """Valid filters as sla.breaches.breach_rows() keyword arguments (the day after `until`:
        the end date is inclusive)."""
        from datetime import timedelta

        return {
            "customer_id": d["customer"].pk if d.get("customer") else None,
            "policy_code": d.get("policy") or None,
            "since": d.get("since"),
            "until": d["until"] + timedelta(days=1) if d.get("until") else None,
        }


class ClockFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("Open (running or paused)")), ("all", _("All")),
                                       *ClockState.choices])
