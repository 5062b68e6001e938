"""``csdiag report --fleet``: many runners' latest covering runs merged into one report.

For each (runner, check), the findings of the latest run of that runner in which the check completed
(:meth:`diagnostics.history.History.fleet_findings`); each finding's target is prefixed with its runner
(``zone-west: store 1``) so that two runners' findings about the same thing stay two rows, and carries
``subjects["runner"]``. Per runner a freshness finding (``fleet`` check): ``RUNNER_REPORTED`` (OK) or
``RUNNER_STALE`` (WARN, older than ``[report] runner_stale_after``); ``RUNNER_NAME_CLASH`` (WARN) when
one runner name recorded runs from several hosts; ``RUNNER_CLOCK_AHEAD`` (WARN) when a runner's last run
finished in the future (clock skew). Incidents are correlated over the merged findings, across runners.
Pure: the store is read by the caller.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from diagnostics.correlate import correlate
from diagnostics.model import CheckRun, CheckStatus, Finding, Run, Severity

CHECK = "fleet"
CLOCK_SLACK = timedelta(minutes=5)


def age_text(seconds: float) -> str:
    if seconds < 90:
        return f"{max(0, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def freshness(
    runners: Sequence[tuple[str, str, str, int]], now: datetime, stale_after_s: float, stale_text: str
) -> list[Finding]:
    """Findings about the runners themselves, from (runner, host, latest finish, runs) rows."""
    by_name: dict[str, list[tuple[str, datetime, int]]] = {}
    for name, host, finished, count in runners:
        by_name.setdefault(name, []).append((host, datetime.fromisoformat(finished), count))
    out: list[Finding] = []
    for name, rows in sorted(by_name.items()):
        last = max(t for _, t, _ in rows)
        age = (now - last).total_seconds()
        target = f"runner {name}"
        subjects = {"runner": name}
        if last - now > CLOCK_SLACK:
            out.append(
                Finding(
                    check=CHECK,
                    code="RUNNER_CLOCK_AHEAD",
                    severity=Severity.WARN,
                    target=target,
                    summary=f"{name}'s last run finished {age_text(-age)} in the future: its clock is ahead",
                    remediation="Synchronise the runner's clock (chrony/NTP); change marks and staleness use it.",
                    subjects=subjects,
                )
            )
        elif age > stale_after_s:
            out.append(
                Finding(
                    check=CHECK,
                    code="RUNNER_STALE",
                    severity=Severity.WARN,
                    target=target,
                    summary=f"{name} last reported {age_text(age)} ago (runner_stale_after = {stale_text})",
                    details=f"last run finished {last.isoformat()}",
                    remediation="Check the runner's timer/CronJob (systemctl list-timers, kubectl get cronjob) and "
                    "its log; its findings in this report are as old as its last run.",
                    subjects=subjects,
                )
            )
        else:
            out.append(
                Finding(
                    check=CHECK,
                    code="RUNNER_REPORTED",
                    severity=Severity.OK,
                    target=target,
                    summary=f"{name} last reported {age_text(age)} ago",
                    subjects=subjects,
                )
            )
        recent = sorted({h or "(unknown host)" for h, t, _ in rows if (last - t).total_seconds() <= stale_after_s})
        if len(recent) > 1:
            out.append(
                Finding(
                    check=CHECK,
                    code="RUNNER_NAME_CLASH",
                    severity=Severity.WARN,
                    target=target,
                    summary=f"runner name {name} is used by {len(recent)} hosts: {', '.join(recent)}",
                    details="Their runs are compared with each other as if one runner made them: change marks "
                    "and the merged report are wrong for this name.",
                    remediation="Give each runner its own [run] runner name.",
                    subjects=subjects,
                )
            )
    return out


def merged_finding(row: Mapping[str, Any]) -> Finding:
    """A stored finding of one runner as a row of the fleet report."""
    subjects = {str(k): str(v) for k, v in (row.get("subjects") or {}).items()}
    subjects["runner"] = str(row["runner"])
    return Finding(
        check=row["check"],
        code=row["code"],
        severity=Severity.parse(row["severity"]),
        target=f"{row['runner']}: {row['target']}",
        summary=row["summary"] or row["code"],
        details=f"from {row['runner']}'s run {row['run']} finished {row['finished']}",
        subjects=subjects,
    )


def merge(
    rows: Sequence[Mapping[str, Any]],
    runners: Sequence[tuple[str, str, str, int]],
    now: datetime,
    stale_after_s: float,
    stale_text: str,
    tool_version: str,
) -> Run:
    """One run document for the whole fleet: merged findings, runner freshness, incidents across runners."""
    # two runs of one runner finished at the same instant: the findings of one of them, per check
    chosen: dict[tuple[str, str], str] = {}
    for r in rows:
        key = (str(r["runner"]), str(r["check"]))
        chosen[key] = max(chosen.get(key, ""), str(r["run"]))
    rows = [r for r in rows if chosen[(str(r["runner"]), str(r["check"]))] == r["run"]]
    findings = [merged_finding(r) for r in rows] + freshness(runners, now, stale_after_s, stale_text)
    checks = sorted({f.check for f in findings})
    started = min((datetime.fromisoformat(r[2]) for r in runners), default=now)
    return Run(
        id=f"fleet-{uuid.uuid4().hex[:12]}",
        started=min(started, now),
        finished=now,
        tool_version=tool_version,
        config={"fleet": {"runners": sorted({r[0] for r in runners}), "runner_stale_after": stale_text}},
        checks=tuple(CheckRun(name=c, status=CheckStatus.COMPLETED, duration_s=0.0) for c in checks),
        findings=tuple(findings),
        source="fleet",
        incidents=tuple(correlate(findings)),
        runner="fleet",
    )


def runner_of(f: Finding, run: Run) -> str:
    """The runner column of a report row."""
    return f.subjects.get("runner") or run.runner
