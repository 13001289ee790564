#!/usr/bin/env python3
"""`make run`: prepare the database and start the portal (web + Celery worker + Celery beat).

    .venv/bin/python scripts/run.py [--no-prepare]

Preparation: migrate, collectstatic, load_demo (idempotent; skipped with DEMO_DATA=0). Then the
three processes start as children, each in its own process group, with their output prefixed.
Ctrl-C / SIGTERM / SIGHUP stop all of them (SIGTERM, then SIGKILL after STOP_TIMEOUT seconds)
and exit 0; if one of them dies on its own, the others are stopped and the exit status is 1.
If this supervisor is killed outright, the kernel sends the children SIGTERM (PR_SET_PDEATHSIG).

Environment: PORT (8000), HOST (127.0.0.1), WEB_CONCURRENCY (2 gunicorn workers),
CELERY_CONCURRENCY (2), DEMO_DATA (1), STOP_TIMEOUT (15), plus everything slaportal/settings.py
reads (DATABASE_URL, CELERY_BROKER_URL, ...).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
PY = sys.executable
COLORS = {"web": "36", "worker": "33", "beat": "35", "run": "1"}
_print_lock = threading.Lock()
_tty = sys.stdout.isatty()
# Beat queues the SLA sweep every second and other periodic tasks every few seconds; their
# routine lines would bury everything else. Hidden: beat's "Sending due task", the worker's
# "received", and "succeeded" with an empty result (0, None, {}, [], or a dict of zeros). Tasks
# that do something log it themselves ("sweep breached=1 ..."). RUN_VERBOSE=1 shows all.
_ROUTINE = re.compile(
    r"Scheduler: Sending due task |\] Task \S+\[[0-9a-f-]+\] received$"
    r"|\] Task \S+\[[0-9a-f-]+\] succeeded in \S+ (None|0|\{\}|\[\]|\{('[^']+': 0(, )?)+\})$")
_QUIET = os.environ.get("RUN_VERBOSE", "0") in ("", "0")


def say(name: str, line: str) -> None:
    prefix = f"{name:<6}|"
    if _tty:
        prefix = f"\033[{COLORS.get(name, '0')}m{prefix}\033[0m"
    with _print_lock:
        sys.stdout.write(f"{prefix} {line}\n")
        sys.stdout.flush()


def env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        sys.exit(f"{name} must be a whole number, not {os.environ[name]!r}")


def prepare(env: dict[str, str]) -> None:
    """Everything that must be done before serving; any failure stops `make run` here."""
    steps = [["migrate", "--noinput"], ["collectstatic", "--noinput", "-v0"]]
    if env.get("DEMO_DATA", "1") != "0":
        steps.append(["load_demo", "-v0"])
    for step in steps:
        say("run", "manage.py " + " ".join(step))
        rc = subprocess.call([PY, str(BASE / "manage.py"), *step], env=env, cwd=BASE)
        if rc != 0:
            sys.exit(f"manage.py {step[0]} failed (exit {rc})")


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: ask the kernel for SIGTERM if we are orphaned.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Child:
    def __init__(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            argv, cwd=BASE, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, process_group=0,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        self.reader = threading.Thread(target=self._pump, daemon=True)
        self.ready = threading.Event()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not self.ready.is_set() and re.search(r"celery@\S+ ready\.|beat: Starting", line):
                self.ready.set()
            if _QUIET and _ROUTINE.search(line):
                continue
            say(self.name, line)

    def signal(self, sig: int, *, group: bool = False) -> None:
        try:
            if group:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)
        except ProcessLookupError:
            pass


def banner(url: str, demo: bool) -> str:
    lines = ["", "=" * 72, f"  SLA Portal is running at {url}",
             f"  Admin: {url}admin/   API docs: {url}api/docs/   Health: {url}healthz"]
    if demo:
        sys.path.insert(0, str(BASE))
        from customers.management.commands.load_demo import logins_table

        lines += ["", *("  " + x for x in logins_table().splitlines())]
        lines += ["", "  Fresh demo clocks (C4, C5) warn within a minute and breach after ~2.5 and",
                  "  ~5.5 minutes: the worker lines show the sweep and the escalation e-mails."]
    lines += ["", "  Press Ctrl-C to stop the web server, the worker and beat.", "=" * 72, ""]
    return "\n".join(lines)


def wait_for_web(url: str, web: Child, deadline: float) -> bool:
    while time.monotonic() < deadline and web.proc.poll() is None:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2) as r:
                return r.status == 200
        except Exception as e:  # refused or timed out: not up yet; a 503 is an answer (unhealthy)
            if getattr(e, "code", None) == 503:
                return False
        time.sleep(0.3)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-prepare", action="store_true", help="skip migrate/collectstatic/load_demo")
    args = parser.parse_args()

    port = env_int("PORT", 8000)
    host = os.environ.get("HOST", "127.0.0.1")
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")
    env["PYTHONUNBUFFERED"] = "1"
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown_host}:{port}/"
    env.setdefault("PORTAL_BASE_URL", url.rstrip("/"))
    var = Path(env.get("SLAPORTAL_VAR_DIR") or BASE / "var")
    for sub in ("", "broker/queue", "broker/processed", "media"):
        (var / sub).mkdir(parents=True, exist_ok=True)

    # Until the children exist, a signal just ends the preparation.
    if not args.no_prepare:
        prepare(env)

    stop_reason: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:
        if not stop_reason:
            stop_reason.append(signal.Signals(signum).name)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    specs = [
        ("web", [PY, "-m", "gunicorn", "slaportal.wsgi:application", "--bind", f"{host}:{port}",
                 "--workers", str(env_int("WEB_CONCURRENCY", 2)), "--timeout", "60",
                 "--graceful-timeout", "10", "--access-logfile", "-", "--forwarded-allow-ips", "127.0.0.1",
                 # Its control socket lives in ~/.gunicorn: a second instance would take it over.
                 "--no-control-socket"]),
        # Gossip, mingle and heartbeats are broadcast events the filesystem broker cannot carry
        # and a single worker does not need.
        ("worker", [PY, "-m", "celery", "-A", "slaportal", "worker", "-l", "info",
                    "--concurrency", str(env_int("CELERY_CONCURRENCY", 2)),
                    "--without-gossip", "--without-mingle", "--without-heartbeat"]),
        ("beat", [PY, "-m", "celery", "-A", "slaportal", "beat", "-l", "info",
                  "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"]),
    ]
    children = [Child(name, argv, env) for name, argv in specs]
    for c in children:
        c.reader.start()
        say("run", f"started {c.name} (pid {c.proc.pid})")

    demo = env.get("DEMO_DATA", "1") != "0"

    def announce() -> None:
        deadline = time.monotonic() + 120
        web_ok = wait_for_web(url, children[0], deadline)
        # Print after the worker's and beat's start-up banners, so it is the last thing on screen.
        for c in children[1:]:
            c.ready.wait(timeout=max(0.0, min(30.0, deadline - time.monotonic())))
        if web_ok:
            with _print_lock:
                print(banner(url, demo), flush=True)
        elif children[0].proc.poll() is None:
            say("run", f"the web server does not answer {url}healthz with 200 yet")

    threading.Thread(target=announce, daemon=True).start()

    exit_code = 0
    while not stop_reason:
        for c in children:
            rc = c.proc.poll()
            if rc is not None:
                say("run", f"{c.name} exited with status {rc}; stopping the others")
                stop_reason.append(f"{c.name} died")
                exit_code = 1
                break
        else:
            time.sleep(0.2)

    t_stop = time.monotonic()
    say("run", f"stopping ({stop_reason[0]})")
    for c in children:
        if c.proc.poll() is None:
            c.signal(signal.SIGTERM)
    deadline = time.monotonic() + env_int("STOP_TIMEOUT", 15)
    while time.monotonic() < deadline and any(c.proc.poll() is None for c in children):
        time.sleep(0.1)
    for c in children:
        if c.proc.poll() is None:
            say("run", f"{c.name} did not stop in time; killing it")
        # The whole group: gunicorn workers and the Celery pool go with their parent.
        c.signal(signal.SIGKILL, group=True)
        c.proc.wait()
        c.reader.join(timeout=2)
    say("run", f"all stopped ({time.monotonic() - t_stop:.1f} s)")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
