"""A FUSE file system whose ``/export`` exists but cannot be examined (every getattr on it is EIO), like a
folder on a failing disk or a broken NFS mount: ``python -m tests.faults.eiofs MOUNTPOINT``."""

from __future__ import annotations

import errno
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def main(mountpoint: str) -> None:
    from fuse import FUSE, FuseOSError, Operations

    class Fs(Operations):  # type: ignore[misc]
        def getattr(self, path: str, fh: object = None) -> dict[str, float]:
            if path == "/":
                now = time.time()
                return {
                    "st_mode": stat.S_IFDIR | 0o755,
                    "st_nlink": 2,
                    "st_atime": now,
                    "st_mtime": now,
                    "st_ctime": now,
                }
            if path.startswith("/export"):
                raise FuseOSError(errno.EIO)
            raise FuseOSError(errno.ENOENT)

        def readdir(self, path: str, fh: object) -> list[str]:
            return [".", "..", "export"]

    FUSE(Fs(), mountpoint, foreground=True, nothreads=True, allow_other=True)


@contextmanager
def eio_mount(mountpoint: Path) -> Iterator[Path]:
    from tests.services import unavailable

    if not Path("/dev/fuse").exists():
        unavailable("no /dev/fuse in this kernel")
    mountpoint.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.eiofs", str(mountpoint)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 15
    while f" {mountpoint} " not in Path("/proc/self/mountinfo").read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            unavailable("FUSE mount did not come up (libfuse2 and fusepy needed)")
        time.sleep(0.05)
    try:
        yield mountpoint
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, timeout=10, check=False)


if __name__ == "__main__":
    main(sys.argv[1])
