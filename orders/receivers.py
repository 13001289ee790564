"""Reactions to other apps' events (connected in OrdersConfig.ready): a new hosting service opens
its installation order and a new e-mail service its provisioning order; a breached C3 clock
proposes the installation-fee refund and a breached E5 clock that month's fee waiver, and a breach
withdrawn (completed in time, recorded late) withdraws it."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.dispatch import receiver

from customers.signals import service_created
from sla.signals import clock_breach_withdrawn, clocks_breached

logger = logging.getLogger(__name__)


@receiver(service_created, dispatch_uid="orders.service_created")
def on_service_created(sender: Any, service_id: int, created_at: Any = None, actor_id: int | None = None,
                       **kwargs: Any) -> None:
    """Open the service's installation order, or for an e-mail service its provisioning order
    (E5), waiting for the payment."""
    from .services import order_open_for_service, provisioning_open_for_service

    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    try:
        order_open_for_service(service_id=service_id, created_at=created_at, actor=actor)
    except Exception:  # the service is committed; orders.tasks.reconcile opens the order later
        logger.exception("opening the installation order of service %s failed", service_id)
    try:
        provisioning_open_for_service(service_id=service_id, created_at=created_at, actor=actor)
    except Exception:  # the service is committed; staff open the order by hand from the queue
        logger.exception("opening the provisioning order of service %s failed", service_id)


@receiver(clocks_breached, dispatch_uid="orders.c3_breached")
def on_clocks_breached(sender: Any, clock_ids: list[int], **kwargs: Any) -> None:
    """C3 or E5 is broken at the deadline: propose the refund or the waiver then, not at
    completion."""
    from .services import orders_clocks_breached, provisioning_clocks_breached

    orders_clocks_breached(clock_ids=clock_ids)
    provisioning_clocks_breached(clock_ids=clock_ids)


@receiver(clock_breach_withdrawn, dispatch_uid="orders.c3_breach_withdrawn")
def on_clock_breach_withdrawn(sender: Any, clock_id: int, reason: str = "", **kwargs: Any) -> None:
    """A C3 or E5 breach turned out not to be one: withdraw the refund or waiver it proposed."""
    from .services import order_breach_withdrawn, provisioning_breach_withdrawn

    try:
        order_breach_withdrawn(clock_id=clock_id, reason=reason)
    except Exception:
        logger.exception("withdrawing the C3 refund of clock %s failed", clock_id)
    try:
        provisioning_breach_withdrawn(clock_id=clock_id, reason=reason)
    except Exception:
        logger.exception("withdrawing the E5 waiver of clock %s failed", clock_id)
