"""Reading log files fast, locally: paths, folders and globs (rotated .gz included, oldest first),
streamed in large blocks and cut to candidate lines by a literal pre-filter before anything is parsed.

The scanner reads each file once, in blocks of ``BLOCK`` bytes cut at a line end. In each block it looks
for every anchor literal with ``bytes.find`` (C speed, no regex) and keeps only the lines that contain
one, with their line numbers and continuation lines (stack traces). Everything else — the bulk of any
log — is never decoded. Damage (a truncated .gz, an unreadable file, binary content) is reported in
the result, after whatever could be read.
"""

from __future__ import annotations

import glob
import gzip
import itertools
import multiprocessing
import os
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol, cast

BLOCK = 4 << 20
PARALLEL_FROM = 2 << 30  # files this large are scanned by one process per core (Scanner.parallel_from)
MAX_WORKERS = 8
MAX_LINE = 64 << 10  # a candidate line is cut here: a single 100 MB "line" must not be held whole
MAX_CONTINUATION = 40
_CONT_STARTS = (b"\t", b"Caused by: ", b"    at ", b"  at ", b"    ... ")
# The first line of a Java stack trace names the exception, unindented, right below its log entry.
_EXCEPTION_LINE = re.compile(rb"[A-Za-z_$][\w$]*(?:\.[\w$]+)+(?:Exception|Error|Throwable)\b")


@dataclass
class FileScan:
    """What scanning one file found; ``error`` is set when it could not be read to the end."""

    path: str
    size: int = 0
    lines: int = 0
    bytes_read: int = 0
    candidates: list[dict[str, object]] = field(default_factory=list)
    truncated: bool = False  # more candidates than kept
    binary: bool = False
    error: str | None = None
    skipped: str | None = None  # why the file was not read at all (older than the window)
    start_offset: int = 0  # where reading began (a cursor from the previous run), and that line's number
    start_line: int = 1
    complete_to: int = 0  # absolute offset just after the last complete line read (where a cursor goes)
    # (offset, line) of the first candidate not kept (max_lines reached): a cursor stops there, so the lines
    # from it on are read again next time rather than never evaluated
    cut_at: tuple[int, int] | None = None


def _rotation_key(path: Path) -> tuple[int, float, str]:
    """Oldest first: management-server.log.2024-05-01.gz < … < management-server.log; cloud.4.log < cloud.1.log
    < cloud.log (size-rotated numbers count backwards)."""
    name = path.name
    m = re.search(r"\.(\d+)\.log(?:\.gz)?$|\.log\.(\d+)(?:\.gz)?$", name)
    if m:
        return (0, -int(m.group(1) or m.group(2)), name)
    if re.search(r"\d{4}-\d{2}-\d{2}", name):
        return (1, 0, name)
    try:
        mtime = path.stat().st_mtime
    except OSError:
        mtime = 0.0
    return (2, mtime, name)


def expand(patterns: Iterable[str]) -> tuple[list[Path], list[str]]:
    """Files named by paths, folders (recursively) and globs, each set oldest first; plus the patterns
    that matched nothing."""
    files: list[Path] = []
    missing: list[str] = []
    for pattern in patterns:
        p = Path(pattern).expanduser()
        if p.is_dir():
            found = [f for f in p.rglob("*") if f.is_file()]
        elif p.is_file():
            found = [p]
        else:
            found = [Path(f) for f in glob.glob(str(p), recursive=True) if Path(f).is_file()]  # noqa: PTH207 - absolute patterns
        if not found:
            missing.append(pattern)
        for f in sorted(found, key=lambda f: (str(f.parent), *_rotation_key(f))):
            if f not in files:
                files.append(f)
    return files, missing


def open_file(path: Path) -> BinaryIO:
    """A log file for reading, .gz decompressed on the fly."""
    return _open(path)


def _open(path: Path) -> BinaryIO:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb", buffering=0)


def _is_continuation(data: bytes | bytearray, pos: int) -> bool:
    # An exception's class name is short: look at the head of the line only (a line of megabytes without a
    # dot would otherwise cost the regex a scan of all of it).
    return data.startswith(_CONT_STARTS, pos) or _EXCEPTION_LINE.match(data, pos, pos + 512) is not None


def _last_entry_start(data: bytes | bytearray, end: int | None = None) -> int:
    """Where the last entry (a line that is not a continuation) of ``data[:end]`` starts; 0 if only the first
    line is one."""
    limit = len(data) if end is None else end
    stop = limit
    while (nl := data.rfind(b"\n", 0, stop)) >= 0:
        if nl + 1 < limit and not _is_continuation(data, nl + 1):
            return nl + 1
        stop = nl
    return 0


def blocks(stream: BinaryIO, size: int = BLOCK) -> Iterator[tuple[bytearray, int]]:
    """Blocks as (buffer, end): ``buffer[:end]`` ends where an entry starts, so an entry and its stack trace
    stay in one block; the last entry is carried over to the next block. An entry longer than ``size`` is
    delivered across blocks. One buffer is read into and reused (no allocation per block): use a block before
    asking for the next."""
    buf = bytearray(2 * size)
    view = memoryview(buf)
    have = 0  # bytes carried over at the start of buf
    readinto = getattr(stream, "readinto", None)
    while True:
        if have + size > len(buf):  # a carried entry as long as the buffer: make room
            view.release()
            buf.extend(bytes(have + size - len(buf)))
            view = memoryview(buf)
        if readinto is not None:
            n = readinto(view[have : have + size]) or 0
        else:
            chunk = stream.read(size)
            n = len(chunk)
            view[have : have + n] = chunk
        if n == 0:
            if have:
                yield buf, have
            view.release()
            return
        total = have + n
        cut = _last_entry_start(buf, total)
        if cut == 0:
            if total >= size:  # one entry bigger than a block: hand it over rather than grow forever
                yield buf, total
                have = 0
            else:
                have = total
            continue
        yield buf, cut
        tail = bytes(view[cut:total])  # the carried entry, moved to the front (a copy: the ranges may overlap)
        buf[: len(tail)] = tail
        have = len(tail)


class _Range:
    """A file object over bytes [start, end) of a file, moved to line boundaries: the range owns every
    line that *starts* inside it."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self._f = Path(path).open("rb", buffering=0)  # noqa: SIM115 - closed by close()
        self._end = end
        if start:
            self._f.seek(start - 1)
            prev = self._f.read(1)
            if prev != b"\n":  # mid-line: the line belongs to the previous range
                self._f.readline()
        self._pos = self.start = self._f.tell()
        self._done = self._pos >= end

    def read(self, size: int) -> bytes:
        if self._done:
            return b""
        data = self._f.read(size)
        if not data:
            return b""
        if self._pos + len(data) >= self._end:
            # finish the line that crosses the end, then stop
            keep = max(0, self._end - self._pos)
            cut = data.find(b"\n", keep - 1 if keep else 0)
            if cut >= 0:
                data = data[: cut + 1]
                self._done = True
            elif len(data) < size:
                self._done = True
        self._pos += len(data)
        return data

    def close(self) -> None:
        self._f.close()


def _scan_range(args: tuple[Scanner, str, int, int]) -> FileScan:
    scanner, path, start, end = args
    result = FileScan(path=path)
    stream = _Range(path, start, end)
    try:
        scanner.scan_stream(stream, result, check_binary=start == 0, offset=stream.start)  # type: ignore[arg-type]
    except OSError as exc:
        result.error = f"cannot read: {exc.strerror or exc}"
    finally:
        stream.close()
    return result


def is_gzip(path: Path) -> bool:
    with path.open("rb") as probe:
        return probe.read(2) == b"\x1f\x8b"


def continuation(data: bytes | bytearray, pos: int, end: int | None = None) -> list[str]:
    """The continuation lines (stack trace) starting at ``pos`` (up to ``end``)."""
    limit = len(data) if end is None else end
    cont: list[str] = []
    while pos < limit and len(cont) < MAX_CONTINUATION and _is_continuation(data, pos):
        e = data.find(b"\n", pos, limit)
        e = limit if e < 0 else e
        cont.append(data[pos : min(e, pos + 2000)].decode("utf-8", "replace").rstrip("\r"))
        pos = e + 1
    return cont


class _HyperscanDb(Protocol):
    def scan(self, data: bytes | memoryview, match_event_handler: Callable[..., object]) -> None: ...


def _compile_hyperscan(anchors: Sequence[bytes], pattern: re.Pattern[bytes] | None) -> _HyperscanDb | None:
    """One Hyperscan database for all anchors and the pattern; None where Hyperscan is not installed (it is
    an optional speed-up: x86-64 wheels only) or cannot take the pattern."""
    try:
        import hyperscan
    except ImportError:
        return None
    exprs = [re.escape(a) for a in anchors] + ([pattern.pattern] if pattern is not None else [])
    if not exprs:
        return None
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        db.compile(expressions=exprs, ids=list(range(len(exprs))), flags=0)
    except hyperscan.error:
        return None
    return cast("_HyperscanDb", db)


class Scanner:
    """Finds candidate lines: those containing one of ``anchors`` or matching ``pattern``."""

    def __init__(
        self,
        anchors: Sequence[bytes],
        max_candidates: int = 20000,
        parallel_from: int = PARALLEL_FROM,
        pattern: re.Pattern[bytes] | None = None,
    ) -> None:
        """``anchors`` are literals, ``pattern`` one regex (for what literals cannot say cheaply, such as any
        of several log levels). All of them are searched in one pass by Hyperscan's multi-pattern matcher
        where it is installed, else each with its own pass (bytes.find, re)."""
        self.anchors = tuple(dict.fromkeys(a for a in anchors if a))
        self.pattern = pattern
        self.max_candidates = max_candidates
        self.parallel_from = parallel_from
        self._hs: _HyperscanDb | None = None
        self._hs_tried = False

    def __getstate__(self) -> dict[str, object]:
        state = dict(self.__dict__)
        state["_hs"], state["_hs_tried"] = None, False  # compiled again in a worker process
        return state

    def _hyperscan(self) -> _HyperscanDb | None:
        if not self._hs_tried:
            self._hs_tried = True
            self._hs = _compile_hyperscan(self.anchors, self.pattern)
        return self._hs

    def _starts(self, block: bytes | bytearray, end: int) -> set[int]:
        """Offsets of the lines in ``block[:end]`` that carry an anchor or match the pattern."""
        hs = self._hyperscan()
        if hs is not None:
            ends: list[int] = []
            with memoryview(block) as view:
                hs.scan(view[:end], match_event_handler=lambda _id, _from, to, _flags, _ctx: ends.append(to))
            return {block.rfind(b"\n", 0, e) + 1 for e in ends}
        starts: set[int] = set()
        for anchor in self.anchors:
            pos = block.find(anchor, 0, end)
            while pos >= 0:
                start = block.rfind(b"\n", 0, pos) + 1
                starts.add(start)
                nl = block.find(b"\n", pos, end)
                pos = block.find(anchor, nl, end) if nl >= 0 else -1
        if self.pattern is not None:
            for m in self.pattern.finditer(block, 0, end):
                starts.add(block.rfind(b"\n", 0, m.start()) + 1)
        return starts

    def scan_block(
        self, block: bytes | bytearray, first_line: int, result: FileScan, base_offset: int = 0, end: int | None = None
    ) -> int:
        """Add the candidates of ``block[:end]`` to ``result``; return the number of lines in it."""
        limit = len(block) if end is None else end
        starts = self._starts(block, limit)
        # A literal inside a stack trace belongs to the entry above it, which carries the trace along.
        starts = {st for st in starts if not _is_continuation(block, st)}
        line_no, counted_to = first_line, 0
        for start in sorted(starts):
            line_no += block.count(b"\n", counted_to, start)
            counted_to = start
            if len(result.candidates) >= self.max_candidates:
                result.truncated = True
                if result.cut_at is None:
                    result.cut_at = (base_offset + start, line_no)
                break
            eol = block.find(b"\n", start, limit)
            eol = limit if eol < 0 else eol
            text = block[start : min(eol, start + MAX_LINE)]
            result.candidates.append(
                {
                    "line": line_no,
                    "offset": base_offset + start,
                    "text": text.decode("utf-8", "replace").rstrip("\r"),
                    "continuation": continuation(block, eol + 1, limit),
                }
            )
        return line_no - first_line + block.count(b"\n", counted_to, limit)  # one counting pass over the block

    def scan_stream(
        self, stream: BinaryIO, result: FileScan, check_binary: bool = True, offset: int | None = None
    ) -> None:
        """Scan from where ``result`` says reading starts (``start_offset``/``start_line``); ``offset``
        overrides the byte offset of the stream's current position (byte ranges)."""
        if offset is None:
            offset = result.start_offset
            if offset:
                stream.seek(offset)  # gzip streams seek forward by decompressing
        line = result.start_line
        for block, end in blocks(stream):
            # A crash can leave a few NUL bytes in a text log; a file that is mostly NULs is not a log.
            head = min(end, 8192)
            if check_binary and not result.bytes_read and block.count(b"\x00", 0, head) > head // 4:
                result.binary = True
                result.error = "binary content (NUL bytes): not a text log"
                return
            n = self.scan_block(block, line, result, offset + result.bytes_read, end)
            last_nl = block.rfind(b"\n", 0, end)
            if last_nl >= 0:
                result.complete_to = offset + result.bytes_read + last_nl + 1
            result.bytes_read += end
            line += n
            result.lines += n

    def _scan_parallel(self, path: Path, size: int, workers: int, result: FileScan) -> None:
        """Split a big plain file into byte ranges cut at line ends, scan them in worker processes (one per
        core), and stitch the results: line numbers are shifted by the lines of the ranges before."""
        start = result.start_offset
        bounds = [start + (size - start) * i // workers for i in range(workers + 1)]
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver")) as pool:
            parts = list(pool.map(_scan_range, [(self, str(path), a, b) for a, b in itertools.pairwise(bounds)]))
        offset = result.start_line - 1
        for part in parts:
            if part.error and not result.error:
                result.error = part.error
            result.binary = result.binary or part.binary
            for cand in part.candidates:
                cand["line"] = int(cand["line"]) + offset  # type: ignore[call-overload]
                if len(result.candidates) >= self.max_candidates:
                    result.truncated = True
                    if result.cut_at is None:
                        result.cut_at = (int(cand["offset"]), int(cand["line"]))  # type: ignore[call-overload]
                    break
                result.candidates.append(cand)
            if part.cut_at is not None and result.cut_at is None:
                result.cut_at = (part.cut_at[0], part.cut_at[1] + offset)
            result.truncated = result.truncated or part.truncated
            result.bytes_read += part.bytes_read
            result.complete_to = max(result.complete_to, part.complete_to)
            result.lines += part.lines
            offset += part.lines
        # A stack trace may run past the end of its range: read the last entry of each range again.
        with path.open("rb") as f:
            for part in parts[:-1]:
                if part.candidates and (last := part.candidates[-1]) in result.candidates:
                    f.seek(int(last["offset"]))  # type: ignore[call-overload]
                    buf = f.read(MAX_LINE + MAX_CONTINUATION * 2000)
                    nl = buf.find(b"\n")
                    last["continuation"] = continuation(buf, nl + 1) if nl >= 0 else []

    def scan_file(self, path: Path, since_epoch: float | None = None, start: tuple[int, int] = (0, 1)) -> FileScan:
        """Scan ``path`` from byte ``start[0]`` (which is line ``start[1]``; a cursor) to its end."""
        result = FileScan(path=str(path), start_offset=start[0], start_line=start[1])
        try:
            st = path.stat()
            result.size = st.st_size
            if since_epoch is not None and st.st_mtime < since_epoch:
                result.skipped = "last written before the time window"
                return result
            workers = min(os.cpu_count() or 1, MAX_WORKERS)
            parallel = workers > 1 and st.st_size >= self.parallel_from and not is_gzip(path)
            if parallel:
                try:
                    self._scan_parallel(path, st.st_size, workers, result)
                except (BrokenProcessPool, OSError, RuntimeError):
                    # No worker processes here (a sandbox, a main module that cannot be re-imported): one
                    # process reads it all instead.
                    result = FileScan(path=str(path), size=st.st_size, start_offset=start[0], start_line=start[1])
                    parallel = False
            if not parallel:
                with _open(path) as stream:
                    self.scan_stream(stream, result)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            result.error = f"damaged compressed file after {result.bytes_read} bytes: {exc or type(exc).__name__}"
        except OSError as exc:
            result.error = f"cannot read: {exc.strerror or exc}"
        return result
