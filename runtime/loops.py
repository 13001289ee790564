"""The long-running loops' plumbing: waking a loop from another process, sleeping until woken or
until a deadline, and running one iteration after another until told to stop.

A loop (the SLA sweep, the notification sender) is a management command with one function per
iteration, like healthchecks' `sendalerts`: a test runs one iteration; production runs the loop.
The database is the truth and the only thing the loops need: no broker stands between a deadline
and its breach, or between a notification row and its delivery.

Waking: on PostgreSQL a write that gives a loop new work (a clock started, paused or moved; a
notification row written) calls `wake(channel)` inside its transaction; `pg_notify` is delivered
at commit, so the loop never wakes before the row is visible. The loop LISTENs on a connection of
its own and still polls now and then (a lost notification, a restarted server). SQLite has no
notifications: the loop polls, with cheap reads (WAL readers do not block writers).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection, connections

logger = logging.getLogger(__name__)

CLOCKS = "slaportal_clocks"
NOTIFICATIONS = "slaportal_notifications"


def wake(channel: str) -> None:
    """Tell the loop listening on `channel` that there is new work, at commit of the current
    transaction (immediately in autocommit). A no-op on databases without LISTEN/NOTIFY."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cur:
        cur.execute("SELECT pg_notify(%s, '')", [channel])


def worker_name() -> str:
    """Who holds a lease: host and process id (a dead pid on this host frees its leases)."""
    return f"{socket.gethostname()[:100]}:{os.getpid()}"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # somebody else's process: alive
        return True
    return True


class Waker:
    """Sleep until woken through LISTEN/NOTIFY on `channels` (PostgreSQL), or until `timeout`."""

    def __init__(self, channels: list[str]) -> None:
        self.channels = channels
        self.conn: Any = None
        self.postgres = connection.vendor == "postgresql"

    def _connect(self) -> Any:
        import psycopg

        params = connections["default"].get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        conn = psycopg.connect(**params, autocommit=True)
        for ch in self.channels:
            conn.execute(f'LISTEN "{ch}"')
        return conn

    def wait(self, timeout: float) -> bool:
        """Block for at most `timeout` seconds; True when a notification arrived."""
        timeout = max(0.0, timeout)
        if not self.postgres:
            time.sleep(timeout)
            return False
        try:
            if self.conn is None or self.conn.closed:
                self.conn = self._connect()
            woke = False
            # stop_after=1: return as soon as one arrives; then drain what else is queued.
            for _ in self.conn.notifies(timeout=timeout, stop_after=1):
                woke = True
            if woke:
                for _ in self.conn.notifies(timeout=0):
                    pass
            return woke
        except Exception as e:  # the server restarted, the connection dropped: poll, reconnect
            logger.warning("listen connection lost (%s); polling until it is back", e)
            self.close()
            time.sleep(min(timeout, 1.0))
            return False

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
            self.conn = None


class Stopper:
    """SIGTERM / SIGINT ask the loop to finish its iteration and stop."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> None:
        for s in (signal.SIGTERM, signal.SIGINT):
            signal.signal(s, lambda *_: self.event.set())

    @property
    def stopping(self) -> bool:
        return self.event.is_set()


class RateLimited:
    """Call `fn` at most once per `every` seconds (heartbeats: a loop that wakes ten times a
    second writes its heartbeat once a second)."""

    def __init__(self, fn: Callable[..., Any], every: float) -> None:
        self.fn = fn
        self.every = every
        self.last = float("-inf")

    def __call__(self, *args: Any, force: bool = False, **kwargs: Any) -> None:
        now = time.monotonic()
        if force or now - self.last >= self.every:
            self.last = now
            try:
                self.fn(*args, **kwargs)
            except Exception:
                logger.exception("heartbeat not written")


def close_stale_connections() -> None:
    """Between iterations: drop a connection the server closed (a restart, an idle timeout), so
    the next iteration reconnects instead of failing."""
    for conn in connections.all(initialized_only=True):
        conn.close_if_unusable_or_obsolete()
