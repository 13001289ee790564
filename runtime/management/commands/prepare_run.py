"""`manage.py prepare_run`: what `make run` does before serving, in one process (one Django
start-up instead of three): migrate, collect static files only when they changed, load the
demo data (unless DEMO_DATA=0). A restart with nothing changed takes a second or two."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


def static_fingerprint() -> str:
    """Every file the static finders would collect: path, size and modification time."""
    from django.contrib.staticfiles import finders

    h = hashlib.sha256()
    entries = []
    for finder in finders.get_finders():
        for path, storage in finder.list([]):
            full = storage.path(path)
            st = os.stat(full)
            entries.append(f"{path}\0{full}\0{st.st_size}\0{st.st_mtime_ns}")
    for e in sorted(entries):
        h.update(e.encode("utf-8", "surrogateescape"))
        h.update(b"\n")
    return h.hexdigest()


class Command(BaseCommand):
    help = "Migrate, collect static files when they changed, load the demo data."

    def handle(self, *args: Any, **options: Any) -> None:
        t0 = time.monotonic()
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"prepare_run: migrations applied ({time.monotonic() - t0:.1f} s)")

        t1 = time.monotonic()
        root = Path(settings.STATIC_ROOT)
        stamp = root / ".slaportal-fingerprint"
        want = static_fingerprint()
        if stamp.exists() and stamp.read_text() == want:
            self.stdout.write(f"prepare_run: static files unchanged ({time.monotonic() - t1:.1f} s)")
        else:
            call_command("collectstatic", interactive=False, verbosity=0)
            root.mkdir(parents=True, exist_ok=True)
            stamp.write_text(want)
            self.stdout.write(f"prepare_run: static files collected ({time.monotonic() - t1:.1f} s)")

        if os.environ.get("DEMO_DATA", "1") != "0":
            t2 = time.monotonic()
            call_command("load_demo", verbosity=0)
            self.stdout.write(f"prepare_run: demo data checked ({time.monotonic() - t2:.1f} s)")
