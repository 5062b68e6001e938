"""A real NFS server (nfs-ganesha behind rpcbind, in a network namespace) that stops answering (SIGSTOP:
the portmapper still answers, the kernel still accepts TCP, NFS and MOUNT are silent) or dies (SIGKILL:
the portmapper still lists its ports). The protocol probe ends within its bound + 5 s with the step that
failed, and leaves no process behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.faults, pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, sys; from diagnostics.sources import nfsprobe; "
    "print(json.dumps(nfsprobe.probe('127.0.0.1', sys.argv[1], 2.0, True)))"
)


def _probe(server, export: Path) -> tuple[dict, float]:
    t0 = time.monotonic()
    r = server.exec(sys.executable, "-c", PROBE, str(export), timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1]), time.monotonic() - t0


def test_a_ganesha_that_stalls_then_dies(tmp_path):
    from tests.services.ganesha import Export, ganesha
    from tests.services.netns import Topology

    export = tmp_path / "export"
    export.mkdir()
    topo = Topology()
    try:
        with ganesha(topo, [Export(export)], protocols="3") as server:
            healthy, _ = _probe(server, export)
            assert "error" not in healthy, healthy
            pid = int((server.root / "ganesha.pid").read_text().split()[0])
            os.kill(pid, signal.SIGSTOP)
            try:
                stalled, elapsed = _probe(server, export)
            finally:
                os.kill(pid, signal.SIGCONT)
            assert elapsed < 2.0 + 5 + 1, elapsed  # + the interpreter's start
            assert stalled["error"]["kind"] == "Timeout", stalled
            assert stalled["error"]["step"], stalled
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.3)
            dead, elapsed = _probe(server, export)
            assert elapsed < 2.0 + 5 + 1, elapsed
            assert dead["error"]["kind"] in ("Unreachable", "Timeout", "ProtocolError"), dead
            assert not list(export.glob(".csdiag-probe-*"))  # no probe file left behind by the healthy run
    finally:
        topo.destroy()
    assert not subprocess.run(["pgrep", "-f", PROBE[:40]], capture_output=True, timeout=10).stdout
