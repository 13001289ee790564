"""The ICMP echo path of the device check, run for real.

This machine's kernel does not let unprivileged processes open ICMP sockets
(net.ipv4.ping_group_range is "1 0"), so in the test run the device check falls back to a TCP
connect. To prove the ICMP code itself, this test makes a network namespace of its own, allows
ICMP sockets there (the sysctl is per namespace), and probes 127.0.0.1 inside it: answered, then
ignored (net.ipv4.icmp_echo_ignore_all=1), so both outcomes come from a real kernel. Nothing
leaves the namespace. Creating a namespace needs root: CI runs as root; on a developer machine
without root the test says so instead of passing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio, json, sys
sys.path.insert(0, %(root)r)
from monitoring.probes import ProbeSpec, icmp_allowed, probe
spec = ProbeSpec(id=1, kind="device", host="127.0.0.1", port=9, url="", expected_status=200, timeout=1.5)
r = asyncio.run(probe(spec))
print(json.dumps({"allowed": icmp_allowed(), "ok": r.ok, "method": r.method, "detail": r.detail}))
"""


def _in_netns(ns: str, *cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True, timeout=30)


@pytest.fixture
def netns():
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2 to create a network namespace (CI has both)")
    ns = f"slaportal-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True, timeout=30)
    try:
        for cmd in (["ip", "link", "set", "lo", "up"],
                    ["sysctl", "-q", "-w", "net.ipv4.ping_group_range=0 2147483647"]):
            r = _in_netns(ns, *cmd)
            assert r.returncode == 0, r.stderr
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], timeout=30)


def _probe(ns: str) -> dict[str, object]:
    env_python = sys.executable
    r = _in_netns(ns, env_python, "-c", SCRIPT % {"root": str(ROOT)})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_device_check_uses_icmp_where_allowed_and_reports_both_outcomes(netns):
    answered = _probe(netns)
    assert answered == {"allowed": True, "ok": True, "method": "icmp", "detail": "echo reply"}

    r = _in_netns(netns, "sysctl", "-q", "-w", "net.ipv4.icmp_echo_ignore_all=1")
    assert r.returncode == 0, r.stderr
    ignored = _probe(netns)
    assert ignored["allowed"] is True and ignored["method"] == "icmp"
    assert ignored["ok"] is False and "1.5" in str(ignored["detail"])  # timed out after 1.5s
