"""Forms of the visit pages. They only parse input; every rule is checked by the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from accounts.people import person_label
from customers.models import Customer
from slaportal.ui import FILTER_DATE_MAX, FILTER_DATE_MIN, FILTER_DATE_VALIDATORS

from .choices import Activity, IdDocumentType, VisitState
from .models import Room
from .selectors import escort_candidates, room_list

DT_WIDGET = {"type": "datetime-local"}


def _dt_field(label: Any, required: bool = True) -> forms.DateTimeField:
    return forms.DateTimeField(label=label, required=required, widget=forms.DateTimeInput(
        attrs=DT_WIDGET, format="%Y-%m-%dT%H:%M"))


class EscortChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A person who may escort (escort_candidates): '王建国（机房值班）', never a role name."""

    def label_from_instance(self, obj: Any) -> str:
        return person_label(obj)


def _escorts() -> Any:
    """escort_candidates() by name, with their roles for the labels."""
    return escort_candidates().order_by("first_name", "last_name", "username").prefetch_related("groups")


class VisitBookForm(forms.Form):
    """The booking: 进入原因, 将进行的活动, 预计进入/辞出时间, 所需协同作业."""

    customer = forms.ModelChoiceField(label=_("Customer"), queryset=Customer.objects.all(), required=False)
    room = forms.ModelChoiceField(label=_("Machine room"), queryset=Room.objects.none())
    reason = forms.CharField(label=_("Reason for entry"), max_length=4000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    activity = forms.ChoiceField(label=_("Activity"), choices=Activity.choices)
    activity_other = forms.CharField(label=_("Other activity"), max_length=200, required=False)
    expected_entry_at = _dt_field(_("Expected entry"))
    expected_exit_at = _dt_field(_("Expected exit"))
    needs_tools = forms.BooleanField(label=_("Tools needed"), required=False)
    tools_detail = forms.CharField(label=_("Tools"), max_length=500, required=False)
    needs_software = forms.BooleanField(label=_("Software needed"), required=False)
    software_detail = forms.CharField(label=_("Software"), max_length=500, required=False)
    needs_lodging = forms.BooleanField(label=_("Meals and lodging needed"), required=False)
    lodging_detail = forms.CharField(label=_("Meals and lodging"), max_length=500, required=False)
    other_help = forms.CharField(label=_("Other help needed"), max_length=500, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=120, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False,
                                     help_text=_("The decision and the calendar invitation are sent here."))
    emergency = forms.BooleanField(label=_("Emergency (inside the lead time)"), required=False)
    emergency_reason = forms.CharField(label=_("Why it is an emergency"), max_length=2000, required=False,
                                       widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, staff: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = room_list()
        if staff:
            self.fields["customer"].required = True
        else:
            del self.fields["customer"]


class VisitorForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    # The initial value matters: an untouched extra row then counts as unchanged and is skipped.
    id_type = forms.ChoiceField(label=_("ID document type"), choices=IdDocumentType.choices,
                                initial=IdDocumentType.RESIDENT_ID)
    id_number = forms.CharField(label=_("ID number"), max_length=40)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)


MAX_VISITORS = 20


class BaseVisitorFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    """The visitor rows. static/js/forms.js adds rows (from empty_form) and removes them; without
    JavaScript the two extra rows still work. More than MAX_VISITORS rows are refused."""

    default_error_messages = {
        **forms.BaseFormSet.default_error_messages,
        "too_many_forms": ngettext_lazy("A visit can have at most %(num)d visitor.",
                                        "A visit can have at most %(num)d visitors.", "num"),
        "too_few_forms": ngettext_lazy("Name at least %(num)d visitor.",
                                       "Name at least %(num)d visitors.", "num"),
    }


VisitorFormSet = forms.formset_factory(VisitorForm, formset=BaseVisitorFormSet, extra=2, min_num=1,
                                       validate_min=True, max_num=MAX_VISITORS, validate_max=True)


class ApproveForm(forms.Form):
    escort = EscortChoiceField(label=_("Escort"), queryset=escort_candidates())
    reason = forms.CharField(label=_("Note"), max_length=2000, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))
    allow_escort_overlap = forms.BooleanField(
        label=_("Assign even though the escort is booked at an overlapping time"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["escort"].queryset = _escorts()


class EscortForm(forms.Form):
    escort = EscortChoiceField(label=_("Escort"), queryset=escort_candidates())
    allow_escort_overlap = forms.BooleanField(
        label=_("Assign even though the escort is booked at an overlapping time"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["escort"].queryset = _escorts()


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000, required=False,
                             widget=forms.Textarea(attrs={"rows": 2}))


class ChangeForm(forms.Form):
    room = forms.ModelChoiceField(label=_("Machine room"), queryset=Room.objects.none())
    expected_entry_at = _dt_field(_("Expected entry"))
    expected_exit_at = _dt_field(_("Expected exit"))
    allow_escort_overlap = forms.BooleanField(
        label=_("Keep the escort even if booked at an overlapping time"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = room_list()


class CloseForm(forms.Form):
    work_done = forms.CharField(label=_("Work done"), max_length=4000, required=False,
                                widget=forms.Textarea(attrs={"rows": 3}))


class CheckInForm(forms.Form):
    visitor = forms.IntegerField(widget=forms.HiddenInput)
    pass_number = forms.CharField(label=_("Pass number"), max_length=40, required=False)
    id_document_confirmed = forms.BooleanField(label=_("ID document checked against the booking"),
                                               required=False)
    # Only needed outside the booked time plus or minus the check-in window; the service says when.
    override_reason = forms.CharField(label=_("Reason for checking in outside the booked time"),
                                      max_length=500, required=False,
                                      widget=forms.Textarea(attrs={"rows": 2}))


class CheckOutForm(forms.Form):
    visitor = forms.IntegerField(widget=forms.HiddenInput, required=False)


class DoorLookupForm(forms.Form):
    q = forms.CharField(label=_("Booking number or visitor name"), max_length=120, required=False)


class VisitFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False, choices=[("", _("All")), *VisitState.choices])
    room = forms.ModelChoiceField(label=_("Machine room"), queryset=Room.objects.none(), required=False)
    # Not _("From")/_("To"): those are the audit trail's state columns (原状态/新状态).
    date_from = forms.DateField(label=pgettext_lazy("date range", "From"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                validators=FILTER_DATE_VALIDATORS)
    date_to = forms.DateField(label=pgettext_lazy("date range", "To"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                              validators=FILTER_DATE_VALIDATORS)
    q = forms.CharField(label=_("Booking number or visitor"), max_length=120, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = room_list()

    def clean(self) -> dict[str, Any]:
        d = super().clean() or {}
        if d.get("date_from") and d.get("date_to") and d["date_to"] < d["date_from"]:
            self.add_error("date_to", _("The end date is before the start date."))
        return d


class ScheduleForm(forms.Form):
    start = forms.DateField(label=pgettext_lazy("date range", "From"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
                            validators=[MinValueValidator(FILTER_DATE_MIN),
                                        MaxValueValidator(FILTER_DATE_MAX - timedelta(days=31))])
    days = forms.IntegerField(label=_("Days"), required=False, min_value=1, max_value=31)
    room = forms.ModelChoiceField(label=_("Machine room"), queryset=Room.objects.none(), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = room_list()
