"""End to end with the real moving parts: a Celery worker and Celery beat (DatabaseScheduler, as
`make run` starts them) against the test database and broker, and an SMTP server on 127.0.0.1.
A clock due in 3 s must be marked breached within 5 s of its deadline, and each recipient must get
exactly one escalation e-mail."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from notifications.choices import Status
from notifications.models import Notification
from sla.choices import ClockState
from sla.models import Clock, ContractPolicy, SlaPolicy
from sla.services import clock_start
from tests import factories as f
from tests.notifications.servers import SmtpServer

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).with_name("celery"))


def _db_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        name = str(db["NAME"])
        if name.startswith("file:") or name == ":memory:":
            pytest.fail("The worker test needs a database another process can open (PostgreSQL, "
                        "or SQLite with a TEST NAME file); the test database is in memory.")
        return f"sqlite:///{name}"
    return (f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:"
            f"{db.get('PORT') or 5432}/{db['NAME']}")


def _purge_broker() -> None:
    """Tasks queued by earlier runs against this broker must not reach this worker."""
    from slaportal.celery import app

    for key in ("data_folder_in", "data_folder_out", "processed_folder"):  # filesystem broker
        folder = (settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}).get(key)
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
    names = {q.name for q in app.conf.task_queues or []} | {app.conf.task_default_queue or "celery"}
    with app.connection_for_write() as conn:
        for name in names:
            conn.default_channel.queue_purge(name)


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    # Own process group: terminating it stops the worker's pool children too.
    return subprocess.Popen([CELERY, "-A", "slaportal", *args], cwd=ROOT, env=env,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)


def _stop(p: subprocess.Popen[bytes]) -> None:
    if p.poll() is not None:
        return
    os.killpg(p.pid, signal.SIGTERM)
    try:
        p.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(5)


def _wait_for(pred, timeout: float, step: float = 0.1) -> bool:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return bool(pred())


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_and_beat_breach_a_clock_within_5s_and_email_each_recipient_once(tmp_path):
    manager = f.StaffFactory(role="manager", username="mia")
    assignee = f.StaffFactory(role="specialist", username="sam")
    contract = f.ContractFactory()
    # Per-contract override: C5's first feedback due 0.05 min (3 s) after the clock starts.
    ContractPolicy.objects.create(contract=contract, policy=SlaPolicy.objects.get(code="C5"),
                                  threshold=Decimal("0.05"))
    _purge_broker()
    with SmtpServer() as smtp:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "slaportal.settings",
            "DATABASE_URL": _db_url(),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "SLAPORTAL_VAR_DIR": str(settings.VAR_DIR),
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "SLA_SWEEP_INTERVAL_SECONDS": "1",
            "LOG_LEVEL": "INFO",
        }
        env.pop("EMAIL_BACKEND", None)
        wlog, blog = tmp_path / "worker.log", tmp_path / "beat.log"
        worker = _start(["worker", "-l", "INFO", "-c", "2", "--without-gossip", "--without-mingle",
                         "--without-heartbeat", "-n", f"slatest-{os.getpid()}@%h"], env, wlog)
        beat = _start(["beat", "-l", "INFO", "--scheduler",
                       "django_celery_beat.schedulers:DatabaseScheduler"], env, blog)
        try:
            assert _wait_for(lambda: b"ready." in wlog.read_bytes() or worker.poll() is not None, 60), \
                wlog.read_text(errors="replace")
            assert worker.poll() is None, wlog.read_text(errors="replace")
            assert beat.poll() is None, blog.read_text(errors="replace")

            clock = clock_start(subject=contract, policy_code="C5", contract=contract,
                                assignee=assignee, label="worker test")
            assert timedelta(seconds=2.5) < clock.due_at - timezone.now() <= timedelta(seconds=3)

            def breached() -> bool:
                clock.refresh_from_db()
                return clock.state == ClockState.BREACHED

            assert _wait_for(breached, 3 + 10), (
                f"not breached; beat log:\n{blog.read_text(errors='replace')[-3000:]}\n"
                f"worker log:\n{wlog.read_text(errors='replace')[-3000:]}")
            lag = (clock.breached_at - clock.due_at).total_seconds()
            assert 0 <= lag < 5, lag

            def keys() -> list[str]:
                return [m["X-SLA-Idempotency-Key"] for _, m in smtp.sink.snapshot()]

            expected = sorted(f"clock:{clock.pk}:{event}:user:{u.pk}:email"
                              for event in ("warning", "breach") for u in (manager, assignee))
            assert _wait_for(lambda: len(keys()) >= len(expected), 20), keys()
            time.sleep(4)  # several more sweeps: nothing may arrive twice
            assert sorted(keys()) == expected
            rcpts = sorted(r for r, m in smtp.sink.snapshot()
                           if ":breach:" in m["X-SLA-Idempotency-Key"] for r in r)
            assert rcpts == sorted([manager.email, assignee.email])
            rows = Notification.objects.filter(object_id=clock.pk, kind="clock_breach")
            assert rows.count() == 2
            assert set(rows.values_list("status", flat=True)) == {Status.SENT}
            assert Clock.objects.get(pk=clock.pk).warned_at is not None
        finally:
            _stop(beat)
            _stop(worker)
