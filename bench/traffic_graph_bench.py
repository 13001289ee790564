"""A year's traffic graph for one port: the port's rings filled as after two years of polling
(every slot of every ring written), then the yearly graph's data (traffic_graph, what the JSON
endpoint returns, including the month's 95th over a full month of 5-minute samples) read N
times. Reports the median and 95th-percentile response time (goal: ≤ 50 ms). Uses the test
database test_<name> (created if missing, kept), never the real one.

    .venv/bin/python bench/traffic_graph_bench.py [--runs 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.client import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    args = ap.parse_args()
    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, keepdb=True)
    from django.utils import timezone

    from tests import factories as f
    from traffic.choices import RINGS
    from traffic.models import SAMPLE, SwitchPort, TrafficDay, TrafficSlot

    tz = ZoneInfo("Asia/Shanghai")
    now = datetime(2026, 11, 30, 23, 0, tzinfo=tz)
    staff = f.StaffFactory(role="engineer", username="bench-eng")
    port = SwitchPort.objects.create(service=f.ServiceFactory(contract__number=f"BENCH-{time.time_ns()}"), device_address="192.0.2.1", interface="1",
                                     last_in_bps=1e6, last_out_bps=2e6, last_sample_at=now)
    rows = []
    for res, n in RINGS:
        end = int(now.timestamp()) - int(now.timestamp()) % res
        for k in range(n):
            start = end - k * res
            rows.append(TrafficSlot(port=port, resolution=res, slot=(start // res) % n,
                                    start_at=datetime.fromtimestamp(start, tz=tz), samples=1,
                                    in_avg=1e6 + k, out_avg=2e6 + k, in_max=3e6 + k, out_max=4e6 + k))
    TrafficSlot.objects.bulk_create(rows, batch_size=2000)
    days = [TrafficDay(port=port, day=(now - timedelta(days=d)).date(),
                       data=b"".join(SAMPLE.pack(s, 1e6 + s, 2e6 + s) for s in range(288)))
            for d in range(now.day)]
    TrafficDay.objects.bulk_create(days)
    c = Client()
    c.force_login(staff)
    url = f"/traffic/{port.pk}/data/year/"
    times = []
    try:
        import time_machine

        travel = time_machine.travel(now, tick=True)
        travel.start()
    except ImportError:
        travel = None
    for _ in range(args.runs):
        t = time.perf_counter()
        r = c.get(url, secure=True)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, r.status_code
    body = r.json()
    if travel is not None:
        travel.stop()
    times.sort()
    print(f"yearly graph of one port: {len(body['t'])} points, month 95th over "
          f"{body['summary']['p95']['samples']} samples; rows per port {TrafficSlot.objects.filter(port=port).count()}")
    print(f"response time over {args.runs} runs: median {statistics.median(times):.1f} ms, "
          f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms, max {times[-1]:.1f} ms (goal ≤ 50 ms)")
    SwitchPort.objects.filter(pk=port.pk).delete()
    _ = timezone


if __name__ == "__main__":
    main()
