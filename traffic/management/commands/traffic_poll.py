"""manage.py traffic_poll: the poller as a loop of its own (one function per iteration, as the
monitoring probe loop): claim the due ports, poll them, record, sleep a little, again."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from traffic.services import poll_due


def iteration() -> dict[str, int]:
    """One iteration (what the tests and the beat task run)."""
    return poll_due()


class Command(BaseCommand):
    help = "Poll due switch ports by SNMP every few seconds (--once: one iteration)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true")
        parser.add_argument("--sleep", type=float, default=5.0)

    def handle(self, *args: Any, **opts: Any) -> None:
        while True:
            totals = iteration()
            if totals.get("claimed"):
                self.stdout.write(str(totals))
            if opts["once"]:
                return
            time.sleep(opts["sleep"])
