#!/usr/bin/env python3
"""net-snmp pass_persist back end for the traffic tests: serves IF-MIB interface counters and
names from a JSON file the test writes (re-read when it changes), or, with SYNTH=<n> in the
environment, n synthetic interfaces whose counters advance with the clock (the benchmark).

File: {"<ifIndex>": {"name": "Gi0/1", "descr": "...", "hc_in": int, "hc_out": int,
"in": int, "out": int}}; a missing "hc_in" makes the 64-bit counters absent (an old device)."""

import json
import os
import sys
import time

IFDESCR, IFIN, IFOUT = "1.3.6.1.2.1.2.2.1.2", "1.3.6.1.2.1.2.2.1.10", "1.3.6.1.2.1.2.2.1.16"
IFNAME, HCIN, HCOUT = "1.3.6.1.2.1.31.1.1.1.1", "1.3.6.1.2.1.31.1.1.1.6", "1.3.6.1.2.1.31.1.1.1.10"
PATH = sys.argv[1] if len(sys.argv) > 1 else ""
SYNTH = int(os.environ.get("SYNTH", "0"))

_cache: dict = {"mtime": None, "table": {}, "keys": []}


def _key(oid: str) -> tuple:
    return tuple(int(p) for p in oid.strip(".").split("."))


def _table() -> dict:
    try:
        mtime = os.stat(PATH).st_mtime_ns
    except OSError:
        return {}
    if mtime == _cache["mtime"]:
        return _cache["table"]
    with open(PATH) as fh:
        data = json.load(fh)
    _cache["mtime"] = mtime
    table: dict = {}
    for idx, row in data.items():
        table[f"{IFDESCR}.{idx}"] = ("string", row.get("descr", row.get("name", "")))
        table[f"{IFIN}.{idx}"] = ("counter", row.get("in", 0) % 2**32)
        table[f"{IFOUT}.{idx}"] = ("counter", row.get("out", 0) % 2**32)
        table[f"{IFNAME}.{idx}"] = ("string", row.get("name", ""))
        if "hc_in" in row:
            table[f"{HCIN}.{idx}"] = ("counter64", row["hc_in"] % 2**64)
            table[f"{HCOUT}.{idx}"] = ("counter64", row["hc_out"] % 2**64)
    _cache["table"] = table
    _cache["keys"] = sorted(table, key=_key)
    return table


def _keys(table: dict) -> list:
    return _cache["keys"]


def _synth(oid: str) -> str:
    """One synthetic interface counter, computed on demand (10,000 interfaces, no table)."""
    base, _, idx = oid.rpartition(".")
    if not idx.isdigit() or not 1 <= int(idx) <= SYNTH:
        return "NONE\n"
    i, t = int(idx), int(time.time())
    value = {HCIN: ("counter64", i * 1000 * t), HCOUT: ("counter64", i * 2000 * t),
             IFIN: ("counter", (i * 1000 * t) % 2**32), IFOUT: ("counter", (i * 2000 * t) % 2**32),
             IFNAME: ("string", f"Gi{i}"), IFDESCR: ("string", f"port {i}")}.get(base)
    if value is None:
        return "NONE\n"
    return f".{oid}\n{value[0]}\n{value[1]}\n"


def main() -> None:
    out = sys.stdout
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "PING":
            out.write("PONG\n")
        elif cmd in ("get", "getnext"):
            oid = sys.stdin.readline().strip().lstrip(".")
            if SYNTH and cmd == "get":
                out.write(_synth(oid))
                out.flush()
                continue
            table = _table()
            found = None
            if cmd == "get":
                found = oid if oid in table else None
            else:
                k = _key(oid)
                for cand in _keys(table):
                    if _key(cand) > k:
                        found = cand
                        break
            if found is None:
                out.write("NONE\n")
            else:
                typ, val = table[found]
                out.write(f".{found}\n{typ}\n{val}\n")
        elif cmd == "set":
            sys.stdin.readline()
            sys.stdin.readline()
            out.write("not-writable\n")
        elif cmd == "":
            break
        out.flush()


if __name__ == "__main__":
    main()
