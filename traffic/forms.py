from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import SwitchPort

_SECRET = {"required": False, "strip": False,
           "widget": forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
           "help_text": _("Stored encrypted and never shown again. Leave blank to keep the stored value.")}


class SwitchPortForm(forms.ModelForm):
    """A switch port of a hosting service. The community and v3 keys are write-only."""

    community = forms.CharField(label=_("SNMP community"), **_SECRET)  # type: ignore[arg-type]
    v3_auth_key = forms.CharField(label=_("authentication key"), **_SECRET)  # type: ignore[arg-type]
    v3_priv_key = forms.CharField(label=_("privacy key"), **_SECRET)  # type: ignore[arg-type]

    class Meta:
        model = SwitchPort
        fields = ["service", "name", "device_address", "snmp_port", "port_number", "interface", "snmp_version",
                  "community", "v3_user", "v3_auth_protocol", "v3_auth_key", "v3_priv_protocol", "v3_priv_key",
                  "max_bps", "active"]

    def __init__(self, *args, services, **kwargs):  # type: ignore[no-untyped-def]
        from customers.choices import ServiceKind

        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services.exclude(kind=ServiceKind.EMAIL)  # type: ignore[attr-defined]
        if self.instance.pk:
            self.fields["service"].disabled = True

    def _post_clean(self) -> None:
        # Validation happens once, in the service (switchport_save), not in ModelForm's instance pass.
        pass


class MrtgLoginForm(forms.Form):
    username = forms.CharField(label=_("MRTG user name"), max_length=120)
    password = forms.CharField(label=_("MRTG password"), strip=False, max_length=256,
                               widget=forms.PasswordInput(render_value=False))
