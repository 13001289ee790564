"""Reactions to other apps' events (connected in IncidentsConfig.ready)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.dispatch import receiver

from sla.models import Clock
from sla.signals import clocks_breached

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
