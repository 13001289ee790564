"""Reads of the credit ledger: the ledger scoped to the user (a customer user sees only their own
customer's credits), its filters, the billing export of a month, and who may do what."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import models

from customers.choices import Role
from customers.selectors import scope_for_user, user_has_role, user_is_staff

from .choices import CreditState
from .models import Credit

# What billing reads for a month: decided in the customer's favour, whether or not on a bill yet.
EXPORT_STATES = (CreditState.APPROVED, CreditState.APPLIED)


def credit_list(*, user: Any) -> models.QuerySet[Credit]:
    return scope_for_user(
        Credit.objects.select_related("customer", "contract", "policy", "proposed_by", "decided_by",
                                      "reversed_by"),
        user)


# The months a filter or export may name: the first day of the next month must still be a date.
MONTH_MIN_YEAR, MONTH_MAX_YEAR = 1900, 9998


def parse_month(value: str) -> date:
    """'YYYY-MM' → the first day of that month; anything else (2026-13, 2026-1, 10000-01, a year
    outside 1900–9998) raises ValueError."""
    y_text, sep, m_text = value.strip().partition("-")
    if not (sep and len(y_text) == 4 and y_text.isdigit() and len(m_text) == 2 and m_text.isdigit()):
        raise ValueError(value)
    first = date(int(y_text), int(m_text), 1)
    if not MONTH_MIN_YEAR <= first.year <= MONTH_MAX_YEAR:
        raise ValueError(value)
    return first


def month_bounds(month: date) -> tuple[date, date]:
    """The first day of `month`'s month and the first day of the next one."""
    first = month.replace(day=1)
    nxt = date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
    return first, nxt


def credit_filter(qs: models.QuerySet[Credit], *, state: str | None = None, customer_id: int | None = None,
                  month: date | None = None, policy_code: str | None = None) -> models.QuerySet[Credit]:
    """The list filters: state, customer, the month the credit is for (its period), promise."""
    if state:
        qs = qs.filter(state=state)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if month is not None:
        first, nxt = month_bounds(month)
        qs = qs.filter(period__gte=first, period__lt=nxt)
    if policy_code:
        qs = qs.filter(policy__code=policy_code)
    return qs


def credit_export(*, user: Any, month: date) -> models.QuerySet[Credit]:
    """Billing's list for a month: exactly the approved and applied credits whose period falls
    in that month (a monthly remedy's period is the 1st, a daily one's the day), reversals
    included (they subtract), by customer, contract and period."""
    qs = credit_filter(credit_list(user=user), month=month).filter(state__in=EXPORT_STATES)
    return qs.select_related("reverses").prefetch_related("evidence").order_by(
        "customer__name", "contract__number", "period", "id")


def user_may_apply(user: Any) -> bool:
    """Managers, and staff with credits.approve_credit (billing), mark credits as applied."""
    return user_has_role(user, Role.MANAGER) or (user_is_staff(user) and bool(user.has_perm("credits.approve_credit")))


def user_may_export(user: Any) -> bool:
    """The billing export is for those who apply credits to bills; never a customer user."""
    return user_may_apply(user)


def user_may_propose(user: Any) -> bool:
    """Staff with credits.add_credit (managers, specialists, engineers) propose by hand."""
    return user_is_staff(user) and bool(user.has_perm("credits.add_credit"))
