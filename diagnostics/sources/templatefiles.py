"""Template files on a local mount of secondary storage: a template's folder, its ``template.properties``
and the image's digest, streamed through hashlib (OpenSSL: the CPU's SHA extensions where present)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHUNK = 4 << 20


def properties(text: str) -> dict[str, str]:
    """A Java properties file as written by CloudStack (``key=value`` lines, ``#`` comments)."""
    out = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", "!")):
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip()
    return out


def hash_file(path: Path, algorithm: str, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Stream ``path`` through hashlib; the digest, bytes and measured throughput."""
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
    elapsed = time.monotonic() - t0
    return {
        "digest": h.hexdigest(),
        "bytes": done,
        "seconds": round(elapsed, 3),
        "mib_per_s": round(done / 2**20 / elapsed, 1) if elapsed > 0 else None,
    }


def read_folder(folder: Path, algorithm: str | None) -> dict[str, Any]:
    """What the SSVM script prints, read here: the listing, the properties, the named file's size and digest."""
    out: dict[str, Any] = {"exists": folder.is_dir(), "files": {}, "properties": {}}
    if not out["exists"]:
        return out
    out["files"] = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
    props = folder / "template.properties"
    if props.is_file():
        out["properties"] = properties(props.read_text(errors="replace"))
    name = out["properties"].get("filename")
    image = folder / name if name else None
    if image is not None and image.is_file():
        out["size"] = image.stat().st_size
        out["image"] = str(image)
        if algorithm:
            out["hash"] = {"rc": 0, **hash_file(image, algorithm)}
    return out
