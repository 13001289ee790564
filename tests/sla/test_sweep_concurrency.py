"""Two sweepers at once on the real database: each due clock is claimed by exactly one of them,
and its escalations are written and queued exactly once. Threads with their own connections, and
separate OS processes, against PostgreSQL (or SQLite, which serialises writers)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from audit.models import AuditEntry
from customers.models import Customer
from notifications.models import Notification
from sla.choices import ClockState
from sla.models import Clock, SlaPolicy
from sla.services import clocks_sweep
from tests import factories as f

TZ = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=TZ)
ROOT = Path(__file__).resolve().parents[2]


def _make_clocks(n: int, *, assignee) -> list[int]:  # type: ignore[no-untyped-def]
    ct = ContentType.objects.get_for_model(Customer)
    policy = SlaPolicy.objects.get(code="C4")
    cust = f.CustomerFactory()
    # Half are past their deadline, half only past their warning time: both claims race.
    Clock.objects.bulk_create([
        Clock(content_type=ct, object_id=i + 1, label=f"incident {i}", policy=policy, customer=cust,
              assignee=assignee, target=15, unit="minutes", calendar="24x7", started_at=T0,
              due_at=T0 + timedelta(minutes=15 if i % 2 else 60), warn_at=T0 + timedelta(minutes=10))
        for i in range(n)])
    return list(Clock.objects.values_list("pk", flat=True))


def _check(all_ids: list[int], results: list[dict[str, list[int]]], recipients: int) -> None:
    breached = Counter(i for r in results for i in r["breached"])
    warned = Counter(i for r in results for i in r["warned"])
    assert all(v == 1 for v in breached.values()), "a clock was breached by two sweepers"
    assert all(v == 1 for v in warned.values()), "a clock was warned by two sweepers"
    due = set(Clock.objects.filter(due_at__lte=T0 + timedelta(minutes=20)).values_list("pk", flat=True))
    assert set(breached) == due
    assert set(warned) == set(all_ids) - due
    assert Clock.objects.filter(state=ClockState.BREACHED).count() == len(due)
    assert Clock.objects.filter(state=ClockState.RUNNING, warned_at__isnull=False).count() == len(all_ids) - len(due)
    assert Notification.objects.filter(kind="clock_breach").count() == len(due) * recipients
    assert Notification.objects.filter(kind="clock_warning").count() == (len(all_ids) - len(due)) * recipients
    ct = ContentType.objects.get_for_model(Clock)
    assert AuditEntry.objects.filter(content_type=ct, action="breach").count() == len(due)
    assert AuditEntry.objects.filter(content_type=ct, action="warn").count() == len(all_ids) - len(due)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("batch", [2000, 37])
def test_concurrent_threads_claim_each_clock_once(batch, monkeypatch, settings):
    import sla.services

    monkeypatch.setattr(sla.services, "SWEEP_BATCH", batch)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    lock = threading.Lock()
    managers = [f.StaffFactory(role="manager", username=f"m{i}") for i in range(2)]
    ids = _make_clocks(400, assignee=f.StaffFactory(role="engineer", username="eng"))
    assert len(managers) == 2

    sweepers = 4
    barrier = threading.Barrier(sweepers)
    results: list[dict[str, list[int]]] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            r = clocks_sweep(now=T0 + timedelta(minutes=20))
            with lock:
                results.append({"breached": r.breached, "warned": r.warned})
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(sweepers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(results) == sweepers
    _check(ids, results, recipients=3)
    # Four senders deliver concurrently: every notification is sent exactly once.
    from django.core import mail

    from notifications.services import notifications_deliver_due

    mail.outbox = []
    barrier2 = threading.Barrier(4)

    def send(i: int) -> None:
        try:
            barrier2.wait()
            notifications_deliver_due(worker=f"test-host:{i}")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            connection.close()

    senders = [threading.Thread(target=send, args=(i,)) for i in range(4)]
    for t in senders:
        t.start()
    for t in senders:
        t.join(120)
    assert errors == []
    keys = [m.extra_headers["X-SLA-Idempotency-Key"] for m in mail.outbox]
    assert len(keys) == len(set(keys)) == Notification.objects.count()
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    # And a later sweep finds nothing left.
    again = clocks_sweep(now=T0 + timedelta(minutes=21))
    assert again.breached == [] and again.warned == []


SWEEP_SCRIPT = """
import json, sys, time, django
django.setup()
from datetime import datetime
from sla.services import clocks_sweep
start_at = float(sys.argv[1])
while time.time() < start_at:
    time.sleep(0.001)
r = clocks_sweep(now=datetime.fromisoformat(sys.argv[2]))
print(json.dumps({"breached": r.breached, "warned": r.warned}))
"""


def _db_url() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    return (f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:"
            f"{db.get('PORT') or 5432}/{db['NAME']}")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_processes_claim_each_clock_once(tmp_path):
    if settings.DATABASES["default"]["ENGINE"].endswith("sqlite3") and \
            settings.DATABASES["default"]["NAME"].startswith(("file:", ":memory:")):
        pytest.fail("the process test needs a file or server database")
    [f.StaffFactory(role="manager", username=f"m{i}") for i in range(2)]
    ids = _make_clocks(600, assignee=None)
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "slaportal.settings", "DATABASE_URL": _db_url(),
           # The subprocesses queue their send tasks in memory: nothing leaks into a real broker.
           "CELERY_BROKER_URL": "memory://", "SLAPORTAL_VAR_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
    import time

    start_at = time.time() + 3  # all processes imported Django by then; they fire together
    procs = [subprocess.Popen([sys.executable, "-c", SWEEP_SCRIPT, str(start_at),
                               (T0 + timedelta(minutes=20)).isoformat()],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    _check(ids, results, recipients=2)
