"""Credits API: the ledger (scoped), proposing (staff with the permission) and the manager's
decisions. Decisions look the credit up in the user's scope first (another customer's credit
is a 404); the service then refuses non-managers (403) and wrong states (409)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from credits import selectors, services
from credits.choices import CreditKind, CreditState
from credits.models import Credit
from customers.selectors import user_is_staff
from slaportal.api import (
    ERRORS,
    DetailSerializer,
    FilterSet,
    IdFilter,
    ReasonInputSerializer,
    StaffNeedsViewPerm,
    get_scoped_or_404,
)

from .serializers import CreditOutputSerializer, CreditProposeInputSerializer


class CreditFilter(FilterSet):
    state = django_filters.ChoiceFilter(choices=CreditState.choices)
    kind = django_filters.ChoiceFilter(choices=CreditKind.choices)
    customer = IdFilter(field_name="customer_id")
    contract = IdFilter(field_name="contract_id")
    policy = django_filters.CharFilter(field_name="policy__code")

    class Meta:
        model = Credit
        fields = ["state", "kind", "customer", "contract", "policy"]


class CreditCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: the credits the user may see, newest first. POST: propose a credit (staff with the
    permission to add credits)."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "credits.view_credit"
    serializer_class = CreditOutputSerializer
    filterset_class = CreditFilter

    def get_queryset(self) -> Any:
        return selectors.credit_list(user=self.request.user)

    @extend_schema(operation_id="credits_create", request=CreditProposeInputSerializer,
                   responses={201: CreditOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        user = request.user
        if not (user_is_staff(user) and user.has_perm("credits.add_credit")):
            raise PermissionDenied(_("Only staff may propose credits."))
        s = CreditProposeInputSerializer(data=request.data, context={"request": request})
        s.is_valid(raise_exception=True)
        d = s.validated_data
        credit = services.credit_propose(
            contract=d["contract"], policy_code=d["policy"], kind=d["kind"], period=d["period"],
            amount=d["amount"], days=d["days"], evidence=d["clock"], note=d["note"], actor=user)
        credit = selectors.credit_list(user=user).get(pk=credit.pk)
        return Response(CreditOutputSerializer(credit).data, status=status.HTTP_201_CREATED)


class CreditDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "credits.view_credit"
    serializer_class = CreditOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.credit_list(user=self.request.user)


class _CreditDecisionApi(generics.GenericAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "credits.view_credit"
    serializer_class = ReasonInputSerializer
    service: Any = None

    def get_queryset(self) -> Any:
        return selectors.credit_list(user=self.request.user)

    def post(self, request: Request, pk: int) -> Response:
        credit = get_scoped_or_404(self.get_queryset(), pk=pk)
        s = ReasonInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        type(self).service(credit_id=credit.pk, actor=request.user, reason=s.validated_data["reason"])
        credit = get_scoped_or_404(self.get_queryset(), pk=pk)
        return Response(CreditOutputSerializer(credit).data)


DECISION_RESPONSES = {
    200: CreditOutputSerializer,
    **ERRORS,
    404: OpenApiResponse(DetailSerializer, description="No such credit in your scope."),
    409: OpenApiResponse(DetailSerializer, description="The credit's state does not allow this."),
}


@extend_schema_view(post=extend_schema(operation_id="credits_approve", request=ReasonInputSerializer,
                                       responses=DECISION_RESPONSES))
class CreditApproveApi(_CreditDecisionApi):
    """Approve a proposed credit (managers)."""

    service = staticmethod(services.credit_approve)


@extend_schema_view(post=extend_schema(operation_id="credits_reject", request=ReasonInputSerializer,
                                       responses=DECISION_RESPONSES))
class CreditRejectApi(_CreditDecisionApi):
    """Reject a proposed credit (managers); a reason is required."""

    service = staticmethod(services.credit_reject)


@extend_schema_view(post=extend_schema(operation_id="credits_apply", request=ReasonInputSerializer,
                                       responses=DECISION_RESPONSES))
class CreditApplyApi(_CreditDecisionApi):
    """Mark an approved credit as applied to the bill or the service term (managers)."""

    service = staticmethod(services.credit_apply)
