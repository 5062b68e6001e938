"""Real services for integration tests, started by the tests themselves on loopback.

Each helper starts its service, waits until it answers and stops it at teardown. When a service
cannot start, :func:`unavailable` skips the test — except under ``CI=true``, where it fails it.
"""

from __future__ import annotations

import os
import socket
import subprocess
from typing import NoReturn

import pytest


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"integration service unavailable under CI: {reason}", pytrace=False)
    pytest.skip(f"integration service unavailable: {reason}")


def free_port() -> int:
    """A port free on 127.0.0.1 for TCP and for UDP (the SNMP simulators and relays use UDP)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            try:
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


def stop(proc: subprocess.Popen[bytes], grace_s: float = 10) -> None:
    """Terminate a service, kill it if it has not ended within ``grace_s``, and reap it."""
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
