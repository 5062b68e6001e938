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
import logging
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field

from checks import logparse, signatures
from checks.logs_scan import open_cursors, scan_all
from diagnostics.check import Check, CheckContext, Code, Params, RawEvidence
from diagnostics.config import LogsSettings, parse_since
from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity, utcnow

NAME = "logs"
log = logging.getLogger(__name__)

# What says a template download finished: the DownloadAnswer trace and the SSVM's completion line.
SUCCESS_MARKERS = ("Install completed successfully", "status=DOWNLOAD_FINISHED")
_LOGID = re.compile(r"\(logid:([0-9a-fA-F]*)\)")
RECOVERABLE = {"DOWNLOAD_TIMEOUT", "STORAGE_DISCONNECTED", "DOWNLOAD_FAILED", "NO_SSVM"}


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


def collect(ctx: CheckContext[LogsParams]) -> RawEvidence:
    settings = ctx.settings
    cfg: LogsSettings = settings.logs
    now = utcnow()
    since = parse_since(cfg.since, now)
    files: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        cursors = open_cursors(settings, problems, stack) if cfg.incremental else None
        scan_all(settings, ctx, since, files, problems, cursors)
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
