"""The sweep and sender loops as real processes against the test database, with a real SMTP sink
and a real Redis broker started by the test:

- a sender killed with SIGKILL in the middle of a batch of 100 escalations loses nothing and sends
  nothing twice once it is restarted, and no row stays 'sending';
- with the broker dead, clocks falling due are breached and their escalations written within 2 s
  and delivered anyway; when the broker returns nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import email
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.utils import timezone

from notifications.choices import Status
from notifications.models import Notification
from sla.choices import ClockState
from sla.models import Clock, ContractPolicy, SlaPolicy
from sla.services import clock_start, clocks_sweep
from tests import factories as f
from tests.notifications.servers import free_port
from tests.sla.test_worker_beat import _db_url, _stop, _wait_for

ROOT = Path(__file__).resolve().parents[2]


class GatedSink:
    """An SMTP server that accepts slowly and, from message `gate_at` on, holds every message
    unanswered until released, then answers 451 (not accepted): the moment to kill the sender
    is while it waits for an answer, which is when a real sender spends its time."""

    def __init__(self, *, delay: float = 0.0, gate_at: int | None = None) -> None:
        self.delay = delay
        self.gate_at = gate_at
        self.accepted: list[str] = []
        self.lock = threading.Lock()
        self.seen = 0
        self.held = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.seen += 1
            gated = self.gate_at is not None and self.seen >= self.gate_at and not self.release.is_set()
        if gated:
            self.held.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
            return "451 4.3.0 Try again later"
        if self.delay:
            await asyncio.sleep(self.delay)
        msg = email.message_from_bytes(envelope.content)
        with self.lock:
            self.accepted.append(msg["X-SLA-Idempotency-Key"])
        return "250 Message accepted for delivery"

    def counts(self) -> Counter[str]:
        with self.lock:
            return Counter(self.accepted)


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "slaportal.settings", "DATABASE_URL": _db_url(),
           "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "SLAPORTAL_VAR_DIR": str(settings.VAR_DIR),
           "SECRET_KEY": "test-loops-" + "x" * 50, "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"}
    env.pop("EMAIL_BACKEND", None)
    env.update(extra)
    return env


def _manage(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, str(ROOT / "manage.py"), *args], cwd=ROOT, env=env,
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


def _escalations(n_clocks: int) -> list[int]:
    """n_clocks breached C8 clocks × (a manager + the assignee) = 2 × n_clocks escalation rows."""
    f.StaffFactory(role="manager", username="mia")
    assignee = f.StaffFactory(role="specialist", username="sam")
    t0 = timezone.now() - timedelta(days=2)
    for _ in range(n_clocks):
        contract = f.ContractFactory()
        clock_start(subject=contract, policy_code="C8", contract=contract, assignee=assignee, now=t0)
    r = clocks_sweep()
    assert len(r.breached) == n_clocks
    return list(Notification.objects.filter(kind="clock_breach").values_list("pk", flat=True))


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_sender_killed_mid_batch_loses_nothing_and_sends_nothing_twice(tmp_path):
    ids = _escalations(50)
    assert len(ids) == 100
    Notification.objects.exclude(pk__in=ids).delete()  # the warnings: not this test's subject
    sink = GatedSink(delay=0.02, gate_at=41)
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    env = _env(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(controller.port))
    log = tmp_path / "sender.log"
    # One sending thread: when the sink holds message 41, nothing else is between "accepted"
    # and "saved", so the count below can demand exactly once.
    sender = _manage(["send_notifications", "--threads", "1"], env, log)
    restarted = None
    try:
        assert _wait_for(sink.held.is_set, 60), log.read_text(errors="replace")
        os.killpg(sender.pid, signal.SIGKILL)
        sender.wait(10)
        sink.release.set()
        before = sink.counts()
        assert sum(before.values()) == 40 and max(before.values()) == 1
        stuck = Notification.objects.filter(pk__in=ids, status=Status.SENDING)
        stuck_before = stuck.count()
        assert stuck_before >= 1  # the one in flight and the rest of its batch, leased to the dead pid

        t_restart = time.monotonic()
        restarted = _manage(["send_notifications", "--threads", "4"], env, log)
        done = _wait_for(lambda: not Notification.objects.filter(
            pk__in=ids, status__in=[Status.PENDING, Status.SENDING]).exists(), 60)
        elapsed = time.monotonic() - t_restart
        assert done, log.read_text(errors="replace")[-3000:]
        assert elapsed < 60
        counts = sink.counts()
        keys = set(Notification.objects.filter(pk__in=ids).values_list("idempotency_key", flat=True))
        assert set(counts) == keys and len(keys) == 100
        assert max(counts.values()) == 1, [k for k, c in counts.items() if c > 1]
        assert set(Notification.objects.filter(pk__in=ids).values_list("status", flat=True)) == {Status.SENT}
        retried = Notification.objects.filter(pk__in=ids, attempts=2)
        assert retried.count() == stuck_before
        # "第 2 次尝试（上一次发送中断）：…" — attempt 2 (an earlier attempt was interrupted)
        assert all("中断" in d for d in retried.values_list("detail", flat=True))
        assert restarted.poll() is None
    finally:
        sink.release.set()
        if restarted is not None:
            _stop(restarted)
        _stop(sender)
        controller.stop()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_broker_down_breaches_within_2s_and_delivers_without_it(tmp_path):
    redis_server = shutil.which("redis-server")
    assert redis_server, "redis-server is installed by scripts/bootstrap.sh"
    rport = free_port()

    def start_redis() -> subprocess.Popen[bytes]:
        p = subprocess.Popen([redis_server, "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no", "--dir", str(tmp_path)],
                             stdout=(tmp_path / "redis.log").open("ab"), stderr=subprocess.STDOUT,
                             start_new_session=True)
        import socket

        def up() -> bool:
            try:
                socket.create_connection(("127.0.0.1", rport), 0.2).close()
                return True
            except OSError:
                return False

        assert _wait_for(up, 10)
        return p

    manager = f.StaffFactory(role="manager", username="mia")
    assignee = f.StaffFactory(role="specialist", username="sam")
    c5 = SlaPolicy.objects.get(code="C5")
    contracts = [f.ContractFactory() for _ in range(10)]
    for c in contracts:  # C5 due 0.05 min = 3 s after its start
        ContractPolicy.objects.create(contract=c, policy=c5, threshold=Decimal("0.05"))

    redis = start_redis()
    sink = GatedSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    # A long safety poll: on PostgreSQL only the commit's NOTIFY can wake the sweep early.
    env = _env(EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(controller.port),
               CELERY_BROKER_URL=f"redis://127.0.0.1:{rport}/0", LOOP_SAFETY_POLL_SECONDS="30")
    logs = {n: tmp_path / f"{n}.log" for n in ("sweep", "sender", "worker")}
    procs = {
        "sweep": _manage(["run_sweep"], env, logs["sweep"]),
        "sender": _manage(["send_notifications"], env, logs["sender"]),
        "worker": subprocess.Popen(
            [str(Path(sys.executable).with_name("celery")), "-A", "slaportal", "worker", "-l", "INFO",
             "-c", "1", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"brokertest-{os.getpid()}@%h"], cwd=ROOT, env=env,
            stdout=logs["worker"].open("ab"), stderr=subprocess.STDOUT, start_new_session=True),
    }
    try:
        assert _wait_for(lambda: b"sweep loop started" in logs["sweep"].read_bytes(), 30)
        assert _wait_for(lambda: b"ready." in logs["worker"].read_bytes(), 60), logs["worker"].read_text()
        os.killpg(redis.pid, signal.SIGKILL)  # the broker is gone
        redis.wait(5)
        time.sleep(5)  # long enough for the sweep to be asleep until its next deadline

        clocks = [clock_start(subject=c, policy_code="C5", contract=c, assignee=assignee, label="broker")
                  for c in contracts]
        due = max(c.due_at for c in clocks)

        rows = Notification.objects.filter(kind="clock_breach", object_id__in=[c.pk for c in clocks])

        def all_breached_and_escalated() -> bool:
            # The breach is committed first, its escalations a moment later: both within 2 s.
            return (Clock.objects.filter(pk__in=[c.pk for c in clocks], state=ClockState.BREACHED).count() == 10
                    and rows.count() == 20)  # the manager and the assignee, for each clock

        assert _wait_for(all_breached_and_escalated, (due - timezone.now()).total_seconds() + 2, step=0.02), \
            logs["sweep"].read_text(errors="replace")[-3000:]
        for c in Clock.objects.filter(pk__in=[c.pk for c in clocks]):
            assert timedelta(0) <= c.breached_at - c.due_at < timedelta(seconds=2)
        # Delivered with the broker still dead.
        breach_keys = set(rows.values_list("idempotency_key", flat=True))
        assert _wait_for(lambda: breach_keys <= set(sink.counts()), 60), logs["sender"].read_text()[-3000:]

        redis = start_redis()  # the broker returns
        time.sleep(8)
        counts = sink.counts()
        assert max(counts.values()) == 1
        assert not Notification.objects.filter(status__in=[Status.PENDING, Status.SENDING]).exists()
        for name, p in procs.items():
            assert p.poll() is None, f"{name} died: {logs[name].read_text(errors='replace')[-2000:]}"
        assert manager.email and assignee.email
    finally:
        for p in procs.values():
            _stop(p)
        if redis.poll() is None:
            os.killpg(redis.pid, signal.SIGKILL)
        controller.stop()
