from typing import Any

from django.db import models

from customers.selectors import scope_for_user

from .models import Credit


def credit_list(*, user: Any) -> models.QuerySet[Credit]:
    return scope_for_user(
        Credit.objects.select_related("customer", "contract", "policy", "proposed_by", "decided_by"),
        user)
