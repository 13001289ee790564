"""Mail-loop cycle on loopback: N probe mailboxes (a dovecot passwd-file with N users, Maildir,
IMAP; aiosmtpd submission with AUTH delivering into the Maildir; tests.mailservers) each probed by
the mail loop in one cycle, through the engine's own probe_many and the mail-probe thread pool.
Reports the cycle time and the median / p95 / max round trip (SMTP 250 after DATA → first seen by
IMAP). No database: the specs are built as targets_claim would build them.

    .venv/bin/python bench/mailloop_bench.py [--mailboxes 1000] [--timeout 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")

import django  # noqa: E402

django.setup()

from monitoring.probes import MailSpec, ProbeSpec, probe_many  # noqa: E402
from tests.mailservers import MailServers  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mailboxes", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--cycles", type=int, default=2)
    args = ap.parse_args()
    users = {f"box{i:04d}@bench-mail.test": f"pw-{i}" for i in range(args.mailboxes)}
    started = time.monotonic()
    servers = MailServers(users).start()
    print(f"servers up in {time.monotonic() - started:.1f}s: smtp {servers.smtp_port}, imap {servers.imap_port}")
    try:
        specs = [ProbeSpec(id=i, kind="mailloop", host="127.0.0.1", port=servers.imap_port, url="",
                           expected_status=200, timeout=args.timeout,
                           mail=MailSpec(mailbox_id=i, address=a, login=a, password=p,
                                         smtp_host="127.0.0.1", smtp_port=servers.smtp_port, smtp_security="none",
                                         imap_host="127.0.0.1", imap_port=servers.imap_port, imap_security="none"))
                 for i, (a, p) in enumerate(users.items())]
        for cycle in range(1, args.cycles + 1):
            t0 = time.monotonic()
            results = asyncio.run(probe_many(specs))
            took = time.monotonic() - t0
            ok = [r for r in results if r.ok]
            rtt = sorted(r.latency_ms for r in ok)
            failed = [r.detail for r in results if not r.ok]
            p95 = rtt[int(0.95 * (len(rtt) - 1))] if rtt else 0
            print(f"cycle {cycle}: {len(specs)} mailboxes in {took:.2f}s "
                  f"({len(specs) / took:.0f} loops/s); ok {len(ok)}, failed {len(failed)}; round trip ms: "
                  f"median {statistics.median(rtt) if rtt else 0:.0f}, p95 {p95}, max {rtt[-1] if rtt else 0}")
            if failed:
                print("  first failures:", failed[:3])
        print(f"messages accepted by SMTP: {servers.accepted}; left in mailboxes: "
              f"{sum(servers.messages(a) for a in list(users)[:50])} (first 50 boxes)")
    finally:
        servers.stop()


if __name__ == "__main__":
    main()
