"""gunicorn's configuration (scripts/run.py starts `gunicorn -c slaportal/gunicorn_conf.py ...`):
its own lines (start, workers, errors) and the access lines in the portal's log format and clock,
the same as the app's, the Celery worker's and beat's (slaportal/logging.py):

    time=2026-03-02T10:00:00.123+08:00 level=INFO logger=gunicorn.access msg=remote=127.0.0.1
    request="GET /healthz HTTP/1.1" status=200 bytes=93 duration_ms=4 agent="curl/8.5.0"

Command-line options (bind, workers, timeouts) still come from the command line."""

from __future__ import annotations

import os
import sys
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
