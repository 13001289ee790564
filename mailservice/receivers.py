"""Mailservice listens to the monitoring engine: each mail-loop message measured (monitoring.signals.
mail_loop_measured, sent after commit) becomes one sample of the hourly latency aggregates of the
mail domain the probe mailbox belongs to.

Direction "receive" is our documented choice: the loop measures from the message fully received
from the client (the SMTP 250 after DATA) to the message in the mailbox, which is seed 002 §2's
receiving delay (fully received from the source → in the mailbox); the loop's source is the
customer's own submission service. The sending delay (→ delivery to the destination starts) is
not visible to a probe and comes from the delivery log."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import receiver

from monitoring.signals import mail_loop_measured

from .aggregates import LatencyAccumulator
from .choices import Direction, LatencySource
from .models import MailDomain


@receiver(mail_loop_measured, dispatch_uid="mailservice.loop_sample_to_latency")
def loop_sample_to_latency(sender: Any, *, service_id: int, address: str, delivered_at: float,
                           latency_ms: int, **kwargs: Any) -> None:
    """Add one loop sample to LatencyHourly (source probe, direction receive) of the MailDomain
    whose domain is the mailbox address's domain, on the same service; none → no sample. The
    monitoring engine sends each loop message once (its pending/last bookkeeping), so this adds."""
    domain = address.rsplit("@", 1)[-1].strip().lower().rstrip(".")
    domain_id = (MailDomain.objects.filter(domain=domain, service_id=service_id)
                 .values_list("pk", flat=True).first())
    if domain_id is None:
        return
    acc = LatencyAccumulator()
    acc.add(domain_id=domain_id, at=delivered_at, direction=Direction.RECEIVE, source=LatencySource.PROBE,
            latency_ms=latency_ms)
    with transaction.atomic():
        acc.flush()
