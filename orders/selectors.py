"""Reads of the installation workflow, scoped by tenant in one place (customers.selectors):
another customer's order is not in the queryset, so it is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import NullIf
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import audit_for
from customers.selectors import scope_for_user
from sla.mirrors import overdue_q
from sla.models import Clock

from .choices import E5_CODES, OPEN_ORDER_STATES, PROVISIONING_OPEN_STATES
from .models import ChecklistItem, InstallationOrder, ProvisioningItem, ProvisioningOrder

C3 = "C3"


def order_filter_overdue(qs: models.QuerySet[InstallationOrder], *, overdue: bool,
                         now: datetime | None = None) -> models.QuerySet[InstallationOrder]:
    """Open orders past their C3 deadline (a C3 clock breached, or the current one running at or
    past due before the sweep got to it) when overdue=True; every other order when False. Reads
    the fields the clock engine keeps on the order (sla.mirrors), not the clocks."""
    cond = overdue_q(prefix="sla_", now=now or timezone.now()) & Q(state__in=OPEN_ORDER_STATES)
    return qs.filter(cond) if overdue else qs.exclude(cond)


def order_list(
    *, user: Any, state: str | None = None, customer_id: int | None = None,
    contract_id: int | None = None, overdue: bool | None = None, now: datetime | None = None,
) -> models.QuerySet[InstallationOrder]:
    """Orders the user may see, each with its C3 deadline and clock state (kept on the order by
    the clock engine, sla.mirrors; None without a clock)."""
    qs = scope_for_user(InstallationOrder.objects.all(), user).select_related(
        "customer", "contract", "service", "service__engineer").annotate(
        c3_due_at=F("sla_due_at"), c3_state=NullIf(F("sla_state"), Value("")))
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


# --- E-mail provisioning orders (E5) ----------------------------------------------------------

def _e5_annotations() -> dict[str, Any]:
    """The current E5 clock as the lists and the statement read it, from the fields the clock
    engine keeps on the order (sla.mirrors); None without a clock."""
    return {"e5_due_at": F("sla_due_at"), "e5_state": NullIf(F("sla_state"), Value("")),
            "e5_started_at": F("sla_started_at"), "e5_policy": NullIf(F("sla_policy"), Value(""))}


def provisioning_list(
    *, user: Any, state: str | None = None, open_only: bool = False, customer_id: int | None = None,
    service_id: int | None = None, overdue: bool | None = None, now: datetime | None = None,
) -> models.QuerySet[ProvisioningOrder]:
    """Provisioning orders the user may see (another customer's are not in the queryset: a 404),
    each with its latest E5 clock's deadline, state and policy annotated in the same query.
    `overdue`: open orders past their deadline (breached, or running past due before the sweep
    got to it)."""
    now = now or timezone.now()
    qs = scope_for_user(ProvisioningOrder.objects.all(), user).select_related(
        "customer", "contract", "service").annotate(**_e5_annotations())
    if state:
        qs = qs.filter(state=state)
    if open_only:
        qs = qs.filter(state__in=PROVISIONING_OPEN_STATES)
    if customer_id:
        qs = qs.filter(customer_id=customer_id)
    if service_id:
        qs = qs.filter(service_id=service_id)
    if overdue is not None:
        cond = overdue_q(prefix="sla_", now=now) & Q(state__in=PROVISIONING_OPEN_STATES)
        qs = qs.filter(cond) if overdue else qs.exclude(cond)
    return qs.order_by("-created_at", "-id")


def provisioning_get(*, user: Any, pk: int) -> ProvisioningOrder:
    """One order or ProvisioningOrder.DoesNotExist (a 404), also for another customer's."""
    return provisioning_list(user=user).get(pk=pk)


def provisioning_items(order: ProvisioningOrder) -> models.QuerySet[ProvisioningItem]:
    return order.items.select_related("done_by").order_by("position", "id")


def provisioning_clock(order: ProvisioningOrder) -> Clock | None:
    """The order's latest E5 clock (E5-EXIST or E5-NEW); None before the payment is confirmed."""
    return (Clock.objects.filter(content_type=ContentType.objects.get_for_model(ProvisioningOrder),
                                 object_id=order.pk, policy__code__in=E5_CODES)
            .select_related("policy").order_by("-started_at", "-id").first())


def provisioning_month(*, customer_id: int, start: datetime, end: datetime) -> list[ProvisioningOrder]:
    """The customer's provisioning orders that concern the month [start, end): payment confirmed,
    due or completed in it, or still open with a deadline before its end. For the statement."""
    qs = ProvisioningOrder.objects.filter(customer_id=customer_id).select_related("contract", "service")
    qs = qs.annotate(**_e5_annotations())
    in_month = (Q(payment_confirmed_at__gte=start, payment_confirmed_at__lt=end)
                | Q(e5_due_at__gte=start, e5_due_at__lt=end)
                | Q(completed_at__gte=start, completed_at__lt=end)
                | Q(state__in=PROVISIONING_OPEN_STATES, e5_due_at__lt=end,
                    payment_confirmed_at__lt=end))
    return list(qs.filter(in_month).exclude(state="cancelled", payment_confirmed_at__isnull=True)
                .order_by("payment_confirmed_at", "id"))


def provisioning_audit(order: ProvisioningOrder) -> models.QuerySet[AuditEntry]:
    return audit_for(order)
