"""Fault injection: loopback servers that refuse, accept and never answer, answer then stall, or answer
garbage; and a guard that no process or file descriptor outlives a test."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.services import free_port


def refused_port() -> int:
    """A loopback port nothing listens on: connecting is refused at once."""
    return free_port()


@dataclass
class FaultServer:
    """A TCP server on 127.0.0.1 that plays one failure mode; ``port`` to connect to."""

    port: int
    sockets: list[socket.socket] = field(default_factory=list)


@contextmanager
def fault_server(mode: str, greeting: bytes = b"") -> Iterator[FaultServer]:
    """``stall``: accepts, never answers. ``garbage``: answers bytes no protocol expects, then closes.
    ``greet_stall``: sends ``greeting`` (a valid banner) and then stalls mid-conversation.
    ``dies``: accepts and closes at once (a server dying mid-run)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    server = FaultServer(port=listener.getsockname()[1])
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            server.sockets.append(conn)
            if mode == "garbage":
                with suppress(OSError):
                    conn.sendall(b"\x00\xff garbage \x13\x37\r\n" * 8)
                conn.close()
            elif mode == "greet_stall":
                with suppress(OSError):
                    conn.sendall(greeting)
            elif mode == "dies":
                conn.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield server
    finally:
        stop.set()
        t.join(2)
        for s in server.sockets:
            s.close()
        listener.close()


def _fds() -> set[str]:
    return {p.name for p in Path("/proc/self/fd").iterdir()}


def _children() -> set[int]:
    me = str(os.getpid())
    out = set()
    for pid in (p.name for p in Path("/proc").iterdir()):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:  # noqa: PTH123
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:  # ppid
                out.add(int(pid))
    return out


@dataclass
class LeakGuard:
    fds: set[str]
    children: set[int]

    def check(self, settle_s: float = 5.0, allow: Callable[[], set[int]] = set) -> None:
        """No new descriptor or child process (waits up to ``settle_s`` for abandoned waits to end)."""
        end = time.monotonic() + settle_s
        while True:
            new_fds = {fd for fd in _fds() - self.fds if _is_leak(fd)}
            new_children = _children() - self.children - allow()
            if not new_fds and not new_children:
                return
            if time.monotonic() > end:
                details = {fd: _target(fd) for fd in new_fds}
                raise AssertionError(f"leaked descriptors {details} / child processes {new_children}")
            time.sleep(0.1)


def _target(fd: str) -> str:
    try:
        return str(Path(f"/proc/self/fd/{fd}").readlink())
    except OSError:
        return "?"


def _is_leak(fd: str) -> bool:
    target = _target(fd)
    return target != "?" and not target.startswith("/dev/pts")


@pytest.fixture
def leaks() -> Iterator[LeakGuard]:
    """Snapshot descriptors and children before the test; the test calls ``leaks.check()``."""
    yield LeakGuard(_fds(), _children())
