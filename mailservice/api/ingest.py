"""POST /api/mail/delivery-log/: a log shipper on a mail host posts its Postfix log in batches
(E2, seed 002 §2). Engineers and managers only (a shipper signs in with an API token of such a
user); a customer is refused with 403, an anonymous caller with 401.

The body names the log, the file line the batch starts at and, optionally, the file's
fingerprint (a hash of its first line: a new one is a rotated or truncated file). A replayed or
overlapping batch adds only its new lines; a batch after a gap is a 409 saying which line to send
from (`expected_start_line`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from customers.choices import Role
from customers.selectors import user_has_role
from slaportal.api import ERRORS, DetailSerializer, error_body, flatten_errors

from ..ingest import LogGapError, log_ingest

MAX_LINES = 20_000
MAX_LINE_CHARS = 16_384


class LinesField(serializers.ListField):  # type: ignore[type-arg]
    """A list of log lines (strings, blank allowed, newline optional). Checked in one pass: a
    batch has thousands of lines and a child field per line would cost more than parsing them."""

    default_error_messages = {
        "not_a_list": gettext_lazy("Send the lines as a list of strings."),
        "too_many": gettext_lazy("At most {max} lines per batch."),
        "not_text": gettext_lazy("Line {n} is not a string."),
        "too_long": gettext_lazy("Line {n} is longer than {max} characters."),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.CharField(allow_blank=True, trim_whitespace=False,
                                                     max_length=MAX_LINE_CHARS), max_length=MAX_LINES,
                         **kwargs)

    def to_internal_value(self, data: Any) -> list[str]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        if len(data) > MAX_LINES:
            self.fail("too_many", max=MAX_LINES)
        for n, line in enumerate(data):
            if not isinstance(line, str):
                self.fail("not_text", n=n)
            if len(line) > MAX_LINE_CHARS:
                self.fail("too_long", n=n, max=MAX_LINE_CHARS)
        return data


class DeliveryLogInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    source = serializers.CharField(  # type: ignore[assignment]  # a field, not DRF's Field.source
        max_length=200, help_text="The log's name, e.g. mx1:/var/log/mail.log.")
    start_line = serializers.IntegerField(min_value=0, max_value=2**62,
                                          help_text="The file line (0-based) the first line of this batch is.")
    fingerprint = serializers.CharField(max_length=64, required=False, allow_blank=True, default="",
                                        help_text="A hash of the file's first line; a new one is a new file.")
    lines = LinesField(help_text=f"The lines, oldest first (at most {MAX_LINES}).")


class DeliveryLogOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    source = serializers.CharField()  # type: ignore[assignment]
    start_line = serializers.IntegerField()
    accepted = serializers.IntegerField(help_text="Lines read for the first time.")
    skipped = serializers.IntegerField(help_text="Lines already read before (a replay).")
    next_line = serializers.IntegerField(help_text="The line the next batch starts at.")
    samples = serializers.IntegerField(help_text="Latency samples the new lines gave.")
    excluded = serializers.IntegerField(help_text="Messages excluded (delayed by another provider's system).")
    rotated = serializers.BooleanField(help_text="A new file: its lines are counted from its start.")
    in_flight = serializers.IntegerField(help_text="Messages still in flight after this batch.")
    rejudged_months = serializers.ListField(child=serializers.CharField())


class DeliveryLogApi(APIView):
    """Read a batch of a mail host's delivery log into the latency aggregates."""

    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="mail_delivery_log_ingest", request=DeliveryLogInputSerializer,
                   responses={200: DeliveryLogOutputSerializer, **ERRORS,
                              409: OpenApiResponse(DetailSerializer, description=(
                                  "A gap: lines before start_line have not been received. The error "
                                  "body also carries `expected_start_line`, the line to send from."))})
    def post(self, request: Request) -> Response:
        if not user_has_role(request.user, Role.ENGINEER, Role.MANAGER):
            raise PermissionDenied(_("Only engineers and managers can send delivery logs."))
        s = DeliveryLogInputSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        try:
            r = log_ingest(source_name=d["source"], lines=d["lines"], start_line=d["start_line"],
                           fingerprint=d["fingerprint"])
        except LogGapError as e:
            body = error_body(detail=e.message, code=e.code,
                              errors=flatten_errors({k: [str(m) for m in v] for k, v in e.field_errors.items()}))
            body["expected_start_line"] = e.expected_start_line
            return Response(body, status=409)
        return Response(DeliveryLogOutputSerializer(r).data)
