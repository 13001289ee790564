from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import Cause, FacilityEventKind, FacilityScope, NoticeExemption, OutageKind, ReportChannel

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
