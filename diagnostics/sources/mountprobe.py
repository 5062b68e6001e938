"""Probing a mounted secondary-storage path without ever hanging the caller.

``statvfs``/``open`` on a dead hard NFS mount block forever in an uninterruptible state: no thread and
no signal frees them (probing.md §2). So every look at a mounted path happens in a **child process**
that the parent abandons at its deadline; a path that timed out is remembered as stuck and not probed
again in this process. The write probe creates a uniquely named hidden file (``.csdiag-probe-…``) at the
top of the export — never near template folders —, writes, fsyncs, reads back and removes it, also after
an error; leftovers of earlier, interrupted probes (recognisable by the name) are removed first.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import select
import stat
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

PREFIX = ".csdiag-probe-"
_stuck: set[str] = set()  # paths whose probe did not come back in this process: never probed again


def mount_of(path: str, mountinfo: str) -> dict[str, Any] | None:
    """The /proc/self/mountinfo entry that holds ``path`` (the longest mount point that is a prefix)."""
    best: dict[str, Any] | None = None
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if len(fields) < 6 or len(tail) < 3:
            continue
        point = fields[4].replace("\\040", " ")
        if (path == point or path.startswith(point.rstrip("/") + "/")) and (
            best is None or len(point) > len(best["mount_point"])
        ):
            opts = set(fields[5].split(",")) | set(tail[2].split(","))
            best = {"mount_point": point, "fstype": tail[0], "source": tail[1], "options": sorted(opts)}
    return best


def nfs_mounts_of(source: str, mountinfo: str | None = None) -> list[str]:
    """Mount points of NFS mounts whose source is ``server:/export`` (reading procfs never blocks on NFS)."""
    if mountinfo is None:
        try:
            with open("/proc/self/mountinfo") as f:  # noqa: PTH123 - procfs
                mountinfo = f.read()
        except OSError:
            return []
    out = []
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        tail = right.split()
        if len(tail) >= 2 and tail[0].startswith("nfs") and tail[1].rstrip("/") == source.rstrip("/"):
            out.append(left.split()[4].replace("\\040", " "))
    return out


def _probe_in_child(path: str, write: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"path": path}
    try:
        with open("/proc/self/mountinfo") as f:  # noqa: PTH123 - procfs
            result["mount"] = mount_of(path, f.read())
        # stat(), not Path.is_dir(): is_dir() answers False for EIO/EACCES/ESTALE too, and a mount that
        # cannot be read must not be reported as a folder that does not exist
        if not stat.S_ISDIR(Path(path).stat().st_mode):
            raise NotADirectoryError(errno.ENOTDIR, "not a directory")
        st = os.statvfs(path)
        result.update(
            total_bytes=st.f_blocks * st.f_frsize,
            free_bytes=st.f_bfree * st.f_frsize,
            available_bytes=st.f_bavail * st.f_frsize,
        )
        if write:
            result["write"] = _write_probe(path)
    except OSError as exc:
        result["error"] = {"errno": errno.errorcode.get(exc.errno or 0, str(exc.errno)), "message": exc.strerror}
    return result


def _write_probe(path: str) -> dict[str, Any]:
    for old in Path(path).glob(PREFIX + "*"):  # leftovers of an interrupted earlier probe
        with contextlib.suppress(OSError):
            if time.time() - old.stat().st_mtime > 600:
                old.unlink()
    name = Path(path) / f"{PREFIX}{int(time.time())}-{uuid.uuid4().hex[:12]}"
    data = os.urandom(64 << 10)
    start = time.monotonic()
    try:
        fd = os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        ok = name.read_bytes() == data
        return {
            "ok": ok,
            "ms": round((time.monotonic() - start) * 1000, 1),
            "error": None if ok else {"errno": "EIO", "message": "read back differs from what was written"},
        }
    except OSError as exc:
        return {
            "ok": False,
            "error": {"errno": errno.errorcode.get(exc.errno or 0, str(exc.errno)), "message": exc.strerror},
        }
    finally:
        with contextlib.suppress(OSError):
            name.unlink()


_ROOT = str(Path(__file__).resolve().parents[2])  # the folder holding the diagnostics package
_CHILD = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from diagnostics.sources.mountprobe import _child_main; _child_main(sys.argv[2], sys.argv[3] == 'write')"
)


def probe(path: str, timeout_s: float, write: bool = True) -> dict[str, Any]:
    """Mount entry, statvfs numbers and a write probe for ``path``, or ``{"stuck": True}`` at the deadline.

    The probe runs in a new Python process (fork+exec by subprocess, no Python code between them), not a
    bare ``fork()``: this process runs other checks in threads, and a forked copy of a multi-threaded
    process can deadlock on a lock another thread held. Not multiprocessing either: it joins its children
    at exit, and a child blocked in the kernel on a dead mount would then hang the whole program. The
    child holds no descriptor of ours (close_fds; stdin/stderr to /dev/null), runs in its own session
    from ``/`` (a cwd on the dead mount would pin it), and is always reaped: at once when it answers,
    by a watcher thread when it was abandoned."""
    if path in _stuck:
        return {"path": path, "stuck": True, "detail": "an earlier probe of this path in this run never returned"}
    # no stat() of the path here: on a dead mount it would block this process; the child finds out
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, _ROOT, path, "write" if write else "read"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        close_fds=True,
        start_new_session=True,
        cwd="/",
    )
    assert proc.stdout is not None
    read_end = proc.stdout.fileno()
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    try:
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([read_end], [], [], left)
            if not ready:
                break
            chunk = os.read(read_end, 65536)
            if not chunk:  # the child finished writing
                proc.wait()
                try:
                    result: dict[str, Any] = json.loads(b"".join(chunks))
                except ValueError:
                    result = {"path": path, "error": {"errno": "ECHILD", "message": "the probe process died"}}
                return result
            chunks.append(chunk)
    finally:
        proc.stdout.close()
    _stuck.add(path)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()  # a process blocked in the kernel ignores even this until the call returns
    _reap_later(proc)
    return {"path": path, "stuck": True, "detail": f"no answer from statvfs/open within {timeout_s:g} s"}


def _child_main(path: str, write: bool) -> None:
    """The probe process: one JSON document on stdout."""
    sys.stdout.write(json.dumps(_probe_in_child(path, write)))
    sys.stdout.flush()


def _reap_later(proc: subprocess.Popen[bytes]) -> None:
    """Collect the abandoned child if it ever dies, without waiting for it."""
    threading.Thread(target=proc.wait, name=f"reap-{proc.pid}", daemon=True).start()
