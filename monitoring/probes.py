"""The checks themselves, as coroutines: ICMP echo (unprivileged datagram socket, where the kernel
allows this process's group in net.ipv4.ping_group_range) or a TCP connect, an HTTP/1.1 GET with
the expected status, and the 220 banner of SMTP and FTP. No third-party HTTP client: a probe needs
a status line, nothing more (the webmail check reads the whole page, bounded, since its figure is
the time to open the page).

The checks of a probe mailbox (SMTP submission with AUTH, IMAP and POP3 login, the mail loop) are
in monitoring.mailprobes: they use the standard library's smtplib/imaplib/poplib in a thread pool
(see there for why) and are awaited here like any other check."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import struct
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .choices import MAIL_KINDS, CheckKind, ProbeMethod

_ICMP_ALLOWED: bool | None = None

# Every mail-loop message's Message-ID starts with this (after the "<"): the delivery-log reader
# skips these messages (they are measured by the loop, not by the log), and the loop finds its
# own messages in the mailbox by it.
PROBE_MESSAGE_ID_PREFIX = "slaportal-probe."
WEBMAIL_MAX_BYTES = 5 * 1024 * 1024  # a page larger than this is read no further (still "opened")


@dataclass(frozen=True)
class MailSpec:
    """A probe mailbox's credentials and servers, with the password unsealed for this probe only
    (never in repr, so never in a log line)."""

    mailbox_id: int
    address: str
    login: str
    password: str = field(repr=False)
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    imap_host: str = ""
    imap_port: int = 993
    imap_security: str = "tls"
    pop3_host: str = ""
    pop3_port: int = 995
    pop3_security: str = "tls"
    # Tokens of loop messages sent earlier whose loop timed out: found later, they are measured.
    pending: tuple[str, ...] = ()
    # Set when the sealed password cannot be read (the key changed): the check fails with it.
    unseal_error: str = ""


@dataclass(frozen=True)
class ProbeSpec:
    """What the engine needs to probe one target (plain data: built from a row, or by the bench)."""

    id: int
    kind: str
    host: str
    port: int | None
    url: str
    expected_status: int
    timeout: float
    mail: MailSpec | None = None


@dataclass(frozen=True)
class LoopSample:
    """One loop message measured: from the SMTP 250 after DATA to the message in the mailbox.
    `late` is a message of an earlier loop that timed out and was found by this one."""

    token: str
    delivered_at: float  # epoch seconds
    latency_ms: int
    late: bool = False


@dataclass(frozen=True)
class LoopOutcome:
    """What a mail loop did besides ok/failed: the samples measured, the token of its own message
    when it was sent but not found in time (kept pending), and the probe messages it deleted."""

    samples: tuple[LoopSample, ...] = ()
    sent_token: str = ""
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProbeResult:
    id: int
    ok: bool
    method: str
    detail: str
    latency_ms: int
    loop: LoopOutcome | None = None


def icmp_allowed() -> bool:
    """Can this process open an unprivileged ICMP socket? Checked once; the answer is recorded
    with every device probe as the check used."""
    global _ICMP_ALLOWED
    if _ICMP_ALLOWED is None:
        if os.environ.get("SLAPORTAL_PROBE_NO_ICMP") == "1":
            _ICMP_ALLOWED = False
        else:
            try:
                socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP).close()
                _ICMP_ALLOWED = True
            except OSError:
                _ICMP_ALLOWED = False
    return _ICMP_ALLOWED


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


async def _icmp_echo(host: str, timeout: float) -> tuple[bool, str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, None, family=socket.AF_INET)
    addr = infos[0][4][0]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP)
    sock.setblocking(False)
    try:
        seq = int(time.monotonic() * 1000) & 0xFFFF
        header = struct.pack("!BBHHH", 8, 0, 0, 0, seq)  # the kernel sets the identifier
        payload = b"slaportal-probe"
        packet = struct.pack("!BBHHH", 8, 0, _checksum(header + payload), 0, seq) + payload
        await loop.sock_sendto(sock, packet, (addr, 0))
        deadline = loop.time() + timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False, "no echo reply"
            data = await asyncio.wait_for(loop.sock_recv(sock, 1024), remaining)
            if len(data) >= 8 and data[0] == 0 and struct.unpack("!H", data[6:8])[0] == seq:
                return True, "echo reply"
    finally:
        sock.close()


async def _tcp_connect(host: str, port: int, timeout: float) -> tuple[bool, str]:
    _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return True, f"connected to port {port}"


async def _banner(host: str, port: int, timeout: float) -> tuple[bool, str]:
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
    finally:
        writer.close()
    text = line.decode("latin-1", "replace").strip()
    return text.startswith("220"), text[:200] or "no banner"


async def _http(url: str, expected: int, timeout: float, *, whole: bool = False) -> tuple[bool, str]:
    parts = urlsplit(url)
    https = parts.scheme == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    ctx = ssl.create_default_context() if https else None
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=ctx, server_hostname=host if https else None), timeout)
    try:
        hostport = host if parts.port is None else f"{host}:{port}"
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {hostport}\r\nUser-Agent: slaportal-probe\r\n"
                     f"Connection: close\r\n\r\n".encode("ascii", "ignore"))
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        size = 0
        if whole:
            # The webmail figure is the time to open the page: read it to the end (the server
            # closes after it, as asked), at most WEBMAIL_MAX_BYTES.
            while size < WEBMAIL_MAX_BYTES:
                chunk = await asyncio.wait_for(reader.read(65536), timeout)
                if not chunk:
                    break
                size += len(chunk)
    finally:
        writer.close()
    fields = line.decode("latin-1", "replace").split()
    if len(fields) < 2 or not fields[0].startswith("HTTP/") or not fields[1].isdigit():
        return False, "not an HTTP response"
    status = int(fields[1])
    return status == expected, (f"HTTP {status}" + ("" if status == expected else f" (expected {expected})")
                                + (f", {size} B" if whole else ""))


async def probe(spec: ProbeSpec) -> ProbeResult:
    """Run one check; never raises (a failure is a result)."""
    started = time.monotonic()
    methods: dict[str, str] = {CheckKind.WWW: ProbeMethod.HTTP, CheckKind.SMTP: ProbeMethod.SMTP,
                               CheckKind.FTP: ProbeMethod.FTP}
    method = methods.get(spec.kind, ProbeMethod.TCP)
    if spec.kind in MAIL_KINDS and spec.kind != CheckKind.WEBMAIL:
        from .mailprobes import mail_probe

        return await mail_probe(spec)
    try:
        if spec.kind == CheckKind.WEBMAIL:
            method = ProbeMethod.HTTP
            ok, detail = await _http(spec.url, spec.expected_status, spec.timeout, whole=True)
        elif spec.kind == CheckKind.DEVICE:
            if icmp_allowed():
                method = ProbeMethod.ICMP
                ok, detail = await _icmp_echo(spec.host, spec.timeout)
            else:
                ok, detail = await _tcp_connect(spec.host, int(spec.port or 0), spec.timeout)
        elif spec.kind == CheckKind.WWW:
            ok, detail = await _http(spec.url, spec.expected_status, spec.timeout)
        else:
            ok, detail = await _banner(spec.host, int(spec.port or 0), spec.timeout)
    except TimeoutError:
        ok, detail = False, f"timed out after {spec.timeout:g}s"
    except (OSError, ssl.SSLError, ValueError, UnicodeError) as e:
        ok, detail = False, f"{type(e).__name__}: {e}"[:300]
    return ProbeResult(spec.id, ok, str(method), detail[:300],
                       int((time.monotonic() - started) * 1000))


async def probe_many(specs: list[ProbeSpec], *, concurrency: int = 500) -> list[ProbeResult]:
    """Probe all `specs` with at most `concurrency` in flight. Mailbox checks are bounded by their
    own thread pool instead: a mail loop waits up to its timeout for its message, and 1,000 of
    them held behind the general limit would outlast the claim lease."""
    sem = asyncio.Semaphore(concurrency)

    async def one(s: ProbeSpec) -> ProbeResult:
        if s.kind in MAIL_KINDS and s.kind != CheckKind.WEBMAIL:
            return await probe(s)
        async with sem:
            return await probe(s)

    return list(await asyncio.gather(*(one(s) for s in specs)))
