"""Reads of the installation workflow, scoped by tenant in one place (customers.selectors):
another customer's order is not in the queryset, so it is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import audit_for
from customers.selectors import scope_for_user
from sla.choices import ClockState
from sla.models import Clock

from .choices import OPEN_ORDER_STATES
from .models import ChecklistItem, InstallationOrder

C3 = "C3"


def _c3_clocks() -> models.QuerySet[Clock]:
    return Clock.objects.filter(content_type=ContentType.objects.get_for_model(InstallationOrder),
                                object_id=OuterRef("pk"), policy__code=C3)


def order_filter_overdue(qs: models.QuerySet[InstallationOrder], *, overdue: bool,
                         now: datetime | None = None) -> models.QuerySet[InstallationOrder]:
    """Open orders past their C3 deadline (breached, or running past due before the sweep got
    to it) when overdue=True; every other order when False."""
    now = now or timezone.now()
    late = _c3_clocks().filter(Q(state=ClockState.BREACHED) | Q(state=ClockState.RUNNING, due_at__lte=now))
    cond = Q(Exists(late), state__in=OPEN_ORDER_STATES)
    return qs.filter(cond) if overdue else qs.exclude(cond)


def order_list(
    *, user: Any, state: str | None = None, customer_id: int | None = None,
    contract_id: int | None = None, overdue: bool | None = None, now: datetime | None = None,
) -> models.QuerySet[InstallationOrder]:
    """Orders the user may see, each with its C3 deadline and clock state annotated in the same
    query (constant query count however long the list)."""
    latest = _c3_clocks().order_by("-started_at", "-id")
    qs = scope_for_user(InstallationOrder.objects.all(), user).select_related(
        "customer", "contract", "service", "service__engineer").annotate(
        c3_due_at=Subquery(latest.values("due_at")[:1]),
        c3_state=Subquery(latest.values("state")[:1]),
    )
    if state:
        qs = qs.filter(state=state)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if contract_id:
        qs = qs.filter(contract_id=contract_id)
    if overdue is not None:
        qs = order_filter_overdue(qs, overdue=overdue, now=now)
    return qs.order_by("-created_at", "-id")


def order_get(*, user: Any, pk: int) -> InstallationOrder:
    """One order or InstallationOrder.DoesNotExist (a 404), also for another customer's."""
    return order_list(user=user).get(pk=pk)


def order_items(order: InstallationOrder) -> models.QuerySet[ChecklistItem]:
    return order.items.select_related("done_by").order_by("position", "id")


def order_c3_clock(order: InstallationOrder) -> Clock | None:
    """The order's latest C3 clock; None while its deadline is pending."""
    return (Clock.objects.filter(content_type=ContentType.objects.get_for_model(InstallationOrder),
                                 object_id=order.pk, policy__code=C3)
            .select_related("policy").order_by("-started_at", "-id").first())


def order_audit(order: InstallationOrder) -> models.QuerySet[AuditEntry]:
    return audit_for(order)
