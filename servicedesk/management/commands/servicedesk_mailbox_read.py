"""Read the service mailbox by IMAP in a loop (or once with --once): one function per
iteration (`iteration`), so a test runs exactly one pass, as healthchecks' sendalerts does."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from servicedesk.services import mailbox_read_once


def iteration() -> dict[str, int]:
    """One pass over the mailbox's unseen messages."""
    return mailbox_read_once()


class Command(BaseCommand):
    help = "Read the service mailbox (SERVICEDESK_IMAP_*): new requests and replies by e-mail."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="One pass, then exit.")
        parser.add_argument("--interval", type=float, default=60.0, help="Seconds between passes.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.SERVICEDESK_IMAP_HOST:
            self.stderr.write("SERVICEDESK_IMAP_HOST is not set: nothing to read.")
            return
        while True:
            counts = iteration()
            if counts or options["once"]:
                self.stdout.write(" ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "nothing new")
            if options["once"]:
                return
            time.sleep(options["interval"])
