"""Input and output shapes of the credits API. Kind/amount/days rules are the model's
(Credit.clean): the service reports them per field."""

from __future__ import annotations

from datetime import date

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext as _
from rest_framework import serializers

from credits.choices import CreditKind, CreditState
from credits.exports import evidence_text
from credits.models import Credit
from credits.selectors import MONTH_MAX_YEAR, MONTH_MIN_YEAR, parse_month
from customers import selectors as customer_selectors
from customers.api.serializers import UserRefSerializer
from sla import selectors as sla_selectors
from slaportal.api import IdField, ScopedPrimaryKeyRelatedField


class CreditOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    policy = serializers.CharField(source="policy.code", read_only=True)
    kind = serializers.ChoiceField(choices=CreditKind.choices, read_only=True)
    state = serializers.ChoiceField(choices=CreditState.choices, read_only=True)
    evidence_type = serializers.SerializerMethodField()
    proposed_by = UserRefSerializer(read_only=True, allow_null=True)
    decided_by = UserRefSerializer(read_only=True, allow_null=True)
    signed_amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, read_only=True, allow_null=True,
        help_text="The amount as billing reads it: negative for a reversal; null for days.")
    signed_days = serializers.IntegerField(
        read_only=True, allow_null=True,
        help_text="Days of service as billing reads them: negative for a reversal; null for money.")
    reverses = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The applied credit this entry reverses, if any.")
    reversed_by = serializers.SerializerMethodField(
        help_text="The entry that reverses this credit, if any (whatever its state).")

    class Meta:
        model = Credit
        fields = ["id", "customer", "customer_name", "contract", "contract_number", "policy", "kind",
                  "amount", "days", "signed_amount", "signed_days", "period", "evidence_type",
                  "evidence_id", "note", "state", "proposed_at", "proposed_by", "decided_at", "decided_by",
                  "decision_reason", "applied_at", "withdrawn_at", "reverses", "reversed_by"]
        read_only_fields = fields

    def get_reversed_by(self, obj: Credit) -> int | None:
        reversal = obj.reversal
        return reversal.pk if reversal is not None else None

    def get_evidence_type(self, obj: Credit) -> str | None:
        if not obj.evidence_type_id:
            return None
        ct = ContentType.objects.get_for_id(obj.evidence_type_id)  # cached: no query per row
        return f"{ct.app_label}.{ct.model}"


class CreditProposeInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    contract = ScopedPrimaryKeyRelatedField(selector=customer_selectors.contract_list)
    policy = serializers.CharField(max_length=20, help_text="Policy code, e.g. C3.")
    kind = serializers.ChoiceField(choices=CreditKind.choices)
    period = serializers.DateField(help_text="First day of the month, or the day, the credit is for.")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, required=False, allow_null=True,
                                      default=None)
    days = serializers.IntegerField(required=False, allow_null=True, default=None)
    clock = ScopedPrimaryKeyRelatedField(selector=sla_selectors.clock_list, required=False,
                                         allow_null=True, default=None,
                                         help_text="The clock whose breach is the evidence.")
    note = serializers.CharField(max_length=4000, help_text="Why the credit is owed (required).")


class CreditReverseInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    reason = serializers.CharField(max_length=2000, help_text="Why the applied credit is corrected (required).")


class CreditBulkApplyInputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    ids = serializers.ListField(child=IdField(), min_length=1, max_length=500,
                                help_text="The approved credits billing confirmed.")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000,
                                   help_text="A note for the audit trail, e.g. the invoice number.")


class CreditRefusalSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="conflict (not approved any more), not_found, ...")


class CreditBulkApplyOutputSerializer(serializers.Serializer):  # type: ignore[type-arg]
    applied = serializers.ListField(child=serializers.IntegerField())
    refused = CreditRefusalSerializer(many=True)


class CreditExportQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    month = serializers.CharField(max_length=7, required=False,
                                  help_text="YYYY-MM; default: the current month (Asia/Shanghai).")

    def validate_month(self, value: str) -> date:
        try:
            return parse_month(value)
        except ValueError:
            raise serializers.ValidationError(
                _("Give the month as YYYY-MM, between %(min)s-01 and %(max)s-12.")
                % {"min": MONTH_MIN_YEAR, "max": MONTH_MAX_YEAR}) from None


class CreditExportRowSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    """One line of billing's export: who, which promise and remedy, the signed amount or days,
    the state and its times (Asia/Shanghai), the evidence in words, and what it reverses."""

    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    policy = serializers.CharField(source="policy.code", read_only=True)
    policy_name = serializers.CharField(source="policy.name", read_only=True)
    kind = serializers.ChoiceField(choices=CreditKind.choices, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    state = serializers.ChoiceField(choices=CreditState.choices, read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    signed_amount = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, allow_null=True)
    signed_days = serializers.IntegerField(read_only=True, allow_null=True)
    evidence = serializers.SerializerMethodField()
    reverses = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Credit
        fields = ["id", "customer", "customer_name", "contract", "contract_number", "policy", "policy_name",
                  "kind", "kind_label", "amount", "days", "signed_amount", "signed_days", "period", "state",
                  "state_label", "proposed_at", "decided_at", "applied_at", "evidence", "reverses", "note"]
        read_only_fields = fields

    def get_evidence(self, obj: Credit) -> str:
        return evidence_text(obj)
