"""Service-request API: the scoped list and one request, opening a request, each transition as
a POST sub-route named after it, replies, internal notes (staff only) and agreed service
changes. Every request is looked up in the user's scope first, so another customer's request is
a 404 before anything else; an illegal transition is a 409 and changes nothing."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from customers.selectors import user_customer_id, user_is_staff
from operations.models import OperationRequest
from slaportal.api import ERRORS, DetailSerializer, ReasonInputSerializer, get_scoped_or_404
from slaportal.api import validated_input as _valid

from .. import services
from ..models import ServiceRequest
from ..selectors import request_entries, request_list
from ..services.common import is_handler
from .serializers import (
    ChangeInputSerializer,
    ChangeOutputSerializer,
    EntryOutputSerializer,
    ReplyInputSerializer,
    RequestCreateInputSerializer,
    RequestFilterSerializer,
    RequestOutputSerializer,
    ServiceRequestNoteInputSerializer,
)

NOT_FOUND = {404: OpenApiResponse(DetailSerializer, description="No such request in your scope.")}
CONFLICT = {409: OpenApiResponse(DetailSerializer, description="The request's state does not allow this.")}


class _RequestApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """Requests are read by customer-service staff and by the users of the request's customer;
    data-centre staff have no part in them."""

    permission_classes = [IsAuthenticated]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not (is_handler(request.user) or user_customer_id(request.user) is not None):
            raise PermissionDenied

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ServiceRequest.objects.none()
        return request_list(user=self.request.user)

    def get_request(self, pk: int) -> ServiceRequest:
        return get_scoped_or_404(self.get_queryset(), pk=pk)


class RequestCollectionApi(mixins.ListModelMixin, _RequestApi):
    """GET: the requests the user may see, newest first, with both clocks. POST: open one."""

    serializer_class = RequestOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ServiceRequest.objects.none()
        f = RequestFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        return request_list(user=self.request.user, **f.to_selector_kwargs())

    @extend_schema(operation_id="service_requests_list", parameters=[RequestFilterSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="service_requests_create", request=RequestCreateInputSerializer,
                   responses={201: RequestOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        user = request.user
        data = _valid(RequestCreateInputSerializer, request)
        if user_is_staff(user):
            for field in ("customer", "channel"):
                if not data.get(field):
                    raise ValidationError({field: [_("This field is required.")]})
        else:
            data["customer"] = user.customer_link.customer  # type: ignore[union-attr]
            data["channel"] = "portal"
            data["requester_name"] = data["requester_name"] or user.get_full_name() or user.get_username()  # type: ignore[union-attr]
            data["requester_email"] = data["requester_email"] or user.email  # type: ignore[union-attr]
        sr = services.request_create(actor=user, **data)
        return Response(RequestOutputSerializer(self.get_request(sr.pk)).data, status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(operation_id="service_requests_retrieve",
                                      responses={200: RequestOutputSerializer, **NOT_FOUND}))
class RequestDetailApi(_RequestApi):
    """One request (its thread is under replies/ and, for staff, notes/)."""

    serializer_class = RequestOutputSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(RequestOutputSerializer(self.get_request(pk)).data)


class _TransitionApi(_RequestApi):
    serializer_class = ReasonInputSerializer
    service: Any = None

    def post(self, request: Request, pk: int) -> Response:
        sr = self.get_request(pk)
        data = _valid(ReasonInputSerializer, request)
        type(self).service(request_id=sr.pk, actor=request.user, reason=data["reason"])
        return Response(RequestOutputSerializer(self.get_request(pk)).data)


def _transition(op: str, doc: str, service: Any) -> type[_TransitionApi]:
    cls = type(f"Request{op.title()}Api", (_TransitionApi,),
               {"__doc__": doc, "service": staticmethod(service), "__module__": __name__})
    return extend_schema_view(post=extend_schema(
        operation_id=f"service_requests_{op}", request=ReasonInputSerializer,
        responses={200: RequestOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT}))(cls)


TRANSITION_APIS = {
    "start": _transition("start", "Take the request up (staff): new → in progress.", services.request_start),
    "wait": _transition("wait", "Wait for the customer (staff); the resolution clock pauses.",
                        services.request_wait),
    "resume": _transition("resume", "Back to in progress from waiting.", services.request_resume),
    "resolve": _transition("resolve", "Resolve (staff); the resolution clock is met.", services.request_resolve),
    "close": _transition("close", "Close a resolved request (staff or the customer).", services.request_close),
    "reopen": _transition("reopen", "Reopen (the customer within the window, staff any time); `reason` "
                          "is required.", services.request_reopen),
    "cancel": _transition("cancel", "Cancel an open request (staff or the customer).", services.request_cancel),
}


class ReplyCollectionApi(_RequestApi):
    """GET: the replies (never the internal notes). POST: reply (staff: the first meets the
    first-response clock and the customer's contacts are mailed; the customer: a waiting request
    resumes)."""

    serializer_class = EntryOutputSerializer
    pagination_class = None

    @extend_schema(operation_id="service_requests_replies_list",
                   responses={200: EntryOutputSerializer(many=True), **NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        sr = self.get_request(pk)
        return Response(EntryOutputSerializer(request_entries(user=None, sr=sr), many=True).data)

    @extend_schema(operation_id="service_requests_replies_create", request=ReplyInputSerializer,
                   responses={201: EntryOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        sr = self.get_request(pk)
        data = _valid(ReplyInputSerializer, request)
        entry = services.reply_add(request_id=sr.pk, actor=request.user, body=data["body"],
                                   wait_for_customer=data["wait_for_customer"] and is_handler(request.user))
        return Response(EntryOutputSerializer(entry).data, status=status.HTTP_201_CREATED)


class NoteCollectionApi(_RequestApi):
    """Internal notes: staff only (a customer user gets 403 here, and never sees a note
    anywhere else)."""

    serializer_class = EntryOutputSerializer
    pagination_class = None

    def _staff(self, request: Request, pk: int) -> ServiceRequest:
        sr = self.get_request(pk)
        if not is_handler(request.user):
            raise PermissionDenied(_("Internal notes are for staff only."))
        return sr

    @extend_schema(operation_id="service_requests_notes_list",
                   responses={200: EntryOutputSerializer(many=True), **ERRORS, **NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        sr = self._staff(request, pk)
        return Response(EntryOutputSerializer(sr.entries.filter(kind="note"), many=True).data)

    @extend_schema(operation_id="service_requests_notes_create", request=ServiceRequestNoteInputSerializer,
                   responses={201: EntryOutputSerializer, **ERRORS, **NOT_FOUND})
    def post(self, request: Request, pk: int) -> Response:
        sr = self._staff(request, pk)
        data = _valid(ServiceRequestNoteInputSerializer, request)
        entry = services.note_add(request_id=sr.pk, actor=request.user, body=data["body"])
        return Response(EntryOutputSerializer(entry).data, status=status.HTTP_201_CREATED)


class ChangeCollectionApi(_RequestApi):
    """POST: record a service change agreed with the customer (staff)."""

    serializer_class = ChangeOutputSerializer

    @extend_schema(operation_id="service_requests_changes_create", request=ChangeInputSerializer,
                   responses={201: ChangeOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        sr = self.get_request(pk)
        if not is_handler(request.user):
            raise PermissionDenied
        data = _valid(ChangeInputSerializer, request)
        op = None
        if data["operation"] is not None:
            op = OperationRequest.objects.filter(pk=data["operation"], customer_id=sr.customer_id).first()
            if op is None:
                raise ValidationError({"operation": [_("No such operation of this customer.")]})
        change = services.service_change_agree(
            request_id=sr.pk, actor=request.user, changes=data["changes"], note=data["note"],
            needs_operation=data["needs_operation"], operation=op,
            operation_contact=data["operation_contact"])
        return Response(ChangeOutputSerializer(change).data, status=status.HTTP_201_CREATED)


class ChangeApplyApi(_RequestApi):
    """POST: apply an agreed change to the service record (staff; audited)."""

    serializer_class = ChangeOutputSerializer

    @extend_schema(operation_id="service_requests_changes_apply", request=None,
                   responses={200: ChangeOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT})
    def post(self, request: Request, pk: int, change_pk: int) -> Response:
        sr = self.get_request(pk)
        if not is_handler(request.user):
            raise PermissionDenied
        change = get_scoped_or_404(sr.changes.all(), pk=change_pk)
        change = services.service_change_apply(change_id=change.pk, actor=request.user)
        return Response(ChangeOutputSerializer(change).data)
