"""Reactions to other apps' events (connected in AbuseConfig.ready): an accepted spam complaint
opens its spam case, a withdrawn one cancels the case's clocks; a breached E4 clock proposes the
fee waiver (or escalates), and a breach withdrawn withdraws it."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import receiver

from complaints.choices import ComplaintSubject
from complaints.signals import complaint_accepted, complaint_withdrawn
from sla.signals import clock_breach_withdrawn, clocks_breached

logger = logging.getLogger(__name__)


@receiver(complaint_accepted, dispatch_uid="abuse.complaint_accepted")
def on_complaint_accepted(sender: Any, complaint_id: int, subject: str = "", actor_id: int | None = None,
                          **kwargs: Any) -> None:
    if subject != ComplaintSubject.SPAM:
        return
    from .services import case_open_from_complaint
    from .services.cases import actor_by_id

    try:
        case_open_from_complaint(complaint_id=complaint_id, actor=actor_by_id(actor_id))
    except Exception:  # the acceptance is committed; abuse.tasks.reconcile opens the case later
        logger.exception("opening the spam case of complaint %s failed", complaint_id)


@receiver(complaint_withdrawn, dispatch_uid="abuse.complaint_withdrawn")
def on_complaint_withdrawn(sender: Any, complaint_id: int, subject: str = "", reason: str = "",
                           actor_id: int | None = None, withdrawn_at: Any = None, **kwargs: Any) -> None:
    if subject != ComplaintSubject.SPAM:
        return
    from .services import case_complaint_withdrawn
    from .services.cases import actor_by_id

    try:
        case_complaint_withdrawn(complaint_id=complaint_id, reason=reason, actor=actor_by_id(actor_id),
                                 now=withdrawn_at)
    except Exception:
        logger.exception("cancelling the spam case clocks of complaint %s failed", complaint_id)


@receiver(clocks_breached, dispatch_uid="abuse.e4_breached")
def on_clocks_breached(sender: Any, clock_ids: list[int], **kwargs: Any) -> None:
    from .services import abuse_clocks_breached

    abuse_clocks_breached(clock_ids=clock_ids)


@receiver(clock_breach_withdrawn, dispatch_uid="abuse.e4_breach_withdrawn")
def on_clock_breach_withdrawn(sender: Any, clock_id: int, reason: str = "", **kwargs: Any) -> None:
    from .services import case_breach_withdrawn

    try:
        case_breach_withdrawn(clock_id=clock_id, reason=reason)
    except Exception:
        logger.exception("withdrawing the E4 fee waiver of clock %s failed", clock_id)
