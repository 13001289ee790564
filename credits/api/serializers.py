"""Input and output shapes of the credits API. Kind/amount/days rules are the model's
(Credit.clean): the service reports them per field."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from rest_framework import serializers

from credits.choices import CreditKind, CreditState
from credits.models import Credit
from customers import selectors as customer_selectors
from customers.api.serializers import UserRefSerializer
from sla import selectors as sla_selectors
from slaportal.api import ScopedPrimaryKeyRelatedField


class CreditOutputSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    contract_number = serializers.CharField(source="contract.number", read_only=True)
    policy = serializers.CharField(source="policy.code", read_only=True)
    kind = serializers.ChoiceField(choices=CreditKind.choices, read_only=True)
    state = serializers.ChoiceField(choices=CreditState.choices, read_only=True)
    evidence_type = serializers.SerializerMethodField()
    proposed_by = UserRefSerializer(read_only=True, allow_null=True)
    decided_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Credit
        fields = ["id", "customer", "customer_name", "contract", "contract_number", "policy", "kind",
                  "amount", "days", "period", "evidence_type", "evidence_id", "note", "state",
                  "proposed_at", "proposed_by", "decided_at", "decided_by", "decision_reason",
                  "applied_at"]
        read_only_fields = fields

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
    note = serializers.CharField(required=False, allow_blank=True, default="")
