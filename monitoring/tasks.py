"""Thin task: probe whatever is due. Beat runs it every few seconds; rows are the truth.

After each cycle the task records the "probe" loop heartbeat (runtime.services.heartbeat_beat),
read by /metrics: the cycle's duration and how many targets it probed. At most one heartbeat
write per second per process, however often the task runs."""

import logging
import threading
import time

from celery import shared_task

logger = logging.getLogger(__name__)

HEARTBEAT_MIN_INTERVAL = 1.0  # seconds between two heartbeat writes of one process

_lock = threading.Lock()
_cycles = 0
_last_beat: float | None = None


@shared_task(name="monitoring.tasks.probe_due", ignore_result=True)
def probe_due() -> dict[str, int]:
    from .services import probe_due as run

    started = time.monotonic()
    totals = run()
    _record_cycle(duration=time.monotonic() - started, targets=totals.get("probed", 0))
    return totals


def _record_cycle(*, duration: float, targets: int) -> None:
    global _cycles, _last_beat
    with _lock:
        _cycles += 1
        now = time.monotonic()
        if _last_beat is not None and now - _last_beat < HEARTBEAT_MIN_INTERVAL:
            return
        _last_beat, iterations = now, _cycles
    from runtime.services import heartbeat_beat

    try:
        heartbeat_beat(name="probe", duration_ms=duration * 1000.0, iterations=iterations,
                       detail={"targets": targets})
    except Exception:  # the probes' results are recorded; a missed heartbeat shows as lag
        logger.exception("recording the probe heartbeat failed")
