"""Anti-spam API: spam cases (list, open, one case), each step as a POST sub-route named after
the step, evidence upload and download, kind, close; ISC list publications and their processing;
blacklist listings and their report to the ISC; the abuse desk.

Cases are looked up in the user's scope first (abuse.selectors): another customer's case is a
404 before anything else; a customer user reads their own cases, never acts (403). Bad input is
a 400 (malformed JSON too: DRF's parse error), a bad token a 401, and nothing is stored."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, mixins
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.choices import Role
from customers.selectors import user_customer_id, user_has_role, user_is_staff
from slaportal.api import (
    ERRORS,
    UPLOADED_FILE_RESPONSES,
    DetailSerializer,
    FileDownloadMixin,
    get_scoped_or_404,
)
from slaportal.api import validated_input as _valid
from slaportal.downloads import file_download

from .. import selectors, services
from ..choices import StepCode
from ..models import AbuseDesk, BlacklistListing, IscPublication, SpamCase
from .serializers import (
    CaseCreateInputSerializer,
    CaseDetailOutputSerializer,
    CaseFilterSerializer,
    CaseOutputSerializer,
    DeskInputSerializer,
    DeskOutputSerializer,
    DeskStaffOutputSerializer,
    IscProcessInputSerializer,
    ListingInputSerializer,
    ListingOutputSerializer,
    ListingReportInputSerializer,
    PublicationInputSerializer,
    PublicationOutputSerializer,
    SpamCaseCloseInputSerializer,
    SpamCaseKindInputSerializer,
    SpamEvidenceInputSerializer,
    SpamEvidenceOutputSerializer,
    SpamStepInputSerializer,
)

NOT_FOUND = {404: OpenApiResponse(DetailSerializer, description="Not in your scope.")}
CONFLICT = {409: OpenApiResponse(DetailSerializer, description="The state does not allow this; nothing changed.")}
ACTION_RESPONSES = {200: CaseDetailOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT}


class CasesVisible(BasePermission):
    """Staff who handle spam (specialists, engineers, managers), and customer users (their own
    cases through the scoped queryset)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user_is_staff(user):
            return selectors.user_may_handle(user)
        return user_customer_id(user) is not None


class Handlers(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return selectors.user_may_handle(request.user)


def _require_handler(request: Request) -> None:
    if not selectors.user_may_handle(request.user):
        raise PermissionDenied


class _CaseApi(generics.GenericAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated, CasesVisible]
    serializer_class: Any = CaseDetailOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return SpamCase.objects.none()
        return selectors.case_list(user=self.request.user)

    def get_case(self, pk: int) -> SpamCase:
        return get_scoped_or_404(self.get_queryset(), pk=pk)

    def detail(self, pk: int, status: int = 200) -> Response:
        return Response(CaseDetailOutputSerializer(self.get_case(pk), context={"request": self.request}).data,
                        status=status)


@extend_schema_view(get=extend_schema(operation_id="spam_cases_list", parameters=[CaseFilterSerializer]),
                    post=extend_schema(operation_id="spam_cases_create", request=CaseCreateInputSerializer,
                                       responses={201: CaseDetailOutputSerializer, **ERRORS}))
class CaseCollectionApi(mixins.ListModelMixin, _CaseApi):
    """The spam cases the user may see, newest first, with both deadlines; staff open one after
    detecting spam (POST)."""

    serializer_class = CaseOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return SpamCase.objects.none()
        f = CaseFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        return selectors.case_list(user=self.request.user, state=f.validated_data.get("state"),
                                   kind=f.validated_data.get("kind"))

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    def post(self, request: Request) -> Response:
        _require_handler(request)
        data = _valid(CaseCreateInputSerializer, request)
        case = services.case_open_by_staff(actor=request.user, **data)
        return self.detail(case.pk, status=201)


@extend_schema_view(get=extend_schema(operation_id="spam_cases_retrieve",
                                      responses={200: CaseDetailOutputSerializer, **NOT_FOUND}))
class CaseDetailApi(_CaseApi):
    """One case with its steps, clocks and (staff) evidence."""

    def get(self, request: Request, pk: int) -> Response:
        return self.detail(pk)


def step_api(code: str) -> type[_CaseApi]:
    """The POST sub-route of one step, e.g. /api/spam-cases/42/block-source/."""
    label = StepCode(code).label

    @extend_schema_view(post=extend_schema(operation_id=f"spam_cases_{code}", request=SpamStepInputSerializer,
                                           responses=ACTION_RESPONSES, description=f"Step: {label}."))
    class StepApi(_CaseApi):
        def post(self, request: Request, pk: int) -> Response:
            case = self.get_case(pk)
            get_scoped_or_404(case.steps.all(), code=code)
            _require_handler(request)
            data = _valid(SpamStepInputSerializer, request)
            services.case_step_done(case_id=case.pk, code=code, actor=request.user, **data)
            return self.detail(pk)

    StepApi.__name__ = StepApi.__qualname__ = "".join(p.title() for p in code.split("_")) + "StepApi"
    StepApi.__doc__ = f"Record the step “{label}” as done (staff who handle spam)."
    return StepApi


@extend_schema_view(post=extend_schema(operation_id="spam_cases_evidence_create", request=SpamEvidenceInputSerializer,
                                       responses={201: SpamEvidenceOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT}))
class EvidenceCollectionApi(_CaseApi):
    """Keep a file for the case: evidence, or the written guarantee (PDF, PNG or JPEG by content)."""

    parser_classes = [MultiPartParser, FormParser]

    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case(pk)
        _require_handler(request)
        data = _valid(SpamEvidenceInputSerializer, request)
        ev = services.case_evidence_add(case_id=case.pk, f=data["file"], kind=data["kind"],
                                        step_code=data["step"], actor=request.user)
        return Response(SpamEvidenceOutputSerializer(ev).data, status=201)


@extend_schema_view(get=extend_schema(operation_id="spam_cases_evidence_download",
                                      responses={**UPLOADED_FILE_RESPONSES, **NOT_FOUND}))
class EvidenceDownloadApi(FileDownloadMixin, _CaseApi):  # type: ignore[misc]
    """One evidence file, as a download (staff only: a customer gets 404)."""

    def get(self, request: Request, pk: int, evidence_pk: int) -> Any:
        case = self.get_case(pk)
        if not user_is_staff(request.user):
            from django.http import Http404

            raise Http404
        ev = get_scoped_or_404(case.evidence.all(), pk=evidence_pk)
        return file_download(ev.file, stem=f"{case.number}-evidence-{ev.pk}", content_type=ev.content_type)


@extend_schema_view(post=extend_schema(operation_id="spam_cases_kind", request=SpamCaseKindInputSerializer,
                                       responses=ACTION_RESPONSES))
class CaseKindApi(_CaseApi):
    """Change the kind (inbound/outbound) while no step is done."""

    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case(pk)
        _require_handler(request)
        services.case_set_kind(case_id=case.pk, actor=request.user, **_valid(SpamCaseKindInputSerializer, request))
        return self.detail(pk)


@extend_schema_view(post=extend_schema(operation_id="spam_cases_close", request=SpamCaseCloseInputSerializer,
                                       responses=ACTION_RESPONSES))
class CaseCloseApi(_CaseApi):
    """Close with the verdict and the result (after the result was told to the complainant)."""

    def post(self, request: Request, pk: int) -> Response:
        case = self.get_case(pk)
        _require_handler(request)
        services.case_close(case_id=case.pk, actor=request.user, **_valid(SpamCaseCloseInputSerializer, request))
        return self.detail(pk)


# --- ISC publications and listings ----------------------------------------------------------

@extend_schema_view(get=extend_schema(operation_id="isc_publications_list"),
                    post=extend_schema(operation_id="isc_publications_create", request=PublicationInputSerializer,
                                       responses={201: PublicationOutputSerializer, **ERRORS}))
class PublicationCollectionApi(mixins.ListModelMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """The ISC's spam-server list publications, each with its E4-ISC deadline; record one (POST)."""

    permission_classes = [IsAuthenticated, Handlers]
    serializer_class = PublicationOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return IscPublication.objects.none()
        return selectors.publication_list(user=self.request.user)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    def post(self, request: Request) -> Response:
        pub = services.publication_record(actor=request.user, **_valid(PublicationInputSerializer, request))
        return Response(PublicationOutputSerializer(self.get_queryset().get(pk=pub.pk)).data, status=201)


class _PublicationApi(generics.GenericAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated, Handlers]
    serializer_class = PublicationOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return IscPublication.objects.none()
        return selectors.publication_list(user=self.request.user)


@extend_schema_view(get=extend_schema(operation_id="isc_publications_retrieve"))
class PublicationDetailApi(_PublicationApi):
    """One ISC list publication with its E4-ISC deadline."""

    def get(self, request: Request, pk: int) -> Response:
        return Response(PublicationOutputSerializer(get_scoped_or_404(self.get_queryset(), pk=pk)).data)


@extend_schema_view(post=extend_schema(operation_id="isc_publications_process", request=IscProcessInputSerializer,
                                       responses={200: PublicationOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT}))
class PublicationProcessApi(_PublicationApi):
    """The list was processed: say what was blocked (meets E4-ISC)."""

    def post(self, request: Request, pk: int) -> Response:
        pub = get_scoped_or_404(self.get_queryset(), pk=pk)
        services.publication_process(publication_id=pub.pk, actor=request.user,
                                     **_valid(IscProcessInputSerializer, request))
        return Response(PublicationOutputSerializer(self.get_queryset().get(pk=pk)).data)


@extend_schema_view(get=extend_schema(operation_id="blacklist_listings_list"),
                    post=extend_schema(operation_id="blacklist_listings_create", request=ListingInputSerializer,
                                       responses={201: ListingOutputSerializer, **ERRORS}))
class ListingCollectionApi(mixins.ListModelMixin, generics.GenericAPIView):  # type: ignore[type-arg]
    """The provider's domain or IP listed by other anti-spam organisations; record one (POST)."""

    permission_classes = [IsAuthenticated, Handlers]
    serializer_class = ListingOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return BlacklistListing.objects.none()
        return selectors.listing_list(user=self.request.user)

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)

    def post(self, request: Request) -> Response:
        listing = services.listing_record(actor=request.user, **_valid(ListingInputSerializer, request))
        return Response(ListingOutputSerializer(listing).data, status=201)


class _ListingApi(generics.GenericAPIView):  # type: ignore[type-arg]
    permission_classes = [IsAuthenticated, Handlers]
    serializer_class = ListingOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return BlacklistListing.objects.none()
        return selectors.listing_list(user=self.request.user)


@extend_schema_view(get=extend_schema(operation_id="blacklist_listings_retrieve"))
class ListingDetailApi(_ListingApi):
    """One listing and its report to the ISC."""

    def get(self, request: Request, pk: int) -> Response:
        return Response(ListingOutputSerializer(get_scoped_or_404(self.get_queryset(), pk=pk)).data)


@extend_schema_view(post=extend_schema(operation_id="blacklist_listings_report", request=ListingReportInputSerializer,
                                       responses={200: ListingOutputSerializer, **ERRORS, **NOT_FOUND, **CONFLICT}))
class ListingReportApi(_ListingApi):
    """The listing was reported to the Internet Society of China (when, what was said)."""

    def post(self, request: Request, pk: int) -> Response:
        listing = get_scoped_or_404(self.get_queryset(), pk=pk)
        listing = services.listing_report(listing_id=listing.pk, actor=request.user,
                                          **_valid(ListingReportInputSerializer, request))
        return Response(ListingOutputSerializer(listing).data)


@extend_schema_view(get=extend_schema(operation_id="abuse_desk_retrieve", responses={
                        200: DeskOutputSerializer,
                        404: OpenApiResponse(DetailSerializer, description="No abuse desk has been entered yet.")}),
                    put=extend_schema(operation_id="abuse_desk_update", request=DeskInputSerializer,
                                      responses={200: DeskStaffOutputSerializer, **ERRORS}))
class DeskApi(APIView):
    """The provider's abuse contact (person, phone, abuse@ address), for every signed-in user;
    managers also read and change the mailbox settings (PUT)."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    def get(self, request: Request) -> Response:
        desk = selectors.desk_get()
        if desk is None:
            from django.http import Http404

            raise Http404
        cls = DeskStaffOutputSerializer if user_has_role(request.user, Role.MANAGER) else DeskOutputSerializer
        return Response(cls(desk).data)

    def put(self, request: Request) -> Response:
        if not user_has_role(request.user, Role.MANAGER):
            raise PermissionDenied
        data = _valid(DeskInputSerializer, request)
        password = data.pop("imap_password", None)
        desk: AbuseDesk = services.desk_save(data=data, password=password, actor=request.user)
        return Response(DeskStaffOutputSerializer(desk).data)
