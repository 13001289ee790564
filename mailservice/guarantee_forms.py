"""Forms of the backups, anti-virus and locked-account pages (seed 002 §5, §7): they parse input;
mailservice.backups and mailservice.retention validate and write."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import AccountLockKind, BackupKind, BackupStatus
from .models import MailPlatform

DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class BackupRunForm(forms.Form):
    """A backup run entered by hand (when the backup system cannot report it)."""

    platform = forms.ModelChoiceField(label=_("platform"), queryset=MailPlatform.objects.order_by("name"))
    run_id = forms.CharField(label=_("run id"), max_length=200)
    kind = forms.ChoiceField(label=_("kind"), choices=BackupKind.choices)
    status = forms.ChoiceField(label=_("status"), choices=BackupStatus.choices)
    started_at = forms.DateTimeField(label=_("started at"), widget=DT)
    ended_at = forms.DateTimeField(label=_("ended at"), widget=DT)
    size_bytes = forms.IntegerField(label=_("size (bytes)"), required=False, min_value=0)
    kept_until = forms.DateTimeField(label=_("kept until"), widget=DT)
    oldest_kept_at = forms.DateTimeField(label=_("oldest backup kept"), widget=DT, required=False)
    tool = forms.CharField(label=_("backup tool"), max_length=40, required=False)
    note = forms.CharField(label=_("note"), max_length=500, required=False)


class SignatureUpdateForm(forms.Form):
    """A virus-signature update entered by hand."""

    platform = forms.ModelChoiceField(label=_("platform"), queryset=MailPlatform.objects.order_by("name"))
    scanner = forms.CharField(label=_("scanner"), max_length=60, initial="clamav")
    version = forms.CharField(label=_("signature version"), max_length=120)
    updated_at = forms.DateTimeField(label=_("updated at"), widget=DT)


class ReporterTokenForm(forms.Form):
    """A reporter token for a platform's backup system or scanner."""

    platform = forms.ModelChoiceField(label=_("platform"), queryset=MailPlatform.objects.order_by("name"))
    name = forms.CharField(label=_("name"), max_length=120, help_text=_("For example backup01 restic."))


class LockedAccountForm(forms.Form):
    """A mail account of the service that was locked or terminated."""

    address = forms.EmailField(label=_("account address"), max_length=254)
    kind = forms.ChoiceField(label=_("kind"), choices=AccountLockKind.choices)
    locked_at = forms.DateTimeField(label=_("locked or terminated at"), widget=DT)
    reason = forms.CharField(label=_("reason"), max_length=300)


class LockedDeleteForm(forms.Form):
    """The deletion of a locked account's data."""

    deleted_at = forms.DateTimeField(label=_("data deleted at"), widget=DT, required=False,
                                     help_text=_("Empty: now."))
    note = forms.CharField(label=_("note"), max_length=300, required=False)
    early_loss = forms.BooleanField(label=_("The data was lost before the date (managers; breaks the promise)"),
                                    required=False)
