"""DNS that fails, for real: a network namespace whose resolv.conf names a loopback "DNS server" that is
absent (refused), never answers, or answers garbage. The MTU prober's lookup ends within its bound —
glibc alone would wait timeout × attempts (here 5 s × 3) per name."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.services import unavailable

pytestmark = [pytest.mark.faults, pytest.mark.integration]
ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import json, socket, sys, threading, time
mode = sys.argv[1]
if mode != "refused":
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind(("127.0.0.1", 53))
    def serve():
        while True:
            data, peer = srv.recvfrom(4096)
            if mode == "garbage":
                srv.sendto(data[:2] + b"\xff\xff garbage, not DNS", peer)
    threading.Thread(target=serve, daemon=True).start()
from diagnostics.sources import pmtu
t0 = time.monotonic()
try:
    pmtu.resolve("ssvm-store.csdiag-test.example", 1.0)
    kind = "resolved"
except Exception as exc:
    kind = type(exc).__name__
print(json.dumps({"kind": kind, "elapsed": time.monotonic() - t0}))
"""


@pytest.fixture(scope="module")
def namespace():
    from tests.services.netns import Topology

    if not shutil.which("ip"):
        unavailable("iproute2 not installed")
    topo = Topology()
    try:
        name = topo.ns("dns")
    except RuntimeError as exc:
        unavailable(f"cannot create a network namespace: {exc}")
    etc = Path("/etc/netns") / name
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:5 attempts:3\n")
    try:
        yield name
    finally:
        shutil.rmtree(etc, ignore_errors=True)
        topo.destroy()


@pytest.mark.parametrize(
    ("mode", "kinds"),
    [("silent", {"Timeout"}), ("garbage", {"Timeout", "NotFound"}), ("refused", {"NotFound", "Timeout"})],
)
def test_a_failing_dns_server_is_bounded(namespace, mode, kinds):
    r = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", PROBE, mode],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["kind"] in kinds, got
    assert got["elapsed"] < 1.0 + 1.0, got  # the bound, not glibc's 15 s


DB_PROBE = r"""
import json, socket, sys, threading, time
srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
srv.bind(("127.0.0.1", 53))  # a DNS server that never answers
from diagnostics.config import DatabaseSettings
from diagnostics.sources import database
t0 = time.monotonic()
try:
    with database.connect(DatabaseSettings(host="cloud-db.csdiag-test.example", connect_timeout_s=1), timeout_s=5):
        kind = "connected"
except Exception as exc:
    kind = type(exc).__name__
print(json.dumps({"kind": kind, "elapsed": time.monotonic() - t0}))
"""


def test_the_database_sources_lookup_is_bounded(namespace):
    """pymysql resolves with glibc's own wait (15 s here); the source resolves first, bounded."""
    r = subprocess.run(
        ["ip", "netns", "exec", namespace, sys.executable, "-c", DB_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    assert got["kind"] == "Timeout" and got["elapsed"] < 2.0, got
