"""Admin for customers. Every write goes through customers.services, so the admin obeys the same
rules as the pages and the API and every change is audited with old and new values: a new
service opens its installation order (C3, orders app, after commit), the MRTG secret is
write-only (and only "changed" in the audit), a contract with clocks is never deleted."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from audit.admin_mixins import ServiceInlineMixin, ServiceModelAdmin

from . import services
from .models import AuthorizedContact, Contract, Customer, CustomerUser, Service


def _data(form: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {f: form.cleaned_data[f] for f in fields if f in form.cleaned_data}


class ServiceInline(ServiceInlineMixin, admin.TabularInline):  # type: ignore[type-arg]
    model = Service
    extra = 0
    fields = ("kind", "name", "specialist", "engineer", "active")

    def service_save(self, request: HttpRequest, *, original: Any, form: Any, parent: Any) -> Any:
        return services.service_save(data=_data(form, services.SERVICE_FIELDS) | {"contract": parent},
                                     service=original, actor=request.user)

    def service_delete(self, request: HttpRequest, *, obj: Any) -> None:
        services.service_delete(service=obj, actor=request.user)


@admin.register(Customer)
class CustomerAdmin(ServiceModelAdmin):
    list_display = ("name", "code", "language", "created_at")
    search_fields = ("name", "code")
    fields = services.CUSTOMER_FIELDS

    def service_save(self, request: HttpRequest, *, original: Any, form: Any) -> Any:
        return services.customer_save(data=_data(form, services.CUSTOMER_FIELDS), customer=original,
                                      actor=request.user)

    def service_delete(self, request: HttpRequest, *, obj: Any) -> None:
        services.customer_delete(customer=obj, actor=request.user)


class ContractAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    # Any signing date is accepted: nothing is computed from it here. The installation deadline
    # (C3) is computed on each service's installation order; a year the working-day calendar
    # does not know leaves that order's deadline pending (shown on the order), never a 500.
    class Meta:
        model = Contract
        fields = ("customer", "number", "signed_at", "starts_on", "term_months", "monthly_fee",
                  "installation_fee", "exclude_unreported_outages")


@admin.register(Contract)
class ContractAdmin(ServiceModelAdmin):
    form = ContractAdminForm
    list_display = ("number", "customer", "signed_at", "monthly_fee", "installation_fee", "term_months")
    list_filter = ("exclude_unreported_outages",)
    search_fields = ("number", "customer__name")
    inlines = [ServiceInline]

    def get_inlines(self, request, obj):  # type: ignore[no-untyped-def]
        return self.inlines if obj is not None else []

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A contract never moves to another customer (its services, clocks and credits are theirs).
        return ("customer",) if obj is not None else ()

    def service_save(self, request: HttpRequest, *, original: Any, form: Any) -> Any:
        d = form.cleaned_data
        if original is not None:
            return services.contract_change(contract=original, data=_data(form, services.CONTRACT_FIELDS),
                                            actor=request.user)
        return services.contract_create(
            customer=d["customer"], number=d["number"], signed_at=d["signed_at"],
            monthly_fee=d["monthly_fee"], installation_fee=d["installation_fee"],
            term_months=d["term_months"], starts_on=d.get("starts_on"),
            exclude_unreported_outages=d["exclude_unreported_outages"], actor=request.user)

    def delete_refusal(self, obj: Any) -> str | None:
        if services.contract_has_clocks(obj):
            return str(_("SLA clocks belong to this contract; it is evidence and cannot be deleted."))
        return None

    def service_delete(self, request: HttpRequest, *, obj: Any) -> None:
        services.contract_delete(contract=obj, actor=request.user)


@admin.register(Service)
class ServiceAdmin(ServiceModelAdmin):
    list_display = ("name", "kind", "customer", "contract", "specialist", "engineer", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "customer__name")
    list_select_related = ("customer", "contract", "specialist", "engineer")
    fields = services.SERVICE_FIELDS

    def service_save(self, request: HttpRequest, *, original: Any, form: Any) -> Any:
        return services.service_save(data=_data(form, services.SERVICE_FIELDS), service=original,
                                     actor=request.user)

    def service_delete(self, request: HttpRequest, *, obj: Any) -> None:
        services.service_delete(service=obj, actor=request.user)


class AuthorizedContactAdminForm(forms.ModelForm):  # type: ignore[type-arg]
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
                  "priority", "language", "mrtg_username", "receives_statements", "valid_from",
                  "valid_until", "active")


@admin.register(AuthorizedContact)
class AuthorizedContactAdmin(ServiceModelAdmin):
    form = AuthorizedContactAdminForm
    list_display = ("name", "customer", "priority", "channels", "has_mrtg_secret", "active")
    list_filter = ("active",)
    search_fields = ("name", "customer__name", "email", "mobile")

    @admin.display(boolean=True, description=_("MRTG secret set"))
    def has_mrtg_secret(self, obj: AuthorizedContact) -> bool:
        return obj.has_mrtg_secret

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A contact is one customer's designated person; another customer's is a new contact.
        return ("customer",) if obj is not None else ()

    def service_save(self, request: HttpRequest, *, original: Any, form: Any) -> Any:
        customer = original.customer if original is not None else form.cleaned_data["customer"]
        return services.contact_save(customer=customer, contact=original,
                                     data=_data(form, services.CONTACT_FIELDS),
                                     mrtg_secret=form.cleaned_data.get("mrtg_secret") or None,
                                     actor=request.user)

    def service_delete(self, request: HttpRequest, *, obj: Any) -> None:
        services.contact_delete(contact=obj, actor=request.user)


@admin.register(CustomerUser)
class CustomerUserAdmin(ServiceModelAdmin):
    list_display = ("user", "customer", "is_customer_admin")
    list_filter = ("is_customer_admin",)
    search_fields = ("user__username", "customer__name")
    raw_id_fields = ("user",)
    fields = services.CUSTOMER_USER_FIELDS

    def service_save(self, request: HttpRequest, *, original: Any, form: Any) -> Any:
        return services.customer_user_save(data=_data(form, services.CUSTOMER_USER_FIELDS),
                                           link=original, actor=request.user)

    def service_delete(self, request: HttpRequest, *, obj: Any) -> None:
        services.customer_user_delete(link=obj, actor=request.user)
