"""Forms of the credit pages: the manager's decision, a reversal, proposing by hand, the list
filter, the bulk apply and the billing export's month."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.models import Contract, Customer
from sla.models import SlaPolicy

from .choices import CreditKind, CreditState
from .models import MONEY_KINDS
from .selectors import MONTH_MAX_YEAR, MONTH_MIN_YEAR, parse_month

MONTH_HELP = _("YYYY-MM, e.g. 2026-03.")


class MonthField(forms.CharField):
    """A calendar month as YYYY-MM; cleaned to the first day of that month."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", MONTH_HELP)
        kwargs.setdefault("widget", forms.TextInput(attrs={"type": "month", "placeholder": "YYYY-MM"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        if value in self.empty_values:
            return None
        try:
            return parse_month(value)
        except ValueError:
            raise forms.ValidationError(
                _("Give the month as YYYY-MM, between %(min)s-01 and %(max)s-12."),
                code="invalid", params={"min": MONTH_MIN_YEAR, "max": MONTH_MAX_YEAR}) from None


class DecisionForm(forms.Form):
    """Why a credit is approved, rejected or applied. credits.services requires it to reject."""

    reason = forms.CharField(label=_("Reason"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2, "cols": 40}))


class ReverseForm(forms.Form):
    """Why an applied credit is corrected by a reversing entry (required)."""

    reason = forms.CharField(label=_("Reason for the reversal"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2, "cols": 40}))


class CreditFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("All")), *CreditState.choices])
    customer = forms.ModelChoiceField(label=_("Customer"), required=False, queryset=Customer.objects.none(),
                                      empty_label=_("All"))
    month = MonthField(label=_("Month"), required=False)
    policy = forms.ModelChoiceField(label=_("Promise"), required=False, to_field_name="code",
                                    queryset=SlaPolicy.objects.all(), empty_label=_("All"))

    def __init__(self, *args: Any, customers: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["policy"].label_from_instance = lambda p: f"{p.code} {p.name}"  # type: ignore[attr-defined]
        if customers is None:
            # A customer user sees only their own customer's credits: no customer filter.
            del self.fields["customer"]
        else:
            self.fields["customer"].queryset = customers  # type: ignore[attr-defined]


class ExportForm(forms.Form):
    month = MonthField(label=_("Month"))


class IdListField(forms.Field):
    """Several object ids from one repeated parameter (ids=3&ids=7): whole numbers from 1."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"invalid": _("Select at least one credit.")}

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        out = []
        for v in value if isinstance(value, list | tuple) else [value]:
            text = str(v).strip()
            if not (text.isdigit() and 1 <= len(text) <= 18 and int(text) >= 1):
                raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
            out.append(int(text))
        return out

    def validate(self, value: Any) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["invalid"], code="required")


class BulkApplyForm(forms.Form):
    """The credits ticked on the list, and an optional note for the audit trail (an invoice
    number)."""

    ids = IdListField()
    reason = forms.CharField(label=_("Note (e.g. the invoice)"), required=False, max_length=2000)


class CreditProposeForm(forms.Form):
    """A credit proposed by hand: the customer's contract, the promise broken, the remedy with
    its amount or days, the month or day it is for, and why."""

    contract = forms.ModelChoiceField(label=_("Contract"), queryset=Contract.objects.none())
    policy = forms.ModelChoiceField(label=_("Promise"), queryset=SlaPolicy.objects.all(), to_field_name="code")
    kind = forms.ChoiceField(label=_("Remedy"), choices=CreditKind.choices)
    amount = forms.DecimalField(label=_("amount (CNY)"), required=False, max_digits=12, decimal_places=2,
                                min_value=Decimal("0.01"), help_text=_("For a money remedy."))
    days = forms.IntegerField(label=_("days of service"), required=False, min_value=1, max_value=3660,
                              help_text=_("For a service-time extension."))
    period = forms.DateField(label=_("Period"), widget=forms.DateInput(attrs={"type": "date"}),
                             help_text=_("The first day of the month for a monthly remedy, or the day."))
    reason = forms.CharField(label=_("Reason"), max_length=4000,
                             widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                             help_text=_("Why the credit is owed: the evidence, the clause."))

    def __init__(self, *args: Any, contracts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contract"].queryset = contracts  # type: ignore[attr-defined]
        self.fields["contract"].label_from_instance = (  # type: ignore[attr-defined]
            lambda c: f"{c.customer.name} · {c.number}")
        self.fields["policy"].label_from_instance = lambda p: f"{p.code} {p.name}"  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind, amount, days = data.get("kind"), data.get("amount"), data.get("days")
        if kind in MONEY_KINDS:
            if amount is None and "amount" not in self.errors:
                self.add_error("amount", _("This remedy is an amount of money."))
            if days is not None:
                self.add_error("days", _("A money remedy has no days."))
        elif kind == CreditKind.EXTEND_SERVICE:
            if days is None and "days" not in self.errors:
                self.add_error("days", _("A service-time extension needs a number of days."))
            if amount is not None:
                self.add_error("amount", _("A service-time extension has no amount."))
        return data
