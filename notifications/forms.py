from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import Channel, Status


class NotificationFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Outcome"), required=False,
                               choices=[("", _("All")), *Status.choices])
    channel = forms.ChoiceField(label=_("Channel"), required=False,
                                choices=[("", _("All")), *Channel.choices])


class InboxFilterForm(forms.Form):
    show = forms.ChoiceField(label=_("Show"), required=False,
                             choices=[("", _("All")), ("unread", _("Unread")), ("read", _("Read"))])
