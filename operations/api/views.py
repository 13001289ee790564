"""Operations API: requests, written and phone authorizations, the work and its report.

Reads come from operations.selectors (scoped by request.user: another customer's request, its
authorization files and its reports are 404); every write is one call of operations.services."""

from __future__ import annotations

from typing import Any

import django_filters
from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from operations import selectors, services
from operations.choices import OperationState, PhoneAttemptResult
from operations.downloads import authorization_file_response, report_file_response
from operations.models import Authorization, OperationRequest
from reports.models import WrittenReport
from slaportal.api import (
    UPLOADED_FILE_RESPONSES,
    DetailSerializer,
    FileDownloadMixin,
    FilterSet,
    IdFilter,
    ReasonInputSerializer,
    StaffNeedsViewPerm,
    get_scoped_or_404,
)
from slaportal.api import validated_input as _valid
from slaportal.errors import DomainError

from .serializers import (
    OperationCreateInputSerializer,
    OperationDetailOutputSerializer,
    OperationFeedbackInputSerializer,
    OperationFinishInputSerializer,
    OperationMessageOutputSerializer,
    OperationOutputSerializer,
    OperationReportInputSerializer,
    OperationReportOutputSerializer,
    OperationStepInputSerializer,
    OperationStepOutputSerializer,
    PhoneAttemptOutputSerializer,
    PhoneAttemptRefusedOutputSerializer,
    PhoneAuthorizationInputSerializer,
    WrittenAuthorizationInputSerializer,
)

VIEW_PERM = "operations.view_operationrequest"
ERRORS = {
    400: OpenApiResponse(DetailSerializer, description="Bad input: one list of messages per field."),
    403: OpenApiResponse(DetailSerializer, description="The role does not allow this."),
    404: OpenApiResponse(DetailSerializer, description="No such operation in your scope."),
    409: OpenApiResponse(DetailSerializer, description="The operation's state does not allow this "
                                                       "(e.g. no accepted authorization yet)."),
}
BINARY = {**UPLOADED_FILE_RESPONSES, 404: ERRORS[404]}



class _OperationApi(generics.GenericAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = VIEW_PERM
    serializer_class = OperationDetailOutputSerializer

    def get_queryset(self) -> Any:
        return selectors.operation_list(user=self.request.user)

    def operation(self, pk: int) -> OperationRequest:
        return get_scoped_or_404(self.get_queryset(), pk=pk)

    def detail(self, pk: int, *, code: int = status.HTTP_200_OK) -> Response:
        op = self.operation(pk)
        return Response(OperationDetailOutputSerializer(op, context={"request": self.request}).data,
                        status=code)


class OperationFilter(FilterSet):
    customer = IdFilter(field_name="customer_id")
    state = django_filters.ChoiceFilter(choices=OperationState.choices)

    class Meta:
        model = OperationRequest
        fields = ["customer", "state", "urgency"]


class OperationCollectionApi(generics.ListAPIView):  # type: ignore[type-arg]
    """GET: the operation requests the user may see. POST: request an operation (the customer's
    user for their own organisation, or staff on an authorized contact's behalf)."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = VIEW_PERM
    serializer_class = OperationOutputSerializer
    filterset_class = OperationFilter

    def get_queryset(self) -> Any:
        return selectors.operation_list(user=self.request.user)

    @extend_schema(operation_id="operations_create", request=OperationCreateInputSerializer,
                   responses={201: OperationDetailOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        data = _valid(OperationCreateInputSerializer, request)
        op = services.operation_create(**data, actor=request.user)
        return Response(OperationDetailOutputSerializer(op, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class OperationDetailApi(_OperationApi):
    """One operation request with its authorizations, steps, messages and reports."""

    @extend_schema(operation_id="operations_retrieve", responses={200: OperationDetailOutputSerializer,
                                                                  404: ERRORS[404]})
    def get(self, request: Request, pk: int) -> Response:
        return self.detail(pk)


class WrittenAuthorizationApi(_OperationApi):
    """Upload a written authorization 书面授权 (multipart). From the customer it waits for the
    engineer's check; from the engineer it is accepted at once. Oversize files get 413."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="operations_written_authorizations_create",
                   request={"multipart/form-data": WrittenAuthorizationInputSerializer},
                   responses={201: OperationDetailOutputSerializer,
                              413: OpenApiResponse(DetailSerializer, description="File too large."),
                              **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        op = self.operation(pk)
        data = _valid(WrittenAuthorizationInputSerializer, request)
        corrects = None
        if data["corrects"]:
            corrects = Authorization.objects.filter(operation=op, pk=data["corrects"]).first()
            if corrects is None:
                raise ValidationError({"corrects": [_("No such authorization of this operation.")]})
        try:
            services.authorization_upload_written(
                operation_id=op.pk, f=data["file"], contact=data["contact"], actor=request.user,
                signed_on=data["signed_on"], corrects=corrects, note=data["note"])
        except DomainError as e:
            if e.code == "too_large":
                return Response({"detail": str(e.message), "code": e.code},
                                status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
            raise
        return self.detail(op.pk, code=status.HTTP_201_CREATED)


class PhoneAuthorizationApi(_OperationApi):
    """Record a phone authorization 电话授权 attempt: the caller and the MRTG user name and
    password they give. 201: accepted. 403: wrong pair (非法授权), logged. 423: phone
    authorization for this customer is locked after repeated wrong attempts, logged."""

    @extend_schema(operation_id="operations_phone_authorizations_create",
                   request=PhoneAuthorizationInputSerializer,
                   responses={201: PhoneAttemptOutputSerializer,
                              423: PhoneAttemptRefusedOutputSerializer, **ERRORS,
                              403: OpenApiResponse(DetailSerializer, description=(
                                  "The role does not allow this; or the caller's MRTG user name "
                                  "and password are wrong (非法授权): then the body also has the "
                                  "logged attempt's fields (PhoneAttemptRefusedOutput)."))})
    def post(self, request: Request, pk: int) -> Response:
        op = self.operation(pk)
        data = _valid(PhoneAuthorizationInputSerializer, request)
        attempt = services.phone_authorization_attempt(operation_id=op.pk, actor=request.user, **data)
        result = PhoneAttemptResult(attempt.result)
        if result == PhoneAttemptResult.ACCEPTED:
            return Response(PhoneAttemptOutputSerializer(attempt).data, status=status.HTTP_201_CREATED)
        # A refusal is an error response: the one error body, plus the attempt that was logged.
        if result == PhoneAttemptResult.LOCKED:
            code, detail = status.HTTP_423_LOCKED, _("Phone authorization for this customer is locked "
                                                     "after repeated wrong answers; it was refused and logged.")
        else:
            code, detail = status.HTTP_403_FORBIDDEN, _("The MRTG user name or password is wrong "
                                                        "(unauthorized); the attempt was logged.")
        body = {**PhoneAttemptOutputSerializer(attempt).data, "detail": detail, "code": result.value}
        return Response(body, status=code)


class _AuthorizationApi(_OperationApi):
    def authorization(self, pk: int, auth_pk: int) -> Authorization:
        op = self.operation(pk)
        return get_scoped_or_404(selectors.authorization_list(user=self.request.user, operation=op),
                                 pk=auth_pk)


class AuthorizationFileApi(FileDownloadMixin, _AuthorizationApi):
    """Download the signed document of a written authorization (as an attachment)."""

    @extend_schema(operation_id="operations_authorizations_file", responses=BINARY)
    def get(self, request: Request, pk: int, auth_pk: int) -> FileResponse:
        auth = self.authorization(pk, auth_pk)
        if not auth.stored_name:
            from django.http import Http404

            raise Http404
        return authorization_file_response(auth)


class _AuthorizationDecisionApi(_AuthorizationApi):
    service: Any = None

    def post(self, request: Request, pk: int, auth_pk: int) -> Response:
        auth = self.authorization(pk, auth_pk)
        reason = _valid(ReasonInputSerializer, request)["reason"]
        type(self).service(authorization_id=auth.pk, actor=request.user, reason=reason)
        return self.detail(pk)


@extend_schema_view(post=extend_schema(operation_id="operations_authorizations_accept",
                                       request=ReasonInputSerializer,
                                       responses={200: OperationDetailOutputSerializer, **ERRORS}))
class AuthorizationAcceptApi(_AuthorizationDecisionApi):
    """Accept a written authorization the customer uploaded (engineer, after checking the signature)."""

    service = staticmethod(services.authorization_accept)


@extend_schema_view(post=extend_schema(operation_id="operations_authorizations_reject",
                                       request=ReasonInputSerializer,
                                       responses={200: OperationDetailOutputSerializer, **ERRORS}))
class AuthorizationRejectApi(_AuthorizationDecisionApi):
    """Reject a written authorization (a reason is required)."""

    service = staticmethod(services.authorization_reject)


class _TransitionApi(_OperationApi):
    service: Any = None
    input_serializer: Any = ReasonInputSerializer

    def post(self, request: Request, pk: int) -> Response:
        op = self.operation(pk)
        data = _valid(self.input_serializer, request)
        type(self).service(operation_id=op.pk, actor=request.user, **data)
        return self.detail(pk)


def _transition_schema(op_id: str, request: Any = ReasonInputSerializer) -> Any:
    return extend_schema_view(post=extend_schema(
        operation_id=op_id, request=request,
        responses={200: OperationDetailOutputSerializer, **ERRORS}))


@_transition_schema("operations_refuse")
class OperationRefuseApi(_TransitionApi):
    """Refuse the request (engineer; a reason is required), e.g. after a 非法授权 phone call."""

    service = staticmethod(services.operation_refuse)


@_transition_schema("operations_cancel")
class OperationCancelApi(_TransitionApi):
    """Cancel the request before the work starts (the customer or staff)."""

    service = staticmethod(services.operation_cancel)


@_transition_schema("operations_start", request=None)
class OperationStartApi(_TransitionApi):
    """Start the work: 409 unless an authorization has been accepted."""

    service = staticmethod(services.operation_start)
    input_serializer = None

    def post(self, request: Request, pk: int) -> Response:
        op = self.operation(pk)
        services.operation_start(operation_id=op.pk, actor=request.user)
        return self.detail(pk)


@_transition_schema("operations_finish", request=OperationFinishInputSerializer)
class OperationFinishApi(_TransitionApi):
    """The work is done: record the result; starts C6 (the written report within 24 hours)."""

    service = staticmethod(services.operation_finish)
    input_serializer = OperationFinishInputSerializer


@_transition_schema("operations_close")
class OperationCloseApi(_TransitionApi):
    """Close a reported operation."""

    service = staticmethod(services.operation_close)


class OperationStepApi(_OperationApi):
    """Log a step of the work with its time (in progress only)."""

    @extend_schema(operation_id="operations_steps_create", request=OperationStepInputSerializer,
                   responses={201: OperationStepOutputSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        op = self.operation(pk)
        data = _valid(OperationStepInputSerializer, request)
        step = services.operation_step_add(operation_id=op.pk, actor=request.user, **data)
        return Response(OperationStepOutputSerializer(step).data, status=status.HTTP_201_CREATED)


class OperationFeedbackApi(_OperationApi):
    """Send a feedback message to the customer (e-mail and portal); the first one meets C5."""

    @extend_schema(operation_id="operations_messages_create", request=OperationFeedbackInputSerializer,
                   responses={201: OperationMessageOutputSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        op = self.operation(pk)
        data = _valid(OperationFeedbackInputSerializer, request)
        msg = services.operation_feedback_send(operation_id=op.pk, actor=request.user, **data)
        return Response(OperationMessageOutputSerializer(msg).data, status=status.HTTP_201_CREATED)


class OperationReportApi(_OperationApi):
    """Issue the written operation report (PDF) and send it to the customer; meets C6. With
    `corrects`, a new version of an issued report."""

    @extend_schema(operation_id="operations_reports_create", request=OperationReportInputSerializer,
                   responses={201: OperationReportOutputSerializer, **ERRORS})
    def post(self, request: Request, pk: int) -> Response:
        op = self.operation(pk)
        data = _valid(OperationReportInputSerializer, request)
        corrects = None
        if data["corrects"]:
            corrects = selectors.operation_reports(user=request.user, operation=op).filter(
                pk=data["corrects"]).first()
            if corrects is None:
                raise ValidationError({"corrects": [_("No such report of this operation.")]})
        report = services.operation_report_issue(operation_id=op.pk, actor=request.user,
                                                 remarks=data["remarks"], corrects=corrects)
        return Response(OperationReportOutputSerializer(report).data, status=status.HTTP_201_CREATED)


class OperationReportPdfApi(FileDownloadMixin, _OperationApi):
    """Download an issued operation report (PDF, as an attachment)."""

    @extend_schema(operation_id="operations_reports_pdf",
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: ERRORS[404]})
    def get(self, request: Request, pk: int, report_pk: int) -> FileResponse:
        op = self.operation(pk)
        report: WrittenReport = get_scoped_or_404(
            selectors.operation_reports(user=request.user, operation=op), pk=report_pk)
        return report_file_response(report)
