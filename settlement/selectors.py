"""Reads of the settlement app, scoped by tenant (customers.selectors.scope_for_user)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import models

from accounts.people import person_name_expr
from customers.selectors import scope_for_user

from .choices import Verdict
from .models import Judgement, MonthClose


def judgement_list(*, user: Any, current_only: bool = True) -> models.QuerySet[Judgement]:
    qs = Judgement.objects.select_related("policy", "service", "contract", "customer")
    if current_only:
        qs = qs.filter(current=True)
    return scope_for_user(qs, user)


def judgements_filtered(*, user: Any, month: date | None = None, customer_id: int | None = None,
                        policy_code: str | None = None, verdict: str | None = None) -> models.QuerySet[Judgement]:
    qs = judgement_list(user=user)
    if month is not None:
        qs = qs.filter(month=month)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if policy_code:
        qs = qs.filter(policy__code=policy_code)
    if verdict:
        qs = qs.filter(verdict=verdict)
    return qs.order_by("-month", "customer__name", "service__name", "policy__code")


def month_list() -> models.QuerySet[MonthClose]:
    """Closed months (staff pages only: the months are the provider's, not a customer's data)."""
    return MonthClose.objects.select_related("closed_by").order_by("-month")


def monthly_breaches(*, user: Any, customer_id: int | None = None, policy_code: str | None = None,
                     since: date | None = None) -> models.QuerySet[Judgement]:
    """Current judgements that found a period promise broken (the breach history's monthly rows)."""
    qs = judgement_list(user=user).filter(verdict=Verdict.BREACHED)
    if since is not None:
        qs = qs.filter(month__gte=since)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if policy_code:
        qs = qs.filter(policy__code=policy_code)
    return qs.order_by("-month", "customer__name", "policy__code")


def judgement_history(judgement: Judgement) -> list[Judgement]:
    """Every version of the judgement's service, promise and month, newest first."""
    return list(Judgement.objects.filter(service_id=judgement.service_id, policy_id=judgement.policy_id,
                                         month=judgement.month).select_related("policy")
                .order_by("-version"))


# --- Sources for the breach history and the overdue review (registered in apps.ready) --------

def breach_source(*, user: Any, customer_id: int | None, policy_code: str | None, since: Any,
                  until: Any) -> models.QuerySet[Any]:
    """Monthly breaches in sla.breaches.BREACH_COLUMNS shape (dated at the end of their month)."""
    from django.db.models import DateTimeField, F, Value

    from sla.breaches import BREACH_COLUMNS

    qs = judgement_list(user=user).filter(verdict=Verdict.BREACHED, breached_at__gte=since)
    if until is not None:
        qs = qs.filter(breached_at__lt=until)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if policy_code:
        qs = qs.filter(policy__code=policy_code)
    return qs.annotate(
        source=Value("month", output_field=models.CharField()), obj_id=F("id"), at=F("breached_at"),
        code=F("policy__code"), name_zh=F("policy__name_zh"), name_en=F("policy__name_en"),
        item=F("service__name"), customer_name=F("customer__name"),
        assignee_name=person_name_expr("service__engineer"),
        due=Value(None, output_field=DateTimeField()), completed=Value(None, output_field=DateTimeField()),
        clause=F("policy__clause"), month_=F("month"),
    ).values_list(*[c if c != "month" else "month_" for c in BREACH_COLUMNS]).order_by()


def overdue_source(*, user: Any, customer_id: int | None, policy_code: str | None,
                   assignee_id: int | None) -> list[dict[str, Any]]:
    """Monthly breaches whose credit still awaits the manager's decision or billing."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q

    from credits.choices import CreditState
    from credits.models import Credit

    qs = judgement_list(user=user).filter(verdict=Verdict.BREACHED)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if policy_code:
        qs = qs.filter(policy__code=policy_code)
    if assignee_id:
        qs = qs.filter(Q(service__engineer_id=assignee_id) | Q(service__specialist_id=assignee_id))
    ct = ContentType.objects.get_for_model(Judgement)
    # A month's credit is per contract and month (its evidence may be an earlier version).
    pending = {(c.contract_id, c.period): c for c in Credit.objects.filter(
        evidence_type=ct, state__in=[CreditState.PROPOSED, CreditState.APPROVED],
        contract_id__in=qs.values("contract_id"))}
    rows = []
    for j in qs.select_related("service__engineer").order_by("month", "pk")[:2000]:
        c = pending.get((j.contract_id, j.month))
        if c is None:
            continue
        rows.append({"judgement": j, "credit": c, "code": j.policy.code, "name": j.policy.name,
                     "item": j.service.name, "customer": j.customer, "month": j.month,
                     "assignee": j.service.engineer, "state": c.get_state_display(),
                     "clause": j.policy.clause, "breached_at": j.breached_at})
    return rows
