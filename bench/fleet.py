"""A fleet on one machine: many runners recording into one history store, then ``report --fleet``.

Each simulated run has ``FINDINGS`` findings (mostly OK/INFO, a few WARN/CRIT that come and go) over 9
checks and 10 metric points per finding (2,000 points a run), stable targets per runner, and goes through
:meth:`History.record` exactly as ``csdiag report`` records. Measured, per backend (SQLite file, and a
throwaway PostgreSQL from tests/services): the time to record one run (median/p90 over the fill), the
time of ``report --fleet`` over the whole store (fleet_runners + fleet_findings + merge + CSV/JSON/HTML),
the store size, and 8 runners recording at once. Baselines in the same run: one ``SELECT COUNT(*)`` over
all findings (the least a query touching every finding costs) and one single-row INSERT transaction.

    .venv/bin/python bench/fleet.py [--runners 50] [--days 30] [--per-day 4] [--backend sqlite,postgresql]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagnostics import fleet  # noqa: E402
from diagnostics.history import History  # noqa: E402
from diagnostics.model import CheckRun, CheckStatus, Finding, Metric, Run, Severity  # noqa: E402
from diagnostics.ranking import rank  # noqa: E402
from reports import csvfile, html, jsondoc  # noqa: E402

FINDINGS = 200
METRICS = 10
CHECKS = ("storage", "templates", "ssvm", "platform", "logs", "mtu", "reach", "optics", "images")
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)


def make_run(runner: int, n: int, t: datetime, rng: random.Random) -> Run:
    findings = []
    for i in range(FINDINGS):
        check = CHECKS[i % len(CHECKS)]
        bad = rng.random() < 0.04
        sev = (Severity.CRIT if rng.random() < 0.3 else Severity.WARN) if bad else Severity.OK
        target = f'template {i} @ store {i % 7} "nfs-{runner}-{i % 7}"'
        findings.append(
            Finding(
                check=check,
                code=f"{check.upper()}_{'PROBLEM' if bad else 'OK'}",
                severity=sev,
                target=target,
                summary=f"{check} {target}",
                metrics=tuple(
                    Metric(name=f"m{k}", value=rng.random() * 1000, unit="ms" if k % 2 else "B") for k in range(METRICS)
                ),
                subjects={"store": str(i % 7)},
            )
        )
    return Run(
        id=f"r{runner}-{n}",
        started=t,
        finished=t,
        tool_version="bench",
        config={"targets_digest": f"cfg-{runner}"},
        checks=tuple(CheckRun(name=c, status=CheckStatus.COMPLETED, duration_s=1.0) for c in CHECKS),
        findings=tuple(findings),
        runner=f"zone-{runner:02d}",
        host=f"host-{runner:02d}",
    )


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    return f"median {statistics.median(xs) * 1000:.1f} ms, p90 {xs[int(len(xs) * 0.9)] * 1000:.1f} ms"


def timed(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def cli_fleet(name: str, url: str, password: str | None) -> None:
    """``csdiag report --fleet`` as an operator runs it: a process, all report files written."""
    with tempfile.TemporaryDirectory() as out:
        cfg = Path(out) / "c.toml"
        cfg.write_text(f'[history]\nurl = "{url}"\n' + ('password_env = "BENCH_PW"\n' if password else ""))
        env = {**os.environ, "BENCH_PW": password or ""}
        cli = [sys.executable, "-m", "diagnostics.cli", "--quiet"]
        t = time.perf_counter()
        done = subprocess.run(
            [*cli, "report", "--fleet", "--config", str(cfg), "-o", f"{out}/r"],
            capture_output=True,
            env=env,
            timeout=600,
            check=False,
        )
        wall = time.perf_counter() - t
        t = time.perf_counter()
        subprocess.run([*cli, "--help"], capture_output=True, timeout=60, check=False)
        base = time.perf_counter() - t
    print(
        f"[{name}] csdiag report --fleet, end to end: {wall:.2f} s (exit {done.returncode}); baseline `csdiag --help` {base:.2f} s"
    )


def bench(name: str, plain_url: str, password: str | None, size: Callable[[], int], args: argparse.Namespace) -> None:
    url = plain_url.replace("postgres@", f"postgres:{password}@", 1) if password else plain_url
    rng = random.Random(21)
    runs_per_runner = args.days * args.per_day
    step = timedelta(hours=24 / args.per_day)
    record_times: list[float] = []
    t0 = time.perf_counter()
    with History.open(url, timeout_s=60) as h:
        for n in range(runs_per_runner):
            t = NOW - (runs_per_runner - n) * step
            for r in range(args.runners):
                run = make_run(r, n, t + timedelta(seconds=r), rng)
                record_times.append(timed(lambda run=run: h.record(run)))
        fill = time.perf_counter() - t0
        total = len(record_times)
        print(
            f"[{name}] filled {total} runs ({total * FINDINGS} findings, {total * FINDINGS * METRICS} points) in {fill:.0f} s"
        )
        print(f"[{name}] record one run: {ms(record_times)}")
        last = make_run(0, runs_per_runner, NOW, rng)
        h.record(last)
        print(
            f"[{name}] changes() of one run over its runner's {runs_per_runner} runs: {timed(lambda: h.changes(last)) * 1000:.0f} ms"
        )
        base = timed(lambda: h._exec("SELECT COUNT(*) FROM csdiag_findings"))
        one = timed(lambda: h._exec("INSERT INTO csdiag_meta (k, v) VALUES ('bench', 'x')"))
        h._exec("DELETE FROM csdiag_meta WHERE k = 'bench'")
        print(
            f"[{name}] baseline: COUNT(*) over all findings {base * 1000:.0f} ms; one-row INSERT transaction {one * 1000:.1f} ms"
        )

        def report() -> None:
            rows, runners = h.fleet_findings(), h.fleet_runners()
            merged = fleet.merge(rows, runners, NOW, 6 * 3600, "6h", "bench")
            ranked = rank(merged)
            csvfile.render(ranked)
            jsondoc.render(ranked)
            html.render(ranked, [])

        times = [timed(report) for _ in range(3)]
        print(f"[{name}] report --fleet over the whole store: best {min(times):.2f} s, {ms(times)}")
        rows = h.fleet_findings()
        print(f"[{name}] fleet report rows: {len(rows)} findings of {args.runners} runners")
    cli_fleet(name, plain_url, password)
    print(f"[{name}] store size: {size() / 1e6:.0f} MB")

    # 8 runners recording at once (each its own connection), 5 runs each
    lat: list[float] = []
    lock = threading.Lock()

    def writer(w: int) -> None:
        with History.open(url, timeout_s=60) as hw:
            for k in range(5):
                run = make_run(100 + w, k, NOW + timedelta(minutes=k), random.Random(w))
                d = timed(lambda run=run: hw.record(run))
                with lock:
                    lat.append(d)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(8)]
    t = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t
    with History.open(url) as h:
        stored = sum(1 for r in h.runs() if r["id"].startswith("r1"))
    print(f"[{name}] 8 concurrent writers × 5 runs: {wall:.1f} s wall, per run {ms(lat)}, {len(lat)} recorded")
    assert len(lat) == 40 and stored >= 40


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runners", type=int, default=50)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--per-day", type=int, default=4)
    ap.add_argument("--backend", default="sqlite,postgresql")
    args = ap.parse_args()
    print(
        f"fleet: {args.runners} runners × {args.days} days × {args.per_day} runs/day, {FINDINGS} findings, {FINDINGS * METRICS} points a run"
    )
    backends = args.backend.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        if "sqlite" in backends:
            path = Path(tmp) / "fleet.sqlite"
            bench("sqlite", f"sqlite:///{path}", None, lambda: path.stat().st_size, args)
        if "postgresql" in backends:
            from tests.services.postgres import PASSWORD, postgres_server

            with postgres_server() as pg:
                pg.sql("CREATE DATABASE fleet")
                url = pg.url("fleet", user="postgres")

                def size() -> int:
                    return int(pg.sql("SELECT pg_database_size('fleet')").strip())

                bench("postgresql", url, PASSWORD, size, args)


if __name__ == "__main__":
    main()
