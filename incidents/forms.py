from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import (
    Cause,
    FacilityEventKind,
    FacilityScope,
    IncidentSource,
    NoticeExemption,
    OutageKind,
    ReportChannel,
)

DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ClassifyForm(forms.Form):
    cause = forms.ChoiceField(label=_("Cause"), choices=Cause.choices)
    note = forms.CharField(label=_("Justification"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("Required for every cause that is not the provider's fault."))


class ExemptForm(forms.Form):
    exemption = forms.ChoiceField(label=_("Exemption"), choices=NoticeExemption.choices)
    note = forms.CharField(label=_("Justification"), widget=forms.Textarea(attrs={"rows": 2}))


class CallForm(forms.Form):
    reached = forms.TypedChoiceField(label=_("Outcome"), coerce=lambda v: v == "1",
                                     choices=[("1", _("reached")), ("0", _("no answer"))])
    note = forms.CharField(label=_("Note"), required=False)
    called_at = forms.DateTimeField(
        label=_("Call made at"), widget=DT, required=False,
        help_text=_("When the call was made, if earlier than now: the call's own time decides "
                    "whether the notice was in time."))


class ReportForm(forms.Form):
    reported_at = forms.DateTimeField(label=_("Reported at"), widget=DT)
    via = forms.ChoiceField(label=_("Reported via"), choices=[
        (ReportChannel.COMPLAINT_LINE, ReportChannel.COMPLAINT_LINE.label),
        (ReportChannel.PORTAL, ReportChannel.PORTAL.label)])


class OutageForm(forms.Form):
    service = forms.ModelChoiceField(label=_("Service"), queryset=None)  # type: ignore[arg-type]
    kind = forms.ChoiceField(label=_("Kind"), choices=OutageKind.choices, initial=OutageKind.POWER)
    started_at = forms.DateTimeField(label=_("Started at"), widget=DT)
    ended_at = forms.DateTimeField(label=_("Ended at"), widget=DT, required=False)
    evidence = forms.CharField(label=_("Evidence"), widget=forms.Textarea(attrs={"rows": 3}),
                               help_text=_("Mains and UPS both without power: meter readings, UPS log, "
                                           "photos, the utility's notice."))
    cause = forms.ChoiceField(label=_("Cause"), choices=[("", "—"), *Cause.choices], required=False)
    cause_note = forms.CharField(label=_("Justification"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, services, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services


class CustomerReportForm(forms.Form):
    service = forms.ModelChoiceField(label=_("Service"), queryset=None)  # type: ignore[arg-type]
    title = forms.CharField(label=_("What is wrong"), max_length=200)
    description = forms.CharField(label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, services, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services


def _locations(value: str) -> list[str]:
    return [v.strip() for v in value.replace("，", ",").replace("\n", ",").split(",") if v.strip()]


class FacilityEventForm(forms.Form):
    """A data-centre event recorded once for every service it hit."""

    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=FacilityEventKind.choices)
    rooms = forms.CharField(label=_("Machine rooms"), required=False,
                            help_text=_("Exactly as on the services; several separated by commas."))
    rack_rows = forms.CharField(label=_("Rack rows"), required=False)
    uplinks = forms.CharField(label=_("Uplinks"), required=False)
    started_at = forms.DateTimeField(label=_("Started at"), widget=DT)
    ended_at = forms.DateTimeField(label=_("Ended at"), widget=DT, required=False,
                                   help_text=_("Leave empty while the event is ongoing."))
    evidence = forms.CharField(label=_("Evidence"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    cause = forms.ChoiceField(label=_("Cause"), choices=[("", "—"), *Cause.choices], required=False)
    cause_note = forms.CharField(label=_("Justification"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 2}))

    def service_kwargs(self) -> dict:  # type: ignore[type-arg]
        d = dict(self.cleaned_data)
        scopes = ([(FacilityScope.ROOM, v) for v in _locations(d.pop("rooms", ""))]
                  + [(FacilityScope.RACK_ROW, v) for v in _locations(d.pop("rack_rows", ""))]
                  + [(FacilityScope.UPLINK, v) for v in _locations(d.pop("uplinks", ""))])
        d["scopes"] = [(str(s), v) for s, v in scopes]
        return d


class FacilityEventEndForm(forms.Form):
    ended_at = forms.DateTimeField(label=_("Ended at"), widget=DT)


class _ServiceWithCustomer(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A service among every customer's: labelled with its customer so the right one is chosen."""

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.customer.name} · {obj}"


class StaffIncidentForm(forms.Form):
    """Staff record an incident: a customer's phone report or their own detection, and by
    default declare the emergency at once (C4 starts, the first contact is notified)."""

    service = _ServiceWithCustomer(label=_("Customer and service"), queryset=None)  # type: ignore[arg-type]
    source = forms.ChoiceField(label=_("How we learned of it"), widget=forms.RadioSelect, initial=IncidentSource.CUSTOMER,
                               choices=[(IncidentSource.CUSTOMER, _("Phone report by the customer")),
                                        (IncidentSource.STAFF, _("Our own detection"))])
    caller_name = forms.CharField(label=_("Caller's name"), max_length=100, required=False,
                                  help_text=_("Required for a phone report."))
    caller_phone = forms.CharField(label=_("Caller's phone"), max_length=40, required=False,
                                   help_text=_("Required for a phone report."))
    title = forms.CharField(label=_("Title"), max_length=200, widget=forms.TextInput(attrs={"size": 60}))
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    outage_started_at = forms.DateTimeField(
        label=_("Outage started at"), widget=DT,
        help_text=_("When the service could first not be obtained; not in the future."))
    declare = forms.BooleanField(
        label=_("Declare the emergency now"), required=False, initial=True,
        help_text=_("Starts the 15-minute notice to the customer's authorized contacts, as for a "
                    "monitoring probe. Leave unticked to save it as detected and declare it later "
                    "from the incident page."))

    def __init__(self, *args: Any, services: Any, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services
        # Minutes only (the input's precision), so the default is never a few seconds ahead.
        self.fields["outage_started_at"].initial = timezone.localtime(now).replace(second=0, microsecond=0)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        # Also checked by the service (at its own `now`); here so every error shows at once.
        started = data.get("outage_started_at")
        if started is not None and started > timezone.now():
            self.add_error("outage_started_at", _("An outage cannot start in the future."))
        if data.get("source") == IncidentSource.CUSTOMER:
            for name in ("caller_name", "caller_phone"):
                if not (data.get(name) or "").strip() and name not in self.errors:
                    self.add_error(name, _("Required for a phone report."))
        return data
