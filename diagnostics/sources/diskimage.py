"""Reading disk images without mounting them and without root: QCOW2 (dissect.hypervisor) or raw, a
partition table (dissect.volume) or none, and the ext2/3/4 (dissect.extfs) or XFS (dissect.xfs) file
systems inside. ``qemu-img info --output=json`` adds the format facts when qemu-utils is installed.

:func:`inspect` returns plain data — the facts the hygiene rules judge (checks/images.py) — and never the
content of a secret: of ``/etc/shadow`` only whether root has a password hash and of which kind, of a
private key only its path and type.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import shutil
import stat
import struct
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from diagnostics.sources.errors import NotFound, ProtocolError, SourceError

QCOW2_MAGIC = b"QFI\xfb"
READ_LIMIT = 256 * 1024  # bytes read of any one small file (config files, key headers)
WALK_LIMIT = 20000  # entries visited under one tree (/var/log, caches, home folders)


class _Node(Protocol):
    filename: str | None

    @property
    def size(self) -> int: ...

    @property
    def filetype(self) -> int: ...

    def listdir(self) -> dict[str, Any]: ...

    def open(self) -> BinaryIO: ...


class PartUnreadable(ProtocolError):
    """A path inside the image exists (or may) but could not be read: a corrupt inode, extent or folder.

    Absent and unreadable are different facts: a hygiene rule on an absent file may pass, on an unreadable
    one it cannot be judged (IMAGE_UNREADABLE, UNKNOWN)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


_ABSENT = (FileNotFoundError, NotADirectoryError)  # dissect's own kinds subclass these


def _why(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@dataclass
class Tree:
    """A file system inside an image, read through dissect (paths are absolute, '/' is its root).

    ``node``/``read``/``listdir`` return None/[] for what is absent and raise :class:`PartUnreadable` for
    what could not be read; ``walk`` goes on past an unreadable folder and lists it in ``unreadable``."""

    fs: Any
    kind: str  # "ext4", "xfs"
    where: str  # "whole disk" or "partition 1 (offset 1048576)"
    unreadable: list[dict[str, str]] = field(default_factory=list)

    def _get(self, path: str) -> _Node | None:
        try:
            node: _Node = self.fs.get(path)
        except _ABSENT:
            return None
        except Exception as exc:  # dissect raises many kinds (struct.error, EOFError, its Error) on corruption
            raise PartUnreadable(path, _why(exc)) from exc
        return node

    def node(self, path: str) -> _Node | None:
        node = self._get(path)
        for _ in range(8):  # follow symlinks inside the image (absolute ones from its root)
            if node is None:
                return None
            try:
                if node.filetype != stat.S_IFLNK:
                    return node
                target = str(getattr(node, "link", ""))
            except Exception as exc:
                raise PartUnreadable(path, _why(exc)) from exc
            path = target if target.startswith("/") else str(Path(path).parent / target)
            node = self._get(path)
        return None

    def _type(self, n: _Node, path: str) -> int:
        try:
            return int(n.filetype)
        except Exception as exc:
            raise PartUnreadable(path, _why(exc)) from exc

    def is_file(self, path: str) -> bool:
        n = self.node(path)
        return n is not None and self._type(n, path) == stat.S_IFREG

    def is_dir(self, path: str) -> bool:
        n = self.node(path)
        return n is not None and self._type(n, path) == stat.S_IFDIR

    def read(self, path: str, limit: int = READ_LIMIT) -> bytes | None:
        """The first ``limit`` bytes; None when absent or not a regular file."""
        n = self.node(path)
        if n is None or self._type(n, path) != stat.S_IFREG:
            return None
        try:
            with contextlib.closing(n.open()) as f:
                return bytes(f.read(limit))
        except Exception as exc:
            raise PartUnreadable(path, _why(exc)) from exc

    def listdir(self, path: str) -> list[str]:
        n = self.node(path)
        if n is None or self._type(n, path) != stat.S_IFDIR:
            return []
        try:
            return sorted(k for k in n.listdir() if k not in (".", ".."))
        except Exception as exc:
            raise PartUnreadable(path, _why(exc)) from exc

    def glob(self, pattern: str) -> list[str]:
        folder, _, name = pattern.rpartition("/")
        return [f"{folder}/{n}" for n in self.listdir(folder or "/") if fnmatch.fnmatch(n, name)]

    def walk(self, top: str, limit: int = WALK_LIMIT) -> Iterator[tuple[str, int]]:
        """(path, size) of the regular files under ``top``, without following symlinks. A folder that
        cannot be read is recorded in ``unreadable`` and the walk goes on."""
        stack, seen = [top], 0
        while stack and seen < limit:
            folder = stack.pop()
            try:
                entries = self.fs.get(folder).listdir()
            except _ABSENT:
                continue
            except Exception as exc:
                self.unreadable.append({"path": folder, "reason": _why(exc)})
                continue
            for name, child in entries.items():
                if name in (".", ".."):
                    continue
                seen += 1
                path = f"{folder.rstrip('/')}/{name}"
                try:
                    kind, size = child.filetype, (int(child.size) if child.filetype == stat.S_IFREG else 0)
                except Exception as exc:
                    self.unreadable.append({"path": path, "reason": _why(exc)})
                    continue
                if kind == stat.S_IFDIR:
                    stack.append(path)
                elif kind == stat.S_IFREG:
                    yield path, size


def detect_format(fh: BinaryIO) -> str:
    fh.seek(0)
    return "qcow2" if fh.read(4) == QCOW2_MAGIC else "raw"


def qcow2_header(fh: BinaryIO) -> dict[str, Any]:
    """The header facts qemu-img would print (version, cluster size, backing file, dirty flag)."""
    fh.seek(0)
    head = fh.read(112)
    if len(head) < 72:
        raise ProtocolError("QCOW2 header truncated")
    version, bf_off, bf_size, cluster_bits, size = struct.unpack(">IQIIQ", head[4:32])
    facts: dict[str, Any] = {"version": version, "virtual_size": size, "cluster_size": 1 << cluster_bits}
    if version >= 3 and len(head) >= 104:
        incompatible = struct.unpack(">Q", head[72:80])[0]
        facts["dirty"] = bool(incompatible & 1)
        facts["corrupt"] = bool(incompatible & 2)
    if bf_off and 0 < bf_size < 1024:
        fh.seek(bf_off)
        facts["backing_file"] = fh.read(bf_size).decode("utf-8", "replace")
    return facts


def _open_stream(path: Path, fh: BinaryIO, fmt: str) -> BinaryIO:
    if fmt == "raw":
        return fh
    from dissect.hypervisor.disk.qcow2 import QCow2

    try:  # given the path, dissect opens a backing file beside the image when there is one
        stream: BinaryIO = QCow2(path, allow_no_backing_file=True, allow_no_data_file=True).open()
    except Exception as exc:  # dissect's own exception kinds
        raise ProtocolError(f"{path}: not a readable QCOW2 image: {exc}") from exc
    return stream


def header_facts(path: Path) -> tuple[str, dict[str, Any]]:
    """The format ("qcow2" or "raw") and its header facts, read before anything else can fail."""
    try:
        with path.open("rb") as fh:
            fmt = detect_format(fh)
            return fmt, qcow2_header(fh) if fmt == "qcow2" else {"virtual_size": os.fstat(fh.fileno()).st_size}
    except FileNotFoundError as exc:
        raise NotFound(f"{path}: no such file") from exc
    except OSError as exc:
        raise SourceError(f"{path}: {exc.strerror or exc}") from exc


def _fs_at(stream: BinaryIO, offset: int, size: int | None) -> tuple[Any, str] | None:
    """An ext or XFS file system starting at ``offset`` of ``stream``, or None."""
    from dissect.util.stream import RangeStream

    stream.seek(offset)
    head = stream.read(2048)
    part = RangeStream(stream, offset, size) if size else stream
    if len(head) >= 1082 and head[1080:1082] == b"\x53\xef":
        from dissect.extfs import ExtFS

        return ExtFS(part), "ext4"
    if head[:4] == b"XFSB":
        from dissect.xfs import XFS

        return XFS(part), "xfs"
    return None


def filesystems(stream: BinaryIO, size: int) -> list[Tree]:
    """The file systems of a disk: the whole disk, else each partition of its MBR/GPT table."""
    found = _fs_at(stream, 0, None)
    if found:
        return [Tree(found[0], found[1], "whole disk")]
    from dissect.volume.disk import Disk

    try:
        stream.seek(0)  # Disk reads the table from where the stream stands
        disk = Disk(stream)
    except Exception:  # not a partition table dissect knows
        return []
    trees = []
    for p in disk.partitions:
        if p.size <= 0 or p.offset >= size:
            continue
        try:
            fs = _fs_at(stream, p.offset, p.size)
        except Exception:
            fs = None
        if fs:
            trees.append(Tree(fs[0], fs[1], f"partition {p.number} (offset {p.offset})"))
    return trees


def qemu_img_info(path: Path, timeout_s: float = 30) -> dict[str, Any] | None:
    """``qemu-img info --output=json`` (None when qemu-img is not installed)."""
    exe = shutil.which("qemu-img")
    if exe is None:
        return None
    try:
        r = subprocess.run(
            [exe, "info", "--force-share", "--output=json", str(path)],
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"qemu-img info did not finish in {timeout_s:g} s"}
    if r.returncode != 0:
        return {"error": r.stderr.strip()[-500:]}
    try:
        info: dict[str, Any] = json.loads(r.stdout)
    except ValueError:
        return {"error": "qemu-img printed no JSON"}
    return info


@contextlib.contextmanager
def opened(path: Path) -> Iterator[tuple[BinaryIO, list[Tree]]]:
    """The virtual disk of the image at ``path`` as a stream, and the file systems on it."""
    fmt, facts = header_facts(path)
    with path.open("rb") as fh:
        stream = _open_stream(path, fh, fmt)
        yield stream, filesystems(stream, int(facts["virtual_size"]))


def allocation(path: Path) -> dict[str, int]:
    st = path.stat()
    return {"file_bytes": st.st_size, "allocated_bytes": st.st_blocks * 512}
