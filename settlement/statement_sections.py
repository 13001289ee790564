"""Sections other apps add to the monthly statement (月度服务品质报告): the anti-spam cases, the
backups, the provisioning orders of the month... Each app registers a builder in its ready(); the
statement calls every builder and prints what it returns as a titled table, after the services.

A builder takes keyword arguments (customer, first, start, end, services, now) and returns None
(nothing to say for this customer and month) or a JSON-serialisable dict, already in the active
language: {"title": str, "columns": [str, ...], "rows": [[str, ...], ...], "note": str (optional),
"breached": int (optional: rows that broke a promise)}. Settlement never imports the apps that
register: they depend on it, not the other way round."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

Builder = Callable[..., dict[str, Any] | None]
_SECTIONS: dict[str, tuple[int, Builder]] = {}


def register_section(key: str, build: Builder, *, order: int = 100) -> None:
    """Add (or replace) the statement section `key`; sections print in `order`, then by key."""
    _SECTIONS[key] = (order, build)


def sections_content(**kwargs: Any) -> list[dict[str, Any]]:
    """Every registered section with something to say, in order, each with its key."""
    out: list[dict[str, Any]] = []
    for key, (_order, build) in sorted(_SECTIONS.items(), key=lambda kv: (kv[1][0], kv[0])):
        data = build(**kwargs)
        if data:
            out.append({"key": key, **data})
    return out
