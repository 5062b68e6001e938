"""Soak: 200 consecutive report runs (collect, evaluate, record in the history store, render) against a
database that fails at random — refused, silent, garbage, dying, half a greeting — and a history store
that is sometimes locked (seeded, bounded, loopback only). Afterwards: every run recorded exactly once
(none lost, none doubled, the retry after a failed record included), no descriptor, thread or process
left, memory flat."""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from diagnostics import engine
from diagnostics.history import History
from diagnostics.registry import Registry
from diagnostics.sources.errors import SourceError
from tests.faults.conftest import fault_server, refused_port
from tests.faults.test_run_faults import MARIADB_GREETING, settings_for

pytestmark = [pytest.mark.faults, pytest.mark.integration, pytest.mark.slow]
RUNS = 200
SEED = 19
WEIGHTS = {"healthy": 50, "refused": 15, "garbage": 10, "dies": 10, "stall": 8, "greet_stall": 7}


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def test_soak_200_report_runs(mariadb, cloud_db, db_password, tmp_path, leaks):
    from reports import jsondoc

    mariadb.set_version(cloud_db, "4.18.1.0")
    rnd = random.Random(SEED)
    registry = Registry.from_entry_points()
    store = tmp_path / "history.sqlite"
    url = f"sqlite:///{store}"
    produced: list[str] = []
    failed_records = retried = repeated = 0
    samples: dict[int, tuple[int, int, int]] = {}
    t0 = time.monotonic()
    with ExitStack() as stack:
        ports = {"healthy": mariadb.port, "refused": refused_port()}
        servers = [
            stack.enter_context(fault_server(m, MARIADB_GREETING)) for m in ("garbage", "dies", "stall", "greet_stall")
        ]
        for mode, srv in zip(("garbage", "dies", "stall", "greet_stall"), servers, strict=True):
            ports[mode] = srv.port
        modes = list(WEIGHTS)
        for i in range(RUNS):
            mode = rnd.choices(modes, weights=[WEIGHTS[m] for m in modes])[0]
            settings = settings_for(ports[mode], cloud_db)
            run, _ = engine.collect_and_evaluate(settings, registry, only=["platform", "images"])
            produced.append(run.id)
            assert db_password not in jsondoc.render(run)
            locked = rnd.random() < 0.08
            with History.open(url, timeout_s=0.2) as h:
                if locked:  # another csdiag holds the store: this record fails, the retry records it
                    locker = sqlite3.connect(store, isolation_level=None)
                    locker.execute("BEGIN EXCLUSIVE")
                    try:
                        with pytest.raises(SourceError):
                            h.record(run)
                        failed_records += 1
                    finally:
                        locker.close()
                    retried += 1
                assert h.record(run) is True
                if rnd.random() < 0.1:  # `report --from` of the run just recorded: idempotent
                    assert h.record(run) is False
                    repeated += 1
            if i + 1 in (20, RUNS):
                # the fault servers run in this process: the sockets they hold open are theirs, not leaks
                theirs = sum(1 for srv in servers for sock in srv.sockets if sock.fileno() >= 0)
                fds = len(list(Path("/proc/self/fd").iterdir())) - theirs
                samples[i + 1] = (_rss_kib(), fds, threading.active_count())
    elapsed = time.monotonic() - t0
    with History.open(url) as h:
        ids = [r["id"] for r in h.runs()]
    assert sorted(ids) == sorted(produced) and len(set(ids)) == RUNS  # none lost, none doubled
    assert failed_records == retried > 0 and repeated > 0
    (rss20, fds20, thr20), (rss_end, fds_end, thr_end) = samples[20], samples[RUNS]
    print(
        f"\nsoak: {RUNS} runs in {elapsed:.1f} s; RSS {rss20} → {rss_end} KiB, fds {fds20} → {fds_end}, "
        f"threads {thr20} → {thr_end}"
    )
    assert rss_end - rss20 < 30 * 1024, (rss20, rss_end)  # flat: no per-run growth worth the name
    assert fds_end <= fds20 + 2 and thr_end <= thr20 + 2
    leaks.check(settle_s=8)


@pytest.fixture
def db_password(monkeypatch):
    from tests.faults.test_run_faults import DB_PASSWORD_ENV
    from tests.services.mariadb import READER_PASSWORD

    monkeypatch.setenv(DB_PASSWORD_ENV, READER_PASSWORD)
    return READER_PASSWORD
