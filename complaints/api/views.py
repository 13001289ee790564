"""Complaints API: the scoped list and one complaint, filing/logging a complaint, each
transition as a POST action, written reports (issue, list, PDF download) and attachments
(multipart upload, download).

Every complaint is looked up in the user's scope first (complaints.selectors), so another
customer's complaint, its reports and its files are a 404 before anything else is considered.
Writes are one call of complaints.services; an illegal transition is a 409 and changes nothing."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from customers.selectors import user_customer_id, user_is_staff
from slaportal.api import (
    ERRORS,
    UPLOADED_FILE_RESPONSES,
    DetailSerializer,
    FileDownloadMixin,
    ReasonInputSerializer,
    StaffNeedsViewPerm,
    get_scoped_or_404,
)
from slaportal.api import validated_input as _valid

from .. import services
from ..models import Complaint
from ..selectors import complaint_attachments, complaint_list
from ..views import attachment_response, pdf_response
from .serializers import (
    AttachmentInputSerializer,
    AttachmentOutputSerializer,
    ComplaintCreateInputSerializer,
    ComplaintDetailOutputSerializer,
    ComplaintFilterSerializer,
    ComplaintOutputSerializer,
    ReportInputSerializer,
    ReportOutputSerializer,
)

NOT_FOUND = {404: OpenApiResponse(DetailSerializer, description="No such complaint in your scope.")}
CONFLICT = {409: OpenApiResponse(DetailSerializer,
                                 description="The complaint's state does not allow this; nothing changed.")}



class _ComplaintApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """Complaints are read by staff with the view permission (not data-centre staff) and by the
    users of the complaint's customer."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = "complaints.view_complaint"

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, no database
            return Complaint.objects.none()
        return complaint_list(user=self.request.user)

    def get_complaint(self, pk: int) -> Complaint:
        return get_scoped_or_404(self.get_queryset(), pk=pk)


class ComplaintCollectionApi(mixins.ListModelMixin, _ComplaintApi):
    """GET: the complaints the user may see, newest first, each with its C8 deadline. POST: log a
    complaint (staff, any customer) or file one (a customer user: own organisation, portal)."""

    serializer_class = ComplaintOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Complaint.objects.none()
        f = ComplaintFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        return complaint_list(user=self.request.user, **f.to_selector_kwargs())

    @extend_schema(operation_id="complaints_list", parameters=[ComplaintFilterSerializer])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    @extend_schema(operation_id="complaints_create", request=ComplaintCreateInputSerializer,
                   responses={201: ComplaintDetailOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        user = request.user
        data = _valid(ComplaintCreateInputSerializer, request)
        if user_is_staff(user):
            for field in ("customer", "channel"):
                if not data.get(field):
                    raise ValidationError({field: [_("This field is required.")]})
        else:
            # A customer user files for their own organisation; the scoped field already refused
            # any other customer's id as "does not exist".
            data["customer"] = user.customer_link.customer  # type: ignore[union-attr]
            data["channel"] = "portal"
            if not data.get("complainant_contact") and not data.get("complainant_name"):
                data["complainant_name"] = user.get_full_name() or user.get_username()  # type: ignore[union-attr]
                data["complainant_email"] = data.get("complainant_email") or user.email  # type: ignore[union-attr]
        complaint = services.complaint_create(actor=user, **data)
        return Response(ComplaintDetailOutputSerializer(self.get_complaint(complaint.pk)).data,
                        status=status.HTTP_201_CREATED)


@extend_schema_view(get=extend_schema(operation_id="complaints_retrieve",
                                      responses={200: ComplaintDetailOutputSerializer, **NOT_FOUND}))
class ComplaintDetailApi(_ComplaintApi):
    """One complaint with its attachments and written reports."""

    serializer_class = ComplaintDetailOutputSerializer

    def get(self, request: Request, pk: int) -> Response:
        return Response(ComplaintDetailOutputSerializer(self.get_complaint(pk)).data)


# --- Transitions --------------------------------------------------------------------------

TRANSITION_RESPONSES = {200: ComplaintOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT}


class _ComplaintTransitionApi(_ComplaintApi):
    """POST one transition. The service checks the role (403) and the state (409)."""

    serializer_class = ReasonInputSerializer
    service: Any = None

    def post(self, request: Request, pk: int) -> Response:
        complaint = self.get_complaint(pk)
        data = _valid(ReasonInputSerializer, request)
        type(self).service(complaint_id=complaint.pk, actor=request.user, reason=data["reason"])
        return Response(ComplaintOutputSerializer(self.get_complaint(pk)).data)


def _transition(op: str, doc: str, service: Any) -> type[_ComplaintTransitionApi]:
    cls = type(f"Complaint{op.title()}Api", (_ComplaintTransitionApi,),
               {"__doc__": doc, "service": staticmethod(service), "__module__": __name__})
    return extend_schema_view(post=extend_schema(
        operation_id=f"complaints_{op}", request=ReasonInputSerializer,
        responses=TRANSITION_RESPONSES))(cls)


ComplaintAcceptApi = _transition(
    "accept", "Accept the complaint (staff); the 24-hour first-report clock C8 starts.",
    services.complaint_accept)
ComplaintInvestigateApi = _transition(
    "investigate", "Start the investigation (staff).", services.complaint_investigate)
ComplaintResolveApi = _transition(
    "resolve", "Resolve the complaint after a report was issued (staff).", services.complaint_resolve)
ComplaintCloseApi = _transition("close", "Close a resolved complaint (staff).", services.complaint_close)
ComplaintReopenApi = _transition(
    "reopen", "Reopen a resolved or closed complaint (staff or the customer); `reason` is required.",
    services.complaint_reopen)
ComplaintWithdrawApi = _transition(
    "withdraw", "Withdraw the complaint before it is resolved (the customer, or staff on their "
    "behalf); its C8 clock is cancelled.", services.complaint_withdraw)


# --- Reports ------------------------------------------------------------------------------

class ComplaintReportCollectionApi(_ComplaintApi):
    """GET: the complaint's written reports, every version. POST: issue a report (staff); the
    first one meets C8. With `corrects` it is a new version of that report."""

    serializer_class = ReportOutputSerializer
    pagination_class = None

    @extend_schema(operation_id="complaints_reports_list",
                   responses={200: ReportOutputSerializer(many=True), **NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        complaint = self.get_complaint(pk)
        return Response(ReportOutputSerializer(services.complaint_reports(complaint), many=True).data)

    @extend_schema(operation_id="complaints_reports_create", request=ReportInputSerializer,
                   responses={201: ReportOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        complaint = self.get_complaint(pk)
        if not user_is_staff(request.user):
            raise PermissionDenied(_("Only staff can issue a written report."))
        data = _valid(ReportInputSerializer, request)
        corrects_id = data.pop("corrects")
        corrects = None
        if corrects_id is not None:
            corrects = services.complaint_reports(complaint).filter(pk=corrects_id).first()
            if corrects is None:
                raise ValidationError({"corrects": [_("No such report on this complaint.")]})
        report = services.complaint_report_issue(complaint_id=complaint.pk, actor=request.user,
                                                 corrects=corrects, **data)
        return Response(ReportOutputSerializer(report).data, status=status.HTTP_201_CREATED)


class ComplaintReportPdfApi(FileDownloadMixin, _ComplaintApi):
    """Download one issued report as PDF (Content-Disposition: attachment). Another customer's
    complaint or a report of another complaint is a 404."""

    @extend_schema(operation_id="complaints_reports_pdf",
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY, **NOT_FOUND})
    def get(self, request: Request, pk: int, report_pk: int) -> FileResponse:
        complaint = self.get_complaint(pk)
        report = get_scoped_or_404(services.complaint_reports(complaint), pk=report_pk)
        return pdf_response(report)


# --- Attachments --------------------------------------------------------------------------

class ComplaintAttachmentCollectionApi(_ComplaintApi):
    """GET: the complaint's attachments. POST (multipart, field `file`): attach a PDF, PNG or
    JPEG (staff, or a user of the complaint's customer); the type is checked by content."""

    serializer_class = AttachmentOutputSerializer
    pagination_class = None
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(operation_id="complaints_attachments_list",
                   responses={200: AttachmentOutputSerializer(many=True), **NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        complaint = self.get_complaint(pk)
        return Response(AttachmentOutputSerializer(complaint_attachments(complaint), many=True).data)

    @extend_schema(operation_id="complaints_attachments_create",
                   request={"multipart/form-data": AttachmentInputSerializer},
                   responses={201: AttachmentOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT})
    def post(self, request: Request, pk: int) -> Response:
        complaint = self.get_complaint(pk)
        if not (user_is_staff(request.user) or user_customer_id(request.user) == complaint.customer_id):
            raise PermissionDenied
        data = _valid(AttachmentInputSerializer, request)
        att = services.complaint_attach(complaint_id=complaint.pk, f=data["file"], actor=request.user)
        return Response(AttachmentOutputSerializer(att).data, status=status.HTTP_201_CREATED)


class ComplaintAttachmentDownloadApi(FileDownloadMixin, _ComplaintApi):
    """Download one attachment: always as an attachment, named by the server
    (complaint-<id>-attachment-<id>.<ext>), with the type checked at upload."""

    @extend_schema(operation_id="complaints_attachments_download",
                   responses={**UPLOADED_FILE_RESPONSES, **NOT_FOUND})
    def get(self, request: Request, pk: int, attachment_pk: int) -> FileResponse:
        complaint = self.get_complaint(pk)
        return attachment_response(get_scoped_or_404(complaint.attachments.all(), pk=attachment_pk))
