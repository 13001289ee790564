"""Reactions to other apps' events (connected in SettlementConfig.ready)."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from incidents.signals import outages_changed

logger = logging.getLogger(__name__)


@receiver(outages_changed, dispatch_uid="settlement.outages_changed")
def on_outages_changed(sender: Any, service_ids: list[int], since: Any, until: Any, **kwargs: Any) -> None:
    """A change that reaches a closed month re-judges it (an adjustment, never a silent edit)."""
    from .services import months_rejudge_for_outages

    try:
        months_rejudge_for_outages(service_ids=service_ids, since=since, until=until)
    except Exception:  # the outage is saved; the daily job re-judges what this missed
        logger.exception("re-judging closed months for services %s failed", service_ids)
