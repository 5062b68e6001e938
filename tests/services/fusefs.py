"""Small FUSE filesystems for the storage tests (fusepy over libfuse2), run in their own process:

python -m tests.services.fusefs hang MOUNTPOINT     statfs/getattr below the root block forever (a dead hard mount)
python -m tests.services.fusefs squash MOUNTPOINT   works, but creating a file is refused (root_squash)
python -m tests.services.fusefs stale MOUNTPOINT    statfs answers ESTALE (an export recreated under a mount)
"""

from __future__ import annotations

import errno
import stat
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

NEVER = threading.Event()


def main(mode: str, mountpoint: str) -> None:
    from fuse import FUSE, FuseOSError, Operations

    class Fs(Operations):  # type: ignore[misc]
        def getattr(self, path: str, fh: object = None) -> dict[str, float]:
            if path != "/":
                raise FuseOSError(errno.ENOENT)
            now = time.time()
            return {"st_mode": stat.S_IFDIR | 0o777, "st_nlink": 2, "st_atime": now, "st_mtime": now, "st_ctime": now}

        def readdir(self, path: str, fh: object) -> list[str]:
            return [".", ".."]

        def statfs(self, path: str) -> dict[str, int]:
            if mode == "hang":
                NEVER.wait()
            if mode == "stale":
                raise FuseOSError(errno.ESTALE)
            return {"f_bsize": 4096, "f_frsize": 4096, "f_blocks": 262144, "f_bfree": 200000, "f_bavail": 200000}

        def create(self, path: str, mode_: int, fi: object = None) -> int:
            raise FuseOSError(errno.EACCES)

    FUSE(Fs(), mountpoint, foreground=True, nothreads=False, allow_other=True)


@contextmanager
def fuse_mount(mode: str, mountpoint: Path) -> Iterator[Path]:
    import subprocess

    from tests.services import unavailable

    if not Path("/dev/fuse").exists():
        unavailable("no /dev/fuse in this kernel")
    mountpoint.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.services.fusefs", mode, str(mountpoint)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while f" {mountpoint} " not in Path("/proc/self/mountinfo").read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            proc.kill()
            unavailable(f"FUSE mount did not come up (libfuse2 and fusepy needed): {err[-400:]}")
        time.sleep(0.05)
    try:
        yield mountpoint
    finally:
        proc.kill()  # the kernel then fails every pending request on the mount, which frees blocked probes
        proc.wait(timeout=10)
        subprocess.run(["umount", "-l", str(mountpoint)], capture_output=True, timeout=10, check=False)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
