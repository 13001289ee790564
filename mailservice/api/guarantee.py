"""API of seed 002 §5 and §7: the machines' reports (a backup run, a virus-signature update)
authenticated by a platform's reporter token, the staff records and work queue, the locked
accounts, and one e-mail service's backups / anti-virus / locked-accounts month for its owner.

Reports: `Authorization: Bearer <reporter token>`. A bad or missing token is a 401; a body that is
not JSON, or a field that is missing or wrong, is a 400 with one list of messages per field, and
nothing is stored. The same report twice changes nothing (the same run id of a platform, the same
scanner version). The format is documented in README.md ("Backup and anti-virus reports")."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ParseError, PermissionDenied
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.choices import Role
from customers.selectors import user_has_role, user_is_staff
from slaportal.api import ERRORS, DetailSerializer, IsStaff, get_scoped_or_404

from .. import selectors
from ..backups import backup_run_record, reporter_for_token, signature_update_record
from ..choices import AccountLockKind, BackupKind, BackupStatus
from ..guarantee import guarantee_month, staff_queue
from ..models import BackupRun, LockedAccount, MailPlatform, SignatureUpdate
from ..retention import locked_account_delete, locked_account_record, locked_accounts_visible

NOT_FOUND = {404: OpenApiResponse(DetailSerializer, description="Not in your scope.")}
UNAUTHORIZED = {401: OpenApiResponse(DetailSerializer, description="Unknown or missing reporter token.")}


class RawJSONParser(BaseParser):
    """Keeps the body as bytes: the endpoint decodes it itself, so a malformed body is a clean 400."""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return stream.read() if stream is not None else b""


# --- Serializers ----------------------------------------------------------------------------------

class BackupReportSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A backup run as the backup system's post-run hook reports it."""

    run_id = serializers.CharField(max_length=200, help_text="The backup system's id of the run (restic "
                                                             "snapshot id, Borg archive name).")
    platform = serializers.CharField(required=False, max_length=120,
                                     help_text="Optional: the platform's name or id; must be the token's.")
    kind = serializers.ChoiceField(choices=BackupKind.choices)
    status = serializers.ChoiceField(choices=BackupStatus.choices)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField()
    size_bytes = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    kept_until = serializers.DateTimeField(required=False, allow_null=True,
                                           help_text="When this backup will be deleted (or give retention_days).")
    retention_days = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=36500)
    oldest_kept_at = serializers.DateTimeField(required=False, allow_null=True,
                                               help_text="The start of the oldest backup still kept.")
    tool = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("kept_until") is None and attrs.get("retention_days") is None:
            raise serializers.ValidationError({"kept_until": [_("Give kept_until or retention_days.")]})
        if attrs["ended_at"] < attrs["started_at"]:
            raise serializers.ValidationError({"ended_at": [_("The end must not be before the start.")]})
        return attrs


class SignatureReportSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A virus-signature update as the scanner's update hook reports it."""

    platform = serializers.CharField(required=False, max_length=120)
    scanner = serializers.CharField(max_length=60, help_text="For example clamav.")
    version = serializers.CharField(max_length=120, help_text="The signature database version, e.g. daily 27500.")
    updated_at = serializers.DateTimeField()


class StaffBackupSerializer(BackupReportSerializer):
    platform = serializers.PrimaryKeyRelatedField(queryset=MailPlatform.objects.all())  # type: ignore[assignment]


class StaffSignatureSerializer(SignatureReportSerializer):
    platform = serializers.PrimaryKeyRelatedField(queryset=MailPlatform.objects.all())  # type: ignore[assignment]


class ReportResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=["created", "changed", "unchanged"])
    recomputed_days = serializers.ListField(child=serializers.CharField())


class BackupRunOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    platform_name = serializers.CharField(source="platform.name")

    class Meta:
        model = BackupRun
        fields = ["id", "platform", "platform_name", "run_id", "kind", "status", "started_at", "ended_at",
                  "size_bytes", "kept_until", "oldest_kept_at", "tool", "note", "origin", "received_at"]


class SignatureOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = SignatureUpdate
        fields = ["id", "platform", "scanner", "version", "updated_at", "origin", "received_at"]


class LockedAccountOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    deletable_from = serializers.DateTimeField()

    class Meta:
        model = LockedAccount
        fields = ["id", "service", "customer", "address", "kind", "locked_at", "reason", "retention_days",
                  "deletable_from", "deleted_at", "deletion_note", "early", "recorded_at"]


class LockedAccountInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    service = serializers.IntegerField()
    address = serializers.CharField(max_length=254)
    kind = serializers.ChoiceField(choices=AccountLockKind.choices)
    locked_at = serializers.DateTimeField()
    reason = serializers.CharField(max_length=300)


class LockedDeleteInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    deleted_at = serializers.DateTimeField(required=False, allow_null=True,
                                           help_text="When the data was deleted (default: now).")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=300)
    early_loss = serializers.BooleanField(required=False, default=False,
                                          help_text="Managers: record a loss before the date (breaks E6-LOCKED).")


def _valid(serializer_class: Any, data: Any, **kw: Any) -> dict[str, Any]:
    s = serializer_class(data=data, **kw)
    s.is_valid(raise_exception=True)
    return dict(s.validated_data)


# --- Machine reports --------------------------------------------------------------------------

class _ReportApi(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    parser_classes = [RawJSONParser]

    def _reporter_and_body(self, request: Request) -> tuple[Any, Any]:
        auth = request.headers.get("Authorization", "")
        raw = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        reporter = reporter_for_token(raw)
        if reporter is None:
            return None, None
        try:
            payload = json.loads(request.data or b"")  # type: ignore[arg-type]  # bytes from RawJSONParser
        except (ValueError, UnicodeDecodeError):
            raise ParseError(_("The body is not valid JSON.")) from None
        if not isinstance(payload, dict):
            raise ParseError(_("The body must be a JSON object."))
        named = payload.get("platform")
        if named not in (None, "") and str(named) not in (reporter.platform.name, str(reporter.platform_id)):
            raise serializers.ValidationError({"platform": [_("This token reports for platform %(name)s.")
                                                            % {"name": reporter.platform.name}]})
        return reporter, payload

    @staticmethod
    def _unauthorized() -> Response:
        return Response({"detail": _("Unknown or missing reporter token."), "code": "not_authenticated"},
                        status=status.HTTP_401_UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})


class BackupReportApi(_ReportApi):
    """A backup system reports one run (see README "Backup and anti-virus reports")."""

    @extend_schema(operation_id="mail_backup_report", request=BackupReportSerializer,
                   responses={200: ReportResultSerializer, 201: ReportResultSerializer, 400: DetailSerializer,
                              **UNAUTHORIZED})
    def post(self, request: Request) -> Response:
        reporter, payload = self._reporter_and_body(request)
        if reporter is None:
            return self._unauthorized()
        data = _valid(BackupReportSerializer, payload)
        r = backup_run_record(platform=reporter.platform, data=data, reporter=reporter)
        return Response(r.as_dict(), status=status.HTTP_201_CREATED if r.outcome == "created" else 200)


class SignatureReportApi(_ReportApi):
    """A scanner's update hook (ClamAV freshclam OnUpdateExecute) reports a signature update."""

    @extend_schema(operation_id="mail_signature_report", request=SignatureReportSerializer,
                   responses={200: ReportResultSerializer, 201: ReportResultSerializer, 400: DetailSerializer,
                              **UNAUTHORIZED})
    def post(self, request: Request) -> Response:
        reporter, payload = self._reporter_and_body(request)
        if reporter is None:
            return self._unauthorized()
        d = _valid(SignatureReportSerializer, payload)
        r = signature_update_record(platform=reporter.platform, scanner=d["scanner"], version=d["version"],
                                    updated_at=d["updated_at"], reporter=reporter)
        return Response(r.as_dict(), status=status.HTTP_201_CREATED if r.outcome == "created" else 200)


# --- Staff records ------------------------------------------------------------------------------

def _require_editor(user: Any) -> None:
    if not user_has_role(user, Role.ENGINEER, Role.MANAGER):
        raise PermissionDenied(_("Only an engineer or a manager can do this."))


class BackupRunCollectionApi(APIView):
    """GET: the latest backup runs (staff; `?platform=`). POST: enter a run by hand (engineers,
    managers), the same format as the report plus the platform id."""

    permission_classes = [IsAuthenticated, IsStaff]

    @extend_schema(operation_id="mail_backup_runs_list", responses={200: BackupRunOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        qs = BackupRun.objects.select_related("platform").order_by("-started_at", "-id")
        platform = request.query_params.get("platform")
        if platform:
            if not platform.isdigit():
                raise serializers.ValidationError({"platform": [_("Give the platform's id.")]})
            qs = qs.filter(platform_id=int(platform))
        return Response(BackupRunOutputSerializer(qs[:200], many=True).data)

    @extend_schema(operation_id="mail_backup_runs_create", request=StaffBackupSerializer,
                   responses={200: ReportResultSerializer, 201: ReportResultSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        _require_editor(request.user)
        data = _valid(StaffBackupSerializer, request.data)
        platform = data.pop("platform")
        r = backup_run_record(platform=platform, data=data, actor=request.user)
        return Response(r.as_dict(), status=status.HTTP_201_CREATED if r.outcome == "created" else 200)


class SignatureCollectionApi(APIView):
    """GET: the latest virus-signature updates (staff). POST: enter one (engineers, managers)."""

    permission_classes = [IsAuthenticated, IsStaff]

    @extend_schema(operation_id="mail_signature_updates_list", responses={200: SignatureOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        qs = SignatureUpdate.objects.order_by("-updated_at", "-id")[:200]
        return Response(SignatureOutputSerializer(qs, many=True).data)

    @extend_schema(operation_id="mail_signature_updates_create", request=StaffSignatureSerializer,
                   responses={200: ReportResultSerializer, 201: ReportResultSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        _require_editor(request.user)
        d = _valid(StaffSignatureSerializer, request.data)
        r = signature_update_record(platform=d["platform"], scanner=d["scanner"], version=d["version"],
                                    updated_at=d["updated_at"], actor=request.user)
        return Response(r.as_dict(), status=status.HTTP_201_CREATED if r.outcome == "created" else 200)


class QueueApi(APIView):
    """The staff work queue: per platform the last runs, breached days and signature freshness;
    the locked accounts awaiting deletion with the days left."""

    permission_classes = [IsAuthenticated, IsStaff]

    @extend_schema(operation_id="mail_guarantee_queue", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        from ..retention import locked_accounts_awaiting

        platforms = []
        for row in staff_queue():
            sg = row.signatures
            platforms.append({
                "platform": row.platform.pk, "name": row.platform.name, "checked": row.checked,
                "backup_checks_from": row.platform.backup_checks_from,
                "runs": BackupRunOutputSerializer(row.runs, many=True).data,
                "breached_days": [{"day": d.day, "incremental": d.incremental_breached, "full": d.full_breached,
                                   "retention": d.keep_breached} for d in row.breached_days],
                "signatures": None if sg is None else {
                    "last_update_at": sg.last_update_at, "version": sg.last_version,
                    "days_since": str(sg.days_since) if sg.days_since is not None else None,
                    "breached": row.av_breached}})
        accounts = []
        for a in locked_accounts_awaiting(user=request.user):
            accounts.append({**LockedAccountOutputSerializer(a).data, "days_left": a.days_left,  # type: ignore[attr-defined]
                             "near": a.near, "may_delete": a.may_delete})  # type: ignore[attr-defined]
        return Response({"platforms": platforms, "accounts_awaiting_deletion": accounts})


# --- Locked accounts ------------------------------------------------------------------------------

class LockedAccountCollectionApi(APIView):
    """GET: locked and terminated accounts (a customer user: their own). POST: record one (staff)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="mail_locked_accounts_list", responses={200: LockedAccountOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        qs = locked_accounts_visible(user=request.user).order_by("locked_at", "pk")[:500]
        return Response(LockedAccountOutputSerializer(qs, many=True).data)

    @extend_schema(operation_id="mail_locked_accounts_create", request=LockedAccountInputSerializer,
                   responses={201: LockedAccountOutputSerializer, **ERRORS})
    def post(self, request: Request) -> Response:
        if not user_is_staff(request.user):
            raise PermissionDenied(_("Only staff can do this."))
        d = _valid(LockedAccountInputSerializer, request.data)
        service = selectors.email_services_visible(user=request.user).filter(pk=d.pop("service")).first()
        if service is None:
            raise serializers.ValidationError({"service": [_("Unknown e-mail service.")]})
        a = locked_account_record(actor=request.user, service=service, **d)
        return Response(LockedAccountOutputSerializer(a).data, status=status.HTTP_201_CREATED)


class LockedAccountDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="mail_locked_accounts_detail", responses={200: LockedAccountOutputSerializer,
                                                                          **NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        return Response(LockedAccountOutputSerializer(
            get_scoped_or_404(locked_accounts_visible(user=request.user), pk=pk)).data)


class LockedAccountDeleteApi(APIView):
    """Record that the account's data was deleted: refused (400, code `retention`) before the date."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="mail_locked_accounts_delete", request=LockedDeleteInputSerializer,
                   responses={200: LockedAccountOutputSerializer, **ERRORS, **NOT_FOUND,
                              409: OpenApiResponse(DetailSerializer, description="Already recorded.")})
    def post(self, request: Request, pk: int) -> Response:
        a = get_scoped_or_404(locked_accounts_visible(user=request.user), pk=pk)
        if not user_is_staff(request.user):
            raise PermissionDenied(_("Only staff can do this."))
        d = _valid(LockedDeleteInputSerializer, request.data)
        a = locked_account_delete(actor=request.user, account_id=a.pk, deleted_at=d.get("deleted_at"),
                                  note=d["note"], early_loss=d["early_loss"])
        return Response(LockedAccountOutputSerializer(a).data)


# --- One service's month (its owner and staff) ------------------------------------------------------

class ServiceGuaranteeApi(APIView):
    """Backups of the service's platforms (days checked, breached days), virus-signature
    freshness, its locked accounts, and the month's measurements (`?month=YYYY-MM`)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="mail_service_guarantee", responses={200: OpenApiTypes.OBJECT, **NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        from django.utils import timezone

        from incidents.downtime import TZ

        from .serializers import FiguresQuerySerializer

        service = get_scoped_or_404(selectors.email_services_visible(user=request.user), pk=pk)
        q = FiguresQuerySerializer(data=request.query_params)
        q.is_valid(raise_exception=True)
        first = q.validated_data.get("month") or timezone.localtime(timezone.now(), TZ).date().replace(day=1)
        g = guarantee_month(services=[service], year=first.year, month=first.month)[service.pk]
        return Response({
            "service": service.pk, "month": f"{first:%Y-%m}",
            "platforms": [{"id": p.pk, "name": p.name} for p in g.platforms],
            "breached_days": [d.isoformat() for d in g.breached_days],
            "days": [{"day": d.day, "platform": d.platform_id, "runs_ok": d.runs_ok, "runs_failed": d.runs_failed,
                      "days_since_backup": d.days_since_backup, "days_since_full": d.days_since_full,
                      "oldest_kept_days": d.oldest_kept_days, "breached": d.breached} for d in g.days],
            "signatures": [{"platform": s.platform_id, "last_update_at": s.last_update_at,
                            "version": s.last_version,
                            "days_since": str(s.days_since) if s.days_since is not None else None,
                            "longest_gap_days": str(s.longest_days)} for s in g.signatures],
            "locked_accounts": LockedAccountOutputSerializer(
                LockedAccount.objects.filter(service=service).order_by("locked_at", "pk"), many=True).data,
            "measurements": {code: {"value": str(m.value), "comparison": m.comparison, "threshold": str(m.threshold),
                                    "unit": m.unit, "kept": m.kept, "counted": m.counted}
                             for code, m in g.measurements.items()},
        })
