"""gunicorn's configuration (scripts/run.py starts `gunicorn -c slaportal/gunicorn_conf.py ...`):
its own lines (start, workers, errors) and the access lines in the portal's log format and clock,
the same as the app's, the Celery worker's and beat's (slaportal/logging.py):

    time=2026-03-02T10:00:00.123+08:00 level=INFO logger=gunicorn.access msg=remote=127.0.0.1
    request="GET /healthz HTTP/1.1" status=200 bytes=93 duration_ms=4 agent="curl/8.5.0"

How the web uses its cores (read from the environment; `make run` and a systemd unit alike):

    WEB_WORKER_CLASS  gthread (default) or sync: gthread serves WEB_THREADS requests at once per
                      worker process (a request waiting on the database does not hold up the
                      others); sync serves one at a time per process (WEB_THREADS is then 1).
    WEB_CONCURRENCY   worker processes (default 2: one per core of a small host).
    WEB_THREADS       threads per gthread worker (default 4).
    WEB_DB_CONNECTIONS_MAX  the most database connections the web may hold (default 40).
    WEB_KEEPALIVE     seconds a client's connection is kept open for its next request (default 0:
                      closed after each response). A gthread worker keeps the connections it
                      accepted: with keep-alive, two busy clients often end up on one process,
                      sharing its one core (its GIL) while the other process idles, which doubled
                      the median response in bench/scale_bench.py (one run in two). Closed, each
                      request is accepted anew, mostly by the idle process. Behind nginx (which
                      speaks HTTP/1.0 to its upstream by default) nothing changes; a reconnect
                      on the same host costs a fraction of a millisecond.

Django keeps one database connection per thread (CONN_MAX_AGE, settings.py), so one web host
holds at most WEB_CONCURRENCY x WEB_THREADS connections: 2 x 4 = 8 by default. The product must
stay within WEB_DB_CONNECTIONS_MAX, or gunicorn refuses to start and says why: PostgreSQL allows
100 connections by default (max_connections), and the Celery worker, beat, the sweep and sender
loops (NOTIFICATION_SENDER_THREADS) and a second web host need theirs too.

Command-line options (bind, timeouts) still come from the command line; one given there
(--workers, --threads, -k) overrides these."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

# gunicorn loads this file by path: make the project importable whatever the working directory.
_PROJECT = str(Path(__file__).resolve().parent.parent)
if _PROJECT not in sys.path:
    sys.path.insert(0, _PROJECT)

from slaportal.logging import ACCESS_LOG_FORMAT, DEFAULT_TIME_ZONE, logging_config  # noqa: E402

loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()
logconfig_dict = logging_config(level=loglevel.upper(), time_zone=DEFAULT_TIME_ZONE)
# Access lines on stdout (the "access" handler), errors on stderr; no %(t)s: the time is the line's.
accesslog = "-"
access_log_format = ACCESS_LOG_FORMAT


WORKER_CLASSES = {"sync": "sync", "gthread": "gthread"}


def web_concurrency(environ: Mapping[str, str]) -> dict[str, object]:
    """gunicorn's worker_class, workers and threads from WEB_WORKER_CLASS, WEB_CONCURRENCY and
    WEB_THREADS, checked against WEB_DB_CONNECTIONS_MAX (one database connection per thread)."""

    def whole(name: str, default: int) -> int:
        raw = environ.get(name, "").strip() or str(default)
        try:
            value = int(raw)
        except ValueError:
            raise RuntimeError(f"{name} must be a whole number, not {raw!r}") from None
        if value < 1:
            raise RuntimeError(f"{name} must be at least 1, not {value}")
        return value

    kind = (environ.get("WEB_WORKER_CLASS", "").strip() or "gthread").lower()
    if kind not in WORKER_CLASSES:
        raise RuntimeError(f"WEB_WORKER_CLASS must be one of {', '.join(WORKER_CLASSES)}, not {kind!r}")
    workers = whole("WEB_CONCURRENCY", 2)
    # gunicorn would quietly turn a sync worker with threads into gthread: sync means one.
    threads = whole("WEB_THREADS", 4) if kind == "gthread" else 1
    budget = whole("WEB_DB_CONNECTIONS_MAX", 40)
    raw_keepalive = environ.get("WEB_KEEPALIVE", "").strip() or "0"
    if not raw_keepalive.isdigit() or int(raw_keepalive) > 300:
        raise RuntimeError(f"WEB_KEEPALIVE must be a whole number of seconds from 0 to 300, not {raw_keepalive!r}")
    if workers * threads > budget:
        raise RuntimeError(
            f"WEB_CONCURRENCY x WEB_THREADS = {workers} x {threads} = {workers * threads} database "
            f"connections, more than WEB_DB_CONNECTIONS_MAX ({budget}): lower one of them, or raise "
            f"WEB_DB_CONNECTIONS_MAX if the database allows it (PostgreSQL: max_connections)")
    return {"worker_class": WORKER_CLASSES[kind], "workers": workers, "threads": threads,
            "db_connections": workers * threads, "keepalive": int(raw_keepalive)}


_web = web_concurrency(os.environ)
worker_class = _web["worker_class"]
workers = _web["workers"]
threads = _web["threads"]
keepalive = _web["keepalive"]
