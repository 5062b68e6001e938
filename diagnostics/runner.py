"""Runs checks concurrently, each under a deadline, and always completes.

Each check runs in its own daemon thread. The runner waits for results until each check's deadline;
a check still running then is abandoned (a blocked thread cannot be killed in Python, and a daemon
thread does not keep the process alive) and reported as ``CHECK_TIMEOUT``. An exception becomes
``CHECK_FAILED`` with the reason; known errors (source and config errors) carry no traceback, others
log theirs at debug level (``--verbose``). So a run's wall time is bounded by the slowest deadline,
not by the sum of the checks' times.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel

from diagnostics.check import Check, CheckContext, RawEvidence
from diagnostics.config import ConfigError, Settings
from diagnostics.model import CheckRun, CheckStatus, Finding, Severity
from diagnostics.redaction import Redactor, for_settings
from diagnostics.sources.errors import SourceError

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class Job:
    """One check to run. With ``raw`` given only ``evaluate`` runs (bundle replay); with ``evaluate``
    false only ``collect`` runs (building a bundle). ``replayed_failure`` re-raises, as findings, a
    collect failure recorded in a bundle."""

    check: Check[Any]
    params: BaseModel
    raw: RawEvidence | None = None
    evaluate: bool = True
    replayed_failure: tuple[CheckStatus, str] | None = None


@dataclass(kw_only=True)
class Outcome:
    check: Check[Any]
    params: BaseModel
    status: CheckStatus
    duration_s: float
    error: str | None = None
    raw: RawEvidence | None = None
    findings: list[Finding] = field(default_factory=list)
    evaluated: bool = False  # evaluate() ran on live evidence to the end (log cursors may move with the run)

    def check_run(self) -> CheckRun:
        return CheckRun(name=self.check.name, status=self.status, duration_s=self.duration_s, error=self.error)


class ProgressSink(Protocol):
    def started(self, name: str) -> None: ...
    def finished(self, name: str, status: CheckStatus) -> None: ...


def failure_finding(check: str, status: CheckStatus, reason: str) -> Finding:
    """The engine's finding for a check that could not finish."""
    if status is CheckStatus.TIMEOUT:
        return Finding(
            check=check,
            code="CHECK_TIMEOUT",
            severity=Severity.UNKNOWN,
            target=f"check:{check}",
            summary=f"check {check} did not finish: {reason}",
            remediation=(
                "Find what the check waits for (an unreachable host, a hung NFS mount, a slow database) "
                "with --verbose, or raise [run] check_timeout_s if the environment is just slow."
            ),
        )
    return Finding(
        check=check,
        code="CHECK_FAILED",
        severity=Severity.UNKNOWN,
        target=f"check:{check}",
        summary=f"check {check} could not run: {reason}",
        remediation="Fix the cause named above; run again with --verbose for the full trace.",
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SourceError):
        return f"{exc.kind}: {exc}"
    if isinstance(exc, ConfigError):
        return f"configuration: {exc}"
    return f"{type(exc).__name__}: {exc}"


def _validate(check: Check[Any], findings: list[Finding]) -> None:
    for f in findings:
        if not isinstance(f, Finding):
            raise TypeError(f"evaluate() yielded a {type(f).__name__}, not a Finding")
        if f.check != check.name:
            raise ValueError(f"evaluate() produced a finding for check {f.check!r}")
        if f.code not in check.code_names:
            raise ValueError(f"evaluate() raised undeclared code {f.code}")


def _work(job: Job, settings: Settings, deadline: float, redact: Redactor) -> tuple[RawEvidence | None, list[Finding]]:
    raw = job.raw
    if job.replayed_failure is not None:
        status, reason = job.replayed_failure
        return None, [failure_finding(job.check.name, status, reason)]
    if raw is None:
        raw = job.check.collect(CheckContext(settings=settings, params=job.params, deadline=deadline))
        if not isinstance(raw, RawEvidence):
            raise TypeError(f"collect() returned a {type(raw).__name__}, not RawEvidence")
        # redacted before evaluate: the live findings are those a bundle of this evidence replays
        raw = RawEvidence(data=redact(raw.data), files={k: redact.blob(v) for k, v in raw.files.items()})
    if not job.evaluate:
        return raw, []
    findings = list(job.check.evaluate(raw, job.params))
    _validate(job.check, findings)
    return raw, findings


def job_timeout(job: Job, settings: Settings, default_s: float) -> float:
    """A job's deadline: ``default_s``, raised (never lowered) to what the check's parameters ask for.

    A parameters model may define ``deadline_s(settings) -> float | None``: the time one of its items
    needs (``[thresholds.images] hash_timeout_s`` for one image hash). A per-item budget from the config
    is honoured by raising the check's deadline, not silently capped by ``[run] check_timeout_s``.
    Replays evaluate only and keep the default."""
    if job.raw is not None or job.replayed_failure is not None:
        return default_s
    ask = getattr(job.params, "deadline_s", None)
    wanted = ask(settings) if callable(ask) else None
    return max(default_s, float(wanted)) if isinstance(wanted, int | float) else default_s


def execute(
    jobs: Sequence[Job],
    settings: Settings,
    *,
    timeout_s: float | None = None,
    concurrency: int | None = None,
    progress: ProgressSink | None = None,
) -> list[Outcome]:
    """Run ``jobs`` and return one outcome per job, in the jobs' order.

    Collected evidence and failure reasons are redacted (:mod:`diagnostics.redaction`) before they are
    evaluated or returned."""
    timeout_s = settings.run.check_timeout_s if timeout_s is None else timeout_s
    redact = for_settings(settings) if any(j.raw is None and j.replayed_failure is None for j in jobs) else Redactor()
    concurrency = settings.run.concurrency if concurrency is None else concurrency
    results: queue.Queue[tuple[int, float, BaseException | None, Any]] = queue.Queue()
    pending = list(range(len(jobs)))
    running: dict[int, tuple[float, float]] = {}  # index -> (start, deadline)
    outcomes: dict[int, Outcome] = {}

    def worker(i: int, deadline: float) -> None:
        try:
            value = _work(jobs[i], settings, deadline, redact)
        except BaseException as exc:  # reported as a finding; the run goes on
            results.put((i, time.monotonic(), exc, None))
        else:
            results.put((i, time.monotonic(), None, value))

    budgets = [job_timeout(j, settings, timeout_s) for j in jobs]
    while pending or running:
        while pending and len(running) < concurrency:
            i = pending.pop(0)
            start = time.monotonic()
            running[i] = (start, start + budgets[i])
            if progress:
                progress.started(jobs[i].check.name)
            threading.Thread(
                target=worker, args=(i, start + budgets[i]), name=f"check-{jobs[i].check.name}", daemon=True
            ).start()
        next_deadline = min(d for _, d in running.values())
        try:
            i, done_at, exc, value = results.get(timeout=max(0.0, next_deadline - time.monotonic()))
        except queue.Empty:
            now = time.monotonic()
            for i, (start, deadline) in list(running.items()):
                if now >= deadline:
                    del running[i]
                    reason = f"no result within its deadline of {budgets[i]:g} s (abandoned)"
                    outcomes[i] = _failed(jobs[i], CheckStatus.TIMEOUT, now - start, reason)
                    log.warning("check %s timed out after %.1f s", jobs[i].check.name, now - start)
                    if progress:
                        progress.finished(jobs[i].check.name, CheckStatus.TIMEOUT)
            continue
        if i not in running:  # a late answer from a check already reported as timed out
            continue
        start, _ = running.pop(i)
        job = jobs[i]
        if exc is not None:
            known = isinstance(exc, SourceError | ConfigError)
            log.debug("check %s failed", job.check.name, exc_info=None if known else exc)
            outcomes[i] = _failed(job, CheckStatus.FAILED, done_at - start, redact.text(_describe(exc)))
        else:
            raw, findings = value
            status = CheckStatus.COMPLETED
            error = None
            if job.replayed_failure is not None:
                status, error = job.replayed_failure
            outcomes[i] = Outcome(
                check=job.check,
                params=job.params,
                status=status,
                duration_s=done_at - start,
                error=error,
                raw=raw,
                findings=findings,
                evaluated=job.evaluate and job.raw is None and job.replayed_failure is None,
            )
        if progress:
            progress.finished(job.check.name, outcomes[i].status)
    return [outcomes[i] for i in range(len(jobs))]


def _failed(job: Job, status: CheckStatus, duration: float, reason: str) -> Outcome:
    findings = [failure_finding(job.check.name, status, reason)] if job.evaluate else []
    return Outcome(
        check=job.check, params=job.params, status=status, duration_s=duration, error=reason, findings=findings
    )
