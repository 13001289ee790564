"""Benchmark: breach detection latency of the sweep loop, and a storm.

Run:  .venv/bin/python bench/detection.py [--running 10000,100000] [--measured 2000] [--window 30]
                                          [--storm 10000] [--no-smtp]

With the real moving parts (PostgreSQL `slaportal_bench` when 127.0.0.1:5432 answers, or
BENCH_DATABASE_URL; SQLite otherwise), for each population size N:
  1. the database is recreated and migrated; N running C4 clocks exist (their warnings already
     behind them), of which `measured` fall due uniformly over the next `window` seconds and the
     rest days later (the population the sweep must look past);
  2. `manage.py run_sweep` and `manage.py send_notifications` run as subprocesses (no Celery, no
     broker), with a local SMTP sink;
  3. a watcher thread, on a connection of its own, polls every 5 ms for newly breached clocks, so
     "visible" is when another connection first saw the breach committed;
  4. prints p50/p99/max of breached_at − due_at (what the sweep recorded) and of visible − due_at.
Then the storm: `storm` clocks all due at the same instant (with the largest population still
running); time from that instant until all are breached (and visible), and until every
escalation (3 recipients each) has been accepted by the SMTP sink.
Goals (issue 9): p99 ≤ 100 ms at 10,000 and 100,000 running clocks; storm breached < 5 s,
escalations delivered < 30 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from clock_sweep import pct, pick_backends, recreate_database  # noqa: E402


def manage(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def stop(p: subprocess.Popen[bytes]) -> None:
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)


class Watcher(threading.Thread):
    """Polls for breached clocks on its own connection; records when each was first seen."""

    def __init__(self, ids: set[int]) -> None:
        super().__init__(daemon=True)
        self.ids = set(ids)
        self.seen: dict[int, float] = {}
        self.stop_event = threading.Event()

    def run(self) -> None:
        from django.db import connection

        from sla.models import Clock

        remaining = set(self.ids)
        while remaining and not self.stop_event.is_set():
            now = time.time()
            for pk in Clock.objects.filter(pk__in=remaining, state="breached").values_list("pk", flat=True):
                self.seen[pk] = now
                remaining.discard(pk)
            time.sleep(0.005)
        connection.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--running", default="10000,100000", help="population sizes, comma-separated")
    ap.add_argument("--measured", type=int, default=2000, help="clocks falling due during the window")
    ap.add_argument("--window", type=float, default=30.0)
    ap.add_argument("--storm", type=int, default=10_000)
    ap.add_argument("--no-smtp", action="store_true")
    opts = ap.parse_args()
    sizes = [int(x) for x in opts.running.split(",") if x]

    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    db_url, _ = pick_backends(var_dir)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "slaportal.settings", "DATABASE_URL": db_url,
           "SLAPORTAL_VAR_DIR": str(var_dir), "LOG_LEVEL": "INFO",
           "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-" + "k" * 60), "ALLOWED_HOSTS": "*"}
    env.pop("REDIS_URL", None)
    env.pop("CELERY_BROKER_URL", None)

    received = [0]
    ctl = None
    if not opts.no_smtp:
        import socket

        from aiosmtpd.controller import Controller

        class Sink:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                received[0] += 1
                return "250 OK"

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        ctl = Controller(Sink(), hostname="127.0.0.1", port=port)
        ctl.start()
        env.update({"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(port)})
    else:
        env["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    os.environ.update(env)
    print(f"database={db_url} sizes={sizes} measured={opts.measured} window={opts.window}s "
          f"storm={opts.storm} email={'dummy' if opts.no_smtp else 'smtp sink'}", flush=True)

    recreate_database(db_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)

    import django

    django.setup()
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from django.utils import timezone

    from customers.models import Contract, Customer
    from notifications.models import Notification
    from sla.models import Clock, SlaPolicy

    User = get_user_model()
    for i in range(2):
        u = User.objects.create(username=f"bench-mgr{i}", email=f"mgr{i}@bench.test")
        u.groups.add(Group.objects.get(name="manager"))
    eng = User.objects.create(username="bench-eng", email="eng@bench.test")
    eng.groups.add(Group.objects.get(name="engineer"))
    cust = Customer.objects.create(name="压测客户", code="bench")
    contract = Contract.objects.create(customer=cust, number="BENCH-1", signed_at=timezone.now(),
                                       starts_on=timezone.localdate(), monthly_fee=3100)
    policy = SlaPolicy.objects.get(code="C4")
    ct = ContentType.objects.get_for_model(Customer)  # object ids need not exist: a generic key
    next_oid = [1]

    def make(dues: list[Any]) -> list[int]:
        rows = []
        for due in dues:
            rows.append(Clock(content_type=ct, object_id=next_oid[0], label=f"bench {next_oid[0]}",
                              policy=policy, customer=cust, contract=contract, assignee=eng, target=15,
                              unit="minutes", calendar="24x7", started_at=due - timedelta(minutes=15),
                              due_at=due, warn_at=due - timedelta(minutes=5), warned_at=due - timedelta(minutes=5),
                              warn_escalated_at=due - timedelta(minutes=5)))
            next_oid[0] += 1
        return [c.pk for c in Clock.objects.bulk_create(rows, batch_size=5000)]

    logdir = var_dir / "detection-logs"
    logdir.mkdir(exist_ok=True)
    import random

    rng = random.Random(9)
    results = []
    population = 0
    sweep = sender = None
    try:
        for n in sizes:
            # Top the population up to n running clocks due days later (never reached).
            far = timezone.now() + timedelta(days=3)
            make([far + timedelta(seconds=i) for i in range(max(0, n - opts.measured - population))])
            population = max(population, n - opts.measured)
            sweep = manage(["run_sweep"], env, logdir / "sweep.log")
            sender = manage(["send_notifications"], env, logdir / "sender.log")
            time.sleep(3)
            start = timezone.now() + timedelta(seconds=3)
            measured = make([start + timedelta(seconds=rng.uniform(0, opts.window)) for _ in range(opts.measured)])
            running = Clock.objects.filter(state="running").count()
            w = Watcher(set(measured))
            w.start()
            w.join(opts.window + 60)
            w.stop_event.set()
            rows = list(Clock.objects.filter(pk__in=measured).values_list("pk", "due_at", "breached_at"))
            rec = [(b - d).total_seconds() for _, d, b in rows if b]
            vis = [w.seen[pk] - d.timestamp() for pk, d, _ in rows if pk in w.seen]
            results.append((running, rec, vis))
            print(f"\nrunning clocks: {running:,}; measured {len(rec):,} of {opts.measured:,} breached", flush=True)
            print(f"  breached_at − due_at (ms): p50={pct(rec, .5) * 1000:.1f} p99={pct(rec, .99) * 1000:.1f} "
                  f"max={max(rec) * 1000:.1f}")
            print(f"  visible to another connection − due_at (ms): p50={pct(vis, .5) * 1000:.1f} "
                  f"p99={pct(vis, .99) * 1000:.1f} max={max(vis) * 1000:.1f}", flush=True)
            stop(sweep)
            stop(sender)

        # --- the storm ----------------------------------------------------------------------
        if opts.storm:
            sweep = manage(["run_sweep"], env, logdir / "sweep.log")
            sender = manage(["send_notifications"], env, logdir / "sender.log")
            time.sleep(3)
            before_mail = received[0]
            before_notes = Notification.objects.count()
            at = timezone.now() + timedelta(seconds=10)
            storm = make([at] * opts.storm)
            running = Clock.objects.filter(state="running").count()
            print(f"\nstorm: {opts.storm:,} clocks due at the same instant, {running:,} running", flush=True)
            w = Watcher(set(storm))
            w.start()
            w.join(10 + 120)
            w.stop_event.set()
            t_all = (max(w.seen.values()) - at.timestamp()) if len(w.seen) == len(storm) else float("nan")
            last = Clock.objects.filter(pk__in=storm).order_by("-breached_at").values_list("breached_at", flat=True).first()
            rec_all = (last - at).total_seconds() if last else float("nan")
            want = opts.storm * 3
            deadline = time.monotonic() + 300
            t_mail = float("nan")
            while time.monotonic() < deadline:
                done = (received[0] - before_mail) if not opts.no_smtp else (
                    Notification.objects.filter(status="sent").count() - before_notes)
                if done >= want:
                    t_mail = time.time() - at.timestamp()
                    break
                time.sleep(0.2)
            print(f"  all {len(w.seen):,} breached and visible {t_all:.2f} s after the instant "
                  f"(last breached_at {rec_all:.2f} s)")
            print(f"  all {want:,} escalations accepted by the SMTP sink {t_mail:.2f} s after the instant",
                  flush=True)
            results.append(("storm", [t_all], [t_mail]))
    finally:
        for p in (sweep, sender):
            if p is not None:
                stop(p)
        if ctl is not None:
            ctl.stop()
    print(f"\nlogs: {logdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
