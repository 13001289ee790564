"""Postfix delivery-log parser: turns the lines of a mail host's log into latency samples for the
customers' mail domains (seed 002 §2), with the messages still in flight carried between batches.

Line formats read: classic syslog ``Nov  3 10:00:02 mx1 postfix/smtp[1234]: 4ABC123: ...`` (the
year is not written: it is inferred, see `_Clock`) and RFC 3339 ``2026-11-03T10:00:02.123+08:00
mx1 postfix/smtp[1234]: ...``. Classic timestamps are read in the portal's time zone
(settings.TIME_ZONE, Asia/Shanghai), the mail hosts' local time; RFC 3339 ones carry their offset.
Any ``<name>/<daemon>[pid]:`` program is read, so multi-instance names (postfix-out/smtp) work.
Lines of other programs (dovecot, amavis), other Postfix daemons (smtpd, anvil), NOQUEUE rejects,
warnings and junk are skipped; a line that cannot be read never stops the batch.

What is measured (the choices seed 002 §2 leaves to us):

* Sending delay (发送延迟), "fully received from the customer's client → the system starts delivery
  to the destination": for a message whose envelope sender's domain (qmgr ``from=<...>``) is a
  customer MailDomain, each final delivery line to any recipient gives ``a + b`` of
  ``delays=a/b/c/d`` (a: before the queue manager, which includes receipt — Postfix cannot split
  receipt from cleanup in it; b: in the queue manager; c and d are the connection and transmission,
  i.e. after delivery started), direction "send", for the sender's domain, at the delivery line's
  time. Without ``delays=`` (Postfix < 2.3) the total ``delay=`` is used.
* Receiving delay (接收延迟), "fully received from the source → in the mailbox": a final delivery
  to a recipient whose domain is a customer MailDomain, delivered locally (lmtp, local, virtual, or
  any relay naming dovecot, e.g. ``relay=dovecot`` of the pipe transport), gives the total
  ``delay=``, direction "receive", for the recipient's domain. Mail between two customers counts
  once on each side.
* One sample per delivery line: Postfix delivers and times each recipient separately, so a message
  to three recipients is three deliveries.
* Final statuses only: ``sent``, ``bounced`` and ``expired`` are samples. ``deferred`` is not; it
  marks the queue ID + recipient. A deferral by another provider's system (the smtp client,
  delivering to a recipient domain that is not ours through a non-loopback relay) makes the later
  final delivery of that recipient `excluded` (seed 002 §2 a: delays caused by mail to or from
  other providers' systems), counted in LatencyHourly.excluded and never as a sample. A deferral in
  our own delivery (lmtp to a dovecot that is down) is ours: the final delivery's delay counts.
  qmgr's ``from=<...>, status=expired, returned to sender`` ends every recipient still deferred:
  the latency is the expiry line's time minus the arrival (deferral line time − its ``delay=``).
* Content filters: ``status=sent (250 ... queued as NEWQID)`` to a loopback relay by the smtp client
  (amavis on 127.0.0.1:10024) is a hand-off, not a delivery. The new queue ID inherits the first
  pass's ``delay=`` as a carry added to its own latencies, so the filter's time is measured once.
* The portal's own mail-loop probes (Message-ID starting with PROBE_MESSAGE_ID_PREFIX, seen on
  cleanup's ``message-id=`` line) are skipped: the probe measures them itself.
* A domain is matched exactly (lower case, no trailing dot); a sub-domain is not its parent.

In-flight state (queue ID → sender domain, probe flag, last seen, arrival, deferred recipients,
carry) lives in the source's JSON state between batches and is dropped at qmgr's ``removed``. It is
bounded: an entry not seen for AGE_OUT_SECONDS (6 days of log time, past Postfix's default 5-day
maximal_queue_lifetime) is dropped, and at most MAX_IN_FLIGHT (50,000) entries are kept, the most
recently seen first, so a log whose ``removed`` lines are lost cannot grow the state without end.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .aggregates import LatencyAccumulator
from .choices import Direction, LatencySource

try:  # The loop probe owns the prefix (monitoring/probes.py); this literal is the same one.
    from monitoring import probes as _probes

    PROBE_MESSAGE_ID_PREFIX: str = getattr(_probes, "PROBE_MESSAGE_ID_PREFIX", "slaportal-probe.")
except ImportError:  # pragma: no cover - monitoring is always installed with the portal
    PROBE_MESSAGE_ID_PREFIX = "slaportal-probe."

AGE_OUT_SECONDS = 6 * 86400
MAX_IN_FLIGHT = 50_000
STATE_VERSION = 1

# In-flight entry layout (a list: small in JSON and fast to index).
_SENDER, _PROBE, _SEEN, _T0, _DEFERRED, _CARRY = 0, 1, 2, 3, 4, 5
# Why a recipient was deferred: by another provider's system, in our local delivery, elsewhere.
DEFER_EXTERNAL, DEFER_LOCAL, DEFER_OTHER = "x", "l", "s"

_MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
_DELIVERY_DAEMONS = frozenset({"smtp", "lmtp", "local", "virtual", "pipe", "error", "retry"})
_LOCAL_DAEMONS = frozenset({"lmtp", "local", "virtual"})
_INTERESTING = _DELIVERY_DAEMONS | {"cleanup", "qmgr"}
_FINAL = frozenset({"sent", "bounced", "expired"})
_SEND = str(Direction.SEND)
_RECEIVE = str(Direction.RECEIVE)
_LOG = str(LatencySource.LOG)


def _is_loopback(relay: str) -> bool:
    """relay=127.0.0.1[127.0.0.1]:10024, relay=localhost[::1]:10025."""
    host = relay.split("[", 1)[-1] if "[" in relay else relay
    return host.startswith(("127.", "::1", "localhost"))


class _Clock:
    """Classic syslog stamps without a year. The year starts as the one of the last line read
    (kept in the state) or of `now`; a stamp more than a day after `now` is last year's (a log of
    late December read in January); a stamp half a year before the last one read is next year's
    (the log rolled over New Year's Eve). Epochs are cached per hour of the stamp."""

    __slots__ = ("cache", "last", "now", "tz", "year")

    def __init__(self, *, tz: ZoneInfo, now: float, last: float | None) -> None:
        self.tz = tz
        self.now = now
        self.last = last
        self.year = datetime.fromtimestamp(last if last is not None else now, tz).year
        self.cache: dict[str, float] = {}

    def hour_epoch(self, key: str) -> float:
        """`key` is the stamp's first 9 characters, "Nov  3 10"."""
        base = self.cache.get(key)
        if base is not None:
            return base
        month = _MONTHS[key[:3]]
        day = int(key[4:6])
        hour = int(key[7:9])
        year = self.year
        t = datetime(year, month, day, hour, tzinfo=self.tz).timestamp()
        if t > self.now + 86400:
            year -= 1
        elif self.last is not None and t < self.last - 183 * 86400:
            year += 1
        if year != self.year:
            t = datetime(year, month, day, hour, tzinfo=self.tz).timestamp()
            self.year = year
            self.cache.clear()
        self.cache[key] = t
        if self.last is None or t > self.last:
            self.last = t
        return t


class PostfixLogParser:
    """Reads lines into a LatencyAccumulator. `domains` maps a customer mail domain to its
    MailDomain id; `state` is the source's saved JSON state (empty for a new source)."""

    def __init__(self, *, domains: dict[str, int], state: dict[str, Any] | None, acc: LatencyAccumulator,
                 now: datetime, tz: ZoneInfo) -> None:
        state = state or {}
        self.domains = domains
        self.acc = acc
        raw = state.get("q") if state.get("v") == STATE_VERSION else None
        self.inflight: dict[str, list[Any]] = dict(raw) if isinstance(raw, dict) else {}
        last = state.get("last_ts")
        self.clock = _Clock(tz=tz, now=now.timestamp(), last=float(last) if last else None)
        self.last_ts: float = float(last) if last else 0.0
        self.samples = 0
        self.excluded = 0
        self.first_sample: float | None = None
        self.last_sample: float | None = None
        self.domains_hit: set[int] = set()

    # -- the hot loop ----------------------------------------------------------------------

    def feed(self, lines: Iterable[str]) -> None:
        """Read lines (with or without their newline). Unreadable lines are skipped."""
        inflight = self.inflight
        for line in lines:
            try:
                if line[:1].isdigit():
                    parts = line.split(" ", 4)
                    if len(parts) != 5:
                        continue
                    stamp, _host, prog, qid, body = parts
                else:
                    if len(line) < 17 or line[15] != " ":
                        continue
                    parts = line[16:].split(" ", 3)
                    if len(parts) != 4:
                        continue
                    _host, prog, qid, body = parts
                    stamp = ""
                slash = prog.rfind("/")
                if slash < 0:
                    continue
                bracket = prog.find("[", slash)
                daemon = prog[slash + 1:bracket] if bracket > 0 else prog[slash + 1:-1]
                if daemon not in _INTERESTING or qid[-1:] != ":":
                    continue
                qid = qid[:-1]
                # Queue IDs are upper-case hex (short) or mixed-case base-52 (long); "warning:" and
                # "NOQUEUE:" are not.
                if not (5 <= len(qid) <= 20) or not qid.isalnum() or qid.islower() or qid == "NOQUEUE":
                    continue
                body = body.rstrip("\r\n")
                if daemon == "qmgr":
                    if body == "removed":
                        inflight.pop(qid, None)
                    elif body.startswith("from=<"):
                        ts = self._ts(line, stamp)
                        end = body.find(">", 6)
                        addr = body[6:end]
                        at = addr.rfind("@")
                        sender = addr[at + 1:].lower().rstrip(".") if at >= 0 else ""
                        ent = inflight.get(qid)
                        if ent is None:
                            inflight[qid] = ent = [sender, 0, ts, None, None, 0]
                        else:
                            ent[_SENDER] = sender
                            ent[_SEEN] = ts
                        if ", status=expired" in body:
                            self._expire(ent, ts)
                elif daemon == "cleanup":
                    if body.startswith("message-id="):
                        mid = body[11:]
                        if mid[:1] == "<":
                            mid = mid[1:]
                        probe = 1 if mid.startswith(PROBE_MESSAGE_ID_PREFIX) else 0
                        ent = inflight.get(qid)
                        if ent is None:
                            inflight[qid] = [None, probe, self._ts(line, stamp), None, None, 0]
                        elif probe:
                            ent[_PROBE] = 1
                elif body.startswith("to=<"):
                    self._delivery(line, stamp, daemon, qid, body)
            except (ValueError, IndexError, KeyError, OverflowError):
                continue  # junk that looked like a Postfix line: skip it, never stop the batch
        if len(inflight) > 2 * MAX_IN_FLIGHT:
            self.prune()

    def _ts(self, line: str, stamp: str) -> float:
        if stamp:
            t = datetime.fromisoformat(stamp).timestamp()
        else:
            t = self.clock.hour_epoch(line[:9]) + int(line[10:12]) * 60 + float(line[13:15])
        if t > self.last_ts:
            self.last_ts = t
        return t

    def _delivery(self, line: str, stamp: str, daemon: str, qid: str, body: str) -> None:
        i = body.find(", status=")
        if i < 0:
            return
        j = body.find(" ", i + 9)
        status = body[i + 9:] if j < 0 else body[i + 9:j]
        fields = body[:i].split(", ")
        rcpt = fields[0][4:-1]
        relay = ""
        delay = -1.0
        delays = ""
        for f in fields[1:]:
            k, _, v = f.partition("=")
            if k == "relay":
                relay = v
            elif k == "delay":
                delay = float(v)
            elif k == "delays":
                delays = v
        if delay < 0:
            return
        ts = self._ts(line, stamp)
        at = rcpt.rfind("@")
        rdom = rcpt[at + 1:].lower().rstrip(".") if at >= 0 else ""
        local = daemon in _LOCAL_DAEMONS or "dovecot" in relay.lower()
        inflight = self.inflight
        ent = inflight.get(qid)
        if status == "deferred":
            if ent is None:
                inflight[qid] = ent = [None, 0, ts, None, None, 0]
            ent[_SEEN] = ts
            if ent[_T0] is None:
                ent[_T0] = ts - delay
            if local:
                why = DEFER_LOCAL
            elif daemon == "smtp" and rdom not in self.domains and relay and not _is_loopback(relay):
                why = DEFER_EXTERNAL
            else:
                why = DEFER_OTHER
            deferred = ent[_DEFERRED]
            if deferred is None:
                ent[_DEFERRED] = {rcpt: why}
            elif deferred.get(rcpt) != DEFER_EXTERNAL:  # once deferred by them, it stays excluded
                deferred[rcpt] = why
            return
        if status not in _FINAL:
            return
        carry = 0
        sender_id = None
        why_final: str | None = None
        if ent is not None:
            ent[_SEEN] = ts
            if ent[_PROBE]:
                return
            carry = ent[_CARRY]
            if ent[_SENDER]:
                sender_id = self.domains.get(ent[_SENDER])
            deferred = ent[_DEFERRED]
            if deferred:
                why_final = deferred.pop(rcpt, None)
        if (status == "sent" and daemon == "smtp" and not local and _is_loopback(relay)
                and "queued as " in body):
            # A hand-off to a content filter on this host: the message goes on under a new ID.
            new_qid = body[body.find("queued as ", i) + 10:].split(")", 1)[0].split()[0]
            nxt = inflight.get(new_qid)
            if nxt is None:
                inflight[new_qid] = nxt = [ent[_SENDER] if ent else None, ent[_PROBE] if ent else 0, ts, None,
                                           None, 0]
            nxt[_CARRY] = carry + int(delay * 1000 + 0.5)
            return
        excluded = why_final == DEFER_EXTERNAL
        if sender_id is not None:
            if delays and not excluded:
                a, b, _c, _d = delays.split("/")
                send_ms = int((float(a) + float(b)) * 1000 + 0.5) + carry
            else:
                send_ms = int(delay * 1000 + 0.5) + carry
            self._add(sender_id, ts, _SEND, send_ms, excluded)
        if local:
            rid = self.domains.get(rdom)
            if rid is not None:
                self._add(rid, ts, _RECEIVE, int(delay * 1000 + 0.5) + carry, excluded)

    def _add(self, domain_id: int, ts: float, direction: str, ms: int, excluded: bool) -> None:
        self.acc.add(domain_id=domain_id, at=ts, direction=direction, source=_LOG, latency_ms=ms,
                     excluded=excluded)
        if excluded:
            self.excluded += 1
        else:
            self.samples += 1
        self.domains_hit.add(domain_id)
        if self.first_sample is None or ts < self.first_sample:
            self.first_sample = ts
        if self.last_sample is None or ts > self.last_sample:
            self.last_sample = ts

    def _expire(self, ent: list[Any], ts: float) -> None:
        """qmgr gave up on the message (maximal_queue_lifetime): every recipient still deferred
        ends now, its latency measured from the message's arrival."""
        deferred = ent[_DEFERRED]
        if not deferred or ent[_PROBE]:
            ent[_DEFERRED] = None
            return
        t0 = ent[_T0] if ent[_T0] is not None else ts
        ms = int((ts - t0) * 1000 + 0.5) + ent[_CARRY]
        sender_id = self.domains.get(ent[_SENDER]) if ent[_SENDER] else None
        for rcpt, why in deferred.items():
            excluded = why == DEFER_EXTERNAL
            if sender_id is not None:
                self._add(sender_id, ts, _SEND, ms, excluded)
            if why == DEFER_LOCAL:
                rid = self.domains.get(rcpt[rcpt.rfind("@") + 1:].lower().rstrip("."))
                if rid is not None:
                    self._add(rid, ts, _RECEIVE, ms, excluded)
        ent[_DEFERRED] = None

    # -- state -----------------------------------------------------------------------------

    def prune(self) -> int:
        """Drop entries not seen for AGE_OUT_SECONDS of log time, then keep the MAX_IN_FLIGHT most
        recently seen. Returns how many were dropped."""
        inflight = self.inflight
        before = len(inflight)
        horizon = self.last_ts - AGE_OUT_SECONDS
        stale = [q for q, e in inflight.items() if e[_SEEN] < horizon]
        for q in stale:
            del inflight[q]
        if len(inflight) > MAX_IN_FLIGHT:
            keep = sorted(inflight.items(), key=lambda kv: kv[1][_SEEN], reverse=True)[:MAX_IN_FLIGHT]
            self.inflight = dict(keep)
        return before - len(self.inflight)

    def dump(self) -> dict[str, Any]:
        """The state to save with the cursor (pruned)."""
        self.prune()
        return {"v": STATE_VERSION, "q": self.inflight, "last_ts": self.last_ts or None}


def since_until(parser: PostfixLogParser) -> tuple[datetime, datetime] | None:
    """The time span the parser's samples fall in (for re-judging closed months)."""
    if parser.first_sample is None or parser.last_sample is None:
        return None
    from datetime import UTC

    return (datetime.fromtimestamp(parser.first_sample, UTC),
            datetime.fromtimestamp(parser.last_sample, UTC) + timedelta(seconds=1))
