"""Latency samples summed in memory and written as hourly aggregates (LatencyHourly) in one
upsert per flush: the delivery-log reader and the mail loop probe both feed it. Replays are kept
out by the callers (the log reader's line cursor, the probe's one result per loop message)."""

from __future__ import annotations

from bisect import bisect_left
from datetime import UTC, datetime
from typing import Any

from django.db import connection

from .models import BUCKET_EDGES_MS, BUCKET_FIELDS, LatencyHourly

# Row layout of an accumulated key: count, total_ms, max_ms, excluded, then the nine buckets.
_COUNT, _TOTAL, _MAX, _EXCLUDED, _B0 = 0, 1, 2, 3, 4
Key = tuple[int, int, str, str]  # domain id, hour (epoch seconds), direction, source


def bucket_index(latency_ms: int) -> int:
    """The histogram bucket of a latency: the first upper bound it does not exceed (8: over 1 h)."""
    return bisect_left(BUCKET_EDGES_MS, latency_ms)


class LatencyAccumulator:
    """Sums samples per (domain, hour, direction, source) until flush()."""

    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: dict[Key, list[int]] = {}

    def __len__(self) -> int:
        return len(self.rows)

    def add(self, *, domain_id: int, at: float, direction: str, source: str, latency_ms: int,
            excluded: bool = False) -> None:
        """One message: `at` is when it was delivered (epoch seconds), which decides its hour."""
        key = (domain_id, int(at) // 3600 * 3600, direction, source)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = [0] * (_B0 + len(BUCKET_FIELDS))
        if excluded:
            row[_EXCLUDED] += 1
            return
        latency_ms = max(0, int(latency_ms))
        row[_COUNT] += 1
        row[_TOTAL] += latency_ms
        if latency_ms > row[_MAX]:
            row[_MAX] = latency_ms
        row[_B0 + bucket_index(latency_ms)] += 1

    def merge(self, other: LatencyAccumulator) -> None:
        for key, theirs in other.rows.items():
            mine = self.rows.get(key)
            if mine is None:
                self.rows[key] = list(theirs)
                continue
            for i, v in enumerate(theirs):
                mine[i] = max(mine[i], v) if i == _MAX else mine[i] + v

    def flush(self, *, chunk: int = 2000) -> int:
        """Add everything accumulated to the stored aggregates (call inside the caller's
        transaction so the aggregates and its cursor move together) and start empty. Returns the
        number of aggregate rows touched."""
        if not self.rows:
            return 0
        table = LatencyHourly._meta.db_table
        cols = ["domain_id", "hour", "direction", "source", "count", "total_ms", "max_ms", "excluded",
                *BUCKET_FIELDS]
        greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"
        sets = [f"{c} = {table}.{c} + excluded.{c}" for c in ("count", "total_ms", "excluded", *BUCKET_FIELDS)]
        sets.append(f"max_ms = {greatest}({table}.max_ms, excluded.max_ms)")
        items = list(self.rows.items())
        placeholders = "(" + ", ".join(["%s"] * len(cols)) + ")"
        with connection.cursor() as cur:
            for start in range(0, len(items), chunk):
                part = items[start:start + chunk]
                params: list[Any] = []
                for (domain_id, hour, direction, source), row in part:
                    params += [domain_id, connection.ops.adapt_datetimefield_value(
                        datetime.fromtimestamp(hour, tz=UTC)), direction, source, *row]
                cur.execute(
                    f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
                    f"{', '.join([placeholders] * len(part))} "
                    f"ON CONFLICT (domain_id, hour, direction, source) DO UPDATE SET {', '.join(sets)}",
                    params)
        touched = len(items)
        self.rows = {}
        return touched
