"""How fast does the optics check sweep many switches over SNMP, next to a sequential net-snmp loop?

Builds N simulated switches × 48 ports (vendors in turn: Arista, Cisco, Juniper, Huawei; .snmprec data as
in tests/services/snmpsim.py) served by several snmpsim processes on loopback, then in the same run times

- the baseline: one ``snmpbulkwalk -v2c -Cr25`` per switch and column, one after another (what a shell
  loop over net-snmp does), and
- csdiag's sweep as the optics check runs it (``diagnostics.sources.snmpcache.sweep``: the direct v2c codec of
  ``snmpfast``, all switches at once, bounded): *cold* (nothing cached: every column, as the baseline) and
  *warm* (the next run: the changing columns only, thresholds and the entity tree from the cache),
- for reference, the previous sweep: the same columns through pysnmp (``fast=False``),

for each N given (default 10 50 200), and prints the times, the ratios to the baseline and the rows fetched.

Between the client and each simulator sits a UDP relay that holds every reply DELAY_MS (default 5 ms,
``--delay-ms``): a switch's SNMP agent answers in milliseconds, not in the microseconds of loopback, and
that wait is what concurrency hides (test-services.md: no netem here). ``--delay-ms 0`` measures the raw
loopback case, where both sides are bound by CPU.

    .venv/bin/python bench/optics.py [--delay-ms MS] [N ...]
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks import optics_decode as dec  # noqa: E402
from diagnostics.sources import snmp, snmpcache  # noqa: E402
from tests.services.snmpsim import many, simulators  # noqa: E402

PLATFORM = {"arista": "arista_eos", "cisco": "cisco_ios", "juniper": "juniper_junos", "huawei": "huawei_vrp"}
PROCESSES = 4


class Relay:
    """UDP relay 127.0.0.1:port → the simulator, each reply delayed by ``delay`` seconds."""

    def __init__(self, target: int, delay: float) -> None:
        self.target, self.delay = target, delay
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result()

    async def _start(self) -> None:
        relay = self

        class Front(asyncio.DatagramProtocol):
            def connection_made(self, transport):  # type: ignore[no-untyped-def]
                self.transport = transport

            def datagram_received(self, data, client):  # type: ignore[no-untyped-def]
                front = self

                class Back(asyncio.DatagramProtocol):  # one socket per request, closed after its reply
                    def connection_made(self, transport):  # type: ignore[no-untyped-def]
                        self.transport = transport
                        transport.sendto(data)
                        relay.loop.call_later(10, transport.close)  # no reply: do not leak the socket

                    def datagram_received(self, reply, _):  # type: ignore[no-untyped-def]
                        relay.loop.call_later(relay.delay, front.transport.sendto, reply, client)
                        self.transport.close()

                relay.loop.create_task(
                    relay.loop.create_datagram_endpoint(Back, remote_addr=("127.0.0.1", relay.target))
                )

        self.front, _ = await self.loop.create_datagram_endpoint(Front, local_addr=("127.0.0.1", self.port))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.front.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


def columns(vendor: str) -> list[str]:
    return [*dec.COMMON, *dec.COLUMNS[PLATFORM[vendor]]]


def baseline(switches, ports) -> tuple[float, int]:
    rows, t0 = 0, time.perf_counter()
    for sw, port in zip(switches, ports, strict=True):
        for col in columns(sw.vendor):
            out = subprocess.run(
                ["snmpbulkwalk", "-v2c", "-c", sw.name, "-Cr25", "-On", "-Oq", "-t", "5", "-r", "2",
                 f"127.0.0.1:{port}", col],
                capture_output=True, text=True, check=False,
            ).stdout  # fmt: skip
            rows += sum(1 for line in out.splitlines() if line.startswith(".") and "No Such" not in line
                        and "No more variables" not in line)  # fmt: skip
    return time.perf_counter() - t0, rows


def ours(switches, ports, cache_dir: Path | None = None, fast: bool = True) -> tuple[float, int, int]:
    """(seconds, rows, switches served from the cache)."""
    jobs = [
        (snmp.Target(name=sw.name, host="127.0.0.1", port=port, community=sw.name, timeout_s=5, retries=2),
         columns(sw.vendor))
        for sw, port in zip(switches, ports, strict=True)
    ]  # fmt: skip
    kw = {"concurrency": 64, "deadline_s": 600}
    t0 = time.perf_counter()
    if cache_dir is None:
        results = snmp.sweep(jobs, fast=fast, **kw)
    else:
        results = snmpcache.sweep(jobs, dec.STATIC, dec.PAIRS, cache_dir=cache_dir, ttl_s=86400, **kw)
    elapsed = time.perf_counter() - t0
    errors = [r["error"] for r in results.values() if "error" in r]
    assert not errors, errors[:3]
    rows = sum(len(rows) for r in results.values() for c, rows in r["columns"].items() if c != snmpcache.IF_LAST_CHANGE)
    return elapsed, rows, sum(1 for r in results.values() if "static_from_cache" in r)


def main() -> None:
    args = sys.argv[1:]
    delay_ms = 5.0
    if args[:1] == ["--delay-ms"]:
        delay_ms, args = float(args[1]), args[2:]
    sizes = [int(a) for a in args] or [10, 50, 200]
    print(f"{PROCESSES} snmpsim processes, 48 ports per switch, max-repetitions 25, replies delayed {delay_ms:g} ms")
    print(f"{'switches':>8} {'net-snmp loop':>14} {'pysnmp sweep':>13} {'cold':>8} {'ratio':>6} {'warm':>8} "
          f"{'ratio':>6} {'rows':>7} {'cached':>7}")  # fmt: skip
    for n in sizes:
        switches = many(n)
        groups = [[(sw.name, sw) for sw in switches[i::PROCESSES]] for i in range(PROCESSES)]
        with simulators([g for g in groups if g]) as sims, tempfile.TemporaryDirectory() as cache:
            relays = {sim.port: Relay(sim.port, delay_ms / 1000) for sim in sims}
            port_of = {c: relays[sim.port].port for sim in sims for c in sim.communities}
            ports = [port_of[sw.name] for sw in switches]
            ours(switches[:2], ports[:2])  # warm-up: imports and the simulators' first answers
            t_base, rows_base = baseline(switches, ports)
            t_py, _, _ = ours(switches, ports, fast=False)
            t_cold, rows, _ = ours(switches, ports, Path(cache))
            t_warm, _, cached = ours(switches, ports, Path(cache))
            for relay in relays.values():
                relay.close()
        print(f"{n:>8} {t_base:>13.2f}s {t_py:>12.2f}s {t_cold:>7.2f}s {t_base / t_cold:>5.1f}× {t_warm:>7.2f}s "
              f"{t_base / t_warm:>5.1f}× {rows:>7} {cached:>7}"
              + ("" if rows_base == rows else f"  (net-snmp rows {rows_base})"), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
