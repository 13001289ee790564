"""The checks themselves, as coroutines: ICMP echo (unprivileged datagram socket, where the kernel
allows this process's group in net.ipv4.ping_group_range) or a TCP connect, an HTTP/1.1 GET with
the expected status, and the 220 banner of SMTP and FTP. No third-party HTTP client: a probe needs
a status line, nothing more."""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import struct
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from .choices import CheckKind, ProbeMethod

_ICMP_ALLOWED: bool | None = None


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


@dataclass(frozen=True)
class ProbeResult:
    id: int
    ok: bool
    method: str
    detail: str
    latency_ms: int


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


async def _http(url: str, expected: int, timeout: float) -> tuple[bool, str]:
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
    finally:
        writer.close()
    fields = line.decode("latin-1", "replace").split()
    if len(fields) < 2 or not fields[0].startswith("HTTP/") or not fields[1].isdigit():
        return False, "not an HTTP response"
    status = int(fields[1])
    return status == expected, f"HTTP {status}" + ("" if status == expected else f" (expected {expected})")


async def probe(spec: ProbeSpec) -> ProbeResult:
    """Run one check; never raises (a failure is a result)."""
    started = time.monotonic()
    methods: dict[str, str] = {CheckKind.WWW: ProbeMethod.HTTP, CheckKind.SMTP: ProbeMethod.SMTP,
                               CheckKind.FTP: ProbeMethod.FTP}
    method = methods.get(spec.kind, ProbeMethod.TCP)
    try:
        if spec.kind == CheckKind.DEVICE:
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
    """Probe all `specs` with at most `concurrency` in flight."""
    sem = asyncio.Semaphore(concurrency)

    async def one(s: ProbeSpec) -> ProbeResult:
        async with sem:
            return await probe(s)

    return list(await asyncio.gather(*(one(s) for s in specs)))
