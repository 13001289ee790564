"""Benchmark (issue 13): the whole 5-minute poll cycle of 10,000 interfaces, as production runs it.

Run:  .venv/bin/python bench/traffic_poll_bench.py [--agents 10] [--per-agent 1000] [--cycles 3]
                                                   [--concurrency N] [--keep-db]

What it does, with the real parts:
  1. a scratch PostgreSQL database (`slaportal_bench_traffic`, or BENCH_DATABASE_URL), dropped,
     recreated and migrated, and dropped again at the end (unless --keep-db);
  2. 10 real net-snmp agents (snmpd on high UDP ports of 127.0.0.1, as in tests/traffic) × 1,000
     synthetic interfaces whose 64-bit counters advance with the clock (in = ifIndex·1000·t octets,
     out = twice that), and 10,000 SwitchPort rows (v2c, the community sealed as switchport_save
     seals it) on 1,000 hosting services;
  3. runs traffic.services.poll_due (the function the beat task runs) for `cycles` cycles, with
     now= advanced by 5 minutes each time. poll_due(now=...) claims one batch per call (as one beat
     tick does), so a cycle calls it until nothing is due; every port is due again 5 minutes later
     (next_poll_at is at most one interval ahead). ports_claim, poll_ports, readings_record and
     days_prune are wrapped with timers, so the split claim / SNMP poll / record (rates, the four
     rings, the per-day 95th series, the SwitchPort state) is measured inside the real cycle;
  4. prints per cycle: wall time, this process's CPU (time.process_time: the poller's own cost,
     not snmpd's), the PostgreSQL backend's CPU for the connection (from /proc), the split, and the
     median over the cycles; then checks the second and later cycles recorded a rate for every
     port (out = 2 × in exactly, in > 0) and that the rings and day series have the expected rows.

The counters advance with the real clock while now= advances 300 s a cycle, so the recorded
rates are (real seconds between two polls of a port) / 300 of the counters' true rate: small
numbers, but every port must have one. Goal (issue 13): a cycle ≤ 30 s of one core (10 % of 5 min).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from clock_sweep import recreate_database  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def drop_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a local process (the PostgreSQL backend of our connection)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Timers:
    """Wall and CPU seconds spent in each wrapped function during one cycle."""

    def __init__(self) -> None:
        self.wall: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*a: Any, **kw: Any) -> Any:
            w0, c0 = time.monotonic(), time.process_time()
            try:
                return fn(*a, **kw)
            finally:
                self.wall[name] += time.monotonic() - w0
                self.cpu[name] += time.process_time() - c0
        return timed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--agents", type=int, default=10)
    ap.add_argument("--per-agent", type=int, default=1000)
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=None,
                    help="poll_due's concurrency (default: poll_due's own default)")
    ap.add_argument("--keep-db", action="store_true")
    args = ap.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/slaportal_bench_traffic")
    recreate_database(url)
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="slaportal.settings", LOG_LEVEL="WARNING")
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    os.environ.setdefault("SLAPORTAL_VAR_DIR", str(ROOT / "var" / "bench"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from customers.models import Contract, Customer, Service
    from monitoring.sealing import seal
    from tests.traffic.snmpagent import COMMUNITY, SnmpAgent
    from traffic import services
    from traffic.choices import RINGS
    from traffic.models import SAMPLE, SwitchPort, TrafficDay, TrafficSlot

    agents: list[Any] = []
    try:
        call_command("migrate", verbosity=0)
        agents = [SnmpAgent(synth=args.per_agent) for _ in range(args.agents)]
        for a in agents:
            a.start()
        n_services = max(1, args.agents * args.per_agent // 10)
        signed = datetime(2025, 1, 6, 10, tzinfo=TZ)
        Customer.objects.bulk_create([Customer(name=f"客户 {i:05d}", code=f"t{i:05d}")
                                      for i in range(n_services)], batch_size=2000)
        customers = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
        Contract.objects.bulk_create([
            Contract(customer_id=c, number=f"HT-{c:06d}", signed_at=signed, starts_on=signed.date(),
                     term_months=24, monthly_fee="2800.00", installation_fee="500.00") for c in customers],
            batch_size=2000)
        Service.objects.bulk_create([
            Service(contract_id=k, customer_id=c, kind="colocation", name=f"托管 {c:05d}")
            for k, c in Contract.objects.order_by("pk").values_list("pk", "customer_id")], batch_size=2000)
        svc = list(Service.objects.order_by("pk").values_list("pk", "customer_id"))
        start = datetime(2026, 3, 2, 9, 0, tzinfo=TZ)
        sealed = seal(COMMUNITY)  # one device community, sealed once (ports_claim unseals it once)
        SwitchPort.objects.bulk_create([
            SwitchPort(service_id=svc[k % len(svc)][0], customer_id=svc[k % len(svc)][1],
                       device_address="127.0.0.1", snmp_port=a.port, interface=str(i), if_index=i,
                       snmp_version="v2c", community_sealed=sealed, next_due_at=start,
                       port_number=f"Gi0/{i}")
            for k, (a, i) in enumerate((a, i) for a in agents for i in range(1, args.per_agent + 1))],
            batch_size=2000)
        n_ports = SwitchPort.objects.count()
        with connection.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            backend = int(cur.fetchone()[0])
        print(f"{n_ports} switch ports on {args.agents} snmpd agents; scratch database {url.rsplit('/', 1)[1]}")

        kw: dict[str, Any] = {} if args.concurrency is None else {"concurrency": args.concurrency}
        real = {n: getattr(services, n) for n in ("ports_claim", "poll_ports", "readings_record", "days_prune")}
        rows = []
        try:
            for c in range(args.cycles):
                if c:
                    time.sleep(1.5)  # the synthetic counters tick each second: let them advance
                now = start + timedelta(seconds=300 * c)
                timers = Timers()
                for n, fn in real.items():
                    setattr(services, n, timers.wrap(n, fn))
                totals: dict[str, int] = defaultdict(int)
                w0, c0, d0 = time.monotonic(), time.process_time(), proc_cpu(backend)
                ticks = 0
                while True:
                    r = services.poll_due(now=now, **kw)
                    ticks += 1
                    for k, v in r.items():
                        totals[k] += v
                    if not r.get("claimed"):
                        break
                wall, cpu, db = time.monotonic() - w0, time.process_time() - c0, proc_cpu(backend) - d0
                rows.append((wall, cpu, db, timers, dict(totals), ticks))
                print(f"cycle {c + 1} (now {now:%H:%M}): wall {wall:6.2f} s, poller CPU {cpu:6.2f} s "
                      f"({cpu / 300 * 100:4.1f} % of one core's 5 min), PostgreSQL backend CPU {db:5.2f} s; "
                      f"{ticks} poll_due calls")
                print("    split wall/CPU s: " + ", ".join(
                    f"{n} {timers.wall[n]:.2f}/{timers.cpu[n]:.2f}" for n in real))
                print(f"    totals: { {k: v for k, v in sorted(totals.items())} }")
        finally:
            for n, fn in real.items():
                setattr(services, n, fn)

        def med(f: Callable[[Any], float]) -> float:
            return statistics.median(f(r) for r in rows)

        print(f"median over {len(rows)} cycles: wall {med(lambda r: r[0]):.2f} s, poller CPU "
              f"{med(lambda r: r[1]):.2f} s ({med(lambda r: r[1]) / 300 * 100:.1f} % of one core; goal ≤ 10 %), "
              f"PostgreSQL CPU {med(lambda r: r[2]):.2f} s; poll {med(lambda r: r[3].wall['poll_ports']):.2f} s "
              f"wall / {med(lambda r: r[3].cpu['poll_ports']):.2f} s CPU, record "
              f"{med(lambda r: r[3].wall['readings_record']):.2f} s wall / "
              f"{med(lambda r: r[3].cpu['readings_record']):.2f} s CPU, claim "
              f"{med(lambda r: r[3].wall['ports_claim']):.2f} s wall")

        # Sanity: every port polled every cycle; a rate for every port from the second cycle on.
        problems = []
        for c, (_w, _c, _d, _t, tot, _n) in enumerate(rows):
            if tot.get("claimed") != n_ports or tot.get("polled") != n_ports:
                problems.append(f"cycle {c + 1}: claimed {tot.get('claimed')}, polled {tot.get('polled')}")
            if c >= 1 and tot.get("samples") != n_ports:
                problems.append(f"cycle {c + 1}: {tot.get('samples')} samples for {n_ports} ports")
        last = start + timedelta(seconds=300 * (len(rows) - 1))
        fresh = SwitchPort.objects.filter(last_sample_at=last, last_in_bps__gt=0).count()
        # out = 2 × in, but each counter is read at its own second of the agent's clock: allow
        # that skew (a second in the tens between two polls of a port).
        odd = sum(1 for i, o in SwitchPort.objects.values_list("last_in_bps", "last_out_bps")
                  if i is None or o is None or not 1.5 * i <= o <= 2.5 * i)
        # One slot row per ring bucket the sampled cycles (the second on) fell in.
        sampled = [int((start + timedelta(seconds=300 * c)).timestamp()) for c in range(1, len(rows))]
        want_slots = n_ports * sum(len({t - t % res for t in sampled}) for res, _n in RINGS)
        slots = TrafficSlot.objects.count()
        per_port = [len(bytes(d)) // SAMPLE.size for d in TrafficDay.objects.values_list("data", flat=True)]
        print(f"check: {fresh}/{n_ports} ports with a rate > 0 at the last cycle, {odd} with out not ≈ 2 × in; "
              f"ring rows {slots} (expected {want_slots}), day series rows {len(per_port)}, samples each "
              f"{min(per_port, default=0)}..{max(per_port, default=0)} (expected {len(rows) - 1})")
        if fresh != n_ports or odd or slots != want_slots or len(per_port) != n_ports \
                or set(per_port) != {len(rows) - 1}:
            problems.append("stored rates, rings or day series are not as expected")
        for p in problems:
            print("PROBLEM:", p)
        return 1 if problems else 0
    finally:
        for a in agents:
            a.close()
        connection.close()
        if not args.keep_db:
            drop_database(url)


if __name__ == "__main__":
    sys.exit(main())
