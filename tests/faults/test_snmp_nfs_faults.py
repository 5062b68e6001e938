"""SNMP agents and NFS servers that fail: no agent (refused), silent, garbage; portmapper/NFS on TCP that
refuse, accept and never answer, half-answer then stall, send garbage or die. Each sweep or probe ends
within its bound + 5 s with the failure in its record, and leaves nothing behind."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from types import SimpleNamespace

import pytest

from diagnostics.sources import nfsprobe, snmp
from tests.faults.conftest import fault_server, refused_port
from tests.faults.test_source_faults import Bound

pytestmark = [pytest.mark.faults, pytest.mark.integration]
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"


@contextmanager
def udp_agent(mode: str) -> Iterator[int]:
    """``silent``: reads requests and never answers; ``garbage``: answers bytes that are not BER."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                _, peer = sock.recvfrom(65536)
            except OSError:
                continue
            if mode == "garbage":
                sock.sendto(b"\x30\x82\xff\xff not BER at all", peer)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        t.join(2)
        sock.close()


@pytest.mark.parametrize("mode", ["refused", "silent", "garbage"])
def test_a_failing_snmp_agent_is_an_error_in_its_record_within_the_bound(mode, leaks):
    agent = nullcontext(refused_port()) if mode == "refused" else udp_agent(mode)
    with agent as port:
        target = snmp.Target(name="sw1", host="127.0.0.1", port=port, community="public", timeout_s=0.5, retries=1)
        with Bound(3.0):
            got = snmp.sweep([(target, [IF_DESCR])], deadline_s=3.0)
    assert "error" in got["sw1"], got
    leaks.check()


@pytest.mark.parametrize("mode", ["refused", "stall", "garbage", "greet_stall", "dies"])
def test_a_failing_nfs_server_is_an_error_in_the_probe_record_within_the_bound(mode, leaks):
    server = (
        nullcontext(SimpleNamespace(port=refused_port()))
        if mode == "refused"
        else fault_server(mode, b"\x80\x00\x00\x1c" + b"\x00" * 8)  # an RPC record mark, then silence
    )
    with server as srv:
        t0 = time.monotonic()
        with Bound(2.0):
            record = nfsprobe.probe(
                "127.0.0.1", "/export/secondary", 2.0, False, portmap_port=srv.port, nfs_port=srv.port
            )
    assert "error" in record, record
    assert record["error"].get("kind") and record["error"].get("step"), record
    assert time.monotonic() - t0 < 7
    leaks.check()


@pytest.mark.parametrize("fault", ["stalls", "dies"])
def test_a_real_snmp_agent_that_stalls_or_dies(fault, leaks):
    """snmpsim serving a switch, then stopped (SIGSTOP) or killed: the sweep ends within its deadline."""
    import os
    import signal
    import subprocess

    from tests.services.snmpsim import Port, Switch, simulators

    sw = Switch(name="leaf1", vendor="arista", ports=[Port(name=f"Ethernet{i}") for i in range(1, 9)])
    with simulators([[("faults-community", sw)]]) as [sim]:
        target = snmp.Target(
            name="leaf1", host="127.0.0.1", port=sim.port, community="faults-community", timeout_s=0.5, retries=1
        )
        healthy = snmp.sweep([(target, [IF_DESCR])], deadline_s=5.0)
        assert "error" not in healthy["leaf1"], healthy
        pids = subprocess.run(
            ["pgrep", "-f", f"127.0.0.1:{sim.port}"], capture_output=True, text=True, timeout=10
        ).stdout.split()
        assert pids
        for p in pids:
            os.kill(int(p), signal.SIGSTOP if fault == "stalls" else signal.SIGKILL)
        try:
            with Bound(3.0):
                got = snmp.sweep([(target, [IF_DESCR])], deadline_s=3.0)
        finally:
            if fault == "stalls":
                for p in pids:
                    os.kill(int(p), signal.SIGCONT)
        assert "error" in got["leaf1"], got
    leaks.check()
