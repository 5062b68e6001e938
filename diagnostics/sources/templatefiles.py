"""Template files on a local mount of secondary storage: a template's folder, its ``template.properties``
and the image's digest, streamed through hashlib (OpenSSL: the CPU's SHA extensions where present)."""

from __future__ import annotations

import hashlib
import stat
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from diagnostics.sources.errors import Timeout

CHUNK = 4 << 20


def properties(text: str) -> dict[str, str]:
    """A Java properties file as written by CloudStack (``key=value`` lines, ``#`` comments)."""
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "!")):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def hash_file(
    path: Path, algorithm: str, progress: Callable[[int], None] | None = None, deadline: float | None = None
) -> dict[str, Any]:
    """Stream ``path`` through hashlib; the digest, bytes and measured throughput.

    With ``deadline`` (a ``time.monotonic()`` value) a read past it raises :class:`Timeout`; the mount
    was probed first (mountprobe), so one read that never returns is the case that probe catches."""
    h = hashlib.new(algorithm)
    t0, done = time.monotonic(), 0
    with path.open("rb", buffering=0) as f:
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])
            done += n
            if progress:
                progress(n)
            if deadline is not None and time.monotonic() > deadline:
                raise Timeout(f"{path}: hashing stopped at its deadline after {done} bytes")
    elapsed = time.monotonic() - t0
    return {
        "digest": h.hexdigest(),
        "bytes": done,
        "seconds": round(elapsed, 3),
        "mib_per_s": round(done / 2**20 / elapsed, 1) if elapsed > 0 else None,
    }


def kind_of(path: Path) -> str | None:
    """ "dir", "file", "other", or None when absent; a path that exists but cannot be examined (EIO,
    EACCES, ESTALE) raises OSError — absent and unreadable are different facts."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None
    return "dir" if stat.S_ISDIR(mode) else "file" if stat.S_ISREG(mode) else "other"


def read_folder(folder: Path, algorithm: str | None, deadline: float | None = None) -> dict[str, Any]:
    """What the SSVM script prints, read here: the listing, the properties, the named file's size and digest.

    Raises OSError when something that is there cannot be read (never reported as absent)."""
    out: dict[str, Any] = {"exists": kind_of(folder) == "dir", "files": {}, "properties": {}}
    if not out["exists"]:
        return out
    out["files"] = {p.name: p.stat().st_size for p in folder.iterdir() if kind_of(p) == "file"}
    props = folder / "template.properties"
    if kind_of(props) == "file":
        out["properties"] = properties(props.read_text(errors="replace"))
    name = out["properties"].get("filename")
    image = folder / name if name else None
    if image is not None and kind_of(image) == "file":
        out["size"] = image.stat().st_size
        out["image"] = str(image)
        if algorithm:
            out["hash"] = {"rc": 0, **hash_file(image, algorithm, deadline=deadline)}
    return out
