"""A small ONC RPC (RFC 5531) client over TCP with XDR (RFC 4506) encoding — what the NFS probe needs.

No maintained Python ONC RPC client exists and the stdlib ``xdrlib`` is gone in Python 3.13, so this is
our own, kept to the parts the probe uses: record marking, AUTH_SYS credentials, accepted/denied replies,
and an XDR packer/unpacker on ``struct``. Every call runs against a deadline; a reply that is not ONC RPC
(wrong xid, truncated, oversized) raises :class:`~diagnostics.sources.errors.ProtocolError`, never a hang
or an ``IndexError``.

When running as root the client binds a reserved source port (< 1024): Linux NFS servers and mountd
default to ``secure`` and refuse calls from unprivileged ports (probing.md §2).
"""

from __future__ import annotations

import contextlib
import errno
import os
import random
import socket
import struct
import time
from dataclasses import dataclass

from diagnostics.sources.errors import AuthFailed, ProtocolError, SourceError, Timeout, Unreachable

MAX_RECORD = 4 * 1024 * 1024  # a reply larger than this is garbage for the calls we make
_ACCEPT_STAT = {1: "PROG_UNAVAIL", 2: "PROG_MISMATCH", 3: "PROC_UNAVAIL", 4: "GARBAGE_ARGS", 5: "SYSTEM_ERR"}
_AUTH_STAT = {1: "AUTH_BADCRED", 2: "AUTH_REJECTEDCRED", 3: "AUTH_BADVERF", 4: "AUTH_REJECTEDVERF", 5: "AUTH_TOOWEAK"}


class Packer:
    """XDR encoder: 4-byte big-endian units, opaques and strings length-prefixed and padded to 4."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def uint(self, n: int) -> Packer:
        self._parts.append(struct.pack(">I", n))
        return self

    def hyper(self, n: int) -> Packer:
        self._parts.append(struct.pack(">Q", n))
        return self

    def fixed(self, data: bytes) -> Packer:
        self._parts.append(data + b"\0" * (-len(data) % 4))
        return self

    def opaque(self, data: bytes) -> Packer:
        return self.uint(len(data)).fixed(data)

    def string(self, s: str) -> Packer:
        return self.opaque(s.encode())

    def bytes(self) -> bytes:
        return b"".join(self._parts)


class Unpacker:
    """XDR decoder; reading past the end raises ProtocolError (a truncated or garbage reply)."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ProtocolError(f"truncated XDR reply ({len(self.data)} bytes, wanted {self.pos + n})")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self) -> int:
        return int(struct.unpack(">I", self._take(4))[0])

    def hyper(self) -> int:
        return int(struct.unpack(">Q", self._take(8))[0])

    def bool(self) -> bool:
        v = self.uint()
        if v > 1:
            raise ProtocolError(f"XDR bool with value {v}")
        return v == 1

    def fixed(self, n: int) -> bytes:
        out = self._take(n)
        self._take(-n % 4)
        return out

    def opaque(self, limit: int = MAX_RECORD) -> bytes:
        n = self.uint()
        if n > limit:
            raise ProtocolError(f"XDR opaque of {n} bytes exceeds the limit {limit}")
        return self.fixed(n)

    def string(self, limit: int = 4096) -> str:
        return self.opaque(limit).decode("utf-8", "replace")

    def skip(self, n: int) -> None:
        self._take(n)


def auth_sys(uid: int, gid: int, machine: str = "csdiag") -> bytes:
    """An AUTH_SYS (flavor 1) credential: stamp, machine name, uid, gid, no extra groups."""
    body = Packer().uint(int(time.time()) & 0xFFFFFFFF).string(machine[:255]).uint(uid).uint(gid).uint(0).bytes()
    return Packer().uint(1).opaque(body).bytes()


class RpcRejected(AuthFailed):
    """The server denied the call (RPC_MISMATCH or an AUTH_* error); ``reason`` is the enum name."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class RpcUnavailable(ProtocolError):
    """The call was accepted but not served: PROG_UNAVAIL, PROG_MISMATCH, PROC_UNAVAIL, GARBAGE_ARGS..."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Deadline:
    """An absolute deadline shared by the calls of one probe."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds)

    def left(self, what: str) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            raise Timeout(f"deadline passed before {what}")
        return left


def _bind_reserved(sock: socket.socket) -> bool:
    """Bind a source port in 600–1023 (root only); False when unprivileged or all are busy."""
    if os.geteuid() != 0:
        return False
    ports = list(range(600, 1024))
    random.shuffle(ports)
    for port in ports[:64]:
        try:
            sock.bind(("", port))
            return True
        except OSError as exc:
            if exc.errno not in (errno.EADDRINUSE, errno.EADDRNOTAVAIL):
                return False
    return False


class RpcClient:
    """One TCP connection to one RPC program at ``host:port``; use as a context manager."""

    def __init__(self, host: str, port: int, deadline: Deadline, *, uid: int = 0, gid: int = 0) -> None:
        self.host, self.port, self.deadline = host, port, deadline
        self.uid, self.gid = uid, gid
        self.reserved_port = False
        self._xid = random.getrandbits(32)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.reserved_port = _bind_reserved(self._sock)
            self._sock.settimeout(deadline.left(f"connecting to {host}:{port}"))
            self._sock.connect((host, port))
        except TimeoutError as exc:
            self._sock.close()
            raise Timeout(f"no TCP connection to {host}:{port} (timed out)") from exc
        except OSError as exc:
            self._sock.close()
            raise Unreachable(f"no TCP connection to {host}:{port}: {exc.strerror or exc}") from exc
        except SourceError:
            self._sock.close()
            raise

    def __enter__(self) -> RpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()

    @property
    def source_port(self) -> int:
        return int(self._sock.getsockname()[1])

    def call(self, prog: int, vers: int, proc: int, args: bytes = b"", *, uid: int | None = None) -> Unpacker:
        """Send one call and return an unpacker positioned at the procedure's results."""
        self._xid = (self._xid + 1) & 0xFFFFFFFF
        cred = auth_sys(self.uid if uid is None else uid, self.gid)
        header = Packer().uint(self._xid).uint(0).uint(2).uint(prog).uint(vers).uint(proc).bytes()
        message = header + cred + Packer().uint(0).uint(0).bytes() + args  # verifier: AUTH_NONE
        what = f"RPC {prog}/{vers} proc {proc} at {self.host}:{self.port}"
        try:
            self._sock.settimeout(self.deadline.left(what))
            self._sock.sendall(struct.pack(">I", 0x80000000 | len(message)) + message)
            while True:
                u = Unpacker(self._read_record(what))
                xid, msg_type = u.uint(), u.uint()
                if msg_type != 1:
                    raise ProtocolError(f"{what}: the answer is not an RPC reply")
                if xid == self._xid:
                    break  # else a stale reply to an earlier, abandoned call: skipped
        except TimeoutError as exc:
            raise Timeout(f"{what}: no answer in time (the port accepts TCP but RPC does not reply)") from exc
        except OSError as exc:
            raise Unreachable(f"{what}: {exc.strerror or exc}") from exc
        return self._accepted(u, what)

    def _read_record(self, what: str) -> bytes:
        parts, total = [], 0
        while True:
            (marker,) = struct.unpack(">I", self._recv_exact(4, what))
            size = marker & 0x7FFFFFFF
            total += size
            if total > MAX_RECORD:
                raise ProtocolError(f"{what}: reply record of {total} bytes: not an RPC reply")
            parts.append(self._recv_exact(size, what))
            if marker & 0x80000000:
                return b"".join(parts)

    def _recv_exact(self, n: int, what: str) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            self._sock.settimeout(self.deadline.left(what))
            chunk = self._sock.recv(n - len(buf))
            if not chunk:
                raise Unreachable(f"{what}: the server closed the connection")
            buf += chunk
        return bytes(buf)

    @staticmethod
    def _accepted(u: Unpacker, what: str) -> Unpacker:
        if u.uint() == 1:  # MSG_DENIED
            stat = u.uint()
            if stat == 0:
                low, high = u.uint(), u.uint()
                raise RpcRejected(f"{what}: RPC version mismatch (server speaks {low}–{high})", "RPC_MISMATCH")
            reason = _AUTH_STAT.get(u.uint(), "AUTH_ERROR")
            raise RpcRejected(f"{what}: denied ({reason})", reason)
        u.uint()  # verifier flavor
        u.opaque(400)
        status = u.uint()
        if status != 0:
            name = _ACCEPT_STAT.get(status, f"accept_stat {status}")
            raise RpcUnavailable(f"{what}: {name}", name)
        return u
