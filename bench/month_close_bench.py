"""Benchmark: month close for 10,000 services with a year of outages, on PostgreSQL.

Run:  .venv/bin/python bench/month_close_bench.py [--services 10000] [--per-month 3]

What it does, with the real parts:
  1. a dedicated database (PostgreSQL `slaportal_bench_close`, or BENCH_DATABASE_URL), dropped,
     recreated and migrated;
  2. 10,000 services (colocation, rental and e-mail mixed) under 2,000 customers and contracts,
     and a year (2025-03 … 2026-02) of outages written with COPY: `per-month` network outages per
     service and month (30 s to 40 min, some customer-caused, some never reported), plus a power
     outage for one service in fifty. Some services breach C1/C2/E1 in February;
  3. times settlement.services.month_close for February 2026 (judgements for C1, C2, E1 on every
     service, credits for the breaches; statements are off: bench/statements_bench.py times them),
     then closes it again (the idempotent pass: nothing new may be written), then re-judges one
     service after a late change, and prints total time, time per service and the counts.
Goal (issue 10): the first close under 60 s on this machine.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from clock_sweep import recreate_database  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--services", type=int, default=10_000)
    ap.add_argument("--per-month", type=int, default=3, help="network outages per service per month")
    args = ap.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/slaportal_bench_close")
    recreate_database(url)
    os.environ.update(DATABASE_URL=url, SECRET_KEY="bench-" + "x" * 40, DJANGO_SETTINGS_MODULE="slaportal.settings",
                      SETTLEMENT_STATEMENTS="off", LOG_LEVEL="WARNING")
    os.environ.setdefault("SLAPORTAL_VAR_DIR", str(ROOT / "var" / "bench"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django.db import connection

    from credits.models import Credit
    from customers.models import Contract, Customer, Service
    from incidents.models import Outage
    from runtime.bulk import copy_rows
    from settlement.models import Judgement
    from settlement.services import month_close

    rnd = random.Random(10)
    t0 = time.monotonic()
    n_customers = max(1, args.services // 5)
    Customer.objects.bulk_create([Customer(name=f"客户 {i:05d}", code=f"c{i:05d}") for i in range(n_customers)],
                                 batch_size=2000)
    customers = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    signed = datetime(2025, 2, 20, 10, tzinfo=TZ)
    Contract.objects.bulk_create([
        Contract(customer_id=c, number=f"HT-{c:06d}", signed_at=signed, starts_on=signed.date(), term_months=24,
                 monthly_fee=rnd.choice(["1800.00", "2800.00", "5600.00"]), installation_fee="500.00")
        for c in customers], batch_size=2000)
    contracts = list(Contract.objects.order_by("pk").values_list("pk", "customer_id"))
    kinds = ["colocation", "rental", "rack", "email"]
    Service.objects.bulk_create([
        Service(contract_id=contracts[i % len(contracts)][0], customer_id=contracts[i % len(contracts)][1],
                kind=kinds[i % 4], name=f"服务 {i:05d}") for i in range(args.services)], batch_size=2000)
    services = list(Service.objects.order_by("pk").values_list("pk", "customer_id"))
    causes = ["provider"] * 7 + ["", "customer_equipment", "fm_natural"]
    rows = []
    now = datetime(2026, 3, 1, 0, 20, tzinfo=TZ)
    for sid, cid in services:
        for m in range(12):
            month_start = datetime(2025 + (2 + m) // 12, (2 + m) % 12 + 1, 1, tzinfo=TZ)
            for _ in range(args.per_month):
                start = month_start + timedelta(seconds=rnd.randrange(27 * 86400))
                end = start + timedelta(seconds=rnd.randrange(30, 40 * 60))
                reported = start + timedelta(hours=rnd.choice([1, 30])) if rnd.random() < 0.9 else None
                rows.append((sid, cid, "network", "probe", start, end, rnd.choice(causes), reported, now, "", ""))
        if sid % 50 == 0:
            s = datetime(2026, 2, 10, tzinfo=TZ)
            rows.append((sid, cid, "power", "manual", s, s + timedelta(minutes=rnd.randrange(5, 60)), "provider",
                         s, now, "", ""))
    copy_rows(Outage, ("service_id", "customer_id", "kind", "source", "started_at", "ended_at", "cause",
                       "reported_at", "created_at", "evidence", "cause_note"), rows)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    print(f"setup: {len(services)} services, {len(customers)} customers, {len(rows)} outages "
          f"({time.monotonic() - t0:.1f}s)")

    t = time.monotonic()
    r = month_close(year=2026, month=2, now=now, reason="bench")
    first = time.monotonic() - t
    print(f"first close of 2026-02: {first:.2f}s total, {first / len(services) * 1000:.2f} ms per service; "
          f"{r.judged} judgements, {r.breaches} breaches, {len(r.proposed)} credits proposed")
    t = time.monotonic()
    r2 = month_close(year=2026, month=2, now=now, reason="bench again")
    again = time.monotonic() - t
    print(f"second close at the same instant (idempotent): {again:.2f}s; {r2.judged} new, {r2.rejudged} "
          f"re-judged, {r2.unchanged} unchanged, {len(r2.proposed)} proposed")
    assert r2.judged == r2.rejudged == 0 and not r2.proposed, "closing twice wrote something"
    assert Credit.objects.count() == len(r.proposed)
    t = time.monotonic()
    r3 = month_close(year=2026, month=2, now=now + timedelta(days=1), reason="bench daily re-judgement")
    print(f"daily re-judgement a day later: {time.monotonic() - t:.2f}s; {r3.rejudged} re-judged (5-day "
          f"reporting windows lapsed), {len(r3.proposed)} proposed, {len(r3.withdrawn)} withdrawn")
    one = services[7][0]
    laps = []
    for i in range(5):
        s = datetime(2026, 2, 20 + i, 3, tzinfo=TZ)
        Outage.objects.create(service_id=one, kind="network", source="manual", started_at=s,
                              ended_at=s + timedelta(minutes=15), cause="provider", reported_at=s, created_at=now)
        t = time.monotonic()
        month_close(year=2026, month=2, service_ids=[one], trigger="rejudge", now=now + timedelta(days=1, minutes=i),
                    reason="bench late outage")
        laps.append(time.monotonic() - t)
    print(f"re-judging one service after a late outage: median {statistics.median(laps) * 1000:.0f} ms "
          f"({len(laps)} runs); judgement rows of that service: "
          f"{Judgement.objects.filter(service_id=one).count()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
