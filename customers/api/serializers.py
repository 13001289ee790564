"""Input and output shapes of the customers API. Inputs only parse and type-check; the rules
(a fee is not negative, a contact has a channel) live in the models and services, so the pages
and the API refuse the same things with the same messages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from customers import selectors
from customers.choices import ContactChannel, Language, Role, ServiceKind
from customers.models import AuthorizedContact, Contract, Customer, Service
from slaportal.api import ScopedPrimaryKeyRelatedField


class UserRefSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A staff member as other objects refer to them."""

    id = serializers.IntegerField(read_only=True)
    username = serializers.CharField(read_only=True)
    name = serializers.SerializerMethodField()

    def get_name(self, obj: Any) -> str:
        return str(obj.get_full_name() or obj.get_username())


# --- Customers ----------------------------------------------------------------------------

class CustomerOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Customer
        fields = ["id", "name", "code", "address", "language", "created_at"]
        read_only_fields = fields


class CustomerCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(max_length=200)
    code = serializers.SlugField(max_length=40)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    language = serializers.ChoiceField(choices=Language.choices, required=False, default=Language.ZH)


# --- Contracts ----------------------------------------------------------------------------

class ContractOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    ends_on = serializers.DateField(read_only=True)

    class Meta:
        model = Contract
        fields = ["id", "customer", "customer_name", "number", "signed_at", "starts_on", "ends_on",
                  "term_months", "monthly_fee", "installation_fee", "currency",
                  "exclude_unreported_outages"]
        read_only_fields = fields


class ContractCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    customer = ScopedPrimaryKeyRelatedField(selector=selectors.customer_list)
    number = serializers.CharField(max_length=60)
    signed_at = serializers.DateTimeField()
    starts_on = serializers.DateField(required=False, allow_null=True, default=None)
    term_months = serializers.IntegerField(required=False, default=12)
    # Sign and range are the model's rules (Contract.clean), reported per field by the service.
    monthly_fee = serializers.DecimalField(max_digits=12, decimal_places=2)
    installation_fee = serializers.DecimalField(max_digits=12, decimal_places=2, required=False,
                                                default="0.00")
    exclude_unreported_outages = serializers.BooleanField(required=False, default=True)


# --- Services -----------------------------------------------------------------------------

class ServiceOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    specialist = UserRefSerializer(read_only=True, allow_null=True)
    engineer = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Service
        fields = ["id", "customer", "customer_name", "contract", "contract_number", "kind", "name",
                  "specialist", "engineer", "room", "rack_row", "uplink", "active"]
        read_only_fields = fields


def _staff_with_role(role: str) -> Any:
    return get_user_model().objects.filter(groups__name=role, is_active=True).distinct()


class ServiceCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    contract = ScopedPrimaryKeyRelatedField(selector=selectors.contract_list)
    kind = serializers.ChoiceField(choices=ServiceKind.choices)
    name = serializers.CharField(max_length=200)
    specialist = serializers.PrimaryKeyRelatedField(queryset=_staff_with_role(Role.SPECIALIST),
                                                    required=False, allow_null=True, default=None)
    engineer = serializers.PrimaryKeyRelatedField(queryset=_staff_with_role(Role.ENGINEER),
                                                  required=False, allow_null=True, default=None)
    room = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    rack_row = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    uplink = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")


# --- Authorized contacts ------------------------------------------------------------------

class ContactOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """The MRTG user name and secret are the phone-authorization check (SPEC: 'never shown
    back'): neither is ever in a response, only whether a secret is on file."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    channels = serializers.ListField(child=serializers.ChoiceField(choices=ContactChannel.choices),
                                     read_only=True)
    has_mrtg_secret = serializers.BooleanField(read_only=True)

    class Meta:
        model = AuthorizedContact
        fields = ["id", "customer", "customer_name", "name", "office_phone", "mobile", "pager", "fax",
                  "email", "channels", "priority", "language", "has_mrtg_secret",
                  "receives_statements", "valid_from", "valid_until", "active"]
        read_only_fields = fields


class ContactInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Create (all required fields) or update (partial). An empty `channels` list reaches the
    model, which refuses it with the same message as the form."""

    name = serializers.CharField(max_length=120)
    office_phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    mobile = serializers.CharField(max_length=40, required=False, allow_blank=True)
    pager = serializers.CharField(max_length=40, required=False, allow_blank=True)
    fax = serializers.CharField(max_length=40, required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    channels = serializers.ListField(child=serializers.ChoiceField(choices=ContactChannel.choices),
                                     allow_empty=True)
    priority = serializers.IntegerField(min_value=0, max_value=32767, required=False)
    language = serializers.ChoiceField(choices=Language.choices, required=False)
    mrtg_username = serializers.CharField(max_length=120, required=False, allow_blank=True,
                                          write_only=True)
    mrtg_secret = serializers.CharField(max_length=128, required=False, allow_blank=False,
                                        write_only=True, trim_whitespace=False,
                                        style={"input_type": "password"})
    receives_statements = serializers.BooleanField(required=False)
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_until = serializers.DateField(required=False, allow_null=True)
    active = serializers.BooleanField(required=False)


class ContactCreateInputSerializer(ContactInputSerializer):
    # Staff name the customer; a customer's own administrator may leave it out (their own).
    customer = ScopedPrimaryKeyRelatedField(selector=selectors.customer_list, required=False)
