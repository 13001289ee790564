"""Reads of the runtime: how long ago each loop last completed an iteration."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from .models import LoopHeartbeat


def heartbeat_lags(*, now: datetime | None = None) -> dict[str, tuple[LoopHeartbeat, float]]:
    """Every loop's heartbeat with its lag in seconds (now − last completed iteration)."""
    now = now or timezone.now()
    return {hb.name: (hb, max(0.0, (now - hb.beat_at).total_seconds()))
            for hb in LoopHeartbeat.objects.all()}
