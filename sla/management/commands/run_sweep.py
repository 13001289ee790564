"""The SLA sweep loop: sleeps until the earliest warning time or deadline among running clocks
and claims what has fallen due the moment it does. Woken early (PostgreSQL LISTEN/NOTIFY) when a
clock starts or resumes, and polls as a safety net; on SQLite it polls. Needs only the database.

    manage.py run_sweep            # run until SIGTERM / Ctrl-C
    manage.py run_sweep --once     # one iteration (tests, cron)

Running two is safe (claims are conditional UPDATEs with SKIP LOCKED): each clock is breached and
escalated once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils import timezone

from runtime.loops import CLOCKS, RateLimited, Stopper, Waker, close_stale_connections
from runtime.services import heartbeat_beat
from sla.selectors import clocks_next_event_at
from sla.services import SweepResult, clocks_escalate_pending, clocks_sweep

logger = logging.getLogger("sla.sweep")


@dataclass
class Iteration:
    result: SweepResult
    next_at: datetime | None
    swept: bool


def sweep_iteration(*, now: datetime | None = None) -> Iteration:
    """One iteration: if a warning or a deadline has come, sweep; then say when the next one is.
    Nothing is written when nothing is due (a poll on SQLite takes no write lock)."""
    now = now or timezone.now()
    next_at = clocks_next_event_at()
    if (next_at is None or next_at > now) and not clocks_escalate_pending():
        return Iteration(SweepResult(), next_at, False)
    t0 = time.monotonic()
    result = clocks_sweep(now=now)
    if result.breached or result.warned:
        logger.info("sweep breached=%d warned=%d notifications=%d duration_ms=%d",
                    len(result.breached), len(result.warned), result.notifications,
                    int((time.monotonic() - t0) * 1000))
    return Iteration(result, clocks_next_event_at(), True)


class Command(BaseCommand):
    help = "Run the SLA sweep loop (breaches and warnings the moment they fall due)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="run one iteration and exit")

    def handle(self, *args: Any, once: bool = False, **options: Any) -> None:
        if once:
            it = sweep_iteration()
            heartbeat_beat(name="sweep", duration_ms=0, iterations=1,
                           detail={"breached": len(it.result.breached), "warned": len(it.result.warned)})
            return
        stopper = Stopper()
        stopper.install()
        waker = Waker([CLOCKS])
        beat = RateLimited(heartbeat_beat, 1.0)
        poll = (settings.LOOP_SAFETY_POLL_SECONDS if connection.vendor == "postgresql"
                else settings.LOOP_SQLITE_POLL_SECONDS)
        logger.info("sweep loop started (%s, %s)", connection.vendor,
                    "LISTEN/NOTIFY" if waker.postgres else f"polling every {poll:g} s")
        iterations = breached = warned = 0
        while not stopper.stopping:
            t0 = time.monotonic()
            try:
                it = sweep_iteration()
            except Exception:
                # The database went away or is locked: say so, reconnect, keep going. The heartbeat
                # stops moving meanwhile, so /healthz turns 503 if it lasts.
                logger.exception("sweep iteration failed; retrying in 1 s")
                close_stale_connections()
                connection.close()
                stopper.event.wait(1.0)
                continue
            iterations += 1
            breached += len(it.result.breached)
            warned += len(it.result.warned)
            beat(name="sweep", duration_ms=(time.monotonic() - t0) * 1000, iterations=iterations,
                 detail={"breached": breached, "warned": warned,
                         "next_at": it.next_at.isoformat() if it.next_at else None},
                 force=it.swept)
            timeout = poll
            if it.next_at is not None:
                timeout = min(timeout, (it.next_at - timezone.now()).total_seconds())
            if timeout > 0:
                waker.wait(timeout)
        waker.close()
        logger.info("sweep loop stopped after %d iterations", iterations)
