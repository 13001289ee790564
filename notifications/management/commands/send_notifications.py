"""The notification sender loop: delivers every pending notification row, several at a time,
each under a lease. Woken at commit on PostgreSQL (LISTEN/NOTIFY), polling elsewhere and as a
safety net. Needs only the database: a broker outage delays nothing.

    manage.py send_notifications            # run until SIGTERM / Ctrl-C
    manage.py send_notifications --once     # deliver what is due now and exit

A sender killed mid-send leaves its rows 'sending' under a lease; rows leased by a dead process
of this host are freed at the next iteration, others when their lease runs out. Running two
senders is safe: a row is leased to one at a time.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import connection, connections
from django.db.models import Min, Q
from django.utils import timezone

from notifications.choices import Status
from notifications.models import Notification
from notifications.services import notifications_deliver_due, notifications_release_dead
from runtime.loops import NOTIFICATIONS, RateLimited, Stopper, Waker, close_stale_connections, worker_name
from runtime.services import heartbeat_beat

logger = logging.getLogger("notifications.sender")


def _due_filter() -> Q:
    return Q(status=Status.PENDING) | Q(status=Status.SENDING, lease_expires_at__lte=timezone.now())


def _thread_pass(worker: str) -> int:
    try:
        return notifications_deliver_due(worker=worker)
    finally:
        connections.close_all()  # this thread's connection: do not leak one per pass


def send_iteration(*, pool: ThreadPoolExecutor | None = None, threads: int = 1) -> int:
    """One iteration: free rows of dead senders, then deliver everything due with `threads`
    parallel senders. Returns the number of rows delivered (sent or failed)."""
    notifications_release_dead()
    if not Notification.objects.filter(_due_filter()).exists():
        return 0
    worker = worker_name()
    if pool is None or threads <= 1:
        return notifications_deliver_due(worker=worker)
    return sum(pool.map(_thread_pass, [worker] * threads))


def run_follow_ups(jobs: list[Any]) -> None:
    """What other apps do once notifications went out (settings.SENDER_FOLLOW_UPS, dotted paths
    of functions taking no arguments, e.g. the emergency notice moving on to its next channel when
    a notice failed): run from this loop, so they do not wait for the broker either."""
    for job in jobs:
        try:
            job()
        except Exception:
            logger.exception("follow-up %s failed", getattr(job, "__qualname__", job))


def _next_lease_expiry_in(default: float) -> float:
    nxt = (Notification.objects.filter(status=Status.SENDING)
           .aggregate(m=Min("lease_expires_at"))["m"])
    if nxt is None:
        return default
    return max(0.0, min(default, (nxt - timezone.now()).total_seconds()))


class Command(BaseCommand):
    help = "Run the notification sender loop."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="deliver what is due and exit")
        parser.add_argument("--threads", type=int, default=None,
                            help="parallel senders (default NOTIFICATION_SENDER_THREADS)")

    def handle(self, *args: Any, once: bool = False, threads: int | None = None, **options: Any) -> None:
        threads = max(1, threads or settings.NOTIFICATION_SENDER_THREADS)
        if once:
            n = send_iteration()
            from django.utils.module_loading import import_string

            run_follow_ups([import_string(path) for path in settings.SENDER_FOLLOW_UPS])
            heartbeat_beat(name="sender", duration_ms=0, iterations=1, detail={"delivered": n})
            return
        stopper = Stopper()
        stopper.install()
        waker = Waker([NOTIFICATIONS])
        beat = RateLimited(heartbeat_beat, 1.0)
        poll = (settings.LOOP_SAFETY_POLL_SECONDS if connection.vendor == "postgresql"
                else max(settings.LOOP_SQLITE_POLL_SECONDS, 0.25))
        logger.info("sender loop started (%s, %d threads, %s)", connection.vendor, threads,
                    "LISTEN/NOTIFY" if waker.postgres else f"polling every {poll:g} s")
        from django.utils.module_loading import import_string

        jobs = [import_string(path) for path in settings.SENDER_FOLLOW_UPS]
        follow_up_at = 0.0
        iterations = delivered = 0
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sender") as pool:
            while not stopper.stopping:
                t0 = time.monotonic()
                try:
                    n = send_iteration(pool=pool, threads=threads)
                    timeout = _next_lease_expiry_in(poll)
                except Exception:
                    logger.exception("sender iteration failed; retrying in 1 s")
                    close_stale_connections()
                    connection.close()
                    stopper.event.wait(1.0)
                    continue
                iterations += 1
                delivered += n
                if n:
                    logger.info("delivered=%d duration_ms=%d", n, int((time.monotonic() - t0) * 1000))
                if n or time.monotonic() >= follow_up_at:
                    run_follow_ups(jobs)
                    follow_up_at = time.monotonic() + 5.0
                beat(name="sender", duration_ms=(time.monotonic() - t0) * 1000, iterations=iterations,
                     detail={"delivered": delivered}, force=bool(n))
                if n:
                    continue  # more may have arrived while sending
                waker.wait(min(timeout, max(0.0, follow_up_at - time.monotonic())))
        waker.close()
        logger.info("sender loop stopped after %d iterations", iterations)
