"""Credits API: the ledger (scoped), proposing (staff with the permission, with a reason), the
manager's decisions (four-eyes: never one's own proposal, 403 code four_eyes), applying singly or
in bulk, reversing an applied credit, and billing's export of a month. Decisions look the credit
up in the user's scope first (another customer's credit is a 404); the service then refuses
roles (403) and wrong states (409)."""

from __future__ import annotations

from datetime import date
from typing import Any

import django_filters
from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from credits import selectors, services
from credits.choices import CreditKind, CreditState
from credits.exports import export_csv
from credits.models import Credit
from credits.selectors import MONTH_MAX_YEAR, MONTH_MIN_YEAR, parse_month
from slaportal.api import (
    ERRORS,
    DetailSerializer,
    FilterSet,
    IdFilter,
    ReasonInputSerializer,
    StaffNeedsViewPerm,
    get_scoped_or_404,
)
from slaportal.downloads import as_download

from .serializers import (
    CreditBulkApplyInputSerializer,
    CreditBulkApplyOutputSerializer,
    CreditExportQuerySerializer,
    CreditExportRowSerializer,
    CreditOutputSerializer,
    CreditProposeInputSerializer,
    CreditReverseInputSerializer,
)


class MonthFormField(forms.CharField):
    """A month filter (YYYY-MM): anything else is a 400 naming the parameter."""

    def to_python(self, value: Any) -> date | None:  # type: ignore[override]
        value = super().to_python(value)
        if not value:
            return None
        try:
            return parse_month(value)
        except ValueError:
            raise forms.ValidationError(
                _("Give the month as YYYY-MM, between %(min)s-01 and %(max)s-12.")
                % {"min": MONTH_MIN_YEAR, "max": MONTH_MAX_YEAR}, code="invalid") from None


@extend_schema_field({"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}$"})
class MonthFilter(django_filters.Filter):
    """The month a credit is for (its period), YYYY-MM."""

    field_class = MonthFormField

    def filter(self, qs: Any, value: Any) -> Any:
        return qs if value is None else selectors.credit_filter(qs, month=value)


class CreditFilter(FilterSet):
    state = django_filters.ChoiceFilter(choices=CreditState.choices)
    kind = django_filters.ChoiceFilter(choices=CreditKind.choices)
    customer = IdFilter(field_name="customer_id")
    contract = IdFilter(field_name="contract_id")
    policy = django_filters.CharFilter(field_name="policy__code")
    month = MonthFilter(help_text="YYYY-MM: credits whose period falls in that month.")

    class Meta:
        model = Credit
        fields = ["state", "kind", "customer", "contract", "policy", "month"]


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
        if not selectors.user_may_propose(user):
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
                                       responses={**DECISION_RESPONSES, 403: OpenApiResponse(
                                           DetailSerializer, description="Not a manager (code forbidden), "
                                           "or the manager proposed this credit (code four_eyes).")}))
class CreditApproveApi(_CreditDecisionApi):
    """Approve a proposed credit (managers; never the one who proposed it: four-eyes)."""

    service = staticmethod(services.credit_approve)


@extend_schema_view(post=extend_schema(operation_id="credits_reject", request=ReasonInputSerializer,
                                       responses=DECISION_RESPONSES))
class CreditRejectApi(_CreditDecisionApi):
    """Reject a proposed credit (managers); a reason is required."""

    service = staticmethod(services.credit_reject)


@extend_schema_view(post=extend_schema(operation_id="credits_apply", request=ReasonInputSerializer,
                                       responses=DECISION_RESPONSES))
class CreditApplyApi(_CreditDecisionApi):
    """Mark an approved credit as applied to the bill or the service term (managers, billing)."""

    service = staticmethod(services.credit_apply)


@extend_schema_view(post=extend_schema(operation_id="credits_reverse", request=CreditReverseInputSerializer,
                                       responses={201: CreditOutputSerializer, **DECISION_RESPONSES}))
class CreditReverseApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """Correct an applied credit: propose a reversing entry (201, the new entry), which another
    manager approves and billing applies like any credit. 409: not applied, a reversal itself,
    or already reversed."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "credits.view_credit"
    serializer_class = CreditReverseInputSerializer

    def get_queryset(self) -> Any:
        return selectors.credit_list(user=self.request.user)

    def post(self, request: Request, pk: int) -> Response:
        credit = get_scoped_or_404(self.get_queryset(), pk=pk)
        if not selectors.user_may_propose(request.user):
            raise PermissionDenied(_("Only staff who may propose credits can propose a reversal."))
        s = CreditReverseInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        reversal = services.credit_reverse(credit_id=credit.pk, reason=s.validated_data["reason"],
                                           actor=request.user)
        reversal = get_scoped_or_404(self.get_queryset(), pk=reversal.pk)
        return Response(CreditOutputSerializer(reversal).data, status=status.HTTP_201_CREATED)


@extend_schema_view(post=extend_schema(operation_id="credits_apply_bulk", request=CreditBulkApplyInputSerializer,
                                       responses={200: CreditBulkApplyOutputSerializer, **ERRORS}))
class CreditBulkApplyApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """Billing confirmed several approved credits: each is applied on its own (its own
    transaction, row locked); the answer lists those applied and those refused with the reason
    (not approved any more: code conflict; not in your scope: not_found). Managers and billing."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "credits.view_credit"
    customers_allowed = False
    serializer_class = CreditBulkApplyInputSerializer

    def post(self, request: Request) -> Response:
        if not selectors.user_may_apply(request.user):
            raise PermissionDenied(_("Only a manager or billing can mark credits as applied."))
        s = CreditBulkApplyInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        wanted = list(dict.fromkeys(s.validated_data["ids"]))
        visible = set(selectors.credit_list(user=request.user).filter(pk__in=wanted)
                      .values_list("pk", flat=True))
        result = services.credits_apply(credit_ids=[i for i in wanted if i in visible], actor=request.user,
                                        reason=s.validated_data["reason"])
        refused = {i: (str(_("No such credit.")), "not_found") for i in wanted if i not in visible}
        refused.update(result.refused)
        body = {"applied": result.applied,
                "refused": [{"id": i, "detail": refused[i][0], "code": refused[i][1]}
                            for i in wanted if i in refused]}
        return Response(CreditBulkApplyOutputSerializer(body).data)


class CreditExportCsvRenderer(BaseRenderer):
    """The billing export as CSV: the view hands over the finished text (UTF-8 with a BOM)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: dict[str, Any] | None = None) -> bytes:
        return data.encode("utf-8") if isinstance(data, str) else b""


@extend_schema_view(get=extend_schema(
    operation_id="credits_export", parameters=[CreditExportQuerySerializer],
    responses={(200, "application/json"): CreditExportRowSerializer(many=True),
               (200, "text/csv"): OpenApiTypes.STR, 403: ERRORS[403]}))
class CreditExportApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """Billing's export of a month (default: the current month in Asia/Shanghai): exactly the
    approved and applied credits whose period falls in it (reversals with negative amounts or
    days), unpaginated. `?format=csv`: the same rows
    as the page's CSV (Chinese headers by default, times in Asia/Shanghai). Managers and billing;
    never customers."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "credits.view_credit"
    customers_allowed = False
    serializer_class = CreditExportRowSerializer
    queryset = Credit.objects.none()  # for the schema; the rows come from selectors.credit_export
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CreditExportCsvRenderer]
    pagination_class = None

    def get(self, request: Request) -> Response:
        if not selectors.user_may_export(request.user):
            raise PermissionDenied(_("Only a manager or billing can export credits."))
        q = CreditExportQuerySerializer(data=request.query_params)
        q.is_valid(raise_exception=True)
        month = q.validated_data.get("month") or timezone.localdate().replace(day=1)
        credits = list(selectors.credit_export(user=request.user, month=month))
        if request.accepted_renderer.format == "csv":
            return as_download(Response(export_csv(credits)), stem=f"credits-{month:%Y-%m}",
                               content_type="text/csv")
        return Response(CreditExportRowSerializer(credits, many=True).data)
