from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Mailbox, Target


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


class MailboxForm(forms.ModelForm):
    """A probe mailbox of an e-mail service. The password is write-only: never rendered back,
    and left blank it keeps the stored one."""

    password = forms.CharField(
        label=_("password"), required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Stored encrypted and never shown again. Leave blank to keep the stored password."))
    webmail_url = forms.URLField(label=_("webmail URL"), required=False, max_length=500, assume_scheme="https")

    class Meta:
        model = Mailbox
        fields = ["service", "address", "username", "password", "smtp_host", "smtp_port", "smtp_security",
                  "imap_host", "imap_port", "imap_security", "pop3_host", "pop3_port", "pop3_security",
                  "webmail_url", "webmail_expected_status", "interval_seconds", "timeout_seconds", "active"]

    def __init__(self, *args, services, **kwargs):  # type: ignore[no-untyped-def]
        from customers.choices import ServiceKind

        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = services.filter(kind=ServiceKind.EMAIL)
        if self.instance.pk:
            self.fields["service"].disabled = True

    def _post_clean(self) -> None:
        # Validation happens once, in the service (mailbox_save), not in ModelForm's instance pass.
        pass
