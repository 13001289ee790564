"""Monthly statement API (月度服务品质报告): the scoped list, one statement with every version,
the current and any version's PDF, and "ask for the statement of a month that has ended".

Every statement is looked up in the user's scope first (settlement.statements.statement_list), so
another customer's statement and its PDFs are a 404. A request is one call of
settlement.statements.statement_request; a month that has not ended is a 400 with the field's
error, like any bad month."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from customers.selectors import customer_list, user_customer_id, user_is_staff
from reports.models import WrittenReport
from settlement import statements as st
from settlement.models import MonthlyStatement
from settlement.statement_views import STATEMENT_VIEW_PERM
from slaportal.api import (
    ERRORS,
    DetailSerializer,
    FileDownloadMixin,
    IdField,
    ScopedPrimaryKeyRelatedField,
    StaffNeedsViewPerm,
    get_scoped_or_404,
)
from slaportal.api import validated_input as _valid
from slaportal.downloads import file_download

from .serializers import MonthInputField

NOT_FOUND = {404: OpenApiResponse(DetailSerializer, description="No such statement in your scope.")}


# --- Shapes ------------------------------------------------------------------------------------

class StatementFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    customer = IdField(required=False, help_text="Staff: one customer's statements.")
    month = MonthInputField(max_length=7, required=False, help_text="YYYY-MM.")


class StatementVersionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """One issued version: immutable, with its hash; a correction points at what it corrects."""

    corrects: Any = serializers.PrimaryKeyRelatedField(source="supersedes", read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = WrittenReport
        fields = ["id", "number", "version", "corrects", "language", "sha256", "size", "issued_at",
                  "download_url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI_REF)
    def get_download_url(self, obj: WrittenReport) -> str:
        return reverse("api-statement-version-pdf", args=[obj.object_id, obj.pk])


class StatementOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    month = serializers.SerializerMethodField()
    current = serializers.SerializerMethodField()
    versions = serializers.SerializerMethodField()
    provisional = serializers.SerializerMethodField()
    pdf_url = serializers.SerializerMethodField()

    class Meta:
        model = MonthlyStatement
        fields = ["id", "customer", "customer_name", "month", "provisional", "versions", "current", "pdf_url"]
        read_only_fields = fields

    def get_month(self, obj: MonthlyStatement) -> str:
        return f"{obj.month:%Y-%m}"

    @extend_schema_field(StatementVersionSerializer(allow_null=True))
    def get_current(self, obj: MonthlyStatement) -> Any:
        current = getattr(obj, "current", None)
        return StatementVersionSerializer(current).data if current is not None else None

    def get_versions(self, obj: MonthlyStatement) -> int:
        return int(getattr(obj, "versions", 0))

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_provisional(self, obj: MonthlyStatement) -> bool | None:
        current = getattr(obj, "current", None)
        return bool(current.content.get("provisional")) if current is not None else None

    @extend_schema_field(OpenApiTypes.URI_REF)
    def get_pdf_url(self, obj: MonthlyStatement) -> str:
        return reverse("api-statement-pdf", args=[obj.pk])


class StatementDetailOutputSerializer(StatementOutputSerializer):
    """One statement with every version (oldest first) and the current version's content."""

    all_versions = serializers.SerializerMethodField()
    content = serializers.SerializerMethodField()

    class Meta(StatementOutputSerializer.Meta):
        fields = [*StatementOutputSerializer.Meta.fields, "all_versions", "content"]
        read_only_fields = fields

    @extend_schema_field(StatementVersionSerializer(many=True))
    def get_all_versions(self, obj: MonthlyStatement) -> Any:
        return StatementVersionSerializer(st.statement_reports(obj), many=True).data

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_content(self, obj: MonthlyStatement) -> Any:
        current = getattr(obj, "current", None)
        return current.content if current is not None else None


class StatementRequestInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    customer: Any = ScopedPrimaryKeyRelatedField(selector=customer_list, required=False,
                                            help_text="Staff: required. A customer user: their own (may be left out).")
    month = MonthInputField(max_length=7, help_text="YYYY-MM, a month that has ended (Asia/Shanghai).")


# --- Views -------------------------------------------------------------------------------------

class _StatementApi(generics.GenericAPIView):  # type: ignore[type-arg]
    """Statements are read by staff who may read credits (a statement lists them; data-centre
    staff may not) and by the users of the statement's customer."""

    permission_classes = [IsAuthenticated, StaffNeedsViewPerm]
    view_perm = STATEMENT_VIEW_PERM

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return MonthlyStatement.objects.none()
        return st.statement_list(user=self.request.user)

    def get_statement(self, pk: int) -> MonthlyStatement:
        statement = get_scoped_or_404(self.get_queryset(), pk=pk)
        st.statements_with_current([statement])
        return statement


class StatementCollectionApi(generics.ListAPIView, _StatementApi):  # type: ignore[type-arg]
    """The statements the user may see, newest month first (?customer= staff only, ?month=YYYY-MM),
    each with its current version."""

    serializer_class = StatementOutputSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return MonthlyStatement.objects.none()
        f = StatementFilterSerializer(data=self.request.query_params)
        f.is_valid(raise_exception=True)
        staff = user_is_staff(self.request.user)
        return st.statement_list(user=self.request.user,
                                 customer_id=f.validated_data.get("customer") if staff else None,
                                 month=f.validated_data.get("month"))

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        if page is not None:
            st.statements_with_current(list(page))
        return page

    @extend_schema(operation_id="statements_list", parameters=[StatementFilterSerializer],
                   responses={200: StatementOutputSerializer(many=True), 400: ERRORS[400]})
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


class StatementDetailApi(_StatementApi):
    serializer_class = StatementDetailOutputSerializer

    @extend_schema(operation_id="statements_retrieve", responses={200: StatementDetailOutputSerializer, **NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        return Response(StatementDetailOutputSerializer(self.get_statement(pk)).data)


def _pdf(report: WrittenReport) -> FileResponse:
    resp = file_download(report.file, stem=report.number, content_type="application/pdf")
    resp["X-Content-SHA256"] = report.sha256
    return resp


class StatementPdfApi(FileDownloadMixin, _StatementApi):  # type: ignore[misc]
    """The current version as PDF (Content-Disposition: attachment)."""

    @extend_schema(operation_id="statements_pdf",
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY, **NOT_FOUND})
    def get(self, request: Request, pk: int) -> FileResponse:
        statement = self.get_statement(pk)
        current = getattr(statement, "current", None)
        if current is None:
            raise Http404
        return _pdf(current)


class StatementVersionPdfApi(FileDownloadMixin, _StatementApi):  # type: ignore[misc]
    """Any version as PDF; a report of another statement is a 404."""

    @extend_schema(operation_id="statements_versions_pdf",
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY, **NOT_FOUND})
    def get(self, request: Request, pk: int, report_pk: int) -> FileResponse:
        statement = self.get_statement(pk)
        return _pdf(get_scoped_or_404(st.statement_reports(statement), pk=report_pk))


class StatementRequestApi(_StatementApi):
    """Ask for the statement of a month that has ended: issued now if there is none yet or the
    month changed since (provisional, 月度结算前的临时报告, when the month is not closed yet);
    otherwise the current one. Staff name the customer; a customer user gets their own."""

    serializer_class = StatementRequestInputSerializer

    @extend_schema(operation_id="statements_request", request=StatementRequestInputSerializer,
                   responses={201: StatementDetailOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        user = request.user
        data = _valid(StatementRequestInputSerializer, request)
        if user_is_staff(user):
            if data.get("customer") is None:
                raise ValidationError({"customer": [_("This field is required.")]})
            customer_id = data["customer"].pk
        else:
            customer_id = user_customer_id(user)  # type: ignore[assignment]
        statement, _report = st.statement_request(customer_id=customer_id, first=data["month"], actor=user)
        return Response(StatementDetailOutputSerializer(self.get_statement(statement.pk)).data,
                        status=status.HTTP_201_CREATED)
