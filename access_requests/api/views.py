"""Visits API, mirroring the pages: the scoped list and one visit, booking, each transition as
a POST action, changes (PATCH), the door (lookup, the full-ID view for security, check-in and
check-out per visitor), rooms, and the visit log as CSV or PDF.

Every visit is looked up in the user's scope first (access_requests.selectors), so another
customer's visit is a 404 before anything else is considered. Writes are one service call; an
illegal transition is a 409 and changes nothing."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from customers.selectors import user_is_staff
from slaportal.api import (
    ERRORS,
    DetailSerializer,
    FileDownloadMixin,
    ReasonInputSerializer,
    StaffNeedsViewPerm,
    get_scoped_or_404,
)
from slaportal.api import validated_input as _valid
from slaportal.downloads import bytes_download

from .. import services
from ..exports import log_file_stem, visit_log_csv, visit_log_pdf
from ..models import Visit
from ..selectors import door_lookup, is_security, may_see_full_id, room_list, visit_list, visit_log
from .serializers import (
    ApproveInputSerializer,
    CheckInInputSerializer,
    CheckOutInputSerializer,
    CloseInputSerializer,
    DeclineInputSerializer,
    DoorLookupSerializer,
    DoorVisitOutputSerializer,
    EscortInputSerializer,
    LogFilterSerializer,
    RoomOutputSerializer,
    VisitChangeInputSerializer,
    VisitCreateInputSerializer,
    VisitFilterSerializer,
    VisitorOutputSerializer,
    VisitOutputSerializer,
)

NOT_FOUND = {404: OpenApiResponse(DetailSerializer, description="No such visit in your scope.")}
CONFLICT = {409: OpenApiResponse(DetailSerializer,
                                 description="The visit's state does not allow this (or the escort is "
                                             "booked at an overlapping time); nothing changed.")}
ACTION_RESPONSES = {200: VisitOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT}



class _ScopedVisitMixin:
    """Visits are read by staff with the view permission and by the users of their customer."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "access_requests.view_visit"
    request: Request

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, no database
            return Visit.objects.none()
        return visit_list(user=self.request.user).prefetch_related("visitors")

    def get_visit(self, pk: int) -> Visit:
        return get_scoped_or_404(self.get_queryset(), pk=pk)

    def out(self, pk: int) -> Response:
        return Response(VisitOutputSerializer(self.get_visit(pk)).data)


class VisitCollectionApi(_ScopedVisitMixin, generics.ListAPIView):  # type: ignore[type-arg]
    """GET: the visits the user may see, soonest first. POST: book a visit (a customer user for
    their own organisation; staff for a customer). Inside the lead time only as an emergency."""

    serializer_class = VisitOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Visit.objects.none()
        f = VisitFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        return visit_list(user=self.request.user, **f.to_selector_kwargs()).prefetch_related("visitors")

    @extend_schema(operation_id="visits_list", parameters=[VisitFilterSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="visits_create", request=VisitCreateInputSerializer,
                   responses={201: VisitOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        user = request.user
        data = _valid(VisitCreateInputSerializer, request)
        customer = data.pop("customer")
        if user_is_staff(user):
            if customer is None:
                raise ValidationError({"customer": [_("This field is required.")]})
        else:
            customer = user.customer_link.customer
        visitors = [services.VisitorInput(**v) for v in data.pop("visitors")]
        visit = services.visit_book(customer=customer, actor=user, visitors=visitors, **data)
        return Response(VisitOutputSerializer(self.get_visit(visit.pk)).data, status=status.HTTP_201_CREATED)


class VisitDetailApi(_ScopedVisitMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """GET: one visit (ID numbers masked). PATCH: change the room, the times or the escort of a
    visit not yet entered; an approved visit's customer receives an updated invitation."""

    serializer_class = VisitOutputSerializer

    @extend_schema(operation_id="visits_retrieve", responses={200: VisitOutputSerializer, **NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        return self.out(pk)

    @extend_schema(operation_id="visits_partial_update", request=VisitChangeInputSerializer,
                   responses=ACTION_RESPONSES)
    def patch(self, request: Request, pk: int) -> Response:
        visit = self.get_visit(pk)
        data = _valid(VisitChangeInputSerializer, request)
        services.visit_change(visit_id=visit.pk, actor=request.user, **data)
        return self.out(pk)


class VisitApproveApi(_ScopedVisitMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """Approve a requested visit with its escort (data-centre staff or a manager); the customer
    receives the calendar invitation (METHOD:REQUEST)."""

    serializer_class = ApproveInputSerializer

    @extend_schema(operation_id="visits_approve", request=ApproveInputSerializer, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        visit = self.get_visit(pk)
        data = _valid(ApproveInputSerializer, request)
        services.visit_approve(visit_id=visit.pk, actor=request.user, **data)
        return self.out(pk)


class VisitDeclineApi(_ScopedVisitMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """Decline a requested visit with a reason; the customer is told (METHOD:CANCEL)."""

    serializer_class = DeclineInputSerializer

    @extend_schema(operation_id="visits_decline", request=DeclineInputSerializer, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        visit = self.get_visit(pk)
        data = _valid(DeclineInputSerializer, request)
        services.visit_decline(visit_id=visit.pk, actor=request.user, reason=data["reason"])
        return self.out(pk)


class VisitCancelApi(_ScopedVisitMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """Cancel before entry (the customer, or data-centre staff); the calendar event is cancelled."""

    serializer_class = ReasonInputSerializer

    @extend_schema(operation_id="visits_cancel", request=ReasonInputSerializer, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        visit = self.get_visit(pk)
        data = _valid(ReasonInputSerializer, request)
        services.visit_cancel(visit_id=visit.pk, actor=request.user, reason=data["reason"])
        return self.out(pk)


class VisitEscortApi(_ScopedVisitMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """Assign another escort to an approved visit; a clash with the escort's other visits is a
    409 unless `allow_escort_overlap` confirms it."""

    serializer_class = EscortInputSerializer

    @extend_schema(operation_id="visits_escort", request=EscortInputSerializer, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        visit = self.get_visit(pk)
        data = _valid(EscortInputSerializer, request)
        services.visit_change(visit_id=visit.pk, actor=request.user, **data)
        return self.out(pk)


class VisitCloseApi(_ScopedVisitMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """Close a checked-out visit with a note of the work done."""

    serializer_class = CloseInputSerializer

    @extend_schema(operation_id="visits_close", request=CloseInputSerializer, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        visit = self.get_visit(pk)
        data = _valid(CloseInputSerializer, request)
        services.visit_close(visit_id=visit.pk, actor=request.user, work_done=data["work_done"])
        return self.out(pk)


# --- the door ----------------------------------------------------------------------------------

class _SecurityMixin(_ScopedVisitMixin):
    kwargs: dict[str, Any]

    def check_permissions(self, request: Request) -> None:
        super().check_permissions(request)  # type: ignore[misc]
        # A visit in the URL is looked up before the role check: another customer's is a 404.
        if "pk" in self.kwargs:
            self.get_visit(self.kwargs["pk"])
        if not is_security(request.user):
            raise PermissionDenied(_("Only data-centre security works at the door."))


@extend_schema_view(get=extend_schema(operation_id="visits_door_lookup", parameters=[DoorLookupSerializer],
                                      responses={200: VisitOutputSerializer(many=True), **ERRORS}))
class VisitDoorLookupApi(_SecurityMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """Security looks up visits that can be checked in (or are inside) by booking number or the
    name of a visitor on the booking."""

    serializer_class = VisitOutputSerializer
    pagination_class = None

    def get(self, request: Request) -> Response:
        f = DoorLookupSerializer(data=request.query_params)
        f.is_valid(raise_exception=True)
        found = door_lookup(user=request.user, q=f.validated_data["q"])[:50]
        return Response(VisitOutputSerializer(found, many=True).data)


class VisitDoorApi(_SecurityMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """The visit as security sees it at check-in: with the full ID numbers, only while the visit
    can be checked in or is inside (otherwise masked, like everywhere else)."""

    serializer_class = DoorVisitOutputSerializer

    @extend_schema(operation_id="visits_door_retrieve", responses={200: DoorVisitOutputSerializer, **ERRORS,
                                                                    **NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        visit = self.get_visit(pk)
        cls = DoorVisitOutputSerializer if may_see_full_id(request.user, visit) else VisitOutputSerializer
        return Response(cls(visit).data)


class VisitCheckInApi(_SecurityMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """Check one listed visitor in with the pass number and the ID document confirmed. Someone
    not on the booking is a 400 and nothing changes."""

    serializer_class = CheckInInputSerializer

    @extend_schema(operation_id="visits_check_in", request=CheckInInputSerializer,
                   responses={200: VisitorOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        visit = self.get_visit(pk)
        data = _valid(CheckInInputSerializer, request)
        person = services.visitor_check_in(visit_id=visit.pk, visitor_id=data["visitor"], actor=request.user,
                                           pass_number=data["pass_number"],
                                           id_document_confirmed=data["id_document_confirmed"],
                                           override_reason=data["override_reason"])
        return Response(VisitorOutputSerializer(person).data)


class VisitCheckOutApi(_SecurityMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """Log the exit of one visitor, or of everyone still inside; the last one out checks the
    visit out."""

    serializer_class = CheckOutInputSerializer

    @extend_schema(operation_id="visits_check_out", request=CheckOutInputSerializer, responses=ACTION_RESPONSES)
    def post(self, request: Request, pk: int) -> Response:
        visit = self.get_visit(pk)
        data = _valid(CheckOutInputSerializer, request)
        services.visitor_check_out(visit_id=visit.pk, actor=request.user, visitor_id=data["visitor"])
        return self.out(pk)


# --- rooms and the log -------------------------------------------------------------------------

@extend_schema_view(get=extend_schema(operation_id="rooms_list"))
class RoomListApi(generics.ListAPIView):  # type: ignore[type-arg]
    """The machine rooms open for visits."""

    permission_classes = [IsAuthenticated]
    serializer_class = RoomOutputSerializer
    pagination_class = None

    def get_queryset(self) -> Any:
        return room_list()


def _log_kwargs(request: Request) -> dict[str, Any]:
    f = LogFilterSerializer(data=request.query_params)
    f.is_valid(raise_exception=True)
    d = f.validated_data
    return {"date_from": d.get("date_from"), "date_to": d.get("date_to"), "room_id": d.get("room"),
            "customer_id": d.get("customer")}


class VisitLogCsvApi(FileDownloadMixin, _ScopedVisitMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """The visit log (one row per visitor, ID numbers masked) as CSV."""

    @extend_schema(operation_id="visit_log_csv", parameters=[LogFilterSerializer],
                   responses={(200, "text/csv"): OpenApiTypes.BINARY, **ERRORS})
    def get(self, request: Request) -> HttpResponse:
        kw = _log_kwargs(request)
        return bytes_download(visit_log_csv(visit_log(user=request.user, **kw)), stem=log_file_stem(kw),
                              content_type="text/csv")


class VisitLogPdfApi(FileDownloadMixin, _ScopedVisitMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """The visit log (one row per visitor, ID numbers masked) as PDF."""

    @extend_schema(operation_id="visit_log_pdf", parameters=[LogFilterSerializer],
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY, **ERRORS})
    def get(self, request: Request) -> HttpResponse:
        kw = _log_kwargs(request)
        pdf = visit_log_pdf(visit_log(user=request.user, **kw), date_from=kw["date_from"], date_to=kw["date_to"])
        return bytes_download(pdf, stem=log_file_stem(kw), content_type="application/pdf")
