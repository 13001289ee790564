"""Every write of the traffic app: switch ports (staff), the poll cycle (claim, SNMP, rates,
consolidation) and the MRTG sign-in. The rate rules are pure functions (rate_for) so tests can
state them exactly; the rings and the day series are written with one statement per batch."""

from __future__ import annotations

import logging
import math
import time
import zlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from customers.choices import Role
from customers.models import AuthorizedContact, Service
from customers.selectors import user_has_role
from monitoring.sealing import UnsealError, seal, unseal
from slaportal.errors import DomainError, ForbiddenError

from .choices import RINGS, SnmpVersion
from .models import POLL_INTERVAL, SAMPLE, MrtgLoginAttempt, SwitchPort, TrafficDay, TrafficSlot
from .snmp import Credentials, PollReading, PortSpec, poll_ports

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
# A gap longer than this (missed polls, a poller outage) re-baselines instead of averaging.
MAX_GAP = timedelta(seconds=3 * POLL_INTERVAL)
RETAIN_DAYS = 62  # the day series: this month and the whole previous one for its 95th
UPTIME_WRAP = 2**32  # sysUpTime is TimeTicks (1/100 s), wrapping after ~497 days
PORT_FIELDS = ("name", "device_address", "snmp_port", "port_number", "interface", "snmp_version",
               "v3_user", "v3_auth_protocol", "v3_priv_protocol", "max_bps", "active")
SECRET_FIELDS = {"community": "community_sealed", "v3_auth_key": "v3_auth_key_sealed",
                 "v3_priv_key": "v3_priv_key_sealed"}


# --- Switch ports ----------------------------------------------------------------------------

def _phase(port_id: int) -> int:
    return zlib.crc32(f"switchport:{port_id}".encode()) % POLL_INTERVAL


def next_poll_at(*, now: datetime, port_id: int) -> datetime:
    """The port's next slot on the 5-minute grid, at a stable per-port phase (10,000 ports do
    not all fire in the same second)."""
    phase = _phase(port_id)
    k = math.floor((now.timestamp() - phase) / POLL_INTERVAL) + 1
    return datetime.fromtimestamp(k * POLL_INTERVAL + phase, tz=now.tzinfo or timezone.get_current_timezone())


def switchport_save(*, service: Service, data: dict[str, Any], actor: Any, port: SwitchPort | None = None,
                    now: datetime | None = None) -> SwitchPort:
    """Create or change a switch port of a hosting service (engineers and managers). The
    community and v3 keys are sealed; blank keeps the stored one. The audit row says which
    secret changed, never its value. Changing the interface re-resolves its ifIndex."""
    if not user_has_role(actor, Role.ENGINEER, Role.MANAGER):
        raise ForbiddenError(_("Your role does not allow this."))
    now = now or timezone.now()
    creating = port is None
    if port is not None and port.service_id != service.pk:
        raise DomainError(_("A switch port stays on its service; add a new one to another service."))
    port = port or SwitchPort(service=service)
    before = {f: str(getattr(port, f)) for f in PORT_FIELDS} if not creating else {}
    for f in PORT_FIELDS:
        if f in data and data[f] is not None:
            setattr(port, f, data[f])
    port.device_address = port.device_address.strip()
    port.interface = port.interface.strip()
    secrets = {k: (data.get(k) or "") for k in SECRET_FIELDS}
    errors: dict[str, list[str]] = {}
    try:
        port.full_clean(exclude=["customer"])
    except ValidationError as e:
        errors.update(e.message_dict)
    if port.snmp_version == SnmpVersion.V2C and not (secrets["community"] or port.community_sealed):
        errors["community"] = [_("SNMP v2c needs a community.")]
    if port.snmp_version == SnmpVersion.V3:
        if port.v3_auth_protocol != "none" and not (secrets["v3_auth_key"] or port.v3_auth_key_sealed):
            errors["v3_auth_key"] = [_("Enter the authentication key.")]
        if port.v3_priv_protocol != "none" and not (secrets["v3_priv_key"] or port.v3_priv_key_sealed):
            errors["v3_priv_key"] = [_("Enter the privacy key.")]
    if errors:
        raise DomainError(_("Please correct the errors below."), field_errors=errors)
    for key, attr in SECRET_FIELDS.items():
        if secrets[key]:
            setattr(port, attr, seal(secrets[key]))
    after = {f: str(getattr(port, f)) for f in PORT_FIELDS}
    if creating or before.get("interface") != after["interface"] \
            or before.get("device_address") != after["device_address"]:
        # Another interface or device: forget the old ifIndex and counters (no rate across them).
        port.if_index = int(port.interface) if port.interface.isdigit() else None
        port.counter_bits = port.last_uptime = port.last_polled_at = None
        port.last_in_octets = port.last_out_octets = None  # type: ignore[assignment]
    with transaction.atomic():
        port.save()
        if creating or port.next_due_at is None or before.get("active") != after["active"]:
            port.next_due_at = now  # polled at the next cycle: the first poll is the baseline
            port.save(update_fields=["next_due_at"])
        audit_record(obj=port, action="create" if creating else "change", actor=actor, now=now,
                     data={"changed": {f: [before.get(f), after[f]] for f in PORT_FIELDS
                                       if creating or before[f] != after[f]},
                           "secrets_changed": sorted(k for k, v in secrets.items() if v)})
    return port


# --- The poll cycle --------------------------------------------------------------------------

def rate_for(*, previous: int, current: int, bits: int, seconds: float, max_bps: int) -> float | None:
    """Bits per second between two counter readings, or None when there is no honest sample.

    A counter lower than before is a wrap (the counter passed 2^bits) only if the traffic that
    implies fits the line speed; otherwise the counter was reset (cleared, a restart the uptime
    did not show) and a rate would be a spike. A rate above the line speed is refused likewise."""
    if seconds <= 0:
        return None
    delta = current - previous
    if delta < 0:
        delta += 2**bits
    bps = delta * 8 / seconds
    return bps if bps <= max_bps else None


@dataclass
class Sample:
    port_id: int
    at: datetime
    in_bps: float
    out_bps: float


def ports_claim(*, now: datetime, limit: int = 5000) -> list[PortSpec]:
    """Claim up to `limit` due ports: move their next_due_at forward by a lease in one
    conditional UPDATE ... RETURNING (as monitoring.services.targets_claim). Of two pollers
    racing, only one gets each row, so no port is polled twice in a cycle."""
    table = SwitchPort._meta.db_table
    ts = connection.ops.adapt_datetimefield_value(now)
    lease = connection.ops.adapt_datetimefield_value(now + LEASE)
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = (f"UPDATE {table} SET next_due_at = %s WHERE next_due_at <= %s AND active = %s AND id IN "
           f"(SELECT id FROM {table} WHERE active = %s AND next_due_at <= %s ORDER BY next_due_at "
           f"LIMIT %s{lock}) RETURNING id, device_address, snmp_port, interface, if_index, counter_bits, "
           f"snmp_version, community_sealed, v3_user, v3_auth_protocol, v3_auth_key_sealed, "
           f"v3_priv_protocol, v3_priv_key_sealed")
    with connection.cursor() as cur:
        cur.execute(sql, [lease, ts, True, True, ts, limit])
        rows = cur.fetchall()
    specs: list[PortSpec] = []
    cache: dict[str, str] = {}  # many ports share a device's sealed community: unseal it once

    def op(v: str) -> str:
        if not v:
            return ""
        if v not in cache:
            cache[v] = unseal(v)
        return cache[v]

    for (pid, host, udp, interface, if_index, bits, version, comm, user, ap, ak, pp, pk) in rows:
        try:
            creds = Credentials(version=version, community=op(comm), user=user, auth_protocol=ap,
                                auth_key=op(ak), priv_protocol=pp, priv_key=op(pk))
        except UnsealError:
            SwitchPort.objects.filter(pk=pid).update(
                last_detail="the SNMP credentials cannot be read with the current key: enter them again",
                next_due_at=next_poll_at(now=now, port_id=pid))
            continue
        specs.append(PortSpec(id=pid, host=host, port=udp, creds=creds, interface=interface,
                              if_index=if_index, counter_bits=bits))
    return specs


def readings_record(*, readings: list[PollReading], now: datetime) -> dict[str, int]:
    """Turn one cycle's readings into samples: the rate since each port's previous reading, no
    sample (a new baseline) after a device restart (sysUpTime went back), a counter reset, a
    change between 32- and 64-bit counters or a long gap; then the rings and the day series."""
    ports = SwitchPort.objects.in_bulk([r.id for r in readings])
    samples: list[Sample] = []
    stats: dict[str, int] = defaultdict(int)
    for r in readings:
        p = ports.get(r.id)
        if p is None:
            continue
        p.next_due_at = next_poll_at(now=now, port_id=p.pk)
        if not r.ok or r.in_octets is None or r.out_octets is None or r.bits is None:
            stats["failed"] += 1
            p.last_detail = r.detail[:300]
            if r.if_index is not None:
                p.if_index = r.if_index
            continue
        stats["polled"] += 1
        reason = ""
        if p.last_polled_at is None or p.last_in_octets is None or p.last_out_octets is None:
            reason = "baseline"
        elif p.counter_bits != r.bits:
            reason = "counter width changed"
        elif r.uptime is not None and p.last_uptime is not None and r.uptime < p.last_uptime \
                and not p.last_uptime > UPTIME_WRAP - 100 * MAX_GAP.total_seconds():
            reason = "device restarted"
        elif now - p.last_polled_at > MAX_GAP:
            reason = "gap"
        else:
            seconds = (now - p.last_polled_at).total_seconds()
            rin = rate_for(previous=int(p.last_in_octets), current=r.in_octets, bits=r.bits,
                           seconds=seconds, max_bps=p.max_bps)
            rout = rate_for(previous=int(p.last_out_octets), current=r.out_octets, bits=r.bits,
                            seconds=seconds, max_bps=p.max_bps)
            if rin is None or rout is None:
                reason = "counter reset"
            else:
                samples.append(Sample(port_id=p.pk, at=now, in_bps=rin, out_bps=rout))
                p.last_in_bps, p.last_out_bps, p.last_sample_at = rin, rout, now
        if reason:
            stats["no_sample"] += 1
        p.last_detail = reason
        p.if_index, p.counter_bits, p.last_uptime = r.if_index, r.bits, r.uptime
        p.last_in_octets, p.last_out_octets = Decimal(r.in_octets), Decimal(r.out_octets)
        p.last_polled_at = now
    with transaction.atomic():
        _poller_state_store(ports=list(ports.values()))
        samples_store(samples=samples)
    stats["samples"] = len(samples)
    return dict(stats)


# The poller's state columns and their PostgreSQL types (for the unnest() of _poller_state_store).
STATE_COLUMNS = (("next_due_at", "timestamptz"), ("if_index", "integer"), ("counter_bits", "smallint"),
                 ("last_uptime", "bigint"), ("last_in_octets", "numeric"), ("last_out_octets", "numeric"),
                 ("last_polled_at", "timestamptz"), ("last_sample_at", "timestamptz"),
                 ("last_in_bps", "double precision"), ("last_out_bps", "double precision"),
                 ("last_detail", "varchar"))


def _poller_state_store(*, ports: list[SwitchPort]) -> None:
    """Write the cycle's poller state of `ports` in one UPDATE ... FROM unnest(arrays) on
    PostgreSQL. bulk_update's CASE WHEN id = ... per column made PostgreSQL compare every row
    against every id of its batch: for 10,000 ports it was most of a cycle's time (bench/
    traffic_poll_bench.py)."""
    if not ports:
        return
    names = [c for c, _t in STATE_COLUMNS]
    if connection.vendor != "postgresql":
        SwitchPort.objects.bulk_update(ports, names, batch_size=500)
        return
    t = SwitchPort._meta.db_table
    arrays = [[p.pk for p in ports]] + [[getattr(p, c) for p in ports] for c in names]
    casts = ", ".join(["%s::bigint[]"] + [f"%s::{typ}[]" for _c, typ in STATE_COLUMNS])
    sql = (f"UPDATE {t} AS p SET {', '.join(f'{c} = v.{c}' for c in names)} "
           f"FROM unnest({casts}) AS v(id, {', '.join(names)}) WHERE p.id = v.id")
    with connection.cursor() as cur:
        cur.execute(sql, arrays)


def samples_store(*, samples: list[Sample]) -> None:
    """Write samples into every ring (one upsert per batch: a slot whose bucket is the same is
    merged, average weighted by its sample count and max kept; a slot still holding an older
    bucket is overwritten) and append them to their port's day series."""
    if not samples:
        return
    t = TrafficSlot._meta.db_table
    values: list[str] = []
    params: list[Any] = []
    for s in samples:
        epoch = int(s.at.timestamp())
        for res, n in RINGS:
            start = epoch - epoch % res
            values.append("(%s, %s, %s, %s, 1, %s, %s, %s, %s)")
            params += [s.port_id, res, (start // res) % n, datetime.fromtimestamp(start, tz=s.at.tzinfo),
                       s.in_bps, s.out_bps, s.in_bps, s.out_bps]
    same = f"{t}.start_at = excluded.start_at"
    greatest = "GREATEST" if connection.vendor == "postgresql" else "MAX"  # SQLite's two-argument max()
    sql = (f"INSERT INTO {t} (port_id, resolution, slot, start_at, samples, in_avg, out_avg, in_max, out_max) "
           f"VALUES {', '.join(values)} ON CONFLICT (port_id, resolution, slot) DO UPDATE SET "
           f"in_avg = CASE WHEN {same} THEN ({t}.in_avg * {t}.samples + excluded.in_avg) / ({t}.samples + 1) "
           f"ELSE excluded.in_avg END, "
           f"out_avg = CASE WHEN {same} THEN ({t}.out_avg * {t}.samples + excluded.out_avg) / ({t}.samples + 1) "
           f"ELSE excluded.out_avg END, "
           f"in_max = CASE WHEN {same} THEN {greatest}({t}.in_max, excluded.in_max) ELSE excluded.in_max END, "
           f"out_max = CASE WHEN {same} THEN {greatest}({t}.out_max, excluded.out_max) ELSE excluded.out_max END, "
           f"samples = CASE WHEN {same} THEN {t}.samples + 1 ELSE 1 END, start_at = excluded.start_at")
    d = TrafficDay._meta.db_table
    dvalues: list[str] = []
    dparams: list[Any] = []
    for s in samples:
        local = timezone.localtime(s.at)
        slot = (local.hour * 3600 + local.minute * 60 + local.second) // POLL_INTERVAL
        dvalues.append("(%s, %s, %s)")
        dparams += [s.port_id, local.date(), SAMPLE.pack(slot, s.in_bps, s.out_bps)]
    dsql = (f"INSERT INTO {d} (port_id, day, data) VALUES {', '.join(dvalues)} "
            f"ON CONFLICT (port_id, day) DO UPDATE SET data = {d}.data || excluded.data")
    with connection.cursor() as cur:
        # One statement may not name a row twice (two samples of one port in one batch).
        if len({s.port_id for s in samples}) == len(samples):
            cur.execute(sql, params)
            cur.execute(dsql, dparams)
        else:
            for s in samples:
                samples_store(samples=[s])


def days_prune(*, now: datetime) -> int:
    """Delete day series older than RETAIN_DAYS (what keeps TrafficDay bounded per port)."""
    cutoff = timezone.localtime(now).date() - timedelta(days=RETAIN_DAYS)
    return int(TrafficDay.objects.filter(day__lt=cutoff).delete()[0])


def poll_due(*, now: datetime | None = None, batch: int = 5000, concurrency: int = 50,
             budget_seconds: float = 240.0) -> dict[str, int]:
    """One iteration of the poller: claim due ports batch by batch, poll them, record. Stays
    within a time budget; the next tick picks up the rest.

    Concurrency 50: the poller's own CPU (~10 ms per 24-interface GET) is the bound, and a
    reply waits behind every other in-flight one before the loop reads it; at 200 in flight that
    wait neared the 2 s timeout and ~10 % of 10,000 ports failed (bench/traffic_poll_bench.py),
    at 20 or 50 none did, in the same cycle time."""
    started = time.monotonic()
    totals: dict[str, int] = defaultdict(int)
    while time.monotonic() - started < budget_seconds:
        at = now or timezone.now()
        specs = ports_claim(now=at, limit=batch)
        if not specs:
            break
        readings = poll_ports(specs, concurrency=concurrency)
        for k, v in readings_record(readings=readings, now=now or timezone.now()).items():
            totals[k] += v
        totals["claimed"] += len(specs)
        if len(specs) < batch or now is not None:
            break
    totals["pruned"] = days_prune(now=now or timezone.now())
    return dict(totals)


# --- The MRTG sign-in ------------------------------------------------------------------------

def mrtg_rate_per_minute() -> int:
    return int(getattr(settings, "TRAFFIC_MRTG_RATE_PER_MINUTE", 10))


def mrtg_locked(*, customer_id: int, now: datetime) -> bool:
    """Locked for the MRTG view exactly when phone authorization is locked for the customer: one
    lock (operations.PhoneAuthLock) for every channel that checks the MRTG secret."""
    from operations.services import phone_lock_active

    return phone_lock_active(customer_id=customer_id, now=now) is not None


def mrtg_web_failures(*, customer_id: int, since: datetime, until: datetime) -> int:
    """Wrong MRTG passwords on this page for a customer in (since, until]: counted with the phone's
    toward the lock (registered with operations in TrafficConfig.ready)."""
    return MrtgLoginAttempt.objects.filter(customer_id=customer_id, ok=False, locked=False,
                                           at__gt=since, at__lte=until).count()


def _web_failure(*, customer_id: int, now: datetime) -> bool:
    """After a wrong password was recorded for the customer: lock every MRTG channel if the
    shared count reached the limit. Returns whether the customer is now locked."""
    from operations.services import mrtg_lock_evaluate

    return mrtg_lock_evaluate(customer_id=customer_id, now=now) is not None


def _mrtg_check(*, username: str, password: str, client_ip: str | None,
                now: datetime) -> tuple[str, AuthorizedContact | None]:
    if client_ip and MrtgLoginAttempt.objects.filter(
            client_ip=client_ip, at__gt=now - timedelta(minutes=1), at__lte=now).count() >= mrtg_rate_per_minute():
        return "rate_limited", None
    candidates = list(AuthorizedContact.objects.select_related("customer")
                      .filter(mrtg_username=username, active=True).exclude(mrtg_secret_hash="")) \
        if username else []
    if not candidates:
        make_password(password)  # the same hashing time as a known user name
        MrtgLoginAttempt.objects.create(username_given=username, ok=False, client_ip=client_ip, at=now)
        return "unauthorized", None
    today = timezone.localtime(now).date()
    for c in candidates:
        if c.check_mrtg(username, password) and c.is_valid_on(today):
            locked = mrtg_locked(customer_id=c.customer_id, now=now)
            MrtgLoginAttempt.objects.create(customer=c.customer, contact=c, username_given=username,
                                            ok=not locked, locked=locked, client_ip=client_ip, at=now)
            return ("locked", None) if locked else ("", c)
    # Wrong for every contact of that user name: each of their customers counts one failure
    # (not while locked: hammering a locked customer does not extend its lock).
    refusal = "unauthorized"
    for cid in sorted({c.customer_id for c in candidates}):
        locked = mrtg_locked(customer_id=cid, now=now)
        MrtgLoginAttempt.objects.create(customer_id=cid, username_given=username, ok=False, locked=locked,
                                        client_ip=client_ip, at=now)
        if not locked:
            locked = _web_failure(customer_id=cid, now=now)
        refusal = "locked" if locked else refusal
    return refusal, None


def mrtg_login(*, username: str, password: str, client_ip: str | None,
               now: datetime | None = None) -> AuthorizedContact:
    """Check an MRTG user name and password (the ones recorded for phone authorization, seed
    000 §6) for the read-only traffic view. Refused while the client address is over the rate
    limit or the customer is locked; a wrong password is logged and counts toward the lock.
    Returns the contact whose customer's traffic the session may show."""
    now = now or timezone.now()
    username = username.strip()[:120]
    # The attempt rows must be committed even when the sign-in is refused: the refusal is
    # decided inside the transaction and raised after it.
    with transaction.atomic():
        refusal, contact = _mrtg_check(username=username, password=password, client_ip=client_ip, now=now)
    if refusal == "rate_limited":
        raise DomainError(_("Too many attempts. Please wait a minute and try again."), code="rate_limited")
    if refusal == "locked":
        raise DomainError(_("Access with this MRTG user name is locked for now after repeated wrong "
                            "passwords."), code="locked")
    if contact is not None:
        return contact
    raise DomainError(_("Wrong MRTG user name or password."), code="unauthorized")

