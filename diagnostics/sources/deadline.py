"""Bounded waits, in one place: every source takes its timeouts from here.

A check gets a deadline (``CheckContext.deadline``, a ``time.monotonic()`` value); each wait inside it —
a DNS lookup, a TCP connect, an SSH/SFTP channel read, an SMTP exchange, a subprocess — gets
``bounded(cap, deadline)``: its own cap, never past the check's deadline. What cannot be interrupted in
Python (``getaddrinfo``) runs in a worker thread that is abandoned at its bound; a subprocess is killed
with its whole process group and reaped.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import Any

from diagnostics.sources.errors import NotFound, Timeout, Unreachable

MIN_WAIT_S = 0.05


def remaining(deadline: float | None) -> float | None:
    """Seconds left until ``deadline`` (None: no deadline)."""
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def bounded(cap: float, deadline: float | None = None) -> float:
    """A timeout for one wait: ``cap``, but never past ``deadline``; at least 50 ms."""
    left = remaining(deadline)
    return max(MIN_WAIT_S, cap if left is None else min(cap, left))


def getaddrinfo(
    host: str, port: int | None, timeout_s: float, family: int = socket.AF_UNSPEC, kind: int = socket.SOCK_STREAM
) -> list[Any]:
    """``socket.getaddrinfo`` bounded by ``timeout_s``: the resolver cannot be interrupted, so it runs in a
    daemon thread abandoned at the bound. Raises NotFound (does not resolve) or Timeout (DNS silent)."""
    answer: queue.Queue[tuple[list[Any] | None, BaseException | None]] = queue.Queue(1)

    def lookup() -> None:
        try:
            answer.put((socket.getaddrinfo(host, port, family, kind), None))
        except BaseException as exc:  # handed to the caller
            answer.put((None, exc))

    threading.Thread(target=lookup, name=f"dns-{host}", daemon=True).start()
    try:
        infos, exc = answer.get(timeout=max(MIN_WAIT_S, timeout_s))
    except queue.Empty:
        raise Timeout(f"{host}: DNS gave no answer within {timeout_s:g} s") from None
    if exc is not None:
        if isinstance(exc, socket.gaierror):
            raise NotFound(f"{host}: does not resolve ({exc.strerror})") from None
        raise Unreachable(f"{host}: {exc}") from None
    assert infos is not None
    return infos


def connect_tcp(host: str, port: int, timeout_s: float) -> socket.socket:
    """A TCP connection whose DNS lookup and connect together take at most ``timeout_s``; the socket keeps
    ``timeout_s`` as its per-operation timeout. Raises NotFound, Timeout or Unreachable."""
    end = time.monotonic() + timeout_s
    infos = getaddrinfo(host, port, timeout_s)
    infos.sort(key=lambda i: i[0] != socket.AF_INET)
    last: OSError | None = None
    for family, kind, proto, _, address in infos:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(bounded(timeout_s, end))
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            last = exc
            if isinstance(exc, TimeoutError):
                raise Timeout(f"{host}:{port}: no answer to connect within {timeout_s:g} s") from None
            continue
        sock.settimeout(timeout_s)
        return sock
    reason = (last.strerror or str(last)) if last else "no address"
    raise Unreachable(f"{host}:{port}: {reason}")


def run(
    argv: Sequence[str], timeout_s: float, *, input_bytes: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run a command with a bound: at the bound its whole process group is killed and reaped, and Timeout
    is raised. A missing program raises NotFound. No file descriptor is inherited but the three pipes."""
    try:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if input_bytes is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: a timeout kills its children too
            close_fds=True,
        )
    except FileNotFoundError:
        raise NotFound(f"{argv[0]}: not installed") from None
    except OSError as exc:
        raise Unreachable(f"{argv[0]}: {exc.strerror or exc}") from None
    try:
        out, err = proc.communicate(input_bytes, timeout=max(MIN_WAIT_S, timeout_s))
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()  # reaps it and closes the pipes
        raise Timeout(f"{argv[0]}: did not finish within {timeout_s:g} s (killed)") from None
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)
