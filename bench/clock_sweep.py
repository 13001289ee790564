"""Benchmark: how long after due_at is a clock marked breached, with 10,000 clocks running?

Run:  .venv/bin/python bench/clock_sweep.py [--clocks 10000] [--window 60] [--smtp]

What it does, with the real moving parts:
  1. uses a dedicated database (PostgreSQL `slaportal_bench` when 127.0.0.1:5432 answers, or
     BENCH_DATABASE_URL; SQLite under var/bench otherwise), dropped, recreated and migrated;
     and a broker (Redis db 12 when 127.0.0.1:6379 answers, or BENCH_BROKER_URL; kombu's
     filesystem transport otherwise), purged;
  2. starts a real `celery worker` and `celery beat` (DatabaseScheduler, as `make run` does;
     sweep every SLA_SWEEP_INTERVAL_SECONDS=1 s) as subprocesses;
  3. bulk-inserts N running C4 clocks ("emergency notice", 15 min) on N real services, due
     uniformly over the next `window` seconds, each with a customer, a contract and an assigned
     engineer; two managers exist, so each breach escalates to 3 recipients. The clocks started
     15 minutes before their deadline, so their warning (at 67 %) is already behind them and
     recorded, as it would be in steady state: the run measures breaches only;
  4. waits (bounded) until every clock is breached and every escalation has left the outbox,
     then prints p50/p99/max of (breached_at - due_at), the sweeps that claimed something (from
     the worker's one log line per such sweep, cross-checked with the distinct breached_at
     values), queries per sweep (the same log line: a connection.execute_wrapper counter around
     each real sweep; plus an in-process calibration with CaptureQueriesContext for 10 and 200
     due clocks), and the escalation notifications (must equal clocks x recipients, no key twice).

E-mail goes to Django's dummy backend by default (sending is not what is measured); --smtp
starts an aiosmtpd sink on 127.0.0.1 and sends every escalation through real SMTP.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CELERY = str(Path(sys.executable).with_name("celery"))
SWEEP_LINE = re.compile(r"sweep breached=(\d+) warned=(\d+) notifications=(\d+) queries=(\d+) "
                        r"duration_ms=(\d+)")


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def pick_backends(var_dir: Path) -> tuple[str, str]:
    db = os.environ.get("BENCH_DATABASE_URL") or (
        "postgres://postgres@127.0.0.1:5432/slaportal_bench" if answers("127.0.0.1", 5432)
        else f"sqlite:///{var_dir / 'bench.sqlite3'}")
    broker = os.environ.get("BENCH_BROKER_URL") or (
        "redis://127.0.0.1:6379/12" if answers("127.0.0.1", 6379) else "filesystem://")
    return db, broker


def recreate_database(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(url.split("sqlite:///", 1)[1])
        for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            p.unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([CELERY, "-A", "slaportal", *args], cwd=ROOT, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def stop(p: subprocess.Popen[bytes]) -> None:
    if p.poll() is not None:
        return
    os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(5)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clocks", type=int, default=10_000)
    ap.add_argument("--window", type=float, default=60.0, help="deadlines spread over this many s")
    ap.add_argument("--lead", type=float, default=5.0, help="first deadline this many s after insert")
    ap.add_argument("--concurrency", type=int, default=2, help="worker processes")
    ap.add_argument("--smtp", action="store_true", help="send the escalations through a local SMTP sink")
    opts = ap.parse_args()

    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    db_url, broker_url = pick_backends(var_dir)
    print(f"database={db_url} broker={broker_url} clocks={opts.clocks} window={opts.window}s "
          f"worker_concurrency={opts.concurrency} email={'smtp' if opts.smtp else 'dummy'}", flush=True)

    smtp_ctl = None
    smtp_count = [0]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "slaportal.settings", "DATABASE_URL": db_url,
           "CELERY_BROKER_URL": broker_url, "SLAPORTAL_VAR_DIR": str(var_dir),
           "SLA_SWEEP_INTERVAL_SECONDS": "1", "LOG_LEVEL": "INFO"}
    env.pop("REDIS_URL", None)
    if opts.smtp:
        from aiosmtpd.controller import Controller

        class Sink:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                smtp_count[0] += 1
                return "250 OK"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        smtp_ctl = Controller(Sink(), hostname="127.0.0.1", port=port)
        smtp_ctl.start()
        env.update({"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port),
                    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend"})
    else:
        env["EMAIL_BACKEND"] = "django.core.mail.backends.dummy.EmailBackend"
    os.environ.update(env)

    t = time.monotonic()
    recreate_database(db_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    print(f"database migrated in {time.monotonic() - t:.1f}s", flush=True)

    import django

    django.setup()
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd: one line per SMTP verb
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from customers.models import Contract, Customer, Service
    from notifications.choices import Status
    from notifications.models import Notification
    from sla.choices import ClockState
    from sla.models import Clock, SlaPolicy
    from sla.services import clocks_sweep
    from slaportal.celery import app

    with app.connection_for_write() as conn:
        for q in ("celery", "sla"):
            try:
                conn.default_channel.queue_purge(q)
            except Exception:  # noqa: BLE001 - a queue that was never declared
                pass

    # --- queries per sweep, in-process: 10 vs 200 due clocks, rolled back ------------------
    policy = SlaPolicy.objects.get(code="C4")
    User = get_user_model()

    def staff(role: str, name: str) -> Any:
        u = User.objects.create(username=name, email=f"{name}@bench.test")
        u.groups.add(Group.objects.get(name=role))  # the role groups exist after migrate
        return u

    managers = [staff("manager", f"bench-mgr{i}") for i in range(2)]
    engineers = [staff("engineer", f"bench-eng{i}") for i in range(20)]
    calib: dict[int, int] = {}
    for n in (10, 10, 200):  # the first 10 warms the content-type cache; the second counts
        try:
            with transaction.atomic():
                cust = Customer.objects.create(name=f"calibration {n}", code=f"calib-{n}")  # rolled back
                contract = Contract.objects.create(
                    customer=cust, number=f"CAL-{n}", signed_at=timezone.now(),
                    starts_on=timezone.localdate(), monthly_fee=1000)
                services = Service.objects.bulk_create(
                    [Service(contract=contract, customer=cust, kind="colocation", name=f"c{i}")
                     for i in range(n)])
                now = timezone.now()
                ct = ContentType.objects.get_for_model(Service)
                Clock.objects.bulk_create([Clock(
                    content_type=ct, object_id=s.pk, label=s.name, policy=policy, customer=cust,
                    contract=contract, assignee=engineers[i % 20], target=15, unit="minutes",
                    calendar="24x7", started_at=now - timedelta(minutes=16),
                    due_at=now - timedelta(minutes=1), warn_at=now - timedelta(minutes=6),
                    warned_at=now - timedelta(minutes=6), warn_escalated_at=now - timedelta(minutes=6))
                    for i, s in enumerate(services)])
                with CaptureQueriesContext(connection) as cq:
                    r = clocks_sweep(now=now)
                assert len(r.breached) == n, r
                calib[n] = len(cq.captured_queries)
                raise RuntimeError("rollback")
        except RuntimeError as e:
            if str(e) != "rollback":
                raise
    print(f"queries per sweep (in-process, CaptureQueriesContext): 10 due clocks -> {calib[10]}, "
          f"200 due clocks -> {calib[200]}", flush=True)

    # --- the real run ----------------------------------------------------------------------
    logdir = Path(tempfile.mkdtemp(prefix="slabench-"))
    wlog, blog = logdir / "worker.log", logdir / "beat.log"
    worker = start(["worker", "-l", "INFO", "-c", str(opts.concurrency), "--without-gossip",
                    "--without-mingle", "--without-heartbeat", "-n", f"bench-{os.getpid()}@%h"], env, wlog)
    beat = start(["beat", "-l", "INFO", "--scheduler",
                  "django_celery_beat.schedulers:DatabaseScheduler"], env, blog)
    try:
        deadline = time.monotonic() + 60
        while b"ready." not in wlog.read_bytes():
            if worker.poll() is not None or time.monotonic() > deadline:
                print(wlog.read_text(errors="replace")[-3000:])
                return 1
            time.sleep(0.2)
        print(f"worker ready; logs in {logdir}", flush=True)

        rng = random.Random(42)
        customers = Customer.objects.bulk_create(
            [Customer(name=f"压测客户 bench {i}", code=f"bench-{i}") for i in range(50)])
        signed = timezone.now() - timedelta(days=30)
        contracts = Contract.objects.bulk_create([Contract(
            customer=c, number=f"BENCH-{i:03d}", signed_at=signed, starts_on=signed.date(),
            monthly_fee=3100, installation_fee=500) for i, c in enumerate(customers)])
        services = Service.objects.bulk_create([Service(
            contract=contracts[i % 50], customer=customers[i % 50], kind="colocation",
            name=f"托管 {i}", engineer=engineers[i % 20]) for i in range(opts.clocks)], batch_size=2000)
        ct = ContentType.objects.get_for_model(Service)
        t0 = timezone.now() + timedelta(seconds=opts.lead)
        rows = []
        for i, s in enumerate(services):
            due = t0 + timedelta(seconds=rng.uniform(0, opts.window))
            rows.append(Clock(
                content_type=ct, object_id=s.pk, label=f"紧急情况 {s.name}", policy=policy,
                customer_id=s.customer_id, contract_id=s.contract_id, assignee=engineers[i % 20],
                target=15, unit="minutes", calendar="24x7", started_at=due - timedelta(minutes=15),
                due_at=due, warn_at=due - timedelta(minutes=5), warned_at=due - timedelta(minutes=5),
                warn_escalated_at=due - timedelta(minutes=5)))
        Clock.objects.bulk_create(rows, batch_size=2000)
        inserted = timezone.now()
        print(f"{opts.clocks} clocks inserted (first due {(t0 - inserted).total_seconds():.1f}s "
              f"after the insert finished)", flush=True)

        bench = Clock.objects.filter(content_type=ct, policy=policy)
        limit = time.monotonic() + opts.lead + opts.window + 120
        while bench.exclude(state=ClockState.BREACHED).exists() and time.monotonic() < limit:
            time.sleep(1)
        left = bench.exclude(state=ClockState.BREACHED).count()
        recipients = len(managers) + 1
        want = opts.clocks * recipients
        limit = time.monotonic() + 300
        while (Notification.objects.filter(kind="clock_breach").exclude(status=Status.PENDING).count()
               < want and time.monotonic() < limit):
            time.sleep(1)
        time.sleep(3)
    finally:
        stop(beat)
        stop(worker)
        if smtp_ctl is not None:
            smtp_ctl.stop()

    lags = [(b - d).total_seconds() for d, b in bench.filter(state=ClockState.BREACHED)
            .values_list("due_at", "breached_at")]
    sweeps = [tuple(map(int, m.groups())) for m in SWEEP_LINE.finditer(wlog.read_text(errors="replace"))]
    claiming = [s for s in sweeps if s[0]]
    distinct_breach_times = bench.values("breached_at").distinct().count()
    notes = Notification.objects.filter(kind="clock_breach")
    n_notes = notes.count()
    n_keys = notes.values("idempotency_key").distinct().count()
    n_pairs = notes.values("object_id", "recipient_id").distinct().count()
    by_status = {s: notes.filter(status=s).count() for s in Status.values}
    print()
    print(f"clocks: {opts.clocks}, breached: {len(lags)}, not breached in time: {left}")
    print(f"breached_at - due_at (s): p50={pct(lags, 0.5):.3f} p99={pct(lags, 0.99):.3f} "
          f"max={max(lags) if lags else float('nan'):.3f} min={min(lags) if lags else float('nan'):.3f}")
    print(f"sweeps that claimed something: {len(claiming)} (worker log); distinct breached_at "
          f"values: {distinct_breach_times}")
    if claiming:
        q = [s[3] for s in claiming]
        d = [s[4] for s in claiming]
        per = [s[0] for s in claiming]
        print(f"clocks per claiming sweep: median={statistics.median(per):.0f} max={max(per)}")
        print(f"queries per claiming sweep (worker, execute_wrapper): min={min(q)} "
              f"median={statistics.median(q):.0f} max={max(q)}")
        print(f"sweep duration (ms): median={statistics.median(d):.0f} max={max(d)}")
    print(f"queries per sweep (in-process): 10 clocks -> {calib[10]}, 200 clocks -> {calib[200]}")
    print(f"escalation notifications: {n_notes} (expected {want} = {opts.clocks} clocks x "
          f"{recipients} recipients); distinct keys {n_keys}; distinct (clock, recipient) {n_pairs}; "
          f"status {by_status}")
    if opts.smtp:
        print(f"e-mails received by the SMTP sink: {smtp_count[0]}")
    ok = (left == 0 and n_notes == want == n_keys == n_pairs and pct(lags, 0.99) < 5)
    print("RESULT:", "OK" if ok else "NOT OK (target: all breached, p99 < 5 s, one escalation per recipient)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
