"""Read a mail host's Postfix log into the E2 latency aggregates (mailservice.ingest.log_ingest).

    manage.py maillog_ingest --source mx1:/var/log/mail.log /var/log/mail.log          # to the end
    manage.py maillog_ingest --source mx1:/var/log/mail.log --follow /var/log/mail.log # like tail -F

Resumes from the source's stored cursor (the file is recognised by the hash of its first line), so
running it again, or after a crash, counts nothing twice. With --follow it waits for appended lines
and follows a rotation: when the file at PATH is replaced (another inode) or truncated, the old one
is read to its end first, then the new one from its start. Only complete lines are read: a line
still being written waits for its newline. One iteration is one function (`LogFollower.step`), so
a test can run one.
"""

from __future__ import annotations

import logging
import os
import time
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from mailservice.ingest import (
    DomainMap,
    IngestResult,
    domain_map_load,
    fingerprint_of,
    log_ingest,
    log_source_cursor,
)
from runtime.loops import Stopper
from slaportal.errors import ConflictError

logger = logging.getLogger("mailservice.ingest")

DOMAIN_REFRESH_SECONDS = 60.0


def _seek_line(f: IO[bytes], n: int) -> int:
    """Position `f` at the start of line `n` (0-based) and return how many complete lines were
    skipped (fewer than n when the file is shorter: then it is at its last complete line's end)."""
    f.seek(0)
    if n <= 0:
        return 0
    seen = 0
    pos = 0
    while True:
        chunk = f.read(1 << 20)
        if not chunk:
            f.seek(pos)
            return seen
        count = chunk.count(b"\n")
        if seen + count < n:
            seen += count
            pos += len(chunk)
            continue
        # The (n - seen)-th newline of this chunk ends the last line to skip.
        i = -1
        for _ in range(n - seen):
            i = chunk.index(b"\n", i + 1)
        f.seek(pos + i + 1)
        return n


class LogFollower:
    """Reads one log file for one source, a batch per step."""

    def __init__(self, *, path: str, source: str, batch: int = 50_000) -> None:
        self.path = path
        self.source = source
        self.batch = batch
        self.f: IO[bytes] | None = None
        self.fingerprint = ""
        self.line = 0  # the file line the next read starts at
        self.domains: DomainMap | None = None
        self.domains_at = 0.0

    def _open(self) -> bool:
        try:
            f = open(self.path, "rb")  # noqa: SIM115 - kept open across steps, closed in close()
        except FileNotFoundError:
            return False
        first = f.readline()
        if not first.endswith(b"\n"):  # empty, or its first line is still being written
            f.close()
            return False
        self.fingerprint = fingerprint_of(first)
        cursor = log_source_cursor(source_name=self.source, fingerprint=self.fingerprint)
        self.line = _seek_line(f, cursor)
        self.f = f
        return True

    def close(self) -> None:
        if self.f is not None:
            self.f.close()
            self.f = None

    def _replaced(self) -> bool:
        """The file at the path is another one (rotated) or shorter than what was read."""
        assert self.f is not None
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False  # rotated away, the new one not created yet: keep the old one
        mine = os.fstat(self.f.fileno())
        return (st.st_ino, st.st_dev) != (mine.st_ino, mine.st_dev) or st.st_size < self.f.tell()

    def step(self) -> IngestResult | None:
        """One iteration: read up to `batch` complete lines and ingest them. None when there was
        nothing new (at the end of the file, or waiting for it to appear)."""
        if self.f is None and not self._open():
            return None
        assert self.f is not None
        f = self.f
        lines: list[str] = []
        while len(lines) < self.batch:
            pos = f.tell()
            raw = f.readline()
            if not raw:
                break
            if not raw.endswith(b"\n"):
                f.seek(pos)  # a line still being written: read it when it is complete
                break
            lines.append(raw.decode("utf-8", "replace"))
        if not lines:
            if self._replaced():
                self.close()  # drained: the next step opens the new file
            return None
        now = time.monotonic()
        if self.domains is None or now - self.domains_at > DOMAIN_REFRESH_SECONDS:
            self.domains = domain_map_load()
            self.domains_at = now
        result = log_ingest(source_name=self.source, lines=lines, start_line=self.line,
                            fingerprint=self.fingerprint, domains=self.domains)
        self.line += len(lines)
        return result


class Command(BaseCommand):
    help = "Read a Postfix log into the mail latency aggregates (E2), from where it was left."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("path")
        parser.add_argument("--source", required=True, help="the log's name, e.g. mx1:/var/log/mail.log")
        parser.add_argument("--follow", action="store_true", help="wait for new lines and rotations (tail -F)")
        parser.add_argument("--batch", type=int, default=50_000, help="lines per transaction (default 50000)")
        parser.add_argument("--poll", type=float, default=1.0, help="seconds between looks when idle")

    def handle(self, *args: Any, path: str, source: str, follow: bool = False, batch: int = 50_000,
               poll: float = 1.0, **options: Any) -> None:
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        if not follow and not os.path.exists(path):
            raise CommandError(f"{path}: no such file")
        follower = LogFollower(path=path, source=source, batch=batch)
        stopper = Stopper()
        stopper.install()
        lines = samples = 0
        t0 = time.monotonic()
        try:
            while not stopper.stopping:
                try:
                    r = follower.step()
                except ConflictError as e:
                    # The stored cursor is behind this reader (the source was reset): start again
                    # from the stored cursor.
                    logger.warning("%s: %s; reopening at the stored cursor", source, e.message)
                    follower.close()
                    continue
                except Exception:
                    if not follow:
                        raise
                    # The database went away: say so, reconnect, read the batch again (the cursor
                    # makes the retry safe).
                    logger.exception("maillog_ingest step failed; retrying in 5 s")
                    connection.close()
                    follower.close()
                    stopper.event.wait(5.0)
                    continue
                if r is None:
                    if not follow:
                        break
                    stopper.event.wait(poll)
                    continue
                lines += r.accepted
                samples += r.samples
                if follow:
                    logger.info("%s: %d lines, %d samples, next line %d", source, r.accepted, r.samples, r.next_line)
        finally:
            follower.close()
        secs = time.monotonic() - t0
        self.stdout.write(f"{source}: {lines} lines, {samples} samples in {secs:.1f} s")
