"""`manage.py mailcatcher`: the local SMTP mail catcher `make run` starts (logic in
runtime/mailcatcher.py). Every message is kept as one .eml file in --dir and shown to staff at
/runtime/mailbox/. Stops cleanly on SIGTERM or Ctrl-C (exit status 0)."""

from __future__ import annotations

import errno
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Run a local SMTP server that accepts every message and stores it as an .eml file "
            "(shown to staff at /runtime/mailbox/). For development: never expose it.")
    # Needs neither the database nor the URLconf: it starts (and keeps catching) while the rest of
    # the portal is being migrated or is broken.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1).")
        parser.add_argument("--port", type=int, default=1025, help="SMTP port (default 1025; 0: any free port).")
        parser.add_argument("--dir", dest="folder", default=None,
                            help="Folder for the .eml files (default: the MAILCATCHER_DIR setting).")
        parser.add_argument("--max-messages", type=int, default=None,
                            help="Messages kept, the oldest are deleted beyond it "
                                 "(default: the MAILCATCHER_MAX_MESSAGES setting, 5000).")

    def handle(self, *args: Any, **options: Any) -> None:
        from runtime.mailcatcher import MailCatcher

        if not 0 <= options["port"] <= 65535:
            raise CommandError(f"--port must be 0–65535, not {options['port']}")
        max_messages = options["max_messages"] or getattr(settings, "MAILCATCHER_MAX_MESSAGES", 5000)
        if max_messages < 1:
            raise CommandError("--max-messages must be at least 1")
        catcher = MailCatcher(host=options["host"], port=options["port"],
                              folder=options["folder"] or settings.MAILCATCHER_DIR,
                              max_messages=max_messages)
        try:
            catcher.run(handle_signals=True)
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise CommandError(f"mail catcher: {options['host']}:{options['port']} is already in use") from e
            raise CommandError(f"mail catcher: {e}") from e
