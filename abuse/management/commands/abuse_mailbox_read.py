"""`manage.py abuse_mailbox_read [--once] [--interval N]`: read the abuse mailbox in a loop, one
function per iteration (abuse.mailbox.mailbox_read_once), as the other long-running loops do."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from abuse.mailbox import mailbox_read_once


class Command(BaseCommand):
    help = "Read the abuse mailbox by IMAP: each new message becomes one spam case."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Read once and exit.")
        parser.add_argument("--interval", type=float, default=60.0, help="Seconds between readings.")

    def handle(self, *args: Any, **options: Any) -> None:
        while True:
            r = mailbox_read_once()
            self.stdout.write(f"seen={r.seen} created={len(r.created)} known={r.known}"
                              + (f" error={r.error}" if r.error else ""))
            if options["once"]:
                return
            time.sleep(max(1.0, options["interval"]))
