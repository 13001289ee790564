"""The web server's concurrency (issue 15): slaportal/gunicorn_conf.py reads WEB_WORKER_CLASS,
WEB_CONCURRENCY and WEB_THREADS, keeps the database connections they need bounded, and `make
run`'s web starts as gthread; with DEBUG off templates come from the cached loader."""

from __future__ import annotations

import os
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONF = str(ROOT / "slaportal" / "gunicorn_conf.py")


def load_conf(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, object]:
    for name in ("WEB_WORKER_CLASS", "WEB_CONCURRENCY", "WEB_THREADS", "WEB_DB_CONNECTIONS_MAX", "WEB_KEEPALIVE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(CONF)


def test_default_is_gthread_two_workers_four_threads(monkeypatch):
    conf = load_conf(monkeypatch)
    assert (conf["worker_class"], conf["workers"], conf["threads"]) == ("gthread", 2, 4)
    # Each response closes its connection: a keep-alive client stays pinned to one process.
    assert conf["keepalive"] == 0
    assert load_conf(monkeypatch, WEB_KEEPALIVE="5")["keepalive"] == 5
    # The settings gunicorn reads from the file are plain module names.
    assert conf["accesslog"] == "-" and conf["logconfig_dict"]


def test_worker_class_and_threads_come_from_the_environment(monkeypatch):
    conf = load_conf(monkeypatch, WEB_WORKER_CLASS="gthread", WEB_CONCURRENCY="3", WEB_THREADS="8")
    assert (conf["worker_class"], conf["workers"], conf["threads"]) == ("gthread", 3, 8)
    conf = load_conf(monkeypatch, WEB_WORKER_CLASS="SYNC", WEB_CONCURRENCY="4", WEB_THREADS="8")
    # sync serves one request per process: gunicorn would otherwise quietly switch to gthread.
    assert (conf["worker_class"], conf["workers"], conf["threads"]) == ("sync", 4, 1)


@pytest.mark.parametrize("env, message", [
    ({"WEB_WORKER_CLASS": "gevent"}, "WEB_WORKER_CLASS must be one of sync, gthread"),
    ({"WEB_THREADS": "four"}, "WEB_THREADS must be a whole number"),
    ({"WEB_CONCURRENCY": "0"}, "WEB_CONCURRENCY must be at least 1"),
    ({"WEB_KEEPALIVE": "-1"}, "WEB_KEEPALIVE must be a whole number of seconds from 0 to 300"),
    ({"WEB_KEEPALIVE": "3600"}, "WEB_KEEPALIVE must be a whole number of seconds from 0 to 300"),
    ({"WEB_CONCURRENCY": "8", "WEB_THREADS": "8"}, "64 database connections, more than WEB_DB_CONNECTIONS_MAX (40)"),
])
def test_bad_or_unbounded_settings_refuse_to_start_with_a_reason(monkeypatch, env, message):
    with pytest.raises(RuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_conf(monkeypatch, **env)


def test_the_connection_budget_can_be_raised_explicitly(monkeypatch):
    conf = load_conf(monkeypatch, WEB_CONCURRENCY="8", WEB_THREADS="8", WEB_DB_CONNECTIONS_MAX="64")
    assert (conf["workers"], conf["threads"]) == (8, 8)


def test_make_run_leaves_workers_to_the_conf():
    """scripts/run.py passes no --workers/--threads/-k that would override the environment."""
    source = (ROOT / "scripts" / "run.py").read_text()
    start = source.index("gunicorn = [PY")
    argv = source[start:source.index("]", source.index("--no-control-socket", start))]
    assert "gunicorn_conf.py" in source[start:start + 1200]
    for flag in ('"--workers"', '"--threads"', '"-k"', '"--worker-class"'):
        assert flag not in argv


def test_templates_use_the_cached_loader_with_debug_off(settings):
    """Django wraps the loaders in the cached one when OPTIONS names no loaders and debug is off:
    templates are compiled once per process, not on every request."""
    from django.template import engines

    assert settings.DEBUG is False and "loaders" not in settings.TEMPLATES[0]["OPTIONS"]
    assert engines["django"].engine.loaders[0][0] == "django.template.loaders.cached.Loader"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_gunicorn_with_the_conf_boots_gthread_workers():
    """Started as `make run` starts it (the conf, no --workers or -k): gthread workers, which
    keep two connections open at once and answer on both."""
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "slaportal.settings_test", "PYTHONPATH": str(ROOT),
           "SECRET_KEY": os.environ.get("SECRET_KEY", "test-only-" + "k" * 50), "ALLOWED_HOSTS": "127.0.0.1",
           "SECURE_SSL_REDIRECT": "0", "WEB_CONCURRENCY": "1", "WEB_THREADS": "2", "LOG_LEVEL": "INFO"}
    env.pop("WEB_WORKER_CLASS", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "slaportal.wsgi:application", "-c", CONF,
         "--bind", f"127.0.0.1:{port}", "--no-control-socket"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        a = socket.create_connection(("127.0.0.1", port), timeout=20)
        b = socket.create_connection(("127.0.0.1", port), timeout=20)
        for s in (b, a):
            s.sendall(b"GET /api/no-such-route/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for s in (b, a):
            assert b" 404 " in s.recv(4096).split(b"\r\n", 1)[0]
        a.close()
        b.close()
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    assert "Using worker: gthread" in out, out[-3000:]
