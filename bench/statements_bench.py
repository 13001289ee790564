"""Benchmark: 1,000 monthly SLA statement PDFs (月度服务品质报告) issued by the real Celery worker.

Run:  .venv/bin/python bench/statements_bench.py [--customers 1000] [--concurrency N]

What it does, with the real moving parts:
  1. a dedicated database (PostgreSQL `slaportal_bench_stmt` when 127.0.0.1:5432 answers, or
     BENCH_DATABASE_URL), dropped, recreated and migrated; a broker (BENCH_BROKER_URL, else
     CELERY_BROKER_URL, else Redis db 14), purged;
  2. 1,000 customers, each with a contract (monthly fee 2,800.00), a colocation service, an
     authorized contact who opted in to the statement, and in February 2026 three network
     outages: two provider faults of 30 and 15 minutes (45 counted minutes: C1 < 44 min broken,
     the month's rent waived) and one excluded as the customer's equipment;
  3. starts a real `celery worker` at the configured concurrency (CELERY_CONCURRENCY, default 2,
     as `make run` starts it), closes February with settlement.services.month_close (judgements,
     credits) — which queues settlement.tasks.issue_statements in chunks after commit, exactly as
     the scheduled close does — and waits until every customer's statement PDF exists;
  4. prints the close time, the total time from the close's commit to the last PDF, PDFs per
     second, and the median / p90 time per PDF inside the worker (the gap between consecutive
     statements of one task: each is issued with its own `now`), and checks each statement is
     version 1 with the breach, its credit and one e-mail queued per customer.
Goal: 1,000 statements in under 5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

# The database and process helpers the other benchmarks use (one copy of each).
from clock_sweep import answers, recreate_database, stop  # noqa: E402

CELERY = str(Path(sys.executable).with_name("celery"))
TZ = ZoneInfo("Asia/Shanghai")


def start_worker(env: dict[str, str], log: Path, concurrency: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [CELERY, "-A", "slaportal", "worker", "-l", "INFO", "-c", str(concurrency), "--without-gossip",
         "--without-mingle", "--without-heartbeat", "-n", f"bench-stmt-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def session_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every live process in the worker's session (the pool
    processes included): what issuing the statements cost, whatever else ran on the machine."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--customers", type=int, default=1000)
    ap.add_argument("--concurrency", type=int, default=int(os.environ.get("CELERY_CONCURRENCY", "2")),
                    help="worker processes (default: CELERY_CONCURRENCY, else 2, as `make run`)")
    ap.add_argument("--timeout", type=float, default=1200, help="give up after this many seconds")
    opts = ap.parse_args()

    if not (os.environ.get("BENCH_DATABASE_URL") or answers("127.0.0.1", 5432)):
        print("PostgreSQL is not answering on 127.0.0.1:5432 and BENCH_DATABASE_URL is not set", file=sys.stderr)
        return 2
    db_url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/slaportal_bench_stmt")
    broker = os.environ.get("BENCH_BROKER_URL") or os.environ.get("CELERY_BROKER_URL") or "redis://127.0.0.1:6379/14"
    var_dir = Path(os.environ.get("BENCH_VAR_DIR", str(ROOT / "var" / "bench_stmt")))
    (var_dir / "staticfiles").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "slaportal.settings", "DATABASE_URL": db_url,
           "CELERY_BROKER_URL": broker, "SLAPORTAL_VAR_DIR": str(var_dir),
           "SECRET_KEY": os.environ.get("SECRET_KEY") or "bench-" + "x" * 40,
           "SETTLEMENT_STATEMENTS": "task", "LOG_LEVEL": "INFO",
           "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}
    env.pop("REDIS_URL", None)
    os.environ.update(env)
    print(f"database={db_url} broker={broker} customers={opts.customers} worker_concurrency={opts.concurrency} "
          f"cpus={os.cpu_count()}", flush=True)

    t = time.monotonic()
    recreate_database(db_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    print(f"database migrated in {time.monotonic() - t:.1f}s", flush=True)

    import django

    django.setup()
    import logging

    for name in ("weasyprint", "fontTools", "settlement", "notifications"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from customers.models import AuthorizedContact, Contract, Customer, Service
    from incidents.choices import Cause, OutageKind, OutageSource
    from incidents.models import Outage
    from notifications.models import Notification
    from reports.models import WrittenReport
    from settlement.models import MonthlyStatement
    from settlement.services import month_close
    from slaportal.celery import app

    with app.connection_for_write() as conn:
        for q in ("celery", "sla"):
            try:
                conn.default_channel.queue_purge(q)
            except Exception:  # noqa: BLE001 - a queue that was never declared
                pass

    # --- data --------------------------------------------------------------------------------
    t = time.monotonic()
    manager = get_user_model().objects.create(username="bench-mgr", email="mgr@bench.test")
    manager.groups.add(Group.objects.get(name="manager"))
    n = opts.customers
    signed = datetime(2026, 1, 5, 10, 0, tzinfo=TZ)
    customers = Customer.objects.bulk_create(
        [Customer(name=f"压测客户 {i:04d} Bench Co.", code=f"bench-{i}") for i in range(n)])
    contracts = Contract.objects.bulk_create([Contract(
        customer=c, number=f"HT-BENCH-{i:04d}", signed_at=signed, starts_on=signed.date(),
        monthly_fee=Decimal("2800.00"), installation_fee=Decimal("500.00")) for i, c in enumerate(customers)])
    services = Service.objects.bulk_create([Service(
        contract=k, customer=k.customer, kind="colocation", name=f"托管服务器 {i:04d}")
        for i, k in enumerate(contracts)])
    AuthorizedContact.objects.bulk_create([AuthorizedContact(
        customer=c, name=f"授权人 {i}", email=f"contact{i}@bench.test", mobile="13800000000",
        channels=["email"], receives_statements=True) for i, c in enumerate(customers)])
    rows = []
    for i, s in enumerate(services):
        day = 1 + i % 27
        for start, minutes, cause in (
                (datetime(2026, 2, day, 10, 0, tzinfo=TZ), 30, Cause.PROVIDER),
                (datetime(2026, 2, day, 22, 0, tzinfo=TZ), 15, Cause.PROVIDER),
                (datetime(2026, 2, day + 1, 3, 0, tzinfo=TZ), 20, Cause.CUSTOMER_EQUIPMENT)):
            rows.append(Outage(service=s, customer_id=s.customer_id, kind=OutageKind.NETWORK,
                               source=OutageSource.MANUAL, started_at=start,
                               ended_at=start + timedelta(minutes=minutes), cause=cause,
                               cause_note="" if cause == Cause.PROVIDER else "甲方交换机故障",
                               created_at=start, reported_at=start + timedelta(minutes=5)))
    Outage.objects.bulk_create(rows, batch_size=2000)  # bulk_create: no signals, no re-judgement
    print(f"{n} customers, services, contacts and {len(rows)} outages written in "
          f"{time.monotonic() - t:.1f}s", flush=True)

    # --- the real run ------------------------------------------------------------------------
    logdir = Path(tempfile.mkdtemp(prefix="slabench-stmt-"))
    wlog = logdir / "worker.log"
    worker = start_worker(env, wlog, opts.concurrency)
    try:
        deadline = time.monotonic() + 60
        while b"ready." not in wlog.read_bytes():
            if worker.poll() is not None or time.monotonic() > deadline:
                print(wlog.read_text(errors="replace")[-3000:])
                return 1
            time.sleep(0.2)
        print(f"worker ready (concurrency {opts.concurrency}); log in {wlog}", flush=True)

        cpu_before = session_cpu_seconds(worker.pid)
        load_before = os.getloadavg()[0]
        t_close = time.monotonic()
        r = month_close(year=2026, month=2, actor=manager, reason="bench")
        t0 = time.monotonic()  # committed: the issue_statements tasks are on the broker
        print(f"month_close: {t0 - t_close:.1f}s, {r.services} services, {r.breaches} breaches, "
              f"{len(r.proposed)} credits proposed", flush=True)
        limit = t0 + opts.timeout
        last_report = -1
        done = 0
        while time.monotonic() < limit:
            done = WrittenReport.objects.filter(kind="statement").count()
            if done >= n:
                break
            if done != last_report:
                last_report = done
            if worker.poll() is not None:
                print("worker died", flush=True)
                break
            time.sleep(0.5)
        total = time.monotonic() - t0
        cpu = session_cpu_seconds(worker.pid) - cpu_before
        load_after = os.getloadavg()
    finally:
        stop(worker)

    reports = list(WrittenReport.objects.filter(kind="statement").order_by("issued_at"))
    print()
    print(f"statements issued: {len(reports)} of {n} in {total:.1f}s from the close's commit "
          f"({len(reports) / total:.2f} PDFs/s; goal: {n} in under 300 s)")
    if not reports:
        print(wlog.read_text(errors="replace")[-3000:])
        return 1
    # Per PDF inside the worker: statements_issue takes its own `now` for each customer, so within
    # one task (a chunk of consecutive customers) the gap between two issued_at is one statement.
    by_customer = sorted(reports, key=lambda x: x.customer_id)
    ids = [c.pk for c in customers]
    chunk_of = {cid: i // 50 for i, cid in enumerate(ids)}
    gaps = []
    for a, b in zip(by_customer, by_customer[1:], strict=False):
        if chunk_of.get(a.customer_id) == chunk_of.get(b.customer_id):
            gaps.append((b.issued_at - a.issued_at).total_seconds())
    if gaps:
        print(f"time per PDF in the worker (issue: content, render, hash, store, audit, e-mail queued): "
              f"median={statistics.median(gaps) * 1000:.0f} ms p90={pct(gaps, 0.9) * 1000:.0f} ms "
              f"max={max(gaps) * 1000:.0f} ms (n={len(gaps)})")
    print(f"worker CPU: {cpu:.1f}s in all for {len(reports)} statements = {cpu / len(reports) * 1000:.0f} ms CPU "
          f"per PDF; on {opts.concurrency} otherwise idle cores that is {cpu / opts.concurrency:.0f}s in all. "
          f"Load average: {load_before:.1f} before, {load_after[0]:.1f} (1 min) / {load_after[1]:.1f} (5 min) "
          f"at the end on {os.cpu_count()} CPUs: other processes compete for them")
    sizes = [x.size for x in reports]
    print(f"PDF size: median={statistics.median(sizes) / 1024:.0f} KiB max={max(sizes) / 1024:.0f} KiB")
    v1 = sum(1 for x in reports if x.version == 1)
    breached = sum(1 for x in reports if x.content["summary"]["period_breached"] == 1
                   and x.content["credits"] and x.content["totals"]["amount_owed"] == "2,800.00")
    mails = Notification.objects.filter(kind="monthly_statement").count()
    print(f"checks: version 1: {v1}/{len(reports)}, C1 breach with its 2,800.00 credit: {breached}/{len(reports)}, "
          f"statements: {MonthlyStatement.objects.count()}, e-mails queued: {mails}")
    ok = len(reports) == n and v1 == n and breached == n and mails == n
    print("OK" if ok else "FAILED", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
