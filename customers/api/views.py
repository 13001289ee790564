"""Customers API: customers, contracts, services and authorized contacts.

Every read comes from customers.selectors (scoped by request.user, so another customer's object
is a 404); every write is one call of customers.services."""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from customers import selectors, services
from customers.models import AuthorizedContact, Contract, Customer, Service
from slaportal.api import ERRORS, FilterSet, IdFilter, ManagerWrites, StaffNeedsViewPerm, get_scoped_or_404
from slaportal.api import validated_input as _valid

from .serializers import (
    ContactCreateInputSerializer,
    ContactInputSerializer,
    ContactOutputSerializer,
    ContractCreateInputSerializer,
    ContractOutputSerializer,
    CustomerCreateInputSerializer,
    CustomerOutputSerializer,
    ServiceCreateInputSerializer,
    ServiceOutputSerializer,
)

# --- Customers ----------------------------------------------------------------------------

class CustomerFilter(FilterSet):
    code = django_filters.CharFilter()
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Customer
        fields = ["code", "name"]


class CustomerCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: the customers the user may see. POST: a new customer (managers)."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm, ManagerWrites]
    view_perm = "customers.view_customer"
    serializer_class = CustomerOutputSerializer
    filterset_class = CustomerFilter

    def get_queryset(self) -> Any:
        return selectors.customer_list(user=self.request.user)

    @extend_schema(operation_id="customers_create", request=CustomerCreateInputSerializer,
                   responses={201: CustomerOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        data = _valid(CustomerCreateInputSerializer, request)
        customer = services.customer_create(**data, actor=request.user)
        return Response(CustomerOutputSerializer(customer).data, status=status.HTTP_201_CREATED)


class CustomerDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "customers.view_customer"
    serializer_class = CustomerOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.customer_list(user=self.request.user)


# --- Contracts ----------------------------------------------------------------------------

class ContractFilter(FilterSet):
    customer = IdFilter(field_name="customer_id")
    number = django_filters.CharFilter()

    class Meta:
        model = Contract
        fields = ["customer", "number"]


class ContractCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: contracts the user may see. POST: record a signed contract (managers). The
    installation deadline (C3) runs on each hosting service's installation order, opened when the
    service is added."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm, ManagerWrites]
    view_perm = "customers.view_contract"
    serializer_class = ContractOutputSerializer
    filterset_class = ContractFilter

    def get_queryset(self) -> Any:
        return selectors.contract_list(user=self.request.user)

    @extend_schema(operation_id="contracts_create", request=ContractCreateInputSerializer,
                   responses={201: ContractOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        data = _valid(ContractCreateInputSerializer, request)
        contract = services.contract_create(**data, actor=request.user)
        return Response(ContractOutputSerializer(contract).data, status=status.HTTP_201_CREATED)


class ContractDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "customers.view_contract"
    serializer_class = ContractOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.contract_list(user=self.request.user)


# --- Services -----------------------------------------------------------------------------

class ServiceFilter(FilterSet):
    customer = IdFilter(field_name="customer_id")
    contract = IdFilter(field_name="contract_id")
    specialist = IdFilter(field_name="specialist_id")
    engineer = IdFilter(field_name="engineer_id")

    class Meta:
        model = Service
        fields = ["customer", "contract", "kind", "specialist", "engineer", "active"]


class ServiceCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: services the user may see. POST: a new service under a contract (managers)."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm, ManagerWrites]
    view_perm = "customers.view_service"
    serializer_class = ServiceOutputSerializer
    filterset_class = ServiceFilter

    def get_queryset(self) -> Any:
        return selectors.service_list(user=self.request.user)

    @extend_schema(operation_id="services_create", request=ServiceCreateInputSerializer,
                   responses={201: ServiceOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        data = _valid(ServiceCreateInputSerializer, request)
        service = services.service_create(**data, actor=request.user)
        return Response(ServiceOutputSerializer(service).data, status=status.HTTP_201_CREATED)


class ServiceDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "customers.view_service"
    serializer_class = ServiceOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.service_list(user=self.request.user)


# --- Authorized contacts ------------------------------------------------------------------

def _may_edit_contacts(user: Any, *, customer_id: int | None, perm: str) -> bool:
    """Staff with the model permission, or the customer's own administrator user."""
    if selectors.user_is_staff(user):
        return bool(user.has_perm(perm))
    link = getattr(user, "customer_link", None)
    return bool(link is not None and link.is_customer_admin
                and (customer_id is None or link.customer_id == customer_id))


class ContactFilter(FilterSet):
    customer = IdFilter(field_name="customer_id")

    class Meta:
        model = AuthorizedContact
        fields = ["customer", "active"]


class ContactCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: authorized contacts the user may see. POST: a new authorized contact (staff with the
    permission, or the customer's own administrator for their own organisation)."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "customers.view_authorizedcontact"
    serializer_class = ContactOutputSerializer
    filterset_class = ContactFilter

    def get_queryset(self) -> Any:
        return selectors.contact_list(user=self.request.user)

    @extend_schema(operation_id="contacts_create", request=ContactCreateInputSerializer,
                   responses={201: ContactOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        user = request.user
        if not _may_edit_contacts(user, customer_id=None, perm="customers.add_authorizedcontact"):
            raise PermissionDenied(_("You may not manage authorized contacts."))
        data = _valid(ContactCreateInputSerializer, request)
        customer = data.pop("customer", None)
        if customer is None:
            if selectors.user_is_staff(user):
                raise ValidationError({"customer": [_("This field is required.")]})
            customer = user.customer_link.customer
        secret = data.pop("mrtg_secret", None)
        contact = services.contact_save(customer=customer, data=data, mrtg_secret=secret, actor=user)
        return Response(ContactOutputSerializer(contact).data, status=status.HTTP_201_CREATED)


class ContactDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    """GET: one authorized contact. PATCH: change it (a new `mrtg_secret` replaces the stored
    hash; leaving it out keeps it)."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "customers.view_authorizedcontact"
    serializer_class = ContactOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.contact_list(user=self.request.user)

    @extend_schema(operation_id="contacts_partial_update", request=ContactInputSerializer,
                   responses={200: ContactOutputSerializer, **ERRORS})
    def patch(self, request: Request, pk: int) -> Response:
        contact = get_scoped_or_404(self.get_queryset(), pk=pk)
        if not _may_edit_contacts(request.user, customer_id=contact.customer_id,
                                  perm="customers.change_authorizedcontact"):
            raise PermissionDenied(_("You may not manage authorized contacts."))
        data = _valid(ContactInputSerializer, request, partial=True)
        secret = data.pop("mrtg_secret", None)
        contact = services.contact_save(customer=contact.customer, contact=contact, data=data,
                                        mrtg_secret=secret, actor=request.user)
        return Response(ContactOutputSerializer(contact).data)
