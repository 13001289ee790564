"""SLA API: policies, per-contract overrides, working-day overrides, clocks and their
transitions, and the overdue review (JSON and CSV).

The overdue review is for staff only: a customer user gets 403 (not an empty list), because the
review is a staff tool and an empty 200 would look like "nothing is late"."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from functools import cached_property
from typing import Any

import django_filters
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from customers.choices import Role
from customers.selectors import user_has_role
from sla import selectors, services
from sla.choices import ClockState
from sla.models import Clock, ContractPolicy, SlaPolicy, WorkdayOverride
from slaportal.api import (
    ERRORS,
    DetailSerializer,
    FilterSet,
    IdFilter,
    ManagerWrites,
    ReasonInputSerializer,
    StaffNeedsViewPerm,
    YearFilter,
    get_scoped_or_404,
)
from slaportal.api import (
    validated_input as _valid,
)
from slaportal.downloads import as_download

from .serializers import (
    ClockLiveFilterSerializer,
    ClockLiveOutputSerializer,
    ClockOutputSerializer,
    OverdueFilterSerializer,
    OverdueOutputSerializer,
    PolicyInputSerializer,
    PolicyOutputSerializer,
    PolicyOverrideCreateInputSerializer,
    PolicyOverrideOutputSerializer,
    PolicyOverrideUpdateInputSerializer,
    WorkdayOverrideInputSerializer,
    WorkdayOverrideOutputSerializer,
)

# --- Policies -----------------------------------------------------------------------------

class PolicyFilter(FilterSet):
    class Meta:
        model = SlaPolicy
        fields = ["code", "kind", "calendar", "active"]


class PolicyCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: the promises (staff). POST: a new promise (managers)."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm, ManagerWrites]
    view_perm = "sla.view_slapolicy"
    customers_allowed = False
    serializer_class = PolicyOutputSerializer
    filterset_class = PolicyFilter

    def get_queryset(self) -> Any:
        return selectors.policy_list()

    @extend_schema(operation_id="policies_create", request=PolicyInputSerializer,
                   responses={201: PolicyOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        data = _valid(PolicyInputSerializer, request)
        policy = services.policy_save(data=data, actor=request.user)
        return Response(PolicyOutputSerializer(policy).data, status=status.HTTP_201_CREATED)


class PolicyDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    """GET: one promise. PATCH: change it (managers); running clocks keep their target."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm, ManagerWrites]
    view_perm = "sla.view_slapolicy"
    customers_allowed = False
    serializer_class = PolicyOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.policy_list()

    @extend_schema(operation_id="policies_partial_update", request=PolicyInputSerializer(partial=True),
                   responses={200: PolicyOutputSerializer, **ERRORS})
    def patch(self, request: Request, pk: int) -> Response:
        policy = get_scoped_or_404(self.get_queryset(), pk=pk)
        data = _valid(PolicyInputSerializer, request, partial=True)
        policy = services.policy_save(policy=policy, data=data, actor=request.user)
        return Response(PolicyOutputSerializer(policy).data)


# --- Per-contract overrides ---------------------------------------------------------------

class PolicyOverrideFilter(FilterSet):
    contract = IdFilter(field_name="contract_id")
    customer = IdFilter(field_name="contract__customer_id")
    policy = django_filters.CharFilter(field_name="policy__code")

    class Meta:
        model = ContractPolicy
        fields = ["contract", "customer", "policy", "active"]


class PolicyOverrideCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: per-contract overrides the user may see (a customer sees their own contracts').
    POST: a new override (managers)."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm, ManagerWrites]
    view_perm = "sla.view_contractpolicy"
    serializer_class = PolicyOverrideOutputSerializer
    filterset_class = PolicyOverrideFilter

    def get_queryset(self) -> Any:
        return selectors.contract_policy_list(user=self.request.user)

    @extend_schema(operation_id="policy_overrides_create", request=PolicyOverrideCreateInputSerializer,
                   responses={201: PolicyOverrideOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        data = _valid(PolicyOverrideCreateInputSerializer, request)
        override = services.contract_policy_save(data=data, actor=request.user)
        return Response(PolicyOverrideOutputSerializer(override).data, status=status.HTTP_201_CREATED)


class PolicyOverrideDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated, StaffNeedsViewPerm, ManagerWrites]
    view_perm = "sla.view_contractpolicy"
    serializer_class = PolicyOverrideOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.contract_policy_list(user=self.request.user)

    @extend_schema(operation_id="policy_overrides_partial_update",
                   request=PolicyOverrideUpdateInputSerializer,
                   responses={200: PolicyOverrideOutputSerializer, **ERRORS})
    def patch(self, request: Request, pk: int) -> Response:
        override = get_scoped_or_404(self.get_queryset(), pk=pk)
        data = _valid(PolicyOverrideUpdateInputSerializer, request, partial=True)
        override = services.contract_policy_save(override=override, data=data, actor=request.user)
        return Response(PolicyOverrideOutputSerializer(override).data)


# --- Working-day overrides ----------------------------------------------------------------

class WorkdayOverrideFilter(FilterSet):
    year = YearFilter(field_name="date__year")

    class Meta:
        model = WorkdayOverride
        fields = ["year", "is_working_day"]


class WorkdayOverrideCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: the calendar facts entered by hand (anyone signed in). POST: a new one (managers)."""

    permission_classes = [IsAuthenticated, ManagerWrites]
    serializer_class = WorkdayOverrideOutputSerializer
    filterset_class = WorkdayOverrideFilter

    def get_queryset(self) -> Any:
        return selectors.workday_override_list()

    @extend_schema(operation_id="workday_overrides_create", request=WorkdayOverrideInputSerializer,
                   responses={201: WorkdayOverrideOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        data = _valid(WorkdayOverrideInputSerializer, request)
        override = services.workday_override_save(data=data, actor=request.user)
        return Response(WorkdayOverrideOutputSerializer(override).data, status=status.HTTP_201_CREATED)


class WorkdayOverrideDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated, ManagerWrites]
    serializer_class = WorkdayOverrideOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.workday_override_list()

    @extend_schema(operation_id="workday_overrides_partial_update",
                   request=WorkdayOverrideInputSerializer(partial=True),
                   responses={200: WorkdayOverrideOutputSerializer, **ERRORS})
    def patch(self, request: Request, pk: int) -> Response:
        override = get_scoped_or_404(self.get_queryset(), pk=pk)
        data = _valid(WorkdayOverrideInputSerializer, request, partial=True)
        override = services.workday_override_save(override=override, data=data, actor=request.user)
        return Response(WorkdayOverrideOutputSerializer(override).data)


# --- Clocks -------------------------------------------------------------------------------

class ClockFilter(FilterSet):
    state = django_filters.ChoiceFilter(choices=ClockState.choices)
    customer = IdFilter(field_name="customer_id")
    contract = IdFilter(field_name="contract_id")
    assignee = IdFilter(field_name="assignee_id")
    policy = django_filters.CharFilter(field_name="policy__code")

    class Meta:
        model = Clock
        fields = ["state", "customer", "contract", "assignee", "policy"]


class ClockListApi(generics.ListAPIView):  # type: ignore[type-arg]
    """The clocks the user may see, soonest deadline first."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "sla.view_clock"
    serializer_class = ClockOutputSerializer
    filterset_class = ClockFilter

    def get_queryset(self) -> Any:
        return selectors.clock_list(user=self.request.user).order_by("due_at", "id")


class ClockDetailApi(generics.RetrieveAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "sla.view_clock"
    serializer_class = ClockOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.clock_list(user=self.request.user)


class _ClockTransitionApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """POST one transition of a clock (managers). The clock is looked up in the user's scope
    first, so another customer's clock is a 404 before the role is even considered; a move the
    state machine does not allow is a 409 and changes nothing."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "sla.view_clock"
    serializer_class = ReasonInputSerializer
    service: Any = None

    def get_queryset(self) -> Any:
        return selectors.clock_list(user=self.request.user)

    def post(self, request: Request, pk: int) -> Response:
        clock = get_scoped_or_404(self.get_queryset(), pk=pk)
        if not user_has_role(request.user, Role.MANAGER):
            raise PermissionDenied(_("Only a manager can change a clock by hand."))
        data = _valid(ReasonInputSerializer, request)
        type(self).service(clock_id=clock.pk, actor=request.user, reason=data["reason"])
        clock = get_scoped_or_404(self.get_queryset(), pk=pk)
        return Response(ClockOutputSerializer(clock).data)


class ClockLiveApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """The clocks a live page shows (static/js/live.js polls this): state, times, time-left
    text. Ids outside the user's scope are absent from the answer, not an error."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "sla.view_clock"
    serializer_class = ClockLiveOutputSerializer
    pagination_class = None
    filter_backends: list[Any] = []

    @extend_schema(operation_id="clocks_live", parameters=[ClockLiveFilterSerializer],
                   responses={200: ClockLiveOutputSerializer, 400: ERRORS[400], 403: ERRORS[403]})
    def get(self, request: Request) -> Response:
        f = ClockLiveFilterSerializer(data=request.query_params)
        f.is_valid(raise_exception=True)
        now = timezone.now()
        clocks = selectors.clock_live_list(user=request.user, ids=f.validated_data["ids"])
        return Response(ClockLiveOutputSerializer({"now": now, "clocks": clocks},
                                                  context={"request": request, "now": now}).data)


TRANSITION_RESPONSES = {
    200: ClockOutputSerializer,
    **ERRORS,
    404: OpenApiResponse(DetailSerializer, description="No such clock in your scope."),
    409: OpenApiResponse(DetailSerializer, description="The clock's state does not allow this."),
}


@extend_schema_view(post=extend_schema(operation_id="clocks_pause", request=ReasonInputSerializer,
                                      responses=TRANSITION_RESPONSES))
class ClockPauseApi(_ClockTransitionApi):
    """Stop the time of a running clock."""

    service = staticmethod(services.clock_pause)


@extend_schema_view(post=extend_schema(operation_id="clocks_resume", request=ReasonInputSerializer,
                                      responses=TRANSITION_RESPONSES))
class ClockResumeApi(_ClockTransitionApi):
    """Restart a paused clock; its deadline moves by the paused span."""

    service = staticmethod(services.clock_resume)


@extend_schema_view(post=extend_schema(operation_id="clocks_cancel", request=ReasonInputSerializer,
                                      responses=TRANSITION_RESPONSES))
class ClockCancelApi(_ClockTransitionApi):
    """The obligation went away: cancel a running or paused clock."""

    service = staticmethod(services.clock_cancel)


# --- Overdue review -----------------------------------------------------------------------

def _local(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


class OverdueCsvRenderer(BaseRenderer):
    """The overdue review as CSV for a spreadsheet: UTF-8 with a BOM (so Excel reads the
    Chinese), times in Asia/Shanghai local time, headers in the user's language."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    COLUMNS = (
        ("id", gettext_noop("ID")), ("policy", gettext_noop("Policy")),
        ("policy_name", gettext_noop("Promise")), ("label", gettext_noop("Item")),
        ("customer_name", gettext_noop("Customer")), ("assignee", gettext_noop("Assignee")),
        ("state", gettext_noop("State")), ("bucket", gettext_noop("Bucket")),
        ("started_at", gettext_noop("Started at")), ("due_at", gettext_noop("Due at")),
        ("breached_at", gettext_noop("Breached at")), ("seconds_left", gettext_noop("Minutes left")),
    )

    def render(self, data: Any, accepted_media_type: str | None = None,
               renderer_context: dict[str, Any] | None = None) -> bytes:
        out = io.StringIO()
        w = csv.writer(out)
        if isinstance(data, dict):  # an error body
            w.writerow(["detail"])
            w.writerow([data.get("detail", data)])
        else:
            w.writerow([_(label) for _key, label in self.COLUMNS])
            for row in data:
                w.writerow(self._row(row))
        return ("\ufeff" + out.getvalue()).encode("utf-8")

    @staticmethod
    def _row(row: dict[str, Any]) -> list[Any]:
        assignee = row.get("assignee") or {}
        return [
            row["id"], row["policy"], row["policy_name"], row["label"], row.get("customer_name") or "",
            assignee.get("username", ""), row["state"], row["bucket"], _local(row["_started_at"]),
            _local(row["_due_at"]), _local(row["_breached_at"]), round(row["seconds_left"] / 60),
        ]


class OverdueListApi(generics.ListAPIView):  # type: ignore[type-arg]
    """Every open (or breached and still owed) clock across all workflows that is overdue or
    in its warning window, most urgent first. Staff only. `?format=csv` (or /api/overdue.csv)
    exports every matching row, unpaginated."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "sla.view_clock"
    customers_allowed = False
    serializer_class = OverdueOutputSerializer
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, OverdueCsvRenderer]

    def get_queryset(self) -> Any:
        f = OverdueFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        return selectors.overdue_review(user=self.request.user, now=self._now, **f.to_selector_kwargs())

    @cached_property
    def _now(self) -> datetime:
        """One 'now' per request: the buckets and seconds_left agree with each other."""
        return timezone.now()

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "now": self._now}

    @extend_schema(
        operation_id="overdue_list", parameters=[OverdueFilterSerializer],
        responses={(200, "application/json"): OverdueOutputSerializer(many=True),
                   (200, "text/csv"): OpenApiTypes.STR, 403: ERRORS[403]},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if request.accepted_renderer.format != "csv":
            return self.list(request, *args, **kwargs)
        clocks = list(self.get_queryset())
        rows = self.get_serializer(clocks, many=True).data
        # The CSV wants local wall-clock times, not the ISO strings of the JSON.
        for row, clock in zip(rows, clocks, strict=True):
            row["_started_at"], row["_due_at"], row["_breached_at"] = (
                clock.started_at, clock.due_at, clock.breached_at)
        stamp = timezone.localtime(self._now).strftime("%Y%m%d-%H%M")
        return as_download(Response(rows), stem=f"overdue-{stamp}", content_type="text/csv")


@extend_schema_view(get=extend_schema(
    operation_id="overdue_csv", tags=["overdue"], parameters=[OverdueFilterSerializer],
    responses={(200, "text/csv"): OpenApiTypes.STR, 403: ERRORS[403]},
))
class OverdueCsvApi(OverdueListApi):
    """The overdue review as a CSV download (same filters)."""

    renderer_classes = [OverdueCsvRenderer]
