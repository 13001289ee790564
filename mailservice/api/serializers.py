"""Input and output shapes of the e-mail measurement API. Inputs only parse and type-check; the
rules (who may write, an end after the start, a fault not in the future, errors ≤ customers billed)
live in mailservice.services, so the pages and the API refuse the same things."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from customers.api.serializers import UserRefSerializer
from customers.models import Service
from settlement.api.serializers import MonthInputField
from slaportal.api import IdField, ScopedPrimaryKeyRelatedField

from ..choices import PlatformEventKind
from ..models import BUCKET_FIELDS, BillingErrorFigure, MailDomain, MailPlatform, PlatformEvent
from ..selectors import email_services_visible


def _figure(**kwargs: Any) -> serializers.DecimalField:
    """A measured figure: a decimal string with six places."""
    return serializers.DecimalField(max_digits=24, decimal_places=6, coerce_to_string=True, **kwargs)


# --- Platforms ---------------------------------------------------------------------------------

class PlatformOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = MailPlatform
        fields = ["id", "name", "description", "created_at"]
        read_only_fields = fields


class PlatformInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


# --- Mail domains --------------------------------------------------------------------------------

class DomainOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    service_name = serializers.CharField(source="service.name", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    platform_name = serializers.CharField(source="platform.name", read_only=True)

    class Meta:
        model = MailDomain
        fields = ["id", "domain", "service", "service_name", "customer", "customer_name", "platform",
                  "platform_name", "created_at"]
        read_only_fields = fields


class DomainInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    domain = serializers.CharField(max_length=253)
    service: ScopedPrimaryKeyRelatedField[Service] = ScopedPrimaryKeyRelatedField(selector=email_services_visible,
                                           help_text="The e-mail service the domain belongs to.")
    platform = serializers.PrimaryKeyRelatedField(queryset=MailPlatform.objects.all(),
                                                  help_text="The mail platform hosting the domain.")


class DomainFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    service = IdField(required=False)
    platform = IdField(required=False)


# --- Platform faults and adjustments ---------------------------------------------------------------

class EventOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    platform_name = serializers.CharField(source="platform.name", read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    recorded_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = PlatformEvent
        fields = ["id", "platform", "platform_name", "kind", "kind_label", "title", "started_at", "ended_at",
                  "note", "recorded_by", "recorded_at"]
        read_only_fields = fields


class EventInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    platform = serializers.PrimaryKeyRelatedField(queryset=MailPlatform.objects.all())
    kind = serializers.ChoiceField(choices=PlatformEventKind.choices)
    title = serializers.CharField(max_length=200)
    started_at = serializers.DateTimeField()
    ended_at = serializers.DateTimeField(required=False, allow_null=True, default=None,
                                         help_text="Empty while it lasts.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class EventEndInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    ended_at = serializers.DateTimeField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class EventFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    platform = IdField(required=False)
    kind = serializers.ChoiceField(choices=PlatformEventKind.choices, required=False)
    month = MonthInputField(required=False, help_text="YYYY-MM: the events reaching that month.")


class DeleteInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


# --- Billing figures -------------------------------------------------------------------------------

class BillingOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    month = MonthInputField(read_only=True)
    error_rate_percent = serializers.SerializerMethodField()
    entered_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = BillingErrorFigure
        fields = ["id", "month", "customers_billed", "customers_with_error", "error_rate_percent", "note",
                  "entered_by", "entered_at"]
        read_only_fields = fields

    def get_error_rate_percent(self, obj: BillingErrorFigure) -> str | None:
        if not obj.customers_billed:
            return None
        return f"{obj.customers_with_error * 100 / obj.customers_billed:.6f}"


class BillingInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    month = MonthInputField(help_text="YYYY-MM; entering a month again corrects its figures.")
    customers_billed = serializers.IntegerField(min_value=0, max_value=2_000_000_000)
    customers_with_error = serializers.IntegerField(min_value=0, max_value=2_000_000_000)
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000)


# --- Monthly figures -------------------------------------------------------------------------------

class FiguresQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    month = MonthInputField(required=False, help_text="YYYY-MM (Asia/Shanghai); default: the current month.")


class DirectionOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    direction = serializers.CharField()
    messages = serializers.IntegerField()
    excluded = serializers.IntegerField(help_text="Messages the agreement excludes (another provider's delay).")
    average_seconds = _figure(allow_null=True)
    max_seconds = _figure(allow_null=True)
    over_hour = serializers.IntegerField()
    histogram = serializers.SerializerMethodField(help_text="Messages per latency bucket.")

    def get_histogram(self, obj: Any) -> dict[str, int]:
        return dict(zip(BUCKET_FIELDS, obj.histogram, strict=True))


class DailyOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    day = serializers.DateField()
    messages = serializers.IntegerField()
    average_seconds = _figure(allow_null=True)
    over_hour = serializers.IntegerField()


class PromiseOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One promise's value against its policy row (the contract's override applied)."""

    code = serializers.CharField()
    value = _figure()
    comparison = serializers.CharField()
    threshold = _figure()
    unit = serializers.CharField()
    verdict = serializers.CharField(help_text="met, breached or not_applicable.")
    counted = serializers.ListField(child=serializers.DictField())


class FiguresOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The e-mail guarantee's figures of one service and month (seed 002 §1–§3)."""

    service = serializers.IntegerField(source="service_id")
    month = serializers.CharField()
    latency_source = serializers.CharField(allow_null=True, help_text="log, probe, or null (no samples).")
    send = DirectionOutputSerializer()
    receive = DirectionOutputSerializer()
    average_minutes = _figure(allow_null=True)
    over_hour = serializers.IntegerField()
    daily = DailyOutputSerializer(many=True)
    connectivity_minutes = _figure()
    fault_minutes = _figure()
    adjustment_minutes = _figure()
    availability_percent = _figure()
    fault_days_year = serializers.IntegerField()
    fault_free_days_year = serializers.IntegerField()
    days_in_year = serializers.IntegerField()
    billing_error_rate_percent = _figure(allow_null=True)
    webmail_average_seconds = _figure(allow_null=True)
    verdicts = serializers.DictField(child=serializers.BooleanField(allow_null=True),
                                     help_text="Per policy code: true kept, false broken, null not measured "
                                               "or not applicable.")
    promises = PromiseOutputSerializer(many=True)
    events = serializers.ListField(child=serializers.DictField(), help_text="Faults and adjustments counted.")
