"""Probe throughput on loopback: N targets (half TCP-connect device checks, half HTTP checks)
spread over a few local servers in a separate process; reports targets per second and the time
one 5-minute cycle of 10,000 targets needs. Loopback only; bounded (--max-seconds); stops itself.

    .venv/bin/python bench/probe_bench.py [--targets 10000] [--concurrency 500]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("SLAPORTAL_PROBE_NO_ICMP", "1")  # measure the TCP path (ICMP is loopback-cheap anyway)

from monitoring.probes import ProbeSpec, probe_many  # noqa: E402

SERVERS = 8


def serve(ports: mp.Queue[int], stop: mp.Event) -> None:  # type: ignore[name-defined]
    async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def tcp(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    async def main() -> None:
        servers = []
        for i in range(SERVERS):
            s = await asyncio.start_server(http if i % 2 else tcp, "127.0.0.1", 0, backlog=4096)
            servers.append(s)
            ports.put(s.sockets[0].getsockname()[1])
        while not stop.is_set():
            await asyncio.sleep(0.2)

    asyncio.run(main())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", type=int, default=10000)
    ap.add_argument("--concurrency", type=int, default=500)
    ap.add_argument("--max-seconds", type=float, default=240.0)
    args = ap.parse_args()
    ports: mp.Queue[int] = mp.Queue()
    stop = mp.Event()
    proc = mp.Process(target=serve, args=(ports, stop), daemon=True)
    proc.start()
    try:
        plist = [ports.get(timeout=10) for _ in range(SERVERS)]
        # Server i is HTTP when i is odd (see serve()); keep the pairing by order of start.
        specs = []
        for n in range(args.targets):
            i = n % SERVERS
            if i % 2:
                specs.append(ProbeSpec(n, "www", "", None, f"http://127.0.0.1:{plist[i]}/", 200, 5.0))
            else:
                specs.append(ProbeSpec(n, "device", "127.0.0.1", plist[i], "", 200, 5.0))
        started = time.monotonic()
        results = asyncio.run(asyncio.wait_for(probe_many(specs, concurrency=args.concurrency),
                                               args.max_seconds))
        took = time.monotonic() - started
    finally:
        stop.set()
        proc.join(5)
        if proc.is_alive():
            proc.terminate()
    ok = sum(r.ok for r in results)
    print(f"targets={args.targets} concurrency={args.concurrency} ok={ok} failed={len(results) - ok}")
    print(f"elapsed={took:.2f}s throughput={args.targets / took:.0f} targets/s")
    print(f"one 5-minute cycle of 10,000 targets: {10000 / (args.targets / took):.1f}s of probing "
          f"({10000 / (args.targets / took) / 300 * 100:.1f}% of the interval)")


if __name__ == "__main__":
    main()
