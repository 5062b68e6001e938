"""SSH sessions (paramiko) with host-key verification on by default and bounded waits.

Host keys are checked against ``[ssh] known_hosts``: an unknown host is refused unless
``accept_unknown_host_keys`` is set (then its key is accepted for this session only and logged), and a
*changed* key is always refused. Files are listed and read over SFTP — no remote shell, so file names
are never interpreted — and read in blocks, so a gigabyte log is never held in memory.
"""

from __future__ import annotations

import fnmatch
import logging
import posixpath
import socket
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

from diagnostics.config import SshSettings
from diagnostics.sources import deadline
from diagnostics.sources.errors import (
    AuthFailed,
    HostKeyRejected,
    NotFound,
    ProtocolError,
    SourceError,
    Timeout,
    Unreachable,
)

log = logging.getLogger(__name__)


def split_host(spec: str, default_port: int) -> tuple[str, int]:
    """``host``, ``host:port`` or ``[v6]:port`` → (host, port)."""
    if spec.startswith("["):
        host, _, rest = spec[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    if spec.count(":") == 1:
        host, port = spec.split(":")
        return host, int(port)
    return spec, default_port


def _translate(exc: BaseException, where: str) -> SourceError:
    import paramiko

    if isinstance(exc, paramiko.BadHostKeyException):
        return HostKeyRejected(
            f"{where}: the host key changed (expected {exc.expected_key.get_fingerprint().hex()}, "
            f"got {exc.key.get_fingerprint().hex()}) — refusing to connect"
        )
    if isinstance(exc, paramiko.AuthenticationException):
        return AuthFailed(f"{where}: authentication failed ({exc})")
    if isinstance(exc, socket.timeout | TimeoutError):
        return Timeout(f"{where}: no answer in time")
    if isinstance(exc, paramiko.SSHException) and "not found in known_hosts" in str(exc):
        return HostKeyRejected(
            f"{where}: unknown host key ({exc}); add it to known_hosts or set [ssh] accept_unknown_host_keys = true"
        )
    if isinstance(exc, paramiko.SSHException):
        return ProtocolError(f"{where}: SSH error: {exc}")
    if isinstance(exc, FileNotFoundError):
        return NotFound(f"{where}: {exc.filename or exc}: no such file")
    if isinstance(exc, OSError):
        return Unreachable(f"{where}: {exc.strerror or exc}")
    return ProtocolError(f"{where}: {type(exc).__name__}: {exc}")


def _accept_and_log() -> Any:
    """paramiko missing-host-key policy for the explicit opt-in: accept, for this session, and say so."""
    import paramiko

    class AcceptAndLog(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
            log.warning(
                "accepting unknown host key %s %s for %s (accept_unknown_host_keys)",
                key.get_name(),
                key.get_fingerprint().hex(),
                hostname,
            )

    return AcceptAndLog()


class _Guarded:
    """A remote file whose reads raise source errors: a read that stalls past the channel timeout is
    ``Timeout``, a dropped connection ``Unreachable`` — not paramiko's or the socket's exceptions."""

    def __init__(self, f: Any, where: str) -> None:
        self._f = f
        self._where = where

    def _call(self, name: str, *args: Any) -> Any:
        try:
            return getattr(self._f, name)(*args)
        except (OSError, EOFError, Exception) as exc:
            raise _translate(exc, self._where) from exc

    def read(self, size: int = -1) -> bytes:
        return bytes(self._call("read", size))

    def readinto(self, buf: Any) -> int:
        return int(self._call("readinto", buf))

    def readline(self, size: int = -1) -> bytes:
        return bytes(self._call("readline", size))

    def seek(self, offset: int, whence: int = 0) -> int:
        self._call("seek", offset, whence)  # paramiko's seek returns None
        return self.tell()

    def tell(self) -> int:
        return int(self._call("tell"))

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)


class SshSession:
    """Every wait on the session is bounded by ``timeout_s``: the SFTP channel has it as its timeout
    (paramiko's transport swallows a timeout of the TCP socket and waits again; a channel timeout it
    raises), and so has each command's channel."""

    def __init__(self, client: Any, where: str, timeout_s: float = 60.0) -> None:
        self._client = client
        self.timeout_s = timeout_s
        self._sftp = client.open_sftp()
        self._sftp.get_channel().settimeout(timeout_s)
        self.where = where

    def glob(self, pattern: str) -> list[str]:
        """Remote files matching ``pattern`` (glob in the last path component only)."""
        folder, name = posixpath.split(pattern)
        try:
            if not any(c in name for c in "*?["):
                st = self._sftp.stat(pattern)
                return [pattern] if st.st_mode is not None and stat.S_ISREG(st.st_mode) else []
            entries = self._sftp.listdir_attr(folder or ".")
        except FileNotFoundError:
            return []
        except (OSError, Exception) as exc:  # paramiko raises IOError/SSHException subclasses here
            raise _translate(exc, self.where) from exc
        return sorted(
            posixpath.join(folder, e.filename)
            for e in entries
            if fnmatch.fnmatchcase(e.filename, name) and e.st_mode is not None and stat.S_ISREG(e.st_mode)
        )

    def run(self, script: str, timeout_s: float) -> tuple[int, str, str]:
        """Run a bash script (sent on stdin, so nothing is interpreted twice); (exit code, stdout, stderr)."""
        try:
            stdin, stdout, stderr = self._client.exec_command("bash -s", timeout=timeout_s)
            stdin.write(script)
            stdin.channel.shutdown_write()
            out = stdout.read().decode("utf-8", "replace")
            err = stderr.read().decode("utf-8", "replace")
            return stdout.channel.recv_exit_status(), out, err
        except Exception as exc:  # socket.timeout, SSHException, EOFError: all become source errors
            raise _translate(exc, self.where) from exc

    def size(self, path: str) -> tuple[int, float]:
        try:
            st = self._sftp.stat(path)
        except Exception as exc:
            raise _translate(exc, self.where) from exc
        return int(st.st_size or 0), float(st.st_mtime or 0)

    @contextmanager
    def open(self, path: str) -> Iterator[BinaryIO]:
        """A remote file, read in blocks (paramiko prefetches); .gz files are decompressed on the fly."""
        import gzip

        try:
            f = self._sftp.open(path, "rb")
        except (OSError, Exception) as exc:
            raise _translate(exc, self.where) from exc
        try:
            f.prefetch()
            guarded = _Guarded(f, self.where)
            head = guarded.read(2)
            guarded.seek(0)
            yield gzip.GzipFile(fileobj=guarded) if head == b"\x1f\x8b" else guarded  # type: ignore[misc]
        finally:
            try:
                f.close()
            except Exception as exc:  # a server that stalls on close: bounded by the channel timeout too
                log.debug("%s: closing %s: %s", self.where, path, exc)

    def close(self) -> None:
        try:
            self._sftp.close()
        finally:
            self._client.close()


def run_script(host: str, port: int, settings: SshSettings, script: str, timeout_s: float) -> tuple[int, str, str]:
    """Connect, run one bash script, disconnect: (exit code, stdout, stderr). Raises SourceError."""
    with connect(host, port, settings, timeout_s=timeout_s) as session:
        return session.run(script, timeout_s)


@contextmanager
def connect(host: str, port: int, settings: SshSettings, *, timeout_s: float) -> Iterator[SshSession]:
    """An SFTP-capable session to ``host``; every wait bounded by ``timeout_s``."""
    import paramiko

    where = f"SSH {settings.user}@{host}:{port}"  # no URL: the user stays readable after URL redaction
    client = paramiko.SSHClient()
    known = Path(settings.known_hosts).expanduser()
    try:
        if known.exists():
            client.load_host_keys(str(known))
    except (OSError, paramiko.SSHException) as exc:
        raise ProtocolError(f"{where}: cannot read known_hosts {known}: {exc}") from exc
    client.set_missing_host_key_policy(
        _accept_and_log() if settings.accept_unknown_host_keys else paramiko.RejectPolicy()
    )
    secret = settings.passphrase_secret()
    wait = min(settings.connect_timeout_s, timeout_s)
    try:
        # DNS and TCP connect bounded here (paramiko's own getaddrinfo has no bound); the host key is still
        # looked up under ``host``
        sock = deadline.connect_tcp(host, port, wait)
    except SourceError as exc:
        client.close()
        raise type(exc)(f"{where}: {exc}") from exc
    try:
        client.connect(
            host,
            port=port,
            sock=sock,
            username=settings.user,
            key_filename=str(Path(settings.key_file).expanduser()) if settings.key_file else None,
            passphrase=secret.reveal() if secret else None,
            timeout=wait,
            banner_timeout=wait,
            auth_timeout=wait,
            channel_timeout=wait,
            allow_agent=False,
            look_for_keys=settings.key_file is None,
        )
        transport = client.get_transport()
        if transport is not None:  # reads of a stalled file wait no longer than the check's deadline
            transport.sock.settimeout(max(wait, timeout_s))
        session = SshSession(client, where, max(wait, timeout_s))
    except Exception as exc:  # paramiko's exception tree is wide; everything is translated
        client.close()
        sock.close()
        raise _translate(exc, where) from exc
    try:
        yield session
    finally:
        session.close()
