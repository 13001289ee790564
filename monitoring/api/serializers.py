from __future__ import annotations

from rest_framework import serializers

from customers.selectors import service_list
from slaportal.api import IdField, ScopedPrimaryKeyRelatedField

from ..choices import CheckKind, TargetState
from ..models import Target


class TargetFilterSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """Query parameters of the target list."""

    state = serializers.ChoiceField(choices=TargetState.choices, required=False)
    service = IdField(required=False, help_text="Service id.")


class TargetOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = Target
        fields = ["id", "customer", "service", "kind", "name", "host", "port", "url", "expected_status",
                  "interval_seconds", "timeout_seconds", "active", "state", "last_method", "last_probe_at",
                  "last_ok_at", "last_detail", "next_due_at"]


class TargetCreateInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    service = ScopedPrimaryKeyRelatedField(selector=service_list)
    kind = serializers.ChoiceField(choices=CheckKind.choices)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=120)
    host = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    port = serializers.IntegerField(required=False, allow_null=True, default=None)
    url = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    expected_status = serializers.IntegerField(required=False, default=200)
    interval_seconds = serializers.IntegerField(required=False, default=300)
    timeout_seconds = serializers.FloatField(required=False, default=10.0)
    active = serializers.BooleanField(required=False, default=True)
