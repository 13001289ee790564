"""A real SNMP agent for the traffic tests: net-snmp's snmpd as a non-root process on a high UDP
port of 127.0.0.1, with the IF-MIB counters served by agent_pass.py from a JSON file the test
writes (so the test decides every counter value, including wraps), and sysUpTime by snmpd itself
(so restarting the agent is a real device restart: sysUpTime starts again from zero).

Why net-snmp and not snmpsim: it is the agent most switches' SNMP stacks behave like, it is a
Debian package (no PyPI download at test time), and pass_persist lets the test change counters
between two polls by rewriting one file."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SNMPD = shutil.which("snmpd") or "/usr/sbin/snmpd"
COMMUNITY = "traffic-test"


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SnmpAgent:
    """Start/stop/restart one snmpd; `set_counters()` rewrites the data file it serves."""

    def __init__(self, *, synth: int = 0, port: int | None = None, v3_user: str = "",
                 v3_auth: str = "", v3_priv: str = "") -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="snmpd-"))
        self.port = port or free_udp_port()
        self.data = self.dir / "counters.json"
        self.synth = synth
        self.proc: subprocess.Popen[bytes] | None = None
        script = self.dir / "pass.sh"
        # snmpd runs the pass_persist command through a shell line: a wrapper keeps the Python
        # interpreter and the data path explicit.
        script.write_text(f"#!/bin/sh\nSYNTH={synth} exec {sys.executable} {HERE / 'agent_pass.py'} {self.data}\n")
        script.chmod(0o755)
        lines = [
            f"rocommunity {COMMUNITY} 127.0.0.1",
            f"pass_persist .1.3.6.1.2.1.2.2.1 {script}",
            f"pass_persist .1.3.6.1.2.1.31.1.1.1 {script}",
        ]
        if v3_user:
            lines += [f"createUser {v3_user} SHA {v3_auth} AES {v3_priv}", f"rouser {v3_user} priv"]
        (self.dir / "snmpd.conf").write_text("\n".join(lines) + "\n")
        self.set_counters({})

    def set_counters(self, table: dict[int, dict[str, Any]]) -> None:
        tmp = self.data.with_suffix(".tmp")
        tmp.write_text(json.dumps({str(k): v for k, v in table.items()}))
        os.replace(tmp, self.data)  # atomic: the agent never reads half a file
        # mtime granularity: make sure two writes within one tick are seen as different.
        st = self.data.stat()
        os.utime(self.data, ns=(st.st_atime_ns, st.st_mtime_ns + 1))

    def start(self) -> None:
        # -f foreground, -C only our config, -I: the interfaces modules off so our pass_persist
        # owns ifTable/ifXTable; persistent state in our own directory (not /var/lib/snmp).
        # Persistent state (engineBoots...) in a directory of its own: snmpd rewrites an
        # snmpd.conf there, which must not be our configuration file.
        (self.dir / "state").mkdir(exist_ok=True)
        env = {**os.environ, "SNMP_PERSISTENT_DIR": str(self.dir / "state"), "MIBS": ""}
        self.proc = subprocess.Popen(
            [SNMPD, "-f", "-Lf", str(self.dir / "snmpd.log"), "-C", "-c", str(self.dir / "snmpd.conf"),
             "-I", "-ifTable,ifXTable,interfaces,ifXTable,if-mib",
             "-p", str(self.dir / "snmpd.pid"), f"udp:127.0.0.1:{self.port}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            r = subprocess.run(["snmpget", "-v2c", "-c", COMMUNITY, "-t", "0.3", "-r", "0",
                                f"127.0.0.1:{self.port}", "1.3.6.1.2.1.1.3.0"],
                               capture_output=True, text=True)
            if r.returncode == 0:
                return
            if self.proc is not None and self.proc.poll() is not None:
                break
            time.sleep(0.1)
        log = (self.dir / "snmpd.log").read_text() if (self.dir / "snmpd.log").exists() else ""
        raise RuntimeError(f"snmpd did not start on port {self.port}: {log[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None

    def restart(self) -> None:
        """A device restart: a new process, so sysUpTime starts from zero again."""
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
