#!/usr/bin/env python3
"""`make run`: prepare the database and start the portal, supervised.

    .venv/bin/python scripts/run.py [--no-prepare]

Preparation (one process, `manage.py prepare_run`): migrate, collect static files when they
changed, load the demo data (skipped with DEMO_DATA=0).

Then these children start, each in its own process group, with their output prefixed:

  redis   a Redis server of the run's own, on a Unix socket under var/redis/ (the Celery broker;
          not started when CELERY_BROKER_URL or REDIS_URL names one)
  mail    a local mail catcher (SMTP on 127.0.0.1, messages readable at /runtime/mailbox/;
          not started when EMAIL_HOST names a real mail server)
  web     gunicorn
  sweep   the SLA sweep loop (manage.py run_sweep): breaches and warnings, from the database
  sender  the notification sender loop (manage.py send_notifications), from the database
  worker  the Celery worker (probes, emergency notices, visits, reports...)
  beat    Celery beat (the periodic jobs, and a second path for the sweep and the sender)

A child that dies is restarted after a back-off (1, 2, 4 ... 30 s) with a log line saying why;
only a child that keeps dying (RESTART_LIMIT restarts within RESTART_WINDOW seconds) stops the
run, with exit status 1. Ctrl-C / SIGTERM / SIGHUP stop everything (SIGTERM, then SIGKILL after
STOP_TIMEOUT seconds) and exit 0. If this supervisor is killed outright, the kernel sends the
children SIGTERM (PR_SET_PDEATHSIG).

The web server (slaportal/gunicorn_conf.py): WEB_WORKER_CLASS (gthread, or sync),
WEB_CONCURRENCY (2 worker processes), WEB_THREADS (4 threads per gthread worker). Each thread
keeps one database connection, so the web holds at most WEB_CONCURRENCY x WEB_THREADS of them
(8 by default); gunicorn refuses to start above WEB_DB_CONNECTIONS_MAX (40; PostgreSQL allows
100 by default and the other processes need theirs). On SQLite (the default) the threads share
the file in WAL mode, waiting up to 30 s for the write lock.

Environment: PORT (8000), HOST (127.0.0.1), CELERY_CONCURRENCY (2), DEMO_DATA (1), STOP_TIMEOUT (15), RESTART_LIMIT (5), RESTART_WINDOW (300),
plus everything slaportal/settings.py reads (DATABASE_URL, CELERY_BROKER_URL, EMAIL_HOST, ...).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
PY = sys.executable
MANAGE = str(BASE / "manage.py")
COLORS = {"web": "36", "worker": "33", "beat": "35", "sweep": "32", "sender": "34", "redis": "31",
          "mail": "37", "run": "1"}
_print_lock = threading.Lock()
_tty = sys.stdout.isatty()
# Beat queues its periodic tasks every few seconds; their routine lines would bury everything
# else. Hidden: beat's "Sending due task", the worker's "received", and "succeeded" with an empty
# result (0, None, {}, [], or a dict of zeros). Tasks that do something log it themselves.
# RUN_VERBOSE=1 shows all.
_ROUTINE = re.compile(
    r"Scheduler: Sending due task |(?:\] |msg=)Task \S+\[[0-9a-f-]+\] received$"
    r"|(?:\] |msg=)Task \S+\[[0-9a-f-]+\] succeeded in \S+ (None|0|\{\}|\[\]|\{('[^']+': 0(, )?)+\})$")
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def secret_key(var: Path) -> str:
    """A secret key of this installation's own, made once and kept in var/secret_key (0600)."""
    path = var / "secret_key"
    if path.exists():
        key = path.read_text().strip()
        if len(key) >= 50:
            return key
    key = secrets.token_urlsafe(64)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


def prepare(env: dict[str, str]) -> None:
    """Everything that must be done before serving; any failure stops `make run` here."""
    t0 = time.monotonic()
    say("run", "manage.py prepare_run (migrate, static files if changed, demo data)")
    rc = subprocess.call([PY, MANAGE, "prepare_run"], env=env, cwd=BASE)
    if rc != 0:
        sys.exit(f"manage.py prepare_run failed (exit {rc})")
    say("run", f"prepared in {time.monotonic() - t0:.1f} s")


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: ask the kernel for SIGTERM if we are orphaned.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Child:
    """One supervised program; `start()` again after it died starts a fresh process."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str],
                 ready_pattern: str | None = None) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.ready_pattern = re.compile(ready_pattern) if ready_pattern else None
        self.proc: subprocess.Popen[bytes] | None = None
        self.ready = threading.Event()
        self.failures: deque[float] = deque()
        self.restart_at: float | None = None
        self.starts = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.argv, cwd=BASE, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, process_group=0,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        self.starts += 1
        self.restart_at = None
        threading.Thread(target=self._pump, args=(self.proc,), daemon=True).start()
        say("run", f"{'started' if self.starts == 1 else 'restarted'} {self.name} (pid {self.proc.pid})")

    def _pump(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if self.ready_pattern and not self.ready.is_set() and self.ready_pattern.search(line):
                self.ready.set()
            if _QUIET and _ROUTINE.search(line):
                continue
            say(self.name, line)

    def poll(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int, *, group: bool = False) -> None:
        if self.proc is None:
            return
        try:
            if group:
                os.killpg(self.proc.pid, sig)
            else:
                self.proc.send_signal(sig)
        except ProcessLookupError:
            pass


def banner(url: str, demo: bool, extras: list[str]) -> str:
    lines = ["", "=" * 72, f"  SLA Portal is running at {url}",
             f"  Admin: {url}admin/   API docs: {url}api/docs/   Health: {url}healthz", *extras]
    if demo:
        sys.path.insert(0, str(BASE))
        from customers.management.commands.load_demo import logins_table

        lines += ["", *("  " + x for x in logins_table().splitlines())]
        lines += ["", "  Fresh demo clocks (C4, C5) warn within a minute and breach after ~2.5 and",
                  "  ~5.5 minutes: the sweep lines show them, the escalation e-mails land in the",
                  "  mailbox above."]
    lines += ["", "  Press Ctrl-C to stop everything.", "=" * 72, ""]
    return "\n".join(lines)


def wait_for_web(url: str, web: Child, deadline: float) -> bool:
    while time.monotonic() < deadline and web.running:
        try:
            with urllib.request.urlopen(url + "healthz", timeout=2) as r:
                return r.status == 200
        except Exception:  # refused, timed out, or 503 (the sweep's first beat is seconds away)
            pass
        time.sleep(0.3)
    return False


def redis_ping(sock: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(str(sock))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _tcp_up(url: str) -> bool:
    from urllib.parse import urlsplit

    u = urlsplit(url)
    try:
        with socket.create_connection((u.hostname or "127.0.0.1", u.port or 6379), timeout=0.5):
            return True
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-prepare", action="store_true", help="skip prepare_run")
    args = parser.parse_args()
    t_start = time.monotonic()

    port = env_int("PORT", 8000)
    host = os.environ.get("HOST", "127.0.0.1")
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "slaportal.settings")
    env["PYTHONUNBUFFERED"] = "1"
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown_host}:{port}/"
    env.setdefault("PORTAL_BASE_URL", url.rstrip("/"))
    var = Path(env.get("SLAPORTAL_VAR_DIR") or BASE / "var").resolve()
    env["SLAPORTAL_VAR_DIR"] = str(var)
    for sub in ("", "media", "redis"):
        (var / sub).mkdir(parents=True, exist_ok=True)

    # This is a local run over plain HTTP: a key of its own (production sets SECRET_KEY), the
    # hosts it answers to, and no HTTPS-only cookies or redirects. Each can be overridden.
    env.setdefault("SECRET_KEY", secret_key(var))
    if "ALLOWED_HOSTS" not in env:
        env["ALLOWED_HOSTS"] = "*" if host in ("0.0.0.0", "::") else f"127.0.0.1,localhost,[::1],{host}"
    for name in ("SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"):
        env.setdefault(name, "0")

    specs: list[Child] = []
    extras: list[str] = []

    # The broker: a Redis of the run's own unless one is configured.
    if not (env.get("CELERY_BROKER_URL") or env.get("REDIS_URL")):
        redis_server = shutil.which("redis-server") or next(
            (p for p in ("/usr/bin/redis-server", "/usr/local/bin/redis-server") if os.access(p, os.X_OK)), None)
        sock = var / "redis" / "redis.sock"
        if redis_server and len(str(sock)) < 100:
            if sock.exists() and not redis_ping(sock):
                sock.unlink()  # left by a run that was killed
            specs.append(Child("redis", [redis_server, "--port", "0", "--unixsocket", str(sock),
                                         "--unixsocketperm", "700", "--dir", str(var / "redis"),
                                         "--save", "", "--appendonly", "no", "--loglevel", "warning"],
                               env, ready_pattern=r"Ready to accept connections"))
            env["CELERY_BROKER_URL"] = f"redis+socket://{sock}"
        elif redis_server:
            rport = free_port()
            specs.append(Child("redis", [redis_server, "--port", str(rport), "--bind", "127.0.0.1",
                                         "--dir", str(var / "redis"), "--save", "", "--appendonly", "no",
                                         "--loglevel", "warning"], env,
                               ready_pattern=r"Ready to accept connections"))
            env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{rport}/0"
        else:
            say("run", "redis-server is not installed (scripts/bootstrap.sh installs it as root: "
                       "sudo apt-get install -y redis-server); the Celery worker falls back to the "
                       "file broker. Deadlines and notices do not depend on it.")

    # E-mail: a local mail catcher unless a real mail server is configured.
    if not env.get("EMAIL_HOST") and not env.get("EMAIL_BACKEND"):
        mport = env_int("MAILCATCHER_PORT", 0) or free_port()
        mdir = Path(env.get("MAILCATCHER_DIR") or var / "mailcatcher")
        env["MAILCATCHER_DIR"] = str(mdir)
        specs.append(Child("mail", [PY, MANAGE, "mailcatcher", "--host", "127.0.0.1", "--port", str(mport),
                                    "--dir", str(mdir)], env))
        env["EMAIL_HOST"], env["EMAIL_PORT"] = "127.0.0.1", str(mport)
        extras.append(f"  Mail (caught locally, nothing leaves this machine): {url}runtime/mailbox/")

    if not args.no_prepare:
        prepare(env)

    stop_reason: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:
        if not stop_reason:
            stop_reason.append(signal.Signals(signum).name)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    for name, default in (("WEB_CONCURRENCY", 2), ("WEB_THREADS", 4)):
        env_int(name, default)  # a clear message here rather than a traceback from gunicorn
    # Workers, worker class and threads: slaportal/gunicorn_conf.py (WEB_CONCURRENCY,
    # WEB_WORKER_CLASS, WEB_THREADS).
    gunicorn = [PY, "-m", "gunicorn", "slaportal.wsgi:application", "--bind", f"{host}:{port}",
                "--timeout", "60",
                "--graceful-timeout", "10", "--access-logfile", "-", "--forwarded-allow-ips", "127.0.0.1",
                # Its control socket lives in ~/.gunicorn: a second instance would take it over.
                "--no-control-socket"]
    gunicorn += ["-c", str(BASE / "slaportal" / "gunicorn_conf.py")]
    specs += [
        Child("web", gunicorn, env),
        Child("sweep", [PY, MANAGE, "run_sweep"], env, ready_pattern=r"sweep loop started"),
        Child("sender", [PY, MANAGE, "send_notifications"], env, ready_pattern=r"sender loop started"),
        # Gossip, mingle and heartbeats are broadcast chatter a single worker does not need.
        Child("worker", [PY, "-m", "celery", "-A", "slaportal", "worker", "-l", "info",
                         "--concurrency", str(env_int("CELERY_CONCURRENCY", 2)),
                         "--without-gossip", "--without-mingle", "--without-heartbeat"], env,
              ready_pattern=r"celery@\S+ ready\."),
        Child("beat", [PY, "-m", "celery", "-A", "slaportal", "beat", "-l", "info",
                       "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"], env,
              ready_pattern=r"beat: Starting"),
    ]
    by_name = {c.name: c for c in specs}
    # The broker first (the worker and beat connect to it at once), then what makes the portal
    # usable and healthy (mail, web, the loops); the Celery worker and beat a few seconds later,
    # so that seven Python start-ups do not share two cores at the same moment.
    late = {"worker", "beat"}
    for c in specs:
        if stop_reason or c.name in late:
            continue
        c.start()
        if c.name == "redis":
            sock = var / "redis" / "redis.sock"
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and c.running and not (
                    redis_ping(sock) if env["CELERY_BROKER_URL"].startswith("redis+socket") else
                    _tcp_up(env["CELERY_BROKER_URL"])):
                time.sleep(0.02)

    # Started from the main thread below, never from a helper thread: PR_SET_PDEATHSIG fires
    # when the *thread* that forked the child ends, which would SIGTERM them at once.
    late_at: float | None = time.monotonic() + 8

    demo = env.get("DEMO_DATA", "1") != "0"

    def announce() -> None:
        deadline = time.monotonic() + 120
        web_ok = wait_for_web(url, by_name["web"], deadline)
        # Print after the other children's start-up lines, so it is the last thing on screen.
        for c in specs:
            if c.ready_pattern is not None and c.name != "redis":
                c.ready.wait(timeout=max(0.0, min(30.0, deadline - time.monotonic())))
        if web_ok:
            with _print_lock:
                print(banner(url, demo, extras), flush=True)
            say("run", f"up in {time.monotonic() - t_start:.1f} s")
        elif by_name["web"].running:
            say("run", f"the web server does not answer {url}healthz with 200 yet")

    threading.Thread(target=announce, daemon=True).start()

    restart_limit = env_int("RESTART_LIMIT", 5)
    restart_window = env_int("RESTART_WINDOW", 300)
    exit_code = 0
    while not stop_reason:
        now = time.monotonic()
        if late_at is not None and (now >= late_at or by_name["sweep"].ready.is_set()):
            late_at = None
            for c in specs:
                if c.name in late and c.proc is None:
                    c.start()
        for c in specs:
            if c.restart_at is not None:
                if now >= c.restart_at:
                    c.start()
                continue
            if c.proc is None:
                continue  # not started yet (the late ones)
            rc = c.poll()
            if rc is None:
                continue
            while c.failures and now - c.failures[0] > restart_window:
                c.failures.popleft()
            c.failures.append(now)
            if len(c.failures) > restart_limit:
                say("run", f"{c.name} exited with status {rc}, {len(c.failures)} times in "
                           f"{restart_window} s; giving up and stopping the others")
                stop_reason.append(f"{c.name} keeps dying")
                exit_code = 1
                break
            delay = min(30.0, 2.0 ** (len(c.failures) - 1))
            say("run", f"{c.name} exited with status {rc}; restarting it in {delay:g} s "
                       f"(restart {len(c.failures)} of at most {restart_limit} in {restart_window} s)")
            c.ready.clear()
            c.restart_at = now + delay
        else:
            time.sleep(0.2)

    t_stop = time.monotonic()
    say("run", f"stopping ({stop_reason[0]})")
    # Everything but the broker first, so nobody logs "broker gone" on the way out.
    order = [c for c in specs if c.name != "redis"] + [c for c in specs if c.name == "redis"]
    for c in order:
        if c.running and c.name != "redis":
            c.signal(signal.SIGTERM)
    deadline = time.monotonic() + env_int("STOP_TIMEOUT", 15)
    while time.monotonic() < deadline and any(c.running for c in order if c.name != "redis"):
        time.sleep(0.1)
    for c in order:
        if c.name == "redis" and c.running:
            c.signal(signal.SIGTERM)
            for _ in range(50):
                if not c.running:
                    break
                time.sleep(0.1)
        if c.running:
            say("run", f"{c.name} did not stop in time; killing it")
        # The whole group: gunicorn workers and the Celery pool go with their parent.
        c.signal(signal.SIGKILL, group=True)
        if c.proc is not None:
            c.proc.wait()
    say("run", f"all stopped ({time.monotonic() - t_stop:.1f} s)")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
