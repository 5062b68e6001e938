"""The history store failing: refused, accepts and never answers, garbage, a MariaDB that stops answering
(SIGSTOP) mid-run, SQLite on a full tmpfs. Each failure is a SourceError within the store's timeout
(+ 5 s), nothing half-written, and the store consistent once it is back."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import nullcontext, suppress
from pathlib import Path

import pytest

from diagnostics.history import CursorUpdate, History
from diagnostics.sources.errors import SourceError, Timeout, Unreachable
from tests.faults.conftest import fault_server, refused_port
from tests.faults.test_source_faults import Bound
from tests.services import unavailable
from tests.unit.test_history import run

pytestmark = [pytest.mark.faults, pytest.mark.integration]

# a MariaDB handshake start, then silence: "answers then stalls"
MARIADB_GREETING = b"\x4a\x00\x00\x00\x0a5.5.5-10.11.6-MariaDB\x00"


@pytest.mark.parametrize("mode", ["refused", "stall", "garbage", "greet_stall", "dies"])
def test_an_unreachable_shared_store_fails_quickly_with_a_source_error(mode, leaks):
    server = nullcontext(type("S", (), {"port": refused_port()})) if mode == "refused" else None
    with server or fault_server(mode, MARIADB_GREETING) as srv, Bound(2.0):
        url = f"mysql+pymysql://hist:pw-Not-Shown@127.0.0.1:{srv.port}/h"
        with pytest.raises(SourceError) as err, History.open(url, timeout_s=2.0):
            pass
    assert "pw-Not-Shown" not in str(err.value) and "history store" in str(err.value)
    if mode == "refused":
        assert isinstance(err.value, Unreachable)
    leaks.check()


def test_a_mariadb_store_that_stops_answering_mid_run(mariadb, leaks):
    """SIGSTOP the server between two records: the second fails as Timeout within the store's timeout, the
    first stays, and after SIGCONT the store records again — no lost, no duplicated run."""
    mariadb.execute("CREATE DATABASE IF NOT EXISTS csdiag_faults")
    url = f"mysql+pymysql://root@127.0.0.1:{mariadb.port}/csdiag_faults"
    with History.open(url, timeout_s=2.0) as h:
        h._exec("DELETE FROM csdiag_findings")
        h._exec("DELETE FROM csdiag_metrics")
        h._exec("DELETE FROM csdiag_runs")
        h._exec("DELETE FROM csdiag_log_cursors")
        assert h.record(run(0, "NFS_CAPACITY_LOW"))
        os.kill(mariadb.process.pid, signal.SIGSTOP)
        try:
            with Bound(2.0 * 2), pytest.raises((Timeout, Unreachable)):
                h.record(run(1, "NFS_READ_ONLY"), [CursorUpdate("local", "ab" * 32, "/x", 10, 1)])
        finally:
            os.kill(mariadb.process.pid, signal.SIGCONT)
        assert h.record(run(1, "NFS_READ_ONLY"), [CursorUpdate("local", "ab" * 32, "/x", 10, 1)])
        assert h.record(run(1, "NFS_READ_ONLY")) is False  # the retry: recorded once
        assert [r["id"] for r in h.runs()] == ["run0", "run1"]
        assert len(h.findings_of("run1")) == 2
        assert h.cursor("local", "ab" * 32).offset == 10
    leaks.check()


def _tmpfs(path: Path, size: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True, timeout=10
    )
    if r.returncode != 0:
        unavailable(f"cannot mount a tmpfs (needs root/CAP_SYS_ADMIN): {r.stderr.decode().strip()}")


def test_sqlite_on_a_full_filesystem(tmp_path, leaks):
    mnt = tmp_path / "full"
    _tmpfs(mnt, "2m")
    try:
        url = f"sqlite:///{mnt}/history.sqlite"
        with History.open(url) as h:
            assert h.record(run(0, "NFS_CAPACITY_LOW"))
        filler = mnt / "filler"
        with filler.open("wb") as f, pytest.raises(OSError):
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        big = run(1, *[f"CODE_{i}" for i in range(400)])
        with History.open(url) as h:
            t0 = time.monotonic()
            with pytest.raises(SourceError, match="full"):
                h.record(big, [CursorUpdate("local", "cd" * 32, "/x", 99, 9)])
            assert time.monotonic() - t0 < 5
            assert [r["id"] for r in h.runs()] == ["run0"]  # nothing half-written
            assert h.cursor("local", "cd" * 32) is None
        filler.unlink()
        with History.open(url) as h:
            assert h.record(big)
            assert [r["id"] for r in h.runs()] == ["run0", "run1"]
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=10)
    leaks.check()


def test_a_postgresql_store_that_stops_answering(leaks):
    """PostgreSQL's driver has no read timeout: a server that is alive but silent (every server process
    stopped with SIGSTOP) is cut by the store's watchdog at its timeout."""
    from tests.faults.test_source_faults import _descendants
    from tests.services.postgres import PASSWORD, postgres_server

    with postgres_server() as pg:
        url = pg.url().replace("csdiag@", f"postgres:{PASSWORD}@")
        with History.open(url, timeout_s=2.0) as h:
            assert h.record(run(0, "NFS_CAPACITY_LOW"))
            master = int((pg.root / "data" / "postmaster.pid").read_text().split()[0])
            tree = [master, *_descendants(master)]
            for p in tree:
                with suppress(ProcessLookupError):  # a short-lived worker may be gone already
                    os.kill(p, signal.SIGSTOP)
            try:
                with Bound(2.0 * 2), pytest.raises((Timeout, Unreachable)):
                    h.record(run(1, "NFS_READ_ONLY"))
            finally:
                for p in tree:
                    with suppress(ProcessLookupError):
                        os.kill(p, signal.SIGCONT)
            assert h.record(run(1, "NFS_READ_ONLY"))
            assert [r["id"] for r in h.runs()] == ["run0", "run1"]
    leaks.check()
