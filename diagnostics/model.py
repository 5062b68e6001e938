"""The data csdiag produces: severities, findings, their evidence and metrics, and runs.

Everything here is a frozen dataclass validated on construction, and round-trips through plain
JSON-friendly dicts (``to_dict`` / ``from_dict``) so that findings can be stored in bundles, history
and reports and read back unchanged.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

JSONDict = dict[str, Any]

_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class ModelError(ValueError):
    """A model object was built with invalid values (a bug in the code that built it)."""


class Severity(enum.Enum):
    """How bad a finding is.

    The order is ``OK < INFO < WARN < UNKNOWN < CRIT``: not being able to evaluate something is worse
    than a warning but better than a proven critical fault (Checkmk's aggregation order). Members are
    deliberately not comparable with ``<``; use :meth:`rank` or :meth:`worst`.
    """

    OK = "OK"
    INFO = "INFO"
    WARN = "WARN"
    UNKNOWN = "UNKNOWN"
    CRIT = "CRIT"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def nagios_code(self) -> int:
        """Nagios plugin exit code: 0 OK (and INFO), 1 WARNING, 2 CRITICAL, 3 UNKNOWN."""
        return _NAGIOS[self]

    @classmethod
    def worst(cls, severities: Iterable[Severity]) -> Severity:
        """The worst of ``severities``; OK for none."""
        return max(severities, key=lambda s: s.rank, default=cls.OK)

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls(text.strip().upper())
        except ValueError:
            allowed = ", ".join(s.value for s in cls)
            raise ModelError(f"unknown severity {text!r} (expected one of {allowed})") from None


_RANK = {Severity.OK: 0, Severity.INFO: 1, Severity.WARN: 2, Severity.UNKNOWN: 3, Severity.CRIT: 4}
_NAGIOS = {Severity.OK: 0, Severity.INFO: 0, Severity.WARN: 1, Severity.UNKNOWN: 3, Severity.CRIT: 2}


class EvidenceKind(enum.Enum):
    LOG = "log"
    ROW = "row"
    METRIC = "metric"
    PROBE = "probe"
    COMMAND = "command"
    FILE = "file"


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: Any, what: str) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ModelError(f"{what}: not an ISO 8601 time: {value!r}") from None
    raise ModelError(f"{what}: expected a time, got {type(value).__name__}")


def _require_aware(value: datetime | None, what: str) -> None:
    if value is not None and value.tzinfo is None:
        raise ModelError(f"{what} must carry a time zone")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """One piece of proof: a log line, a DB row, a reading, a probe result, a command's output.

    ``source`` says where it came from precisely enough to look again (``file:line``, SQL, OID, host
    and command). ``text`` is what a person reads; ``data`` is the same fact as JSON-friendly data.
    """

    kind: EvidenceKind
    source: str
    text: str | None = None
    data: Mapping[str, Any] | None = None
    at: datetime | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.kind, EvidenceKind):
            raise ModelError(f"evidence kind must be an EvidenceKind, got {self.kind!r}")
        if not self.source.strip():
            raise ModelError("evidence needs a source")
        if self.text is None and self.data is None:
            raise ModelError(f"evidence from {self.source} has neither text nor data")
        _require_aware(self.at, "evidence time")

    def to_dict(self) -> JSONDict:
        return {
            "kind": self.kind.value,
            "source": self.source,
            "text": self.text,
            "data": dict(self.data) if self.data is not None else None,
            "at": _iso(self.at),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Evidence:
        return cls(
            kind=EvidenceKind(d["kind"]),
            source=d["source"],
            text=d.get("text"),
            data=d.get("data"),
            at=_parse_time(d.get("at"), "evidence.at"),
        )

    def summary(self, width: int = 160, source_width: int = 60) -> str:
        """A one-line rendering for tables and CSV cells (long sources such as SQL are shortened)."""
        body = self.text if self.text is not None else ", ".join(f"{k}={v}" for k, v in (self.data or {}).items())
        line = " ".join(body.split())
        if len(line) > width:
            line = line[: width - 1] + "…"
        source = " ".join(self.source.split())
        if len(source) > source_width:
            source = source[: source_width - 1] + "…"
        return f"[{self.kind.value}] {source}: {line}"


@dataclass(frozen=True, kw_only=True)
class Metric:
    """A measured value with its levels, for charts, Nagios perfdata and Prometheus.

    ``warn``/``crit`` are the thresholds that were applied (lower or upper, see ``direction``), so a
    reader sees the measured value next to what it was judged against. Units are base-ish and short:
    ``B``, ``s``, ``ms``, ``%``, ``dBm``, ``C``, ``mA``, ``count`` or ``""``.
    """

    name: str
    value: float | None
    unit: str = ""
    warn: float | None = None
    crit: float | None = None
    direction: str | None = None  # "upper" (bad above) | "lower" (bad below) | None

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.name):
            raise ModelError(f"metric name {self.name!r} must be lower_snake_case")
        for label, v in (("value", self.value), ("warn", self.warn), ("crit", self.crit)):
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v)):
                raise ModelError(f"metric {self.name}: {label} must be a number or None, got {v!r}")
        if self.direction not in (None, "upper", "lower"):
            raise ModelError(f"metric {self.name}: direction must be 'upper', 'lower' or None")

    def to_dict(self) -> JSONDict:
        return {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "warn": self.warn,
            "crit": self.crit,
            "direction": self.direction,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Metric:
        return cls(
            name=d["name"],
            value=d.get("value"),
            unit=d.get("unit", ""),
            warn=d.get("warn"),
            crit=d.get("crit"),
            direction=d.get("direction"),
        )


@dataclass(frozen=True, kw_only=True)
class Finding:
    """What a check concluded about one target.

    ``code`` is the stable, documented identifier of the problem kind; ``summary`` is one line; the
    longer story goes in ``details``. Repeated events (log lines) carry ``count`` and the first and last
    time they were seen.
    """

    check: str
    code: str
    severity: Severity
    target: str
    summary: str
    details: str = ""
    evidence: tuple[Evidence, ...] = ()
    remediation: str = ""
    metrics: tuple[Metric, ...] = ()
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    count: int = 1
    # What the finding is about, as kind → id ("template": "12", "store": "3", "zone": "1", "ssvm":
    # "s-12-VM", "server": "10.0.0.5", "url": …): incidents join findings on these (diagnostics.correlate).
    subjects: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _NAME_RE.match(self.check):
            raise ModelError(f"check name {self.check!r} must be lower_snake_case")
        if not _CODE_RE.match(self.code):
            raise ModelError(f"finding code {self.code!r} must be UPPER_SNAKE_CASE")
        if not isinstance(self.severity, Severity):
            raise ModelError(f"severity must be a Severity, got {self.severity!r}")
        if not self.target.strip():
            raise ModelError(f"{self.code}: finding needs a target")
        if not self.summary.strip() or "\n" in self.summary:
            raise ModelError(f"{self.code}: summary must be one non-empty line")
        if self.count < 1:
            raise ModelError(f"{self.code}: count must be at least 1")
        # Accept lists from callers; store tuples so the finding stays immutable and hashable.
        object.__setattr__(self, "evidence", tuple(self.evidence))
        object.__setattr__(self, "metrics", tuple(self.metrics))
        _require_aware(self.first_seen, "first_seen")
        _require_aware(self.last_seen, "last_seen")
        if self.first_seen and self.last_seen and self.last_seen < self.first_seen:
            raise ModelError(f"{self.code}: last_seen is before first_seen")

    @property
    def sort_key(self) -> tuple[int, str, str, str]:
        """Worst first, then by check, code and target, so output order is stable."""
        return (-self.severity.rank, self.check, self.code, self.target)

    def to_dict(self) -> JSONDict:
        return {
            "check": self.check,
            "code": self.code,
            "severity": self.severity.value,
            "target": self.target,
            "summary": self.summary,
            "details": self.details,
            "evidence": [e.to_dict() for e in self.evidence],
            "remediation": self.remediation,
            "metrics": [m.to_dict() for m in self.metrics],
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "count": self.count,
            "subjects": dict(self.subjects),
        }

    @property
    def key(self) -> str:
        """What makes two findings of different runs "the same problem"."""
        return f"{self.check}|{self.code}|{self.target}"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Finding:
        try:
            return cls(
                check=d["check"],
                code=d["code"],
                severity=Severity.parse(d["severity"]),
                target=d["target"],
                summary=d["summary"],
                details=d.get("details", ""),
                evidence=tuple(Evidence.from_dict(e) for e in d.get("evidence", ())),
                remediation=d.get("remediation", ""),
                metrics=tuple(Metric.from_dict(m) for m in d.get("metrics", ())),
                first_seen=_parse_time(d.get("first_seen"), "first_seen"),
                last_seen=_parse_time(d.get("last_seen"), "last_seen"),
                count=d.get("count", 1),
                subjects={str(k): str(v) for k, v in (d.get("subjects") or {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(f"not a csdiag finding: {exc}") from exc


@dataclass(frozen=True, kw_only=True)
class Incident:
    """Findings of several checks that one root cause explains (diagnostics.correlate): the cause first."""

    rule: str
    title: str
    severity: Severity
    cause: str  # the key of the finding that is the most likely root cause
    members: tuple[str, ...]  # keys of the findings it explains, worst first
    summary: str
    remediation: str = ""

    def to_dict(self) -> JSONDict:
        return {
            "rule": self.rule,
            "title": self.title,
            "severity": self.severity.value,
            "cause": self.cause,
            "members": list(self.members),
            "summary": self.summary,
            "remediation": self.remediation,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Incident:
        return cls(
            rule=d["rule"],
            title=d["title"],
            severity=Severity.parse(d["severity"]),
            cause=d["cause"],
            members=tuple(d.get("members", ())),
            summary=d.get("summary", ""),
            remediation=d.get("remediation", ""),
        )


class CheckStatus(enum.Enum):
    """How running one check went (not what it found)."""

    COMPLETED = "completed"
    FAILED = "failed"  # the check raised or a source failed in a way the check did not handle
    TIMEOUT = "timeout"  # the check overran its deadline and was abandoned


@dataclass(frozen=True, kw_only=True)
class CheckRun:
    name: str
    status: CheckStatus
    duration_s: float
    error: str | None = None

    def to_dict(self) -> JSONDict:
        return {
            "name": self.name,
            "status": self.status.value,
            "duration_s": round(self.duration_s, 3),
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CheckRun:
        return cls(
            name=d["name"], status=CheckStatus(d["status"]), duration_s=float(d["duration_s"]), error=d.get("error")
        )


RUN_SCHEMA = "csdiag.run/1"


@dataclass(frozen=True, kw_only=True)
class Run:
    """One execution of csdiag: which checks ran, how, and every finding, worst first."""

    id: str
    started: datetime
    finished: datetime
    tool_version: str
    config: Mapping[str, Any]
    checks: tuple[CheckRun, ...]
    findings: tuple[Finding, ...]
    source: str = "live"  # "live" or "bundle:<path>"
    incidents: tuple[Incident, ...] = ()
    # who ran it ([run] runner, default the host name) and on which host: the history compares a run only
    # with earlier runs of the same runner (diagnostics.scope); "" in documents of older versions
    runner: str = ""
    host: str = ""
    # where this run read *and evaluated* each log file to ({source, head, path, offset, lines}): recorded
    # with the run, in its transaction, so a cursor never passes lines no run evaluated; never in documents
    log_cursors: tuple[Mapping[str, Any], ...] = ()

    def __post_init__(self) -> None:
        _require_aware(self.started, "run start")
        _require_aware(self.finished, "run finish")
        object.__setattr__(self, "checks", tuple(self.checks))
        object.__setattr__(self, "findings", tuple(sorted(self.findings, key=lambda f: f.sort_key)))

    @property
    def worst(self) -> Severity:
        return Severity.worst(f.severity for f in self.findings)

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Severity}
        for f in self.findings:
            out[f.severity.value] += 1
        return out

    def to_dict(self) -> JSONDict:
        return {
            "schema": RUN_SCHEMA,
            "run": {
                "id": self.id,
                "started": _iso(self.started),
                "finished": _iso(self.finished),
                "tool_version": self.tool_version,
                "source": self.source,
                "runner": self.runner,
                "host": self.host,
                "config": dict(self.config),
                "checks": [c.to_dict() for c in self.checks],
            },
            "findings": [f.to_dict() for f in self.findings],
            "incidents": [i.to_dict() for i in self.incidents],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Run:
        if d.get("schema") != RUN_SCHEMA:
            raise ModelError(f"not a csdiag run document (schema {d.get('schema')!r}, expected {RUN_SCHEMA!r})")
        try:
            r = d["run"]
            started = _parse_time(r["started"], "run.started")
            finished = _parse_time(r["finished"], "run.finished")
            assert started is not None and finished is not None
            return cls(
                id=r["id"],
                started=started,
                finished=finished,
                tool_version=r["tool_version"],
                source=r.get("source", "live"),
                runner=str(r.get("runner") or ""),
                host=str(r.get("host") or ""),
                config=r.get("config", {}),
                checks=tuple(CheckRun.from_dict(c) for c in r.get("checks", ())),
                findings=tuple(Finding.from_dict(f) for f in d.get("findings", ())),
                incidents=tuple(Incident.from_dict(i) for i in d.get("incidents", ())),
            )
        except (KeyError, TypeError, ValueError, AssertionError) as exc:
            raise ModelError(f"not a csdiag run document: {exc}") from exc


__all__ = [
    "CheckRun",
    "CheckStatus",
    "Evidence",
    "EvidenceKind",
    "Finding",
    "Incident",
    "Metric",
    "ModelError",
    "Run",
    "Severity",
    "utcnow",
]
