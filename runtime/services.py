"""Writes of the runtime: a loop's heartbeat."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

from django.utils import timezone

from .models import LoopHeartbeat

_PROCESS_STARTED = timezone.now()


def heartbeat_beat(*, name: str, duration_ms: float, iterations: int = 0,
                   detail: dict[str, Any] | None = None, now: datetime | None = None) -> None:
    """Record that loop `name` completed an iteration at `now`. One UPDATE (an INSERT the first
    time); callers rate-limit it, so a loop that wakes ten times a second writes once a second."""
    now = now or timezone.now()
    values = {"host": socket.gethostname()[:200], "pid": os.getpid(), "started_at": _PROCESS_STARTED,
              "beat_at": now, "last_duration_ms": round(duration_ms, 3), "iterations": iterations,
              "detail": detail or {}}
    if not LoopHeartbeat.objects.filter(name=name).update(**values):
        LoopHeartbeat.objects.update_or_create(name=name, defaults=values)
