"""Benchmark: ingest 1,000,000 Postfix log lines (issue 11, E2) — lines per second and peak memory.

Run:  .venv/bin/python bench/maillog_ingest_bench.py [--sizes 200000,1000000] [--domains 3000] [--batch 50000]

What it does:
  1. a scratch database (PostgreSQL `slaportal_bench_maillog`, or BENCH_DATABASE_URL), dropped,
     recreated and migrated, with `--domains` customer mail domains (one e-mail service each);
  2. writes, per size, a realistic Postfix log into a temp file: submissions from customers to
     other providers (one or two recipients), mail from other providers delivered to customers by
     LMTP/dovecot, mail between customers, greylisting deferrals retried 5–40 minutes later, bounces,
     content-filter hand-offs, loop probes, and the lines of daemons that carry no measurement
     (smtpd connect/disconnect/client=, anvil, NOQUEUE rejects, dovecot); messages overlap in time;
  3. ingests each file in a fresh process with the command's code path
     (mailservice.management.commands.maillog_ingest.LogFollower, `--batch` lines per
     transaction), and prints lines/s (wall and CPU), the peak resident memory of that process
     (VmHWM) and the samples. Memory flat in the log size = the 1M figure close to the 200k one.
  --parse-only also times the parser alone (no database) and --profile prints a cProfile of it.
Goal: ≥ 50,000 lines/s on one core.
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from clock_sweep import answers, recreate_database  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 1, 0, 0, tzinfo=TZ).timestamp()
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def customer_domain(i: int) -> str:
    return f"c{i}.example.cn"


def stamp(t: float) -> str:
    d = datetime.fromtimestamp(t, TZ)
    return f"{MONTHS[d.month - 1]} {d.day:2d} {d:%H:%M:%S}"


def generate(path: Path, lines: int, domains: int, seed: int = 11) -> None:
    """Write about `lines` log lines; messages overlap (a heap orders their lines by time)."""
    rnd = random.Random(seed)
    heap: list[tuple[float, int, str]] = []
    seq = 0
    written = 0
    t = START
    qn = 0x100000
    ext = [f"ext{i}.example.com" for i in range(500)]

    def push(at: float, text: str) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(heap, (at, seq, text))

    with path.open("w", encoding="utf-8") as out:
        while written < lines:
            t += rnd.expovariate(1 / 0.35)  # about 10 messages a second overall
            qn += 1
            qid = f"{qn:010X}"
            pid = rnd.randint(1000, 60000)
            kind = rnd.random()
            c1 = customer_domain(rnd.randrange(domains))
            host = "mx1 postfix"
            a = rnd.uniform(0.01, 0.5)
            b = rnd.uniform(0, 0.3)
            c = rnd.uniform(0.01, 0.8)
            d = rnd.uniform(0.01, 1.5)
            if kind < 0.05:  # noise: rejects, anvil, dovecot
                push(t, f"{host}/smtpd[{pid}]: NOQUEUE: reject: RCPT from unknown[192.0.2.{pid % 250}]: 554 5.7.1 "
                        f"<u@{c1}>: Relay access denied; from=<s@{rnd.choice(ext)}> to=<u@{c1}> proto=ESMTP helo=<x>")
                push(t + 1, f"{host}/anvil[77]: statistics: max connection rate 1/60s for (smtp:192.0.2.1) at Nov  1 00:00:00")
                push(t + 1, f"mx1 dovecot: imap-login: Login: user=<u@{c1}>, method=PLAIN, rip=10.0.0.5, lip=10.0.0.1")
                continue
            inbound = kind < 0.45
            sender = f"u{pid}@{rnd.choice(ext)}" if inbound else f"u{pid}@{c1}"
            probe = not inbound and kind > 0.995
            mid = f"slaportal-probe.{qn}.x@portal" if probe else f"{qn}@{sender.split('@')[1]}"
            push(t, f"{host}/smtpd[{pid}]: connect from client[10.{pid % 250}.0.1]")
            push(t, f"{host}/smtpd[{pid}]: {qid}: client=client[10.{pid % 250}.0.1]")
            push(t + 0.01, f"{host}/cleanup[{pid + 1}]: {qid}: message-id=<{mid}>")
            push(t + 0.02, f"{host}/qmgr[900]: {qid}: from=<{sender}>, size={rnd.randint(900, 90000)}, nrcpt=1 "
                           "(queue active)")
            push(t + 0.03, f"{host}/smtpd[{pid}]: disconnect from client[10.{pid % 250}.0.1] ehlo=1 mail=1 rcpt=1 "
                           "data=1 quit=1 commands=5")
            end = t + a + b + c + d
            if inbound or kind > 0.9:  # to a customer mailbox (from outside, or between customers)
                rcpt = f"r{pid}@{customer_domain(rnd.randrange(domains))}"
                push(end, f"{host}/lmtp[{pid + 2}]: {qid}: to=<{rcpt}>, relay=mail.example.net[private/dovecot-lmtp], "
                          f"delay={end - t:.2f}, delays={a:.2f}/{b:.2f}/{c:.2f}/{d:.2f}, dsn=2.0.0, "
                          f"status=sent (250 2.0.0 <{rcpt}> Saved)")
                push(end + 0.01, f"mx1 dovecot: lmtp({rcpt})<{pid}><x>: msgid=<{mid}>: saved mail to INBOX")
            else:
                for n in range(1 if kind < 0.8 else 2):
                    rcpt = f"r{n}@{rnd.choice(ext)}"
                    relay = f"mx.{rcpt.split('@')[1]}[198.51.100.{pid % 250}]:25"
                    if kind > 0.87:  # greylisted, retried later
                        push(end, f"{host}/smtp[{pid + 3}]: {qid}: to=<{rcpt}>, relay={relay}, delay={end - t:.1f}, "
                                  f"delays={a:.2f}/{b:.2f}/{c:.2f}/{d:.2f}, dsn=4.7.1, status=deferred (host said: "
                                  "450 4.7.1 greylisted, try again later)")
                        end += rnd.uniform(300, 2400)
                    status, dsn = ("bounced", "5.1.1") if kind > 0.86 and kind <= 0.87 else ("sent", "2.0.0")
                    push(end, f"{host}/smtp[{pid + 3}]: {qid}: to=<{rcpt}>, relay={relay}, delay={end - t:.1f}, "
                              f"delays={end - t - c - d:.2f}/{b:.2f}/{c:.2f}/{d:.2f}, dsn={dsn}, status={status} "
                              "(250 2.0.0 Ok: queued as ABC)")
            push(end + 0.01, f"{host}/qmgr[900]: {qid}: removed")
            while heap and heap[0][0] <= t:
                at, _s, text = heapq.heappop(heap)
                out.write(f"{stamp(at)} {text}\n")
                written += 1
        while heap and written < lines:
            at, _s, text = heapq.heappop(heap)
            out.write(f"{stamp(at)} {text}\n")
            written += 1


def child(path: str, source: str, batch: int) -> None:
    """One ingestion run in a fresh process: its ru_maxrss is this run's peak."""
    import django

    django.setup()
    from mailservice.management.commands.maillog_ingest import LogFollower

    f = LogFollower(path=path, source=source, batch=batch)
    t0, c0 = time.monotonic(), time.process_time()
    lines = samples = excluded = batches = 0
    in_flight = 0
    while True:
        r = f.step()
        if r is None:
            break
        batches += 1
        lines += r.accepted
        samples += r.samples
        excluded += r.excluded
        in_flight = r.in_flight
    f.close()
    wall, cpu = time.monotonic() - t0, time.process_time() - c0
    print(json.dumps({"lines": lines, "wall": wall, "cpu": cpu, "samples": samples, "excluded": excluded,
                      "batches": batches, "in_flight": in_flight,
                      "maxrss_mb": peak_rss_mb()}))


def peak_rss_mb() -> float:
    """This process's peak resident memory: VmHWM (ru_maxrss would also count the parent's peak
    from before the exec on Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_only(path: Path, domains: int, profile: bool) -> None:
    from mailservice.aggregates import LatencyAccumulator
    from mailservice.postfix import PostfixLogParser

    ids = {customer_domain(i): i + 1 for i in range(domains)}
    acc = LatencyAccumulator()
    p = PostfixLogParser(domains=ids, state=None, acc=acc, now=datetime.now(TZ), tz=TZ)
    with path.open(encoding="utf-8") as fh:
        lines = fh.readlines()
    if profile:
        import cProfile
        import pstats

        pr = cProfile.Profile()
        pr.enable()
    t0 = time.process_time()
    for i in range(0, len(lines), 10_000):
        p.feed(lines[i:i + 10_000])
    cpu = time.process_time() - t0
    if profile:
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(12)
    print(f"parser alone: {len(lines):,} lines in {cpu:.2f} s CPU = {len(lines) / cpu:,.0f} lines/s "
          f"({p.samples:,} samples, {p.excluded:,} excluded)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="200000,1000000")
    ap.add_argument("--domains", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=50_000)
    ap.add_argument("--parse-only", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--child", nargs=2, metavar=("PATH", "SOURCE"), help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts.child:
        child(opts.child[0], opts.child[1], opts.batch)
        return 0

    if not (os.environ.get("BENCH_DATABASE_URL") or answers("127.0.0.1", 5432)):
        print("PostgreSQL is not answering on 127.0.0.1:5432 and BENCH_DATABASE_URL is not set", file=sys.stderr)
        return 2
    db_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/slaportal_bench_maillog")
    var_dir = Path(os.environ.get("BENCH_VAR_DIR", str(ROOT / "var" / "bench_maillog")))
    var_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "slaportal.settings", "DATABASE_URL": db_url,
           "SLAPORTAL_VAR_DIR": str(var_dir), "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-" + "x" * 40,
           "LOG_LEVEL": "WARNING"}
    os.environ.update(env)
    sizes = [int(s) for s in opts.sizes.split(",")]
    print(f"database={db_url} domains={opts.domains} batch={opts.batch} cpus={os.cpu_count()}", flush=True)
    recreate_database(db_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    from django.utils import timezone

    from customers.models import Contract, Customer, Service
    from mailservice.models import LatencyHourly, MailDomain, MailPlatform

    now = timezone.now()
    customers = Customer.objects.bulk_create(
        [Customer(name=f"客户{i}", code=f"c{i}") for i in range(opts.domains)])
    contracts = Contract.objects.bulk_create(
        [Contract(customer=c, number=f"HT-{c.code}", signed_at=now, starts_on=now.date(),
                  monthly_fee=Decimal("800.00")) for c in customers])
    services = Service.objects.bulk_create(
        [Service(contract=k, customer_id=k.customer_id, kind="email", name="企业邮箱") for k in contracts])
    platform = MailPlatform.objects.create(name="bench")
    MailDomain.objects.bulk_create([MailDomain(domain=customer_domain(i), service=s, customer_id=s.customer_id,
                                               platform=platform) for i, s in enumerate(services)])
    django.db.connections.close_all()

    with tempfile.TemporaryDirectory(prefix="maillog-bench-") as tmp:
        for size in sizes:
            path = Path(tmp) / f"mail-{size}.log"
            t = time.monotonic()
            generate(path, size, opts.domains)
            print(f"\n{size:,} lines generated in {time.monotonic() - t:.1f}s ({path.stat().st_size / 1e6:.0f} MB)",
                  flush=True)
            if opts.parse_only or opts.profile:
                parse_only(path, opts.domains, opts.profile)
            out = subprocess.run([sys.executable, __file__, "--batch", str(opts.batch), "--child", str(path),
                                  f"bench-{size}"], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"ingested {r['lines']:,} lines in {r['batches']} batches: {r['wall']:.1f} s wall, {r['cpu']:.1f} s CPU "
                  f"-> {r['lines'] / r['wall']:,.0f} lines/s (wall), {r['lines'] / r['cpu']:,.0f} lines/s (CPU); "
                  f"peak RSS {r['maxrss_mb']:.0f} MB; {r['samples']:,} samples, {r['excluded']:,} excluded, "
                  f"{r['in_flight']} in flight at the end", flush=True)
            path.unlink()
    print(f"\naggregate rows: {LatencyHourly.objects.count():,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
