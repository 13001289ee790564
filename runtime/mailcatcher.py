"""The local mail catcher `make run` starts (`manage.py mailcatcher`), like Mailpit: an SMTP server
(aiosmtpd) on a local port that accepts every message and keeps it as one .eml file, and the reads
behind the staff mailbox pages (runtime/views.py).

Storage: one file per message, `<UTC receive time, µs>Z-<8 hex>.eml`, so the names sort by receive
time and the web pages never take a file name from anyone but this module (NAME_RE). A file is
written under a temporary name in the same folder, fsynced, then renamed with os.replace: a reader
sees a whole message or none, even after a crash. The folder keeps the newest `max_messages`.

The catcher logs one line per message (sender, recipients, subject, size); never the body, the
attachments or the SMTP AUTH credentials it accepts (any: a development tool, bound to 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import os
import re
import secrets
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

NAME_RE = re.compile(r"[0-9]{8}T[0-9]{12}Z-[0-9a-f]{8}")  # [0-9], not \d: ASCII digits only
SUFFIX = ".eml"
_TMP_PREFIX = ".incoming-"
_STALE_TMP_SECONDS = 300
_MAX_TEXT_CHARS = 1_000_000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def message_name(received_at: datetime) -> str:
    """The file stem of a message received at `received_at`: sortable time + a random suffix."""
    return received_at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(4)


def received_at_of(name: str) -> datetime:
    return datetime.strptime(name[:22], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)


def is_message_name(name: str) -> bool:
    return NAME_RE.fullmatch(name) is not None


# --- storage --------------------------------------------------------------------------------


class MailStore:
    """The folder of caught messages: atomic writes, pruning to the newest `max_messages`."""

    def __init__(self, folder: Path | str, *, max_messages: int = 5000) -> None:
        self.folder = Path(folder)
        self.max_messages = max(1, int(max_messages))

    def names(self) -> list[str]:
        """Every stored message's name, newest first (an absent folder holds none)."""
        try:
            entries = os.listdir(self.folder)
        except FileNotFoundError:
            return []
        stems = [e[: -len(SUFFIX)] for e in entries if e.endswith(SUFFIX)]
        return sorted((s for s in stems if is_message_name(s)), reverse=True)

    def path(self, name: str) -> Path | None:
        """The file of message `name`, or None: a name this module did not make (a path, `..`, a
        name of another file in the folder) never reaches the file system."""
        if not is_message_name(name):
            return None
        p = self.folder / f"{name}{SUFFIX}"
        return p if p.is_file() else None

    def save(self, data: bytes, *, received_at: datetime | None = None) -> str:
        """Store one message; returns its name. Prunes the oldest beyond max_messages."""
        self.folder.mkdir(parents=True, exist_ok=True)
        name = message_name(received_at or datetime.now(UTC))
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.folder / f"{name}{SUFFIX}")
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        _fsync_dir(self.folder)
        self.prune()
        return name

    def prune(self) -> int:
        """Delete the oldest messages beyond max_messages; returns how many went."""
        names = self.names()
        gone = 0
        for name in names[self.max_messages:]:
            try:
                (self.folder / f"{name}{SUFFIX}").unlink()
                gone += 1
            except FileNotFoundError:  # another pruner (a second catcher on the folder) was first
                pass
        return gone

    def remove_stale_temporaries(self) -> None:
        """Temporary files of a catcher that died mid-write (never a whole message)."""
        cutoff = time.time() - _STALE_TMP_SECONDS
        try:
            entries = list(self.folder.glob(f"{_TMP_PREFIX}*.tmp"))
        except FileNotFoundError:
            return
        for p in entries:
            try:
                if p.stat().st_mtime < cutoff:
                    p.unlink()
            except FileNotFoundError:
                pass


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- reading (the mailbox pages) --------------------------------------------------------------


@dataclass
class Attachment:
    index: int
    filename: str
    content_type: str
    part: EmailMessage = field(repr=False)

    @property
    def size(self) -> int:
        """Decoded size in bytes (decoded only when a page shows it)."""
        payload = self.part.get_payload(decode=True)
        return len(payload) if isinstance(payload, bytes) else 0

    @property
    def download_name(self) -> str:
        """A name the server chooses: never the sender's file name, which may be anything."""
        ext = {"application/pdf": ".pdf", "text/plain": ".txt", "text/calendar": ".ics"}.get(
            self.content_type) or mimetypes.guess_extension(self.content_type) or ".bin"
        return f"attachment-{self.index + 1}{ext}"


@dataclass
class CaughtMessage:
    name: str
    received_at: datetime
    size: int
    sender: str
    to: str
    envelope_to: str
    subject: str
    date: str
    idempotency_key: str
    attachments: list[Attachment]
    headers: list[tuple[str, str]]
    message: EmailMessage = field(repr=False)

    def text(self) -> str | None:
        """The text/plain body (decoded), None when there is none."""
        return _part_text(self.message.get_body(preferencelist=("plain",)))

    def html(self) -> str | None:
        """The HTML body as source text: pages show it escaped, never rendered."""
        return _part_text(self.message.get_body(preferencelist=("html",)))


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header must not hide the message
        return ""
    return _CONTROL.sub(" ", str(value)).strip() if value is not None else ""


def _part_text(part: Any) -> str | None:
    if part is None:
        return None
    try:
        text = part.get_content()
    except (LookupError, ValueError, AssertionError):  # unknown charset, broken encoding
        raw = part.get_payload(decode=True) or b""
        text = raw.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        return None
    return text[:_MAX_TEXT_CHARS]


def _attachments(msg: EmailMessage) -> list[Attachment]:
    out: list[Attachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        if disposition != "attachment" and not filename:
            continue
        out.append(Attachment(index=len(out), filename=_CONTROL.sub(" ", filename or "").strip(),
                              content_type=part.get_content_type(), part=part))
    return out


def message_read(store: MailStore, name: str) -> CaughtMessage | None:
    """One stored message, parsed; None when `name` is not a stored message."""
    path = store.path(name)
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except FileNotFoundError:  # pruned in between
        return None
    msg = BytesParser(policy=policy.default).parsebytes(data)
    assert isinstance(msg, EmailMessage)
    headers: list[tuple[str, str]] = []
    for key, value in msg.raw_items():
        try:
            shown = str(msg.policy.header_fetch_parse(key, value))
        except Exception:  # a malformed header is shown as it came
            shown = str(value)
        headers.append((key, _CONTROL.sub(" ", shown).strip()))
    return CaughtMessage(
        name=name, received_at=received_at_of(name), size=len(data), sender=_header(msg, "From"),
        to=_header(msg, "To"), envelope_to=_header(msg, "X-Envelope-To"),
        subject=_header(msg, "Subject"), date=_header(msg, "Date"),
        idempotency_key=_header(msg, "X-SLA-Idempotency-Key"), attachments=_attachments(msg),
        headers=headers, message=msg)


def attachment_read(store: MailStore, name: str, index: int) -> tuple[Attachment, bytes] | None:
    """Attachment `index` of message `name` and its decoded bytes, or None."""
    msg = message_read(store, name)
    if msg is None or not 0 <= index < len(msg.attachments):
        return None
    att = msg.attachments[index]
    payload = att.part.get_payload(decode=True)
    return att, payload if isinstance(payload, bytes) else b""


# --- the SMTP server ----------------------------------------------------------------------------


class CatcherHandler:
    """aiosmtpd handler: every recipient is accepted, every message stored."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        received_at = datetime.now(UTC)
        content = envelope.original_content or envelope.content or b""
        if isinstance(content, str):
            content = content.encode("utf-8", errors="surrogateescape")
        # Trace headers on top, as a delivering MTA writes them: the envelope recipients are the
        # only record of a Bcc. SMTP commands are single lines, so these values hold no CR/LF.
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer or "")
        trace = (f"Return-Path: <{envelope.mail_from or ''}>\r\n"
                 f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
                 f"Received: from {session.host_name or 'unknown'} ([{peer}]) by slaportal-mailcatcher;"
                 f" {format_datetime(received_at)}\r\n").encode("utf-8", errors="replace")
        data = trace + content
        try:
            # Synchronous on purpose: a few milliseconds, and a SIGTERM (handled on this loop)
            # can never land in the middle of a write.
            name = self.store.save(data, received_at=received_at)
        except OSError:
            logger.exception("mail catcher: storing a message failed")
            return "451 Requested action aborted: local error in processing"
        headers = BytesParser(policy=policy.default).parsebytes(content, headersonly=True)
        logger.info("mail caught name=%s from=%s to=%s subject=%s size=%d", name,
                    _one_line(envelope.mail_from), _one_line(",".join(envelope.rcpt_tos)),
                    _one_line(_header(headers, "Subject"))[:200], len(content))
        return "250 Message accepted for delivery"


def _one_line(value: Any) -> str:
    return _CONTROL.sub(" ", str(value or "")).strip()


def _accept_any_login(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult

    # A local development catcher: a portal configured with EMAIL_HOST_USER must still be able to
    # deliver here. The credentials are neither checked nor logged.
    return AuthResult(success=True)


class MailCatcher:
    """The SMTP server. run() blocks until stop() or, with signals, SIGTERM/SIGINT."""

    def __init__(self, *, host: str, port: int, folder: Path | str, max_messages: int = 5000) -> None:
        self.host, self.port = host, port
        self.store = MailStore(folder, max_messages=max_messages)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    def run(self, *, handle_signals: bool = True, on_ready: Callable[[int], None] | None = None) -> None:
        asyncio.run(self._serve(handle_signals=handle_signals, on_ready=on_ready))

    def stop(self) -> None:
        """Thread-safe: ask a running catcher to stop."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    async def _serve(self, *, handle_signals: bool, on_ready: Callable[[int], None] | None) -> None:
        from aiosmtpd.smtp import SMTP

        # aiosmtpd logs every connection and command at INFO; one line per message is ours. It
        # also warns about its own deprecated attribute on every successful AUTH (1.4.x).
        smtp_log = logging.getLogger("mail.log")
        smtp_log.setLevel(logging.WARNING)
        smtp_log.addFilter(lambda r: not str(r.msg).startswith("Session.login_data is deprecated"))
        loop = asyncio.get_running_loop()
        self._loop, self._stop = loop, asyncio.Event()
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self._stop.set)
        self.store.folder.mkdir(parents=True, exist_ok=True)
        self.store.remove_stale_temporaries()
        self.store.prune()
        handler = CatcherHandler(self.store)
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="slaportal-mailcatcher", ident="SLA Portal mail catcher",
                         enable_SMTPUTF8=True, authenticator=_accept_any_login, auth_require_tls=False,
                         loop=loop),
            host=self.host, port=self.port)
        self.port = server.sockets[0].getsockname()[1]
        logger.info("mail catcher listening on %s:%d, saving to %s (keeps the newest %d)",
                    self.host, self.port, self.store.folder, self.store.max_messages)
        if on_ready is not None:
            on_ready(self.port)
        try:
            await self._stop.wait()
        finally:
            server.close()
            await server.wait_closed()
            logger.info("mail catcher stopped")
