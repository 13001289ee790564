"""The SNMP side of the poller (pysnmp, asyncio): one GET per device and credentials for up to
GROUP interfaces at a time (sysUpTime plus two counters per interface), bounded concurrency, the
64-bit counters first and the 32-bit ones for interfaces that have none, and the resolution of
an interface name to its ifIndex by walking ifName and ifDescr. No database access here."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pysnmp.hlapi.v3arch.asyncio import (
    CommunityData,
    ContextData,
    ObjectIdentity,
    ObjectType,
    SnmpEngine,
    UdpTransportTarget,
    UsmUserData,
    get_cmd,
    usmAesCfb128Protocol,
    usmAesCfb256Protocol,
    usmDESPrivProtocol,
    usmHMAC192SHA256AuthProtocol,
    usmHMAC384SHA512AuthProtocol,
    usmHMACMD5AuthProtocol,
    usmHMACSHAAuthProtocol,
    usmNoAuthProtocol,
    usmNoPrivProtocol,
    walk_cmd,
)
from pysnmp.proto.rfc1905 import EndOfMibView, NoSuchInstance, NoSuchObject

SYS_UPTIME = "1.3.6.1.2.1.1.3.0"
HC_IN, HC_OUT = "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.31.1.1.1.10"
IN32, OUT32 = "1.3.6.1.2.1.2.2.1.10", "1.3.6.1.2.1.2.2.1.16"
IF_NAME, IF_DESCR = "1.3.6.1.2.1.31.1.1.1.1", "1.3.6.1.2.1.2.2.1.2"
# Interfaces per GET: 2 varbinds each plus sysUpTime stays well inside one UDP datagram and
# the agents' max-varbinds limits, and it cuts the per-request cost (BER, USM) by ~20x.
GROUP = 24

_AUTH = {"none": usmNoAuthProtocol, "md5": usmHMACMD5AuthProtocol, "sha": usmHMACSHAAuthProtocol,
         "sha256": usmHMAC192SHA256AuthProtocol, "sha512": usmHMAC384SHA512AuthProtocol}
_PRIV = {"none": usmNoPrivProtocol, "des": usmDESPrivProtocol, "aes": usmAesCfb128Protocol,
         "aes256": usmAesCfb256Protocol}


@dataclass(frozen=True)
class Credentials:
    """Unsealed SNMP credentials, only in memory for one poll."""

    version: str
    community: str = ""
    user: str = ""
    auth_protocol: str = "none"
    auth_key: str = ""
    priv_protocol: str = "none"
    priv_key: str = ""


@dataclass
class PortSpec:
    id: int
    host: str
    port: int
    creds: Credentials
    interface: str
    if_index: int | None
    counter_bits: int | None


@dataclass
class PollReading:
    """What one port's poll read: counters and uptime, or why not."""

    id: int
    ok: bool
    uptime: int | None = None
    in_octets: int | None = None
    out_octets: int | None = None
    bits: int | None = None
    if_index: int | None = None
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _auth_data(c: Credentials) -> Any:
    if c.version == "v3":
        return UsmUserData(c.user, authKey=c.auth_key or None, privKey=c.priv_key or None,
                           authProtocol=_AUTH.get(c.auth_protocol, usmNoAuthProtocol),
                           privProtocol=_PRIV.get(c.priv_protocol, usmNoPrivProtocol))
    return CommunityData(c.community, mpModel=1)


def _value(v: Any) -> int | None:
    if isinstance(v, (NoSuchInstance, NoSuchObject, EndOfMibView)) or v is None:
        return None
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


class Poller:
    """One poll cycle's SNMP engine and transports, shared by every request of the cycle."""

    def __init__(self, *, timeout: float = 2.0, retries: int = 1, concurrency: int = 200) -> None:
        self.engine = SnmpEngine()
        self.timeout, self.retries = timeout, retries
        self.sem = asyncio.Semaphore(concurrency)
        self._transports: dict[tuple[str, int], Any] = {}

    async def _transport(self, host: str, port: int) -> Any:
        key = (host, port)
        if key not in self._transports:
            self._transports[key] = await UdpTransportTarget.create(key, timeout=self.timeout,
                                                                    retries=self.retries)
        return self._transports[key]

    async def _get(self, host: str, port: int, creds: Credentials, oids: list[str]) -> list[int | None]:
        async with self.sem:
            err, status, index, binds = await get_cmd(
                self.engine, _auth_data(creds), await self._transport(host, port), ContextData(),
                *[ObjectType(ObjectIdentity(o)) for o in oids], lookupMib=False)
        if err:
            raise OSError(str(err))
        if status:
            raise OSError(f"{status.prettyPrint()} at {index}")
        return [_value(v) for _n, v in binds]

    async def resolve(self, spec: PortSpec) -> int | None:
        """The ifIndex of `spec.interface`: itself when a number, else the first interface whose
        ifName, then ifDescr, equals it."""
        if spec.interface.strip().isdigit():
            return int(spec.interface.strip())
        wanted = spec.interface.strip()
        for base in (IF_NAME, IF_DESCR):
            async with self.sem:
                async for err, status, _i, binds in walk_cmd(
                        self.engine, _auth_data(spec.creds), await self._transport(spec.host, spec.port),
                        ContextData(), ObjectType(ObjectIdentity(base)), lexicographicMode=False,
                        lookupMib=False):
                    if err or status:
                        break
                    for name, val in binds:
                        if str(val) == wanted:
                            return int(tuple(name)[-1])
        return None

    async def _poll_group(self, group: list[PortSpec]) -> list[PollReading]:
        first = group[0]
        out: dict[int, PollReading] = {}
        try:
            ready: list[PortSpec] = []
            for s in group:
                idx = s.if_index if s.if_index is not None else await self.resolve(s)
                if idx is None:
                    out[s.id] = PollReading(id=s.id, ok=False, detail=f"interface {s.interface!r} not found")
                else:
                    s.if_index = idx
                    ready.append(s)
            hc = [s for s in ready if s.counter_bits != 32]
            if hc:
                oids = [SYS_UPTIME] + [o for s in hc for o in (f"{HC_IN}.{s.if_index}", f"{HC_OUT}.{s.if_index}")]
                vals = await self._get(first.host, first.port, first.creds, oids)
                uptime = vals[0]
                for n, s in enumerate(hc):
                    i, o = vals[1 + 2 * n], vals[2 + 2 * n]
                    if i is not None and o is not None:
                        out[s.id] = PollReading(id=s.id, ok=True, uptime=uptime, in_octets=i, out_octets=o,
                                                bits=64, if_index=s.if_index)
            # No 64-bit counters (an old device or a 10 Mb/s port): the 32-bit ifTable ones.
            low = [s for s in ready if s.id not in out]
            if low:
                oids = [SYS_UPTIME] + [o for s in low for o in (f"{IN32}.{s.if_index}", f"{OUT32}.{s.if_index}")]
                vals = await self._get(first.host, first.port, first.creds, oids)
                for n, s in enumerate(low):
                    i, o = vals[1 + 2 * n], vals[2 + 2 * n]
                    if i is None or o is None:
                        out[s.id] = PollReading(id=s.id, ok=False, if_index=s.if_index,
                                                detail=f"no octet counters for ifIndex {s.if_index}")
                    else:
                        out[s.id] = PollReading(id=s.id, ok=True, uptime=vals[0], in_octets=i, out_octets=o,
                                                bits=32, if_index=s.if_index)
        except Exception as e:  # one device's failure stays its own
            detail = str(e)[:300] or e.__class__.__name__
            for s in group:
                out.setdefault(s.id, PollReading(id=s.id, ok=False, if_index=s.if_index, detail=detail))
        return [out[s.id] for s in group]

    async def poll(self, specs: list[PortSpec]) -> list[PollReading]:
        groups: dict[tuple[Any, ...], list[PortSpec]] = defaultdict(list)
        for s in specs:
            groups[(s.host, s.port, s.creds)].append(s)
        chunks = [g[i:i + GROUP] for g in groups.values() for i in range(0, len(g), GROUP)]
        results = await asyncio.gather(*[self._poll_group(c) for c in chunks])
        return [r for chunk in results for r in chunk]

    def close(self) -> None:
        try:
            self.engine.close_dispatcher()
        except Exception:  # closing is best effort: the loop is ending anyway
            pass


def poll_ports(specs: list[PortSpec], *, concurrency: int = 200, timeout: float = 2.0) -> list[PollReading]:
    """Poll `specs` in one asyncio run (sync entry point for the service and the command)."""

    async def run() -> list[PollReading]:
        poller = Poller(concurrency=concurrency, timeout=timeout)
        try:
            return await poller.poll(specs)
        finally:
            poller.close()

    return asyncio.run(run())
