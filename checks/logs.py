"""The ``logs`` check: what management-server.log, the SSVMs' cloud.log and the KVM agents' agent.log say
about template failures — ranked findings with the lines as proof.

collect: find the files (local paths, folders, globs, rotated .gz; or over SSH), stream them through the
literal pre-filter and keep the candidate lines (WARN/ERROR/FATAL lines, quieter lines that carry a
catalogue literal, and success markers), with file, line number and stack trace.
evaluate: parse each candidate (every format of cloudstack.md §3), drop what lies before the time window,
classify it with the signature catalogue (shared with the ``templates`` check), and aggregate one finding
per (code, target) with count, first/last seen and sample lines. A download failure followed later by a
success for the same template is reported as recovered (INFO).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from checks import logparse, signatures
from diagnostics.check import Check, CheckContext, Code, Params, RawEvidence
from diagnostics.config import ConfigError, LogsSettings, Settings, parse_since
from diagnostics.history import History
from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity, utcnow
from diagnostics.sources import logfiles, ssh
from diagnostics.sources.cursors import head_of
from diagnostics.sources.errors import SourceError

NAME = "logs"
log = logging.getLogger(__name__)

# What says a template download finished: the DownloadAnswer trace and the SSVM's completion line.
SUCCESS_MARKERS = ("Install completed successfully", "status=DOWNLOAD_FINISHED")
_SUCCESS_IN = {
    "management": ("Install completed successfully",),
    "agent": (),
    "ssvm": ("Install completed successfully", "status=DOWNLOAD_FINISHED"),
}
# A bad level right after the milliseconds of the timestamp, in every format of cloudstack.md §3. One regex
# pass finds all three levels faster than three literal passes (0.19 s vs 0.36 s per 256 MiB, measured).
LEVEL_PATTERN = re.compile(rb",\d{3} (?:WARN|ERROR|FATAL) ")
_LOGID = re.compile(r"\(logid:([0-9a-fA-F]*)\)")
RECOVERABLE = {"DOWNLOAD_TIMEOUT", "STORAGE_DISCONNECTED", "DOWNLOAD_FAILED", "NO_SSVM"}


def anchors(kind: str) -> list[bytes]:
    """Literals that make a line of a ``kind`` log a candidate besides a bad level: the catalogue texts that
    log writes below WARN, and its success markers. Each one costs a pass over the file: only what applies."""
    quiet = [a.encode() for a in signatures.pre_filter_anchors(kind)]
    return [*quiet, *(m.encode() for m in _SUCCESS_IN[kind])]


def scanner(kind: str, max_lines: int = 20000) -> logfiles.Scanner:
    """The candidate-line scanner for a ``kind`` log: a bad level, a quiet catalogue literal, a success marker."""
    return logfiles.Scanner(anchors(kind), max_lines, pattern=LEVEL_PATTERN)


_CATALOGUE_CODES = sorted({s.code for s in signatures.CATALOGUE if "log" in s.applies_to and not s.routine})
CODES = (
    *(
        Code(
            code=c,
            severity=max((s.severity for s in signatures.CATALOGUE if s.code == c), key=lambda x: x.rank),
            meaning=next(s.title for s in signatures.CATALOGUE if s.code == c),
        )
        for c in _CATALOGUE_CODES
    ),
    Code(code="LOGS_SCANNED", severity=Severity.INFO, meaning="what was read: files, bytes, lines, the time window"),
    Code(code="LOG_FILE_MISSING", severity=Severity.UNKNOWN, meaning="a configured log path matched no file"),
    Code(
        code="LOG_FILE_DAMAGED",
        severity=Severity.UNKNOWN,
        meaning="a log could not be read to the end (corrupt .gz, binary content, I/O error)",
    ),
    Code(
        code="LOG_SOURCE_UNAVAILABLE",
        severity=Severity.UNKNOWN,
        meaning="a host's logs could not be reached (SSH refused, timed out, host key rejected)",
    ),
    Code(
        code="LOG_SCAN_TRUNCATED",
        severity=Severity.UNKNOWN,
        meaning="a file had more candidate lines than [logs] max_lines; the rest was not evaluated",
    ),
)


class LogsParams(Params):
    max_samples: int = Field(5, ge=1, le=50, description="sample lines per finding")


# --- collect ---------------------------------------------------------------------------------------------


def _record(kind: str, host: str, scan: logfiles.FileScan) -> dict[str, Any]:
    return {
        "kind": kind,
        "host": host,
        "path": scan.path,
        "size": scan.size,
        "lines": scan.lines,
        "bytes_read": scan.bytes_read,
        "error": scan.error,
        "skipped": scan.skipped,
        "binary": scan.binary,
        "truncated": scan.truncated,
        "candidates": scan.candidates,
    }


def kind_of(path: Path) -> str:
    """Which log a file is, by CloudStack's names: the SSVM's cloud.log (UTC), a KVM agent.log, or else a
    management-server.log."""
    name = path.name
    if name.startswith("cloud") and ".log" in name:
        return "ssvm"
    if name.startswith("agent") and ".log" in name:
        return "agent"
    return "management"


def scan_local(
    patterns: Sequence[str],
    kind: str | None,
    max_lines: int,
    since: datetime | None,
    files: list[dict[str, Any]],
    problems: list[dict[str, Any]],
    cursors: History | None = None,
) -> None:
    """Scan local files; ``kind`` None tells each file's kind by its name."""
    found, missing = logfiles.expand(patterns)
    problems += [{"kind": "missing", "host": "local", "pattern": p, "reason": "no such file"} for p in missing]
    for path in found:
        file_kind = kind or kind_of(path)
        head, start = _resume(cursors, "local", functools.partial(logfiles.open_file, path), _size(path))
        scan = scanner(file_kind, max_lines).scan_file(path, since.timestamp() if since else None, start)
        files.append(_record(file_kind, "local", scan) | _advance(cursors, "local", head, scan))


def _size(path: Path) -> int | None:
    """The size a cursor can be compared with: a plain file's; None for .gz (compressed size says nothing)."""
    try:
        return None if logfiles.is_gzip(path) else path.stat().st_size
    except OSError:
        return None


def _resume(
    cursors: History | None, source: str, opener: Callable[[], Any], size: int | None
) -> tuple[str | None, tuple[int, int]]:
    """(fingerprint, (offset, line)) to start reading a file at: after what the last run read of it."""
    if cursors is None:
        return None, (0, 1)
    try:
        with opener() as stream:
            head = head_of(stream)
    except (OSError, EOFError, SourceError):
        return None, (0, 1)  # the scan itself reports the file's trouble
    cur = cursors.cursor(source, head) if head else None
    if cur is None or (size is not None and cur.offset > size):  # new, or truncated since: from the start
        return head, (0, 1)
    return head, (cur.offset, cur.lines + 1)


def _advance(cursors: History | None, source: str, head: str | None, scan: logfiles.FileScan) -> dict[str, Any]:
    """Where a cursor may go once this scan's lines are evaluated and the run recorded — proposed in the
    evidence (``cursor_advance``), moved by the history store with the run (history.cursor_updates), never
    here: a check that later times out, a bundle never triaged, a run never recorded moves nothing. A scan
    cut short by ``max_lines`` proposes only up to its first candidate not kept."""
    if cursors is None or head is None or scan.error or not scan.complete_to:
        return {}
    offset, lines = scan.complete_to, scan.start_line - 1 + scan.lines
    if scan.cut_at is not None:
        offset, lines = scan.cut_at[0], scan.cut_at[1] - 1
    if offset <= scan.start_offset:
        return {}
    return {"cursor_advance": {"source": source, "head": head, "path": scan.path, "offset": offset, "lines": lines}}


def scan_paths(paths: Sequence[str], since: str, timezone: str, max_lines: int = 20000) -> RawEvidence:
    """``csdiag logs scan``: local paths only, no configuration needed."""
    now = utcnow()
    files: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    scan_local(paths, None, max_lines, parse_since(since, now), files, problems)
    return RawEvidence(
        data={
            "collected_at": now.isoformat(),
            "since": parse_since(since, now).isoformat(),
            "timezone": timezone,
            "files": files,
            "problems": problems,
        }
    )


def _scan_remote(
    host_spec: str,
    default_port: int,
    patterns: Sequence[str],
    kind: str,
    settings: Settings,
    ctx: CheckContext[Any],
    max_lines: int,
    since: datetime,
    files: list[dict[str, Any]],
    problems: list[dict[str, Any]],
    cursors: History | None = None,
) -> None:
    host, port = ssh.split_host(host_spec, default_port)
    scanner_ = scanner(kind, max_lines)
    try:
        with ssh.connect(host, port, settings.ssh, timeout_s=ctx.timeout(settings.ssh.connect_timeout_s * 3)) as s:
            for pattern in patterns:
                paths = s.glob(pattern)
                if not paths:
                    problems.append({"kind": "missing", "host": host, "pattern": pattern, "reason": "no such file"})
                for path in sorted(paths, key=lambda p: logfiles._rotation_key(Path(p))):
                    scan = logfiles.FileScan(path=path)
                    advance: dict[str, Any] = {}
                    try:
                        scan.size, mtime = s.size(path)
                        if mtime < since.timestamp():
                            scan.skipped = "last written before the time window"
                        else:
                            head, (scan.start_offset, scan.start_line) = _resume(
                                cursors, host, functools.partial(s.open, path), scan.size
                            )
                            with s.open(path) as stream:
                                scanner_.scan_stream(stream, scan)
                            advance = _advance(cursors, host, head, scan)
                    except SourceError as exc:
                        scan.error = str(exc)
                    except (OSError, EOFError) as exc:  # a broken .gz or a dropped channel mid-file
                        scan.error = f"read failed after {scan.bytes_read} bytes: {exc}"
                    files.append(_record(kind, host, scan) | (advance if not scan.error else {}))
    except SourceError as exc:
        problems.append(
            {
                "kind": "unavailable",
                "host": host,
                "pattern": ", ".join(patterns),
                "reason": str(exc),
                "error_kind": exc.kind,
            }
        )


def _inventory_ssvm_hosts(settings: Settings, ctx: CheckContext[Any]) -> tuple[list[str], str | None]:
    from diagnostics import inventory
    from diagnostics.sources import database

    db = settings.cloudstack.database
    if db is None:
        return [], "ssvm_from_inventory is set but [cloudstack.database] is not"
    try:
        with database.connect(db, timeout_s=ctx.timeout(db.connect_timeout_s + db.query_timeout_s)) as session:
            q = inventory.queries({"nics": set(), "host": set(), "data_center": set(), "image_store": set()})
            inv = inventory.Inventory.from_results(
                {"ssvms": session.rows(q["ssvms"]), "ssvm_nics": session.rows(q["ssvm_nics"])}
            )
    except SourceError as exc:
        return [], f"cannot read the SSVMs from the database: {exc}"
    return [ip for s in inv.ssvms if s.vm_state == "Running" and (ip := s.private_ip)], None


def collect(ctx: CheckContext[LogsParams]) -> RawEvidence:
    settings = ctx.settings
    cfg: LogsSettings = settings.logs
    now = utcnow()
    since = parse_since(cfg.since, now)
    files: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        cursors = _cursors(settings, problems, stack) if cfg.incremental else None
        _scan_all(settings, ctx, since, files, problems, cursors)
    advance = [f.pop("cursor_advance") for f in files if "cursor_advance" in f]
    return RawEvidence(
        data={
            "collected_at": now.isoformat(),
            "since": since.isoformat(),
            "timezone": cfg.timezone,
            "files": files,
            "problems": problems,
            "cursor_advance": advance,
        }
    )


def _cursors(settings: Settings, problems: list[dict[str, Any]], stack: contextlib.ExitStack) -> History | None:
    """The store of log cursors: ``[logs] cursor_file`` if set, else the history store."""
    cfg = settings.logs
    url = f"sqlite:///{cfg.cursor_file}" if cfg.cursor_file else settings.history.full_url()
    try:
        return stack.enter_context(History.open(url))
    except (SourceError, ConfigError) as exc:
        problems.append(
            {
                "kind": "unavailable",
                "host": "log cursors",
                "pattern": cfg.cursor_file or "[history] url",
                "reason": f"{exc}; reading whole files",
            }
        )
        return None


def _scan_all(
    settings: Settings,
    ctx: CheckContext[LogsParams],
    since: datetime,
    files: list[dict[str, Any]],
    problems: list[dict[str, Any]],
    cursors: History | None,
) -> None:
    cfg = settings.logs
    if cfg.management_hosts:
        for h in cfg.management_hosts:
            _scan_remote(
                h,
                settings.ssh.port,
                cfg.management,
                "management",
                settings,
                ctx,
                cfg.max_lines,
                since,
                files,
                problems,
                cursors,
            )
    elif cfg.management:
        scan_local(cfg.management, "management", cfg.max_lines, since, files, problems, cursors)
    ssvm_hosts = list(cfg.ssvm_hosts)
    if cfg.ssvm_from_inventory:
        found, why = _inventory_ssvm_hosts(settings, ctx)
        ssvm_hosts += [h for h in found if h not in ssvm_hosts]
        if why:
            problems.append({"kind": "unavailable", "host": "database inventory", "pattern": "SSVMs", "reason": why})
    for h in ssvm_hosts:
        _scan_remote(
            h, settings.ssh.ssvm_port, cfg.ssvm, "ssvm", settings, ctx, cfg.max_lines, since, files, problems, cursors
        )
    for h in cfg.agent_hosts:
        _scan_remote(
            h, settings.ssh.port, cfg.agent, "agent", settings, ctx, cfg.max_lines, since, files, problems, cursors
        )


# --- evaluate --------------------------------------------------------------------------------------------


@dataclass
class _Aggregate:
    code: str
    target: str
    signature: signatures.Signature
    facts: dict[str, Any]
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    samples: list[tuple[Mapping[str, Any], Mapping[str, Any], logparse.Parsed]] = field(default_factory=list)
    logids: set[str] = field(default_factory=set)
    sources: dict[str, int] = field(default_factory=dict)
    template: str | None = None
    message: str = ""  # the first line's message: what a class fallback's finding says it logged


def _target(subj: Mapping[str, str], file: Mapping[str, Any]) -> str:
    if "template" in subj:
        name = f' "{subj["template_name"]}"' if "template_name" in subj else ""
        return f"template {subj['template']}{name}"
    if "store" in subj:
        return f"store {subj['store']}"
    if "host" in subj:
        host = subj["host"]
        return f"ssvm {host}" if host.startswith("s-") else f"host {host}"
    where = "this server" if file["host"] == "local" else file["host"]
    return {"ssvm": f"ssvm at {where}", "agent": f"kvm host {where}"}.get(file["kind"], f"management server {where}")


def _where(file: Mapping[str, Any]) -> str:
    return file["path"] if file["host"] == "local" else f"{file['host']}:{file['path']}"


def _describe(agg: _Aggregate) -> str:
    facts = agg.facts
    extra = ""
    if agg.code == "CHECKSUM_MISMATCH" and facts.get("expected"):
        extra = f" ({facts.get('algorithm', '?')} computed {facts.get('computed', '?')}, expected {facts['expected']}"
        if facts["expected"] != facts["expected"].lower():
            extra += "; the expected digest is upper-case: it can never match"
        extra += ")"
    elif "http_status" in facts:
        extra = f" (HTTP {facts['http_status']})"
    elif "reason" in facts:
        extra = f" ({facts['reason']})"
    if agg.signature.category and agg.message:  # a class's fallback: what the line itself said
        extra = f": {agg.message[:160]}" + ("…" if len(agg.message) > 160 else "")
    return agg.signature.title + extra


def evaluate(raw: RawEvidence, params: LogsParams) -> Iterator[Finding]:
    data = raw.data
    since = datetime.fromisoformat(data["since"]) if data.get("since") else None
    local_tz = ZoneInfo(data.get("timezone") or "UTC")
    aggs: dict[tuple[str, str], _Aggregate] = {}
    successes: dict[str, datetime] = {}
    by_logid: dict[tuple[str, str], list[tuple[Mapping[str, Any], Mapping[str, Any]]]] = {}
    stats = {"files": 0, "bytes": 0, "lines": 0, "candidates": 0, "unparsed": 0, "outside": 0}
    for file in data.get("files", []):
        stats["files"] += 1
        stats["bytes"] += int(file.get("bytes_read") or 0)
        stats["lines"] += int(file.get("lines") or 0)
        tz = UTC if file["kind"] == "ssvm" else local_tz
        for cand in file.get("candidates", []):
            stats["candidates"] += 1
            # Classify the raw line first: most candidates are ordinary warnings, parsed only if they matter.
            text = " ".join([cand["text"], *cand.get("continuation", [])[:3]])
            cls = signatures.classify(text, "log")
            if (m := _LOGID.search(cand["text"])) and m[1]:
                by_logid.setdefault((file["path"], m[1]), []).append((file, cand))
            success = cls.signature is None and any(s in cand["text"] for s in SUCCESS_MARKERS)
            if cls.signature is None and not success:
                continue
            p = logparse.parse(cand["text"], tz)
            if p.format == "unknown":
                stats["unparsed"] += 1
            if since and p.time and p.time < since:
                stats["outside"] += 1
                continue
            subj = logparse.subjects(p.message)
            if cls.signature is None:
                if p.time and "template" in subj:
                    t = subj["template"]
                    successes[t] = max(successes.get(t, p.time), p.time)
                continue
            target = _target(subj, file)
            agg = aggs.get((cls.code, target))
            if agg is None:
                agg = aggs[(cls.code, target)] = _Aggregate(
                    cls.code, target, cls.signature, dict(cls.facts), template=subj.get("template"), message=p.message
                )
            elif cls.signature.severity.rank > agg.signature.severity.rank:
                agg.signature, agg.facts, agg.message = cls.signature, dict(cls.facts), p.message
            agg.count += 1
            if p.time:
                agg.first = min(agg.first or p.time, p.time)
                agg.last = max(agg.last or p.time, p.time)
            if len(agg.samples) < params.max_samples:
                agg.samples.append((file, cand, p))
            if p.logid:
                agg.logids.add(p.logid)
            agg.sources[_where(file)] = agg.sources.get(_where(file), 0) + 1
    for agg in sorted(aggs.values(), key=lambda a: (a.code, a.target)):
        yield _finding(agg, successes, by_logid, params)
    yield from _housekeeping(data, stats)


def _evidence(file: Mapping[str, Any], cand: Mapping[str, Any], p: logparse.Parsed | None) -> Evidence:
    text = "\n".join([cand["text"], *cand.get("continuation", [])])
    return Evidence(
        kind=EvidenceKind.LOG,
        source=f"{_where(file)}:{cand['line']}",
        text=text,
        at=p.time if p else None,
        data={"logid": p.logid} if p and p.logid else None,
    )


def _finding(
    agg: _Aggregate,
    successes: Mapping[str, datetime],
    by_logid: Mapping[tuple[str, str], list[tuple[Mapping[str, Any], Mapping[str, Any]]]],
    params: LogsParams,
) -> Finding:
    evidence = [_evidence(f, c, p) for f, c, p in agg.samples]
    shown = {(f["path"], c["line"]) for f, c, _ in agg.samples}
    for f, _c, p in agg.samples:  # the other lines of the same API job
        for other_file, other in by_logid.get((f["path"], p.logid or ""), []):
            if (other_file["path"], other["line"]) not in shown and len(evidence) < 2 * params.max_samples:
                shown.add((other_file["path"], other["line"]))
                evidence.append(_evidence(other_file, other, None))
    recovered_at = successes.get(agg.template or "") if agg.code in RECOVERABLE else None
    recovered = recovered_at is not None and agg.last is not None and recovered_at > agg.last
    span = f"{agg.count} line{'s' if agg.count != 1 else ''}" + (
        f", {agg.first:%Y-%m-%d %H:%M} – {agg.last:%Y-%m-%d %H:%M}" if agg.first and agg.last else ""
    )
    summary = f"{_describe(agg)} — {span}"
    if recovered:
        summary = f"recovered: {summary}; the template completed at {recovered_at:%Y-%m-%d %H:%M:%S}"
    seen = "; ".join(f"{w} ({n})" for w, n in sorted(agg.sources.items()))
    return Finding(
        check=NAME,
        code=agg.code,
        severity=Severity.INFO if recovered else agg.signature.severity,
        target=agg.target,
        summary=summary,
        details=f"Read from: {seen}." + (f" API jobs (logid): {', '.join(sorted(agg.logids))}." if agg.logids else ""),
        evidence=tuple(evidence),
        remediation="" if recovered else agg.signature.remediation,
        first_seen=agg.first,
        last_seen=agg.last,
        count=agg.count,
        metrics=(Metric(name="occurrences", value=agg.count, unit="count"),),
    )


def _housekeeping(data: Mapping[str, Any], stats: Mapping[str, int]) -> Iterator[Finding]:
    for p in data.get("problems", []):
        if p["kind"] == "missing":
            yield Finding(
                check=NAME,
                code="LOG_FILE_MISSING",
                severity=Severity.UNKNOWN,
                target=f"{p['host']}:{p['pattern']}",
                summary=f"no log file matches {p['pattern']} on {p['host']}: it cannot be checked",
                remediation="Fix the path in [logs] (management, ssvm, agent), or remove it if this host has no such "
                "log (the SSVM writes /var/log/cloud.log, not agent.log).",
            )
        else:
            yield Finding(
                check=NAME,
                code="LOG_SOURCE_UNAVAILABLE",
                severity=Severity.UNKNOWN,
                target=p["host"],
                summary=f"cannot read logs on {p['host']}: {p['reason']}",
                evidence=(Evidence(kind=EvidenceKind.PROBE, source=p["host"], text=p["reason"]),),
                remediation="Check SSH to the host ([ssh] user, key_file, port — 3922 for SSVMs) and its entry in "
                "known_hosts (ssh-keyscan; verify the fingerprint before adding it).",
            )
    for file in data.get("files", []):
        if file.get("error"):
            yield Finding(
                check=NAME,
                code="LOG_FILE_DAMAGED",
                severity=Severity.UNKNOWN,
                target=_where(file),
                summary=f"{_where(file)} could not be read to the end: {file['error']} "
                f"({file.get('bytes_read', 0)} bytes, {file.get('lines', 0)} lines read and evaluated)",
                remediation="Check the file (gzip -t, file(1)); findings from the part that was read are reported.",
            )
        if file.get("truncated"):
            yield Finding(
                check=NAME,
                code="LOG_SCAN_TRUNCATED",
                severity=Severity.UNKNOWN,
                target=_where(file),
                summary=f"{_where(file)} has more candidate lines than [logs] max_lines; the rest was not evaluated",
                remediation="Narrow [logs] since, or raise [logs] max_lines.",
            )
    yield Finding(
        check=NAME,
        code="LOGS_SCANNED",
        severity=Severity.INFO,
        target="logs",
        summary=f"{stats['files']} files, {stats['bytes'] / 1e6:.1f} MB, {stats['lines']} lines since "
        f"{data.get('since', '?')[:19]}; {stats['candidates']} candidate lines"
        + (f", {stats['unparsed']} in no known format" if stats["unparsed"] else ""),
        details="Candidate lines are WARN/ERROR/FATAL lines and quieter lines that carry a known failure text; "
        f"{stats['outside']} of those with a known failure text fell before the time window.",
        metrics=(
            Metric(name="log_bytes", value=stats["bytes"], unit="B"),
            Metric(name="log_lines", value=stats["lines"], unit="count"),
        ),
    )


CHECK = Check(
    name=NAME,
    title="CloudStack logs",
    description="management-server.log, the SSVMs' cloud.log and KVM agent.log (local or over SSH): template "
    "failures by template, store and host, with the lines as proof.",
    codes=tuple(CODES),
    params=LogsParams,
    collect=collect,
    evaluate=evaluate,
)
