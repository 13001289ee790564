"""Input and output shapes of the settlement API."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from settlement.forms import parse_month
from settlement.models import Judgement, MonthClose


@extend_schema_field({"type": "string", "pattern": r"^\d{4}-\d{2}$", "example": "2026-02"})
class MonthInputField(serializers.Field):  # type: ignore[type-arg]
    """YYYY-MM in; the first day of that month out."""

    default_error_messages = {"invalid_month": _("Enter a month as YYYY-MM, e.g. 2026-02.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("max_length", None)  # always 7 characters (YYYY-MM); accepted for symmetry
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        first = parse_month(data) if isinstance(data, str) and len(data) <= 7 else None
        if first is None:
            self.fail("invalid_month")
        return first

    def to_representation(self, value: Any) -> Any:
        return f"{value:%Y-%m}"


class MonthCloseInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    month = MonthInputField(help_text="YYYY-MM (Asia/Shanghai calendar month).")
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")


class MonthCloseResultSerializer(serializers.Serializer):  # type: ignore[type-arg]
    month = serializers.DateField()
    created = serializers.BooleanField(help_text="True when this call closed the month.")
    services = serializers.IntegerField()
    judged = serializers.IntegerField()
    rejudged = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    breaches = serializers.IntegerField()
    proposed = serializers.ListField(child=serializers.IntegerField())
    withdrawn = serializers.ListField(child=serializers.IntegerField())
    reversed = serializers.ListField(child=serializers.IntegerField())


class MonthOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = MonthClose
        fields = ["id", "month", "closed_at", "closed_by", "trigger", "last_judged_at", "services", "breaches"]
        read_only_fields = fields


class JudgementOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    policy = serializers.CharField(source="policy.code", read_only=True)
    policy_name = serializers.CharField(source="policy.name", read_only=True)
    service_name = serializers.CharField(source="service.name", read_only=True)
    verdict_display = serializers.CharField(source="get_verdict_display", read_only=True)

    class Meta:
        model = Judgement
        fields = ["id", "month", "customer", "contract", "service", "service_name", "policy", "policy_name",
                  "value", "comparison", "threshold", "unit", "verdict", "verdict_display", "counted_seconds",
                  "counted", "excluded", "computed_at", "version", "current", "supersedes", "reason"]
        read_only_fields = fields
