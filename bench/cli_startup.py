"""How fast does `csdiag --help` answer? Compared, in the same run, with a bare interpreter start
(`python -c pass`) and with importing every heavy library csdiag uses (what --help would cost if
they were imported eagerly).

    .venv/bin/python bench/cli_startup.py [runs]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

CSDIAG = str(Path(sys.executable).with_name("csdiag"))
CASES = {
    "baseline: python -c pass": [sys.executable, "-c", "pass"],
    "csdiag --help": [CSDIAG, "--help"],
    "csdiag checks": [CSDIAG, "checks"],
    "eager imports (what lazy importing avoids)": [
        sys.executable,
        "-c",
        "import typer, rich, pydantic, jinja2, pandas, matplotlib.pyplot, pymysql, paramiko, netmiko, "
        "pysnmp.hlapi.v3arch",
    ],
}


def measure(cmd: list[str], runs: int) -> list[float]:
    subprocess.run(cmd, capture_output=True, check=False)  # warm the page cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False)
        times.append(time.perf_counter() - t0)
    return times


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    print(f"{'command':<46} {'median':>8} {'p90':>8} {'min':>8}   ({runs} runs each)")
    results = {}
    for label, cmd in CASES.items():
        t = sorted(measure(cmd, runs))
        results[label] = statistics.median(t)
        p90 = t[min(len(t) - 1, int(0.9 * len(t)))]
        print(f"{label:<46} {statistics.median(t) * 1000:7.0f}ms {p90 * 1000:7.0f}ms {t[0] * 1000:7.0f}ms")
    base = results["baseline: python -c pass"]
    print(f"\ncsdiag --help costs {(results['csdiag --help'] - base) * 1000:.0f} ms over a bare interpreter start")


if __name__ == "__main__":
    main()
