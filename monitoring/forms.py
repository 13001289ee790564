from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Target


class TargetForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), required=False, max_length=500, assume_scheme="https")

    class Meta:
        model = Target
        fields = ["service", "kind", "name", "host", "port", "url", "expected_status", "interval_seconds",
                  "timeout_seconds", "active"]

    def __init__(self, *args, services, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services

    def _post_clean(self) -> None:
        # Validation happens once, in the service (target_save), not in ModelForm's instance pass.
        pass
