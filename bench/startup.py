"""Benchmark: seconds from starting `make run` (scripts/run.py, embedded defaults) to /healthz 200.

Run:  .venv/bin/python bench/startup.py [--runs 3]

The first start prepares a fresh var/ (migrations, static files, demo data) and is reported
separately; the following starts have nothing changed, which is what a user restarting the
portal sees. Goal: under 10 s with nothing changed.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_and_time(env: dict[str, str], port: int) -> float:
    t0 = time.monotonic()
    p = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run.py")], cwd=ROOT, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
    took = float("nan")
    try:
        while time.monotonic() - t0 < 300 and p.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        took = time.monotonic() - t0
                        break
            except Exception:  # noqa: BLE001 - not up yet
                pass
            time.sleep(0.1)
    finally:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(60)
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    opts = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    var = Path(tempfile.mkdtemp(prefix="slaportal-startup-"))
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY")}
    env.update({"PORT": str(port), "SLAPORTAL_VAR_DIR": str(var)})
    first = start_and_time(env, port)
    print(f"first start (fresh var/: migrate, collectstatic, demo data): {first:.1f} s", flush=True)
    again = [start_and_time(env, port) for _ in range(opts.runs)]
    print(f"restarts with nothing changed: {', '.join(f'{x:.1f}' for x in again)} s; "
          f"median {statistics.median(again):.1f} s (goal < 10 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
