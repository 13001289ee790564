"""Admin for customers. Writes go through customers.services so the admin obeys the same rules
as the pages and the API: a new contract starts its C3 clock, the MRTG secret is write-only."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from slaportal.errors import DomainError

from . import services
from .models import AuthorizedContact, Contract, Customer, CustomerUser, Service


class ServiceInline(admin.TabularInline):
    model = Service
    extra = 0
    fields = ("kind", "name", "specialist", "engineer", "active")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "language", "created_at")
    search_fields = ("name", "code")


class ContractAdminForm(forms.ModelForm):
    class Meta:
        model = Contract
        fields = ("customer", "number", "signed_at", "starts_on", "term_months", "monthly_fee",
                  "installation_fee", "exclude_unreported_outages")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        signed_at = data.get("signed_at")
        if self.instance.pk is None and signed_at is not None:
            # The installation deadline (C3) is computed from the signing date; a year the
            # working-day calendar does not know is a clear error here, not a silent guess.
            from sla.calendars import CalendarYearUnknown, add_working_days

            try:
                add_working_days(signed_at, 1)
            except CalendarYearUnknown as e:
                raise ValidationError({"signed_at": str(e.message)}) from None
        return data


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    form = ContractAdminForm
    list_display = ("number", "customer", "signed_at", "monthly_fee", "installation_fee", "term_months")
    list_filter = ("exclude_unreported_outages",)
    search_fields = ("number", "customer__name")
    inlines = [ServiceInline]

    def get_inlines(self, request, obj):  # type: ignore[no-untyped-def]
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        if change:
            return super().save_model(request, obj, form, change)
        d = form.cleaned_data
        try:
            created = services.contract_create(
                customer=d["customer"], number=d["number"], signed_at=d["signed_at"],
                monthly_fee=d["monthly_fee"], installation_fee=d["installation_fee"],
                term_months=d["term_months"], starts_on=d.get("starts_on"),
                exclude_unreported_outages=d["exclude_unreported_outages"], actor=request.user)
        except DomainError as e:  # pragma: no cover - the form's clean() catches these first
            raise ValidationError(str(e.message)) from e
        obj.pk = obj.id = created.pk


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "customer", "contract", "specialist", "engineer", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "customer__name")
    list_select_related = ("customer", "contract", "specialist", "engineer")


class AuthorizedContactAdminForm(forms.ModelForm):
    channels = forms.JSONField(
        label=_("Notice channels in order of preference"),
        help_text=_('For example ["mobile", "email"]. Choices: office_phone, mobile, pager, fax, email.'))
    mrtg_secret = forms.CharField(
        label=_("MRTG password"), required=False, strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Write-only: stored hashed, never shown. Leave blank to keep the current one."))

    class Meta:
        model = AuthorizedContact
        fields = ("customer", "name", "office_phone", "mobile", "pager", "fax", "email", "channels",
                  "priority", "language", "mrtg_username", "valid_from", "valid_until", "active")


@admin.register(AuthorizedContact)
class AuthorizedContactAdmin(admin.ModelAdmin):
    form = AuthorizedContactAdminForm
    list_display = ("name", "customer", "priority", "channels", "has_mrtg_secret", "active")
    list_filter = ("active",)
    search_fields = ("name", "customer__name", "email", "mobile")

    @admin.display(boolean=True, description=_("MRTG secret set"))
    def has_mrtg_secret(self, obj: AuthorizedContact) -> bool:
        return obj.has_mrtg_secret

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("customer", "mrtg_secret")}
        saved = services.contact_save(customer=form.cleaned_data["customer"], data=data,
                                      contact=obj if change else None,
                                      mrtg_secret=form.cleaned_data.get("mrtg_secret") or None,
                                      actor=request.user)
        obj.pk = obj.id = saved.pk


@admin.register(CustomerUser)
class CustomerUserAdmin(admin.ModelAdmin):
    list_display = ("user", "customer", "is_customer_admin")
    list_filter = ("is_customer_admin",)
    search_fields = ("user__username", "customer__name")
    raw_id_fields = ("user",)
