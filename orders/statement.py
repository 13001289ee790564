"""The provisioning section of the monthly statement (月度服务品质报告, seed 002 §8): each e-mail
provisioning order of the customer that concerns the month, with when the payment was confirmed,
when the service was due and completed, and whether E5 was kept. Registered with
settlement.statement_sections in OrdersConfig.ready (settlement never imports orders)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from sla.choices import ClockState

from .choices import ProvisioningState
from .selectors import provisioning_month


def _local(at: datetime | None) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M") if at else "—"


def provisioning_verdict(order: Any) -> str:
    """The order's E5 verdict as the statement and the pages show it, from its latest clock."""
    state = getattr(order, "e5_state", None)
    if order.state == ProvisioningState.CANCELLED:
        return _("cancelled")
    if state == ClockState.MET:
        return _("on time")
    if state == ClockState.BREACHED:
        return _("late: that month's fee waived") if order.state == ProvisioningState.COMPLETED else _(
            "overdue, not completed yet: that month's fee waived")
    if order.state == ProvisioningState.AWAITING_PAYMENT:
        return _("awaiting payment")
    if state in (ClockState.RUNNING, ClockState.PAUSED):
        return _("in progress")
    return _("no provisioning clock")


def provisioning_statement_section(*, customer: Any, first: date, start: datetime, end: datetime,
                                   **kwargs: Any) -> dict[str, Any] | None:
    """settlement.statement_sections builder: None when the customer had no provisioning that
    month, so statements without one stay as they were."""
    orders = provisioning_month(customer_id=customer.pk, start=start, end=end)
    if not orders:
        return None
    rows = []
    breached = 0
    for o in orders:
        due = getattr(o, "e5_due_at", None)  # annotated by the selector
        breached += getattr(o, "e5_state", None) == ClockState.BREACHED
        rows.append([str(o), o.domain or o.service.name,
                     _("new domain (48 hours)") if o.new_domain else _("existing domain (24 hours)"),
                     _local(o.payment_confirmed_at), _local(due), _local(o.completed_at),
                     provisioning_verdict(o)])
    return {
        "title": _("E-mail provisioning"),
        "columns": [_("Order"), _("Domain name"), _("Case"), _("Payment confirmed at"), _("Due at"),
                    _("Completed at"), _("Verdict")],
        "rows": rows,
        "note": _("Seed 002 §8: the service is opened within 24 hours of the confirmed payment when "
                  "the customer already has the domain, within 48 hours when a new domain must be "
                  "registered; otherwise that month's fee is waived."),
        "breached": breached,
    }
