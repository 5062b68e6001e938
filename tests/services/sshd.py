"""A throwaway OpenSSH server on 127.0.0.1 with its own host key, accepting one client key for root,
with SFTP (test-services.md)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services import free_port, stop, unavailable

SSHD = "/usr/sbin/sshd"


@dataclass
class Sshd:
    root: Path
    port: int
    client_key: Path
    known_hosts: Path  # holds this server's real host key
    host_pub: str

    def known_hosts_line(self, pub: str | None = None) -> str:
        return f"[127.0.0.1]:{self.port} {pub or self.host_pub}\n"


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True, timeout=30)
    return " ".join(path.with_suffix(".pub").read_text().split()[:2])


@contextmanager
def sshd_server(netns: str | None = None, extra_config: str = "") -> Iterator[Sshd]:
    """Start sshd on 127.0.0.1, in the network namespace ``netns`` if given (a vantage point inside a
    test topology); ``extra_config`` is appended to sshd_config (e.g. a ForceCommand)."""
    if not Path(SSHD).exists() or not shutil.which("ssh-keygen"):
        unavailable("OpenSSH server not installed (apt-get install openssh-server; `make test` does it as root)")
    root = Path(tempfile.mkdtemp(prefix="csdiag-sshd-"))
    host_pub = _keygen(root / "host_ed25519")
    _keygen(root / "client_ed25519")
    (root / "authorized_keys").write_text((root / "client_ed25519.pub").read_text())
    port = free_port()
    sftp = next(
        (p for p in ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server") if Path(p).exists()),
        "internal-sftp",
    )
    (root / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {root / 'host_ed25519'}\nPidFile {root / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {root / 'authorized_keys'}\nUsePAM no\nStrictModes no\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        f"Subsystem sftp {sftp}\nLogLevel ERROR\n{extra_config}"
    )
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)
    log = (root / "sshd.log").open("wb")
    prefix = ["ip", "netns", "exec", netns] if netns else []
    proc = subprocess.Popen(
        [*prefix, SSHD, "-D", "-e", "-f", str(root / "sshd_config")], stdout=log, stderr=subprocess.STDOUT
    )
    server = Sshd(
        root=root, port=port, client_key=root / "client_ed25519", known_hosts=root / "known_hosts", host_pub=host_pub
    )
    server.known_hosts.write_text(server.known_hosts_line())
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                if netns:
                    subprocess.run(
                        [*prefix, "bash", "-c", f"exec 3<>/dev/tcp/127.0.0.1/{port}"],
                        check=True,
                        capture_output=True,
                        timeout=5,
                    )
                else:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except (OSError, subprocess.CalledProcessError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    unavailable(f"sshd did not start: {(root / 'sshd.log').read_text(errors='replace')[-800:]}")
                time.sleep(0.05)
        yield server
    finally:
        stop(proc)
        log.close()
        shutil.rmtree(root, ignore_errors=True)
