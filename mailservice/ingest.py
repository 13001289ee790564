"""Delivery-log ingestion (E2, seed 002 §2): batches of a mail host's Postfix log lines become
hourly latency aggregates, exactly once.

Idempotence is a per-source line cursor (DeliveryLogSource.next_line): a batch says which line of
the file it starts at; lines before the cursor were read already and are skipped (a replay adds
nothing), a batch starting after the cursor would leave a gap and is refused (ConflictError, the
API's 409 with the line expected). The aggregates, the cursor and the in-flight state are written
in one transaction with the source row locked, so two shippers posting the same batch for one
source never count it twice: the second waits for the first and then finds its lines consumed.

A file is recognised by its fingerprint (the caller's hash of its first line). A new fingerprint
is a new file (rotation or truncation): its cursor starts at 0, while the in-flight messages carry
on (Postfix keeps logging them in the new file). The cursors of the last MAX_FILES files are kept,
so a late replay of the file before the rotation resumes where that file ended instead of
counting it again.

After the commit, closed months that received samples are re-judged for the services whose
domains got them (settlement.services.months_rejudge_for_outages), so a log shipped late still
reaches the month's E2 verdict.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from slaportal.errors import ConflictError, DomainError

from .aggregates import LatencyAccumulator
from .models import DeliveryLogSource, MailDomain
from .postfix import PostfixLogParser, since_until

logger = logging.getLogger("mailservice.ingest")

MAX_FILES = 8


@dataclass
class DomainMap:
    """Customer mail domains for the parser (domain → id) and their services (id → service id).
    Loaded once per batch, or kept by a long-running reader and refreshed now and then."""

    ids: dict[str, int] = field(default_factory=dict)
    services: dict[int, int] = field(default_factory=dict)


def domain_map_load() -> DomainMap:
    """Every customer mail domain, for attributing log lines."""
    m = DomainMap()
    for pk, domain, service_id in MailDomain.objects.values_list("pk", "domain", "service_id").iterator():
        m.ids[domain] = pk
        m.services[pk] = service_id
    return m


def fingerprint_of(first_line: bytes | str) -> str:
    """The fingerprint of a log file: SHA-256 of its first line (without the newline)."""
    if isinstance(first_line, str):
        first_line = first_line.encode("utf-8", "surrogateescape")
    return hashlib.sha256(first_line.rstrip(b"\r\n")).hexdigest()


class LogGapError(ConflictError):
    """A batch starting after the cursor: lines in between were never received."""

    def __init__(self, message: Any, *, expected_start_line: int, **kwargs: Any) -> None:
        kwargs.setdefault("code", "gap")
        super().__init__(message, **kwargs)
        self.expected_start_line = expected_start_line


@dataclass
class IngestResult:
    """What one batch did: lines new and replayed, the cursor after it, samples and exclusions."""

    source: str
    start_line: int
    accepted: int
    skipped: int
    next_line: int
    samples: int
    excluded: int
    rotated: bool
    in_flight: int
    rejudged_months: list[str] = field(default_factory=list)


def log_source_cursor(*, source_name: str, fingerprint: str) -> int:
    """Where a reader of the file with `fingerprint` resumes: the stored cursor for that file, or
    0 for a file the source has not seen (a new source, or the file after a rotation)."""
    src = DeliveryLogSource.objects.filter(name=source_name).first()
    if src is None:
        return 0
    if src.fingerprint == fingerprint:
        return src.next_line
    files = (src.state or {}).get("files") or {}
    return int(files.get(fingerprint, 0))


def _source_locked(name: str) -> DeliveryLogSource:
    """The source row, created on first use, locked for this transaction."""
    if not DeliveryLogSource.objects.filter(name=name).exists():
        try:
            with transaction.atomic():  # a savepoint: a concurrent first batch may create it too
                DeliveryLogSource.objects.create(name=name)
        except IntegrityError:
            pass
    return DeliveryLogSource.objects.select_for_update().get(name=name)


def log_ingest(*, source_name: str, lines: Sequence[str], start_line: int | None = None,
               fingerprint: str | None = None, now: datetime | None = None,
               domains: DomainMap | None = None) -> IngestResult:
    """Read one batch of a delivery log into the latency aggregates, exactly once (see the
    module docstring). `start_line` is the file line the batch starts at (None: at the cursor);
    `fingerprint` identifies the file; `domains` lets a long-running reader reuse its map."""
    now = now or timezone.now()
    source_name = (source_name or "").strip()
    if not source_name:
        raise DomainError(_("Name the delivery log."), field_errors={"source": [_("This field is required.")]})
    if start_line is not None and start_line < 0:
        raise DomainError(_("The start line cannot be negative."),
                          field_errors={"start_line": [_("The start line cannot be negative.")]})
    fingerprint = (fingerprint or "").strip()
    domains = domains if domains is not None else domain_map_load()
    tz = ZoneInfo(settings.TIME_ZONE)
    with transaction.atomic():
        src = _source_locked(source_name)
        state = dict(src.state or {})
        files: dict[str, int] = dict(state.get("files") or {})
        rotated = fp_changed = False
        if fingerprint and fingerprint != src.fingerprint:
            fp_changed = True
            if src.fingerprint:
                # Rotation or truncation: remember where the old file ended, start the new one at
                # its start (or where it ended, if it is an older file read again).
                files[src.fingerprint] = src.next_line
                rotated = True
                previous = src.fingerprint
                src.next_line = int(files.pop(fingerprint, 0))
                audit_record(obj=src, action="change", now=now,
                             reason=_("A new log file: its lines are counted from line %(line)s.")
                             % {"line": src.next_line},
                             data={"from": previous, "to": fingerprint, "resumes_at": src.next_line})
            # A source fed without fingerprints so far adopts this one and keeps its cursor.
            src.fingerprint = fingerprint
        start = src.next_line if start_line is None else start_line
        if start > src.next_line:
            raise LogGapError(
                _("Lines %(start)s to %(end)s of this log have not been received; send from line %(next)s.")
                % {"start": src.next_line, "end": start - 1, "next": src.next_line},
                field_errors={"start_line": [_("Expected %(next)s.") % {"next": src.next_line}]},
                expected_start_line=src.next_line)
        skip = min(len(lines), src.next_line - start)
        new = lines[skip:]
        acc = LatencyAccumulator()
        parser = PostfixLogParser(domains=domains.ids, state=state, acc=acc, now=now, tz=tz)
        if new:
            parser.feed(new)
            acc.flush()
            dumped = parser.dump()
            while len(files) > MAX_FILES:
                files.pop(next(iter(files)))
            dumped["files"] = files
            src.state = dumped
            src.next_line += len(new)
            src.lines_total += len(new)
            src.messages_total += parser.samples
            src.updated_at = now
            src.save(update_fields=["fingerprint", "next_line", "state", "lines_total", "messages_total",
                                    "updated_at"])
        elif fp_changed:
            state["files"] = files
            src.state = state
            src.save(update_fields=["fingerprint", "next_line", "state"])
        result = IngestResult(source=source_name, start_line=start, accepted=len(new), skipped=skip,
                              next_line=src.next_line, samples=parser.samples, excluded=parser.excluded,
                              rotated=rotated, in_flight=len(parser.inflight))
    span = since_until(parser)
    if span is not None:
        result.rejudged_months = _rejudge(parser.domains_hit, domains, span, now)
    return result


def _rejudge(domain_ids: set[int], domains: DomainMap, span: tuple[datetime, datetime], now: datetime) -> list[str]:
    """Re-judge the closed months the samples fell in, for the services that got them (nothing
    is done for the open month: its close reads the aggregates)."""
    from settlement.services import months_rejudge_for_outages, months_touched

    since, until = span
    if not months_touched(since=since, until=until, now=now):
        return []
    service_ids = sorted({domains.services[d] for d in domain_ids if d in domains.services})
    if not service_ids:
        return []
    done = months_rejudge_for_outages(service_ids=service_ids, since=since, until=until, now=now,
                                      reason=_("delivery-log lines of a closed month were read"))
    return [f"{r.month:%Y-%m}" for r in done]
