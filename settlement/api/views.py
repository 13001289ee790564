"""Settlement API: closed months, the manager's close action, and the judgements (scoped: a
customer reads their own services' judgements; another customer's is a 404)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from customers.choices import Role
from customers.selectors import user_has_role, user_is_staff
from settlement import selectors, services
from settlement.choices import CloseTrigger, Verdict
from settlement.models import Judgement, MonthClose
from slaportal.api import ERRORS, FilterSet, IdFilter

from .serializers import (
    JudgementOutputSerializer,
    MonthCloseInputSerializer,
    MonthCloseResultSerializer,
    MonthInputField,
    MonthOutputSerializer,
)


class MonthValueFilter(django_filters.CharFilter):
    """?month=YYYY-MM; anything else is a 400 with the field's error."""

    def filter(self, qs: Any, value: Any) -> Any:
        if not value:
            return qs
        from rest_framework.exceptions import ValidationError

        try:
            first = MonthInputField().to_internal_value(value)
        except Exception:
            raise ValidationError({"month": [_("Enter a month as YYYY-MM, e.g. 2026-02.")]}) from None
        return qs.filter(month=first)


class JudgementFilter(FilterSet):
    month = MonthValueFilter()
    customer = IdFilter(field_name="customer_id")
    service = IdFilter(field_name="service_id")
    policy = django_filters.CharFilter(field_name="policy__code", max_length=20)
    verdict = django_filters.ChoiceFilter(choices=Verdict.choices)

    class Meta:
        model = Judgement
        fields = ["month", "customer", "service", "policy", "verdict"]


class MonthListApi(generics.ListAPIView):  # type: ignore[type-arg]
    """Closed months (staff)."""

    permission_classes = [IsAuthenticated]
    serializer_class = MonthOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return MonthClose.objects.none()
        if not user_is_staff(self.request.user):
            raise PermissionDenied(_("Only staff see the closed months."))
        return selectors.month_list()


class MonthCloseApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """Close (or re-judge) a month: managers only. Closing twice proposes nothing twice."""

    permission_classes = [IsAuthenticated]
    serializer_class = MonthCloseInputSerializer

    @extend_schema(operation_id="months_close", request=MonthCloseInputSerializer,
                   responses={200: MonthCloseResultSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        if not user_has_role(request.user, Role.MANAGER):
            raise PermissionDenied(_("Only a manager can close a month."))
        s = MonthCloseInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        first = s.validated_data["month"]
        r = services.month_close(year=first.year, month=first.month, actor=request.user,
                                 trigger=CloseTrigger.MANAGER, reason=s.validated_data["reason"])
        return Response(MonthCloseResultSerializer({
            "month": r.month, "created": r.created, "services": r.services, "judged": r.judged,
            "rejudged": r.rejudged, "unchanged": r.unchanged, "breaches": r.breaches,
            "proposed": r.proposed, "withdrawn": r.withdrawn, "reversed": r.reversed}).data)


class JudgementListApi(generics.ListAPIView):  # type: ignore[type-arg]
    """Current judgements the user may see (?all_versions=1 is not offered: a judgement's detail
    lists its versions)."""

    permission_classes = [IsAuthenticated]
    serializer_class = JudgementOutputSerializer
    filterset_class = JudgementFilter

    def get_queryset(self) -> Any:
        return selectors.judgement_list(user=self.request.user).order_by("-month", "customer_id", "service_id",
                                                                         "policy__code")


class JudgementDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated]
    serializer_class = JudgementOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.judgement_list(user=self.request.user, current_only=False)
