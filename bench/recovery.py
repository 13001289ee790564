"""Benchmark: after a sender dies, how long until 1,000 pending notices are delivered?

Run:  .venv/bin/python bench/recovery.py [--notices 1000] [--threads 4]

Database as in bench/clock_sweep.py (PostgreSQL `slaportal_bench`, or SQLite). 1,000 e-mail
notification rows are written while no sender runs, 20 of them left 'sending' under a lease held
by a process that no longer exists (a sender killed mid-send); then `manage.py send_notifications`
starts and the script measures the seconds from its start to the last of the 1,000 accepted by a
local SMTP sink (aiosmtpd on 127.0.0.1), and checks none arrived twice. Goal: under 60 s.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from clock_sweep import pick_backends, recreate_database  # noqa: E402
from detection import manage, stop  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--notices", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=4)
    opts = ap.parse_args()
    var_dir = ROOT / "var" / "bench"
    var_dir.mkdir(parents=True, exist_ok=True)
    db_url, _ = pick_backends(var_dir)

    from aiosmtpd.controller import Controller

    keys: Counter[str] = Counter()
    last = [0.0]

    class Sink:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            for line in envelope.content.split(b"\n"):
                if line.lower().startswith(b"x-sla-idempotency-key:"):
                    keys[line.split(b":", 1)[1].strip().decode()] += 1
            last[0] = time.monotonic()
            return "250 OK"

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctl = Controller(Sink(), hostname="127.0.0.1", port=port)
    ctl.start()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "slaportal.settings", "DATABASE_URL": db_url,
           "SLAPORTAL_VAR_DIR": str(var_dir), "SECRET_KEY": "bench-" + "k" * 60, "EMAIL_HOST": "127.0.0.1",
           "EMAIL_PORT": str(port), "NOTIFICATION_SENDER_THREADS": str(opts.threads)}
    env.pop("EMAIL_BACKEND", None)
    os.environ.update(env)
    recreate_database(db_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    import django

    django.setup()
    import logging

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    from django.utils import timezone

    from notifications.models import Notification
    from notifications.services import Message, notifications_enqueue

    notifications_enqueue(messages=[Message(
        channel="email", address=f"ops{i}@bench.test", kind="bench", subject=f"【SLA 违约】压测 {i}",
        body="正文 " * 50, idempotency_key=f"bench:{i}") for i in range(opts.notices)])
    dead = subprocess.Popen(["true"])
    dead.wait()
    ids = list(Notification.objects.order_by("id").values_list("pk", flat=True)[:20])
    Notification.objects.filter(pk__in=ids).update(
        status="sending", claimed_by=f"{socket.gethostname()}:{dead.pid}", attempts=1,
        lease_expires_at=timezone.now() + timezone.timedelta(seconds=30))
    print(f"database={db_url}; {opts.notices} notices pending, 20 of them leased by a dead sender; "
          f"sender threads={opts.threads}", flush=True)

    log = var_dir / "recovery-sender.log"
    t0 = time.monotonic()
    sender = manage(["send_notifications"], env, log)
    try:
        while time.monotonic() - t0 < 300 and len(keys) < opts.notices:
            time.sleep(0.05)
    finally:
        stop(sender)
        ctl.stop()
    took = last[0] - t0
    twice = sum(1 for c in keys.values() if c > 1)
    left = Notification.objects.exclude(status="sent").count()
    print(f"delivered {len(keys)} of {opts.notices} in {took:.2f} s from the sender's start "
          f"({opts.notices / took:.0f}/s incl. start-up); sent twice: {twice}; rows not 'sent': {left}")
    ok = len(keys) == opts.notices and twice == 0 and left == 0 and took < 60
    print("RESULT:", "OK" if ok else "NOT OK (goal: all delivered once within 60 s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
