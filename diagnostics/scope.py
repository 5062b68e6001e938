"""What a run covered, and change marks that compare like with like.

A run's scope is data: the runner that made it (``[run] runner``, default the host name), the checks
that *completed* (a check that failed or timed out covered nothing) and, per check, the targets its
findings name — OK and INFO findings included, since they say what was looked at. The run also carries a
digest of the configuration that tells a check what to look at (:func:`targets_digest`).

The rules (each tested in tests/unit/test_scope.py):

- runs are compared only with earlier runs **of the same runner**;
- a run *covers* a (check, target) when the check completed in it and either its findings name the
  target, or its configuration digest equals that of the run compared with (the check was configured for
  the same things and completed: it looked at everything it looked at then);
- a problem is **resolved** only when a run covers it and does not see it, and the latest earlier run
  covering it did see it;
- a target for which the check gave an UNKNOWN finding (it could not judge it) is not covered by that run
  for its other problems;
- "open since" and the streak that damping (``[report] crit_after_runs``) counts walk back over covering
  runs only: a run that did not cover a problem neither breaks nor extends its series.

Pure: no I/O (the history store loads the runs, :mod:`diagnostics.history`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from diagnostics.correlate import correlate
from diagnostics.model import CheckStatus, Run, Severity

PROBLEMS = ("WARN", "CRIT", "UNKNOWN")
DIGEST_KEY = "targets_digest"  # in Run.config
# settings sections that do not tell a check what to look at
_NOT_TARGETS = ("run", "report", "email", "history", "gate")


@dataclass(frozen=True)
class Scope:
    """What one run covered: check → the targets its findings name (for completed checks only)."""

    runner: str
    digest: str | None
    checks: Mapping[str, frozenset[str]]
    # check → targets it could not judge (an UNKNOWN finding): the check completed, but for these
    # targets it proves nothing, so their other problems are not resolved by this run
    blind: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def covers(self, check: str, target: str, digest: str | None) -> bool:
        """Did this run look at ``target`` of ``check``? ``digest``: that of the run compared with."""
        targets = self.checks.get(check)
        if targets is None or target in self.blind.get(check, ()):
            return False
        return target in targets or (self.digest is not None and self.digest == digest)

    @property
    def empty(self) -> bool:
        return not self.checks


def scope_of(run: Run) -> Scope:
    """The scope of ``run``. A run document without its check list (older csdiag versions) covers the
    checks its findings name, for the targets they name."""
    targets: dict[str, set[str]] = {}
    blind: dict[str, set[str]] = {}
    for f in run.findings:
        targets.setdefault(f.check, set()).add(f.target)
        if f.severity is Severity.UNKNOWN:
            blind.setdefault(f.check, set()).add(f.target)
    done = {c.name for c in run.checks if c.status is CheckStatus.COMPLETED} if run.checks else set(targets)
    digest = run.config.get(DIGEST_KEY)
    return Scope(
        run.runner,
        str(digest) if digest else None,
        {c: frozenset(targets.get(c, ())) for c in sorted(done)},
        {c: frozenset(t) for c, t in blind.items()},
    )


def default_runner() -> str:
    return socket.gethostname() or "localhost"


def targets_digest(settings_dump: Mapping[str, Any]) -> str:
    """A digest of the configuration that tells the checks what to look at (stores, hosts, switches,
    log paths, thresholds …), without secrets and without the sections that do not (run, report …)."""

    def clean(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {
                str(k): clean(v)
                for k, v in sorted(value.items())
                if not any(s in str(k).lower() for s in ("password", "secret", "key", "token"))
            }
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value if isinstance(value, str | int | float | bool) or value is None else str(value)

    body = {k: clean(v) for k, v in settings_dump.items() if k not in _NOT_TARGETS}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Change:
    """A problem's place in its runner's series: new, open (since when) or resolved."""

    status: str  # "new" | "open" | "resolved"
    since: str | None  # when it was first seen in the unbroken series of runs
    severity: str
    check: str
    code: str
    target: str
    summary: str
    streak: int = 1  # runs in a row, this one included, that had it (0 for resolved)

    @property
    def key(self) -> str:
        return f"{self.check}|{self.code}|{self.target}"


@dataclass(frozen=True)
class PastRun:
    """An earlier run of the same runner, as the history store has it."""

    id: str
    finished: str
    scope: Scope
    problems: Mapping[str, Mapping[str, Any]]  # key → {check, code, severity, target, summary}


def changes(run: Run, past: Sequence[PastRun]) -> list[Change]:
    """Each problem of ``run`` as new or open (since when, streak over covering runs), and each problem
    of earlier covering runs that ``run`` covered and no longer sees (resolved). ``past``: earlier runs
    of the same runner, oldest first."""
    scope = scope_of(run)
    finished = run.finished.isoformat()
    out: list[Change] = []
    current = {f.key: f for f in run.findings if f.severity.value in PROBLEMS}
    for k, f in current.items():
        since, streak, status, latest = finished, 1, "new", True
        for p in reversed(past):
            if k not in p.problems:
                if p.scope.covers(f.check, f.target, scope.digest):
                    break
                continue  # the run did not cover it: neither breaks nor extends the series
            since, streak = p.finished, streak + 1
            if latest:
                status = "open"
            latest = False
        out.append(Change(status, since, f.severity.value, f.check, f.code, f.target, f.summary, streak))
    for k, (i, seen) in _last_sightings(past).items():
        if k in current:
            continue
        check, target, ref = seen["check"], seen["target"], past[i].scope.digest  # configured as when seen
        if any(q.scope.covers(check, target, ref) for q in past[i + 1 :]):
            continue  # a later covering run already did not see it: resolved then, not now
        if scope.covers(check, target, ref):
            out.append(Change("resolved", None, seen["severity"], check, seen["code"], target, seen["summary"], 0))
    return out


def _last_sightings(past: Sequence[PastRun]) -> dict[str, tuple[int, Mapping[str, Any]]]:
    """Problem key → (index in ``past`` of the latest run that saw it, the finding there)."""
    seen: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for i, p in enumerate(past):
        for k, f in p.problems.items():
            seen[k] = (i, f)
    return seen


def damp(run: Run, changes: Sequence[Change], crit_after_runs: int) -> Run:
    """``[report] crit_after_runs``: a CRIT seen in fewer runs in a row than that is reported as WARN,
    so one flap pages nobody. The history keeps the real severity, so the streak grows."""
    if crit_after_runs <= 1:
        return run
    streaks = {c.key: c.streak for c in changes if c.status != "resolved"}
    findings = []
    for f in run.findings:
        streak = streaks.get(f.key, 1)
        if f.severity is Severity.CRIT and streak < crit_after_runs:
            note = f"CRIT damped to WARN: seen {streak} run(s) in a row, [report] crit_after_runs = {crit_after_runs}"
            f = dataclasses.replace(f, severity=Severity.WARN, details=f"{f.details}\n{note}".strip())
        findings.append(f)
    return dataclasses.replace(run, findings=tuple(findings), incidents=correlate(findings))
