"""nfs-ganesha (user-space NFS server) with rpcbind, inside a network namespace that has only ``lo``
(test-services.md). This kernel cannot mount NFS, so the protocol probe talks to ganesha over RPC and the
mounted/SSVM probes look at the exported directories themselves."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.services import stop, unavailable
from tests.services.netns import Topology


@dataclass
class Export:
    path: Path
    access: str = "RW"  # RW | RO | None (then only ``clients`` may)
    squash: str = "No_Root_Squash"  # or Root_Squash
    clients: str | None = None  # a CLIENT block: these clients get RW


@dataclass
class Ganesha:
    netns: str
    exports: list[Export]
    root: Path
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.root / "ganesha.log"

    def exec(self, *argv: str, timeout: float = 15) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["ip", "netns", "exec", self.netns, *argv], capture_output=True, text=True, timeout=timeout
        )


def _config(exports: Sequence[Export], protocols: str) -> str:
    # no RQUOTA: its fixed port 875 can be taken by a reserved port ganesha itself bound (bindresvport)
    # first, and a failed bind ends the server ("Cannot bind RQUOTA tcp6 socket … Cannot continue")
    blocks = [f"NFS_CORE_PARAM {{ Protocols = {protocols}; Enable_RQUOTA = false; }}\nNFSV4 {{ Graceless = true; }}\n"]
    for i, e in enumerate(exports, 1):
        client = f" CLIENT {{ Clients = {e.clients}; Access_Type = RW; }}" if e.clients else ""
        blocks.append(
            f"EXPORT {{ Export_Id = {i}; Path = {e.path}; Pseudo = {e.path}; Access_Type = {e.access}; "
            f"Squash = {e.squash}; Protocols = {protocols}; Transports = TCP; SecType = sys; "
            f"FSAL {{ Name = VFS; }}{client} }}\n"
        )
    return "".join(blocks)


@contextmanager
def ganesha(t: Topology, exports: Sequence[Export], protocols: str = "3, 4") -> Iterator[Ganesha]:
    """rpcbind and ganesha.nfsd in a new namespace of ``t``; ready when rpcinfo sees the NFS program."""
    if not shutil.which("ganesha.nfsd") or not shutil.which("rpcbind"):
        unavailable("nfs-ganesha not installed (apt-get install nfs-ganesha nfs-ganesha-vfs rpcbind nfs-common)")
    root = Path(tempfile.mkdtemp(prefix="csdiag-ganesha-"))
    server = Ganesha(netns=t.ns("nfs"), exports=list(exports), root=root)
    (root / "ganesha.conf").write_text(_config(exports, protocols))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        # rpcbind's socket and lock live in /run, shared by every namespace: one server at a time
        for stale in ("/run/rpcbind.sock", "/run/rpcbind.lock"):
            Path(stale).unlink(missing_ok=True)
        procs.append(subprocess.Popen(["ip", "netns", "exec", server.netns, "rpcbind", "-f"]))
        until = time.monotonic() + 10
        while server.exec("rpcinfo", "-p", "127.0.0.1", timeout=5).returncode != 0:
            if time.monotonic() > until:
                unavailable("rpcbind did not start in the namespace")
            time.sleep(0.05)
        procs.append(
            subprocess.Popen(
                [
                    *("ip", "netns", "exec", server.netns, "ganesha.nfsd", "-F", "-f", str(root / "ganesha.conf")),
                    *("-L", str(server.log), "-p", str(root / "ganesha.pid")),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        version = "4" if protocols.strip() == "4" else "3"
        until = time.monotonic() + 30
        while server.exec("rpcinfo", "-T", "tcp", "127.0.0.1", "nfs", version, timeout=5).returncode != 0:
            if procs[-1].poll() is not None or time.monotonic() > until:
                log = server.log.read_text(errors="replace")[-1500:] if server.log.exists() else ""
                unavailable(f"ganesha.nfsd did not start: {log}")
            time.sleep(0.1)
        yield server
    finally:
        for proc in reversed(procs):
            stop(proc)
        for stale in ("/run/rpcbind.sock", "/run/rpcbind.lock"):
            Path(stale).unlink(missing_ok=True)
        shutil.rmtree(root, ignore_errors=True)
