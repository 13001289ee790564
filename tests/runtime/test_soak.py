"""Soak: `make run` on the embedded defaults (SQLite, the run's own Redis, the mail catcher) for
SOAK_SECONDS (180 by default) while scripts/soak_drive.py drives complaints, PDF reports and
short clocks through it and reads pages. A third of the way in, the notification sender is
killed with SIGKILL, as a crash would: the supervisor must restart it, and nothing may be lost.
No other child may exit; every clock that fell due is breached once; every notification row ends
sent or failed; no 5xx."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.notifications.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.soak
def test_make_run_stays_up_under_use(tmp_path):
    seconds = float(os.environ.get("SOAK_SECONDS", "180"))
    port = free_port()
    var = tmp_path / "var"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE",
                        "SECRET_KEY", "ALLOWED_HOSTS", "EMAIL_HOST", "EMAIL_BACKEND", "SLAPORTAL_REQUIRE_SERVICES")}
    env.update({"PORT": str(port), "SLAPORTAL_VAR_DIR": str(var), "PYTHONUNBUFFERED": "1"})
    log = tmp_path / "run.log"
    run = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "run.py")], cwd=ROOT, env=env,
                           stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        up = False
        while time.monotonic() < deadline and run.poll() is None:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=3) as r:
                    up = r.status == 200
            except Exception:  # noqa: BLE001 - not up yet
                pass
            if up:
                break
            time.sleep(0.5)
        assert up, log.read_text(errors="replace")[-4000:]
        killed: list[int] = []

        def kill_the_sender() -> None:
            time.sleep(seconds / 3)
            with urllib.request.urlopen(url + "/healthz", timeout=5) as r:
                pid = json.loads(r.read())["loops"]["sender"]["pid"]
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

        killer = threading.Thread(target=kill_the_sender, daemon=True)
        killer.start()
        drive = subprocess.run([sys.executable, str(ROOT / "scripts" / "soak_drive.py"), url, str(seconds)],
                               cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "slaportal.settings"},
                               capture_output=True, text=True, timeout=seconds + 300)
        text = log.read_text(errors="replace")
        assert drive.returncode == 0, (drive.stdout[-3000:], drive.stderr[-3000:], text[-3000:])
        result = json.loads(drive.stdout.strip().splitlines()[-1])
        assert result["short_clocks"] >= seconds / 3 and result["reports"] >= 1, result
        assert result["notifications"].get("sent", 0) > 0, result
        # The killed sender was restarted; no other child died.
        killer.join(5)
        assert killed, "the sender was not killed"
        exits = [ln for ln in text.splitlines() if "exited with status" in ln]
        assert len(exits) == 1 and "sender exited with status -9; restarting it in 1 s" in exits[0], exits
        assert "restarted sender" in text
        with urllib.request.urlopen(url + "/healthz", timeout=5) as r:
            health = json.loads(r.read())
        assert health["status"] == "ok", health
        caught = list((var / "mailcatcher").glob("*.eml"))
        assert len(caught) >= result["notifications"]["sent"], len(caught)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGTERM)
            try:
                run.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait(10)
    assert run.returncode == 0, log.read_text(errors="replace")[-3000:]
    assert "all stopped" in log.read_text(errors="replace")
