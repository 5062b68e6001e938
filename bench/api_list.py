"""Reading a large ``listTemplates`` through CloudStack's API: csdiag's source against the ``cs`` client's own
``fetch_list`` — the same signed requests, the same pages, from the same stand-in API server
(tests/services/csapi.py, on loopback) in the same run.

The baseline does the same work: ``fetch_list=True`` pages with ``pagesize=500`` until a short page, as csdiag
does at the cloud's page size; both decode every item. The templates are shaped as ``details=all`` answers
(one ``downloaddetails`` entry per store). A cloud whose ``default.page.size`` is below 500 refuses cs's
page size outright; csdiag then continues with the cloud's (measured at 100 as a second row).

    .venv/bin/python bench/api_list.py [--templates 10000] [--stores 3] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cs import CloudStack  # noqa: E402

from diagnostics.config import ApiSettings  # noqa: E402
from diagnostics.sources.cloudstack_api import CloudStackApi  # noqa: E402
from tests.services.csapi import Key, StandIn, api_server  # noqa: E402

KEY, SECRET = "bench-key", "bench-secret"


def templates(n: int, stores: int) -> list[dict[str, object]]:
    return [
        {
            "id": f"00000000-0000-4000-8000-{i:012d}",
            "name": f"template-{i}",
            "size": 2 << 30,
            "status": "Download Complete",
            "isready": True,
            "zoneid": "zone-1",
            "downloaddetails": [
                {"datastore": f"store-{s}", "downloadPercent": "100", "downloadState": "DOWNLOADED"}
                for s in range(stores)
            ],
        }
        for i in range(n)
    ]


def timed(fn: object, repeat: int) -> tuple[float, int, float]:
    """(median seconds, items, peak MiB of the last run)."""
    times, items, peak = [], 0, 0.0
    for k in range(repeat):
        if k == repeat - 1:
            tracemalloc.start()
        started = time.perf_counter()
        items = len(fn())  # type: ignore[operator]
        times.append(time.perf_counter() - started)
        if k == repeat - 1:
            peak = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
    return statistics.median(times[:-1] or times), items, peak


def measure(args: argparse.Namespace, cloud_page: int) -> tuple[int, str, str]:
    """One row: both readers against a stand-in whose default.page.size is ``cloud_page``."""
    standin = StandIn(
        keys={KEY: Key(SECRET)},
        lists={"listTemplates": templates(args.templates, args.stores)},
        default_page_size=cloud_page,
        job_delay_s=0,
    )
    with api_server(standin) as endpoint:
        settings = ApiSettings.model_validate(
            {"endpoint": endpoint, "api_key": KEY, "secret_key_env": "CSDIAG_BENCH_API_SECRET", "timeout_s": 60}
        )

        def ours() -> list[dict[str, object]]:
            api = CloudStackApi(settings, time.monotonic() + 300)
            return api.list("listTemplates", templatefilter="all", details="all")

        def baseline() -> list[dict[str, object]]:
            client = CloudStack(
                endpoint=endpoint, key=KEY, secret=SECRET, timeout=60, expiration=timedelta(seconds=300)
            )
            return list(client.listTemplates(templatefilter="all", details="all", fetch_list=True))

        t_ours, n_ours, m_ours = timed(ours, args.repeat)
        try:
            t_base, n_base, m_base = timed(baseline, args.repeat)
            base = f"{t_base:.2f} s, {n_base} items, peak {m_base:.0f} MiB"
        except Exception as exc:  # cs forces pagesize 500: a lower cloud limit refuses it
            base = f"fails: {type(exc).__name__}: {str(exc)[:90]}"
    return cloud_page, f"{t_ours:.2f} s, {n_ours} items, peak {m_ours:.0f} MiB", base


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--templates", type=int, default=10_000)
    ap.add_argument("--stores", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    os.environ["CSDIAG_BENCH_API_SECRET"] = SECRET
    rows = [measure(args, cloud_page) for cloud_page in (500, 100)]
    print(f"listTemplates details=all, {args.templates} templates × {args.stores} stores, median of {args.repeat}")
    print(f"{'cloud page size':>16} | {'csdiag CloudStackApi.list':<40} | cs fetch_list (baseline)")
    for page, ours_s, base_s in rows:
        print(f"{page:>16} | {ours_s:<40} | {base_s}")


if __name__ == "__main__":
    main()
