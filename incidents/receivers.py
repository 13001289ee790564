"""Reactions to other apps' events (connected in IncidentsConfig.ready)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.dispatch import receiver

from sla.models import Clock
from sla.signals import clock_breach_withdrawn, clocks_breached

logger = logging.getLogger(__name__)


@receiver(clocks_breached, dispatch_uid="incidents.c4_breached")
def on_clocks_breached(sender: Any, clock_ids: list[int], **kwargs: Any) -> None:
    """A C4 clock of an incident breached: record the miss and propose the credit."""
    from .models import Incident
    from .services import C4, notice_miss_record

    ids = list(Clock.objects.filter(pk__in=clock_ids, policy__code=C4,
                                    content_type=ContentType.objects.get_for_model(Incident))
               .values_list("pk", flat=True))
    for pk in ids:
        try:
            notice_miss_record(clock_id=pk)
        except Exception:  # one bad row must not stop the others; the sweep already committed
            logger.exception("recording the C4 miss of clock %s failed", pk)


@receiver(clock_breach_withdrawn, dispatch_uid="incidents.c4_breach_withdrawn")
def on_clock_breach_withdrawn(sender: Any, clock_id: int, reason: str, **kwargs: Any) -> None:
    """A breached C4 clock turned out not to be a breach (met, recorded late; or exempted):
    withdraw the miss and the day's credit it caused."""
    from .models import Incident
    from .services import C4, notice_miss_withdraw

    if not Clock.objects.filter(pk=clock_id, policy__code=C4,
                                content_type=ContentType.objects.get_for_model(Incident)).exists():
        return
    try:
        notice_miss_withdraw(clock_id=clock_id, reason=reason)
    except Exception:  # the clock's change is committed; the next occurrence must not be blocked
        logger.exception("withdrawing the C4 miss of clock %s failed", clock_id)


def _tell_outages_changed(*, service_ids: list[int], since: Any, until: Any) -> None:
    from django.db import transaction

    from .signals import outages_changed

    transaction.on_commit(lambda: outages_changed.send(
        sender=None, service_ids=service_ids, since=since, until=until))


def on_outage_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    """Every write of an outage row (probe, webhook, staff, a facility event's fan-out) goes
    through save(); a change to a closed month must reach settlement whichever path made it."""
    _tell_outages_changed(service_ids=[instance.service_id], since=instance.started_at,
                          until=instance.ended_at)


def on_incident_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    """A customer report recorded late can bring an outage back into the count (5-day clause)."""
    if update_fields is None or "reported_at" not in update_fields or instance.reported_at is None:
        return
    from .models import Outage

    spans = list(Outage.objects.filter(incident=instance).values_list("started_at", "ended_at"))
    if spans:
        ends = [e for _s, e in spans]
        _tell_outages_changed(service_ids=[instance.service_id], since=min(s for s, _e in spans),
                              until=None if None in ends else max(e for e in ends if e is not None))
