"""Log lines: one format and one clock (ISO-8601 with the +08:00 offset) in every process, no
traceback for a 4xx, no secrets from URLs, no bodies of e-mails or attachments."""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.mime.base import MIMEBase
from pathlib import Path

import pytest
from django.conf import settings
from django.core.mail import EmailMessage

from slaportal.logging import (
    ACCESS_LOG_FORMAT,
    DEFAULT_TIME_ZONE,
    IsoTimeFormatter,
    SummaryEmailBackend,
    redact,
)

BASE = Path(__file__).resolve().parent.parent.parent
LINE = re.compile(r"^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+08:00 level=[A-Z]+ logger=\S+ msg=")


@contextmanager
def console_output() -> Iterator[io.StringIO]:
    """What the configured console handler (settings.LOGGING) writes, while the block runs."""
    handler = next(h for h in logging.getLogger().handlers if h.name == "console")
    out = io.StringIO()
    old = handler.setStream(out)  # type: ignore[attr-defined]
    try:
        yield out
    finally:
        handler.setStream(old)  # type: ignore[attr-defined]


def test_the_log_zone_is_the_projects_time_zone():
    assert DEFAULT_TIME_ZONE == settings.TIME_ZONE == "Asia/Shanghai"


def test_time_is_iso_8601_with_offset_in_asia_shanghai_and_a_record_is_one_line():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "first\nforged line=%s", ("a\r\nb",), None)
    record.created = 1772416800.25  # 2026-03-02 02:00:00.250 UTC
    line = IsoTimeFormatter(tz=DEFAULT_TIME_ZONE).format(record)
    assert line == ("time=2026-03-02T10:00:00.250+08:00 level=WARNING logger=x "
                    "msg=first\\nforged line=a\\r\\nb")


def test_a_403_page_logs_one_line_without_a_traceback(client, alice):
    client.force_login(alice)
    with console_output() as out:
        r = client.get("/sla/overdue/")  # staff only: PermissionDenied
    assert r.status_code == 403
    text = out.getvalue()
    assert "Forbidden" in text and "Traceback" not in text and "PermissionDenied" not in text
    assert all(LINE.match(line) for line in text.splitlines()), text


def test_a_server_error_keeps_its_traceback():
    with console_output() as out:
        try:
            raise ValueError("a bug")
        except ValueError:
            logging.getLogger("django.request").error("Internal Server Error: /x", exc_info=True,
                                                     extra={"status_code": 500})
    assert "Traceback" in out.getvalue() and "ValueError: a bug" in out.getvalue()


def test_secrets_in_urls_are_masked():
    assert redact('"GET /api/webhooks/alerts/?token=s3cr3t&x=1 HTTP/1.1"') == \
        '"GET /api/webhooks/alerts/?token=***&x=1 HTTP/1.1"'
    with console_output() as out:
        logging.getLogger("gunicorn.error").warning("bad request %s", "/login?password=hunter2")
    assert "hunter2" not in out.getvalue() and "password=***" in out.getvalue()


def test_the_development_mail_backend_logs_no_body_and_no_attachment(caplog):
    m = EmailMessage("投诉报告 TS1", "机密正文 body text", "from@x.test", ["to@y.test"])
    m.attach("report.pdf", b"%PDF-1.4 secret pdf bytes", "application/pdf")
    part = MIMEBase("text", "calendar")
    part.set_payload("BEGIN:VCALENDAR secret")
    part.add_header("Content-Disposition", "attachment", filename="invite.ics")
    m.attach(part)
    with caplog.at_level(logging.INFO, logger="slaportal.mail"):
        assert SummaryEmailBackend().send_messages([m]) == 1
    text = caplog.text
    assert "投诉报告 TS1" in text and "to@y.test" in text and "report.pdf(application/pdf,25B)" in text
    assert "invite.ics(text/calendar," in text
    assert "机密正文" not in text and "secret" not in text


# --- Every process ------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    env = {**os.environ, "TZ": "UTC", "DJANGO_SETTINGS_MODULE": "slaportal.settings_test", "PYTHONPATH": str(BASE)}
    env.setdefault("SECRET_KEY", "test-only-" + "k" * 50)
    env["ALLOWED_HOSTS"] = "127.0.0.1"
    env["SECURE_SSL_REDIRECT"] = "0"
    return env


def test_gunicorn_lines_use_the_same_format_and_clock_even_with_the_machine_on_utc():
    """The lead starts the web with `-c slaportal/gunicorn_conf.py`: its own lines, the access
    lines and the app's lines all carry +08:00, though the process runs with TZ=UTC."""
    assert "%(t)s" not in ACCESS_LOG_FORMAT
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "slaportal.wsgi:application", "-c", "slaportal/gunicorn_conf.py",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--no-control-socket"],
        cwd=BASE, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(b"GET /api/no-such-route/?token=s3cr3t HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                    reply = s.recv(4096)
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        assert b" 404 " in reply.split(b"\r\n", 1)[0]
        time.sleep(0.5)
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    lines = [line for line in out.splitlines() if line.startswith("time=")]
    assert any("logger=gunicorn.error msg=Listening at" in line for line in lines), out
    access = [line for line in lines if "logger=gunicorn.access" in line]
    # One line per request; a connection reset while gunicorn boots makes the loop above ask
    # again, so there may be two (seen on a loaded machine), each in the same format.
    assert 1 <= len(access) <= 2 and all(
        'request="GET /api/no-such-route/?token=*** HTTP/1.0" status=404' in a for a in access), access
    assert any("logger=django.request msg=Not Found: /api/no-such-route/" in line for line in lines), out
    assert all(LINE.match(line) for line in lines), out
    assert "s3cr3t" not in out


@pytest.mark.parametrize("argv", [
    ["worker", "--pool", "solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
     "-Q", "api-logging-test-queue"],
    ["beat", "--scheduler", "celery.beat:PersistentScheduler"],
], ids=["worker", "beat"])
def test_celery_lines_use_the_same_format_and_clock(argv, tmp_path):
    """Celery configures no logging of its own (the setup_logging receiver in slaportal/celery.py):
    the worker's and beat's lines are settings.LOGGING's, +08:00 with the machine on UTC."""
    if argv[0] == "beat":
        argv = [*argv, "--schedule", str(tmp_path / "beat-schedule")]
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "slaportal", *argv, "-l", "info"],
                            cwd=BASE, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    ready = "ready." if argv[0] == "worker" else "beat: Starting"
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        for line in proc.stdout:
            seen.append(line.rstrip("\n"))
            if ready in line or time.monotonic() > deadline:
                break
    finally:
        proc.terminate()
        rest, _ = proc.communicate(timeout=30)
    lines = [line for line in [*seen, *rest.splitlines()] if line.startswith("time=")]
    assert any(ready in line for line in lines), "\n".join(seen)
    assert all(LINE.match(line) for line in lines), "\n".join(lines)
    # Nothing in Celery's own format ("[2026-03-02 10:00:00,000: INFO/MainProcess] ...").
    assert not any(re.match(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: ", line) for line in [*seen, *rest.splitlines()])
