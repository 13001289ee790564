"""Monthly downtime computation for 1,000 services with a year of outage intervals: every
service, every month of the year (12,000 computations) through incidents.downtime.compute —
clip, exclusions, 5-day clause, merge, sum. Pure computation (the DB query is one indexed range
scan per month and is not part of this figure).

    .venv/bin/python bench/downtime_bench.py [--services 1000] [--per-year 300]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")

import django  # noqa: E402

django.setup()

from incidents.downtime import OutageFacts, compute  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
CAUSES = ["provider"] * 6 + ["", "customer_equipment", "fm_natural", "agreed_maintenance"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--per-year", type=int, default=300, help="outages per service per year")
    args = ap.parse_args()
    rnd = random.Random(4)
    year_start = datetime(2025, 1, 1, tzinfo=TZ)
    data: dict[int, list[OutageFacts]] = {}
    oid = 0
    for s in range(args.services):
        rows = []
        for _ in range(args.per_year):
            oid += 1
            start = year_start + timedelta(seconds=rnd.randrange(365 * 86400))
            end = start + timedelta(seconds=rnd.randrange(30, 4 * 3600))
            reported = start + timedelta(days=rnd.choice([0, 1, 7])) if rnd.random() < 0.9 else None
            rows.append(OutageFacts(oid, start, end, rnd.choice(CAUSES), reported))
        data[s] = rows
    now = datetime(2026, 2, 1, tzinfo=TZ)
    started = time.monotonic()
    total = 0
    breached = 0
    for s, rows in data.items():
        by_month: dict[int, list[OutageFacts]] = {m: [] for m in range(1, 13)}
        for o in rows:
            m1 = o.started_at.month
            by_month[m1].append(o)
            if o.ended_at and o.ended_at.month != m1 and o.ended_at.year == 2025:
                by_month[o.ended_at.month].append(o)
        for m in range(1, 13):
            r = compute(outages=by_month[m], service_id=s, year=2025, month=m, kind="network",
                        exclude_unreported=True, now=now)
            total += 1
            breached += r.minutes >= 44
    took = time.monotonic() - started
    print(f"services={args.services} outages={oid} (per service per year={args.per_year}) "
          f"computations={total} (service-months)")
    print(f"elapsed={took:.2f}s  per service-month={took / total * 1e6:.0f}µs  "
          f"one month for all services={took / 12:.3f}s  breached service-months={breached}")


if __name__ == "__main__":
    main()
