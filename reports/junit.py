"""JUnit XML for CI: one ``<testsuite>`` per check, one ``<testcase>`` per check × target.

A target with a WARN/CRIT finding fails (``<failure>`` with the findings and their evidence), one that
could not be evaluated is an ``<error>`` (UNKNOWN), a waived finding is ``<skipped>`` with its
justification, and the rest pass. Machine output only: logs never go into this file.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import datetime

from diagnostics.model import Finding, Run, Severity
from diagnostics.ranking import Ranked, rank


def _text(findings: list[Finding]) -> str:
    parts = []
    for f in findings:
        parts.append(f"[{f.severity.value}] {f.code}: {f.summary}")
        if f.details:
            parts.append(f"  {f.details}")
        parts += [f"  evidence: {e.summary(width=400, source_width=200)}" for e in f.evidence]
        if f.remediation:
            parts.append(f"  fix: {f.remediation}")
    return "\n".join(parts)


def render(
    run: Run | Ranked,
    waived: Mapping[int, str] | None = None,
    failing: frozenset[str] | None = None,
    unknown_fails: bool = True,
) -> str:
    """``waived`` maps id(finding) → justification; ``failing`` the severities that fail (default WARN, CRIT);
    UNKNOWN findings are errors unless ``unknown_fails`` is false (then skipped, "could not check").
    Suites and test cases come in rank order (the check and target of the first finding to look at first)."""
    ranked = rank(run)
    run = ranked.run
    waived = waived or {}
    failing = failing or frozenset({"WARN", "CRIT"})
    root = ET.Element("testsuites", name="csdiag", time=f"{(run.finished - run.started).total_seconds():.3f}")
    durations = {c.name: c.duration_s for c in run.checks}
    by_check: dict[str, dict[str, list[Finding]]] = {}
    for f in ranked.findings:
        by_check.setdefault(f.check, {}).setdefault(f.target, []).append(f)
    for c in run.checks:
        by_check.setdefault(c.name, {})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for check, targets in by_check.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=check,
            timestamp=_ts(run.started),
            time=f"{durations.get(check, 0.0):.3f}",
            hostname="csdiag",
        )
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        if not targets:  # a check that ran and found nothing to report passed as a whole
            targets = {"(all)": []}
        for target, findings in targets.items():
            counts["tests"] += 1
            case = ET.SubElement(suite, "testcase", classname=f"csdiag.{check}", name=target, time="0")
            active = [f for f in findings if id(f) not in waived]
            bad = [f for f in active if f.severity.value in failing]
            unknown = [f for f in active if f.severity is Severity.UNKNOWN]
            if bad:
                counts["failures"] += 1
                worst = max(bad, key=lambda f: f.severity.rank)
                ET.SubElement(case, "failure", message=worst.summary, type=worst.code).text = _text(bad)
            elif unknown and unknown_fails:
                counts["errors"] += 1
                ET.SubElement(case, "error", message=unknown[0].summary, type=unknown[0].code).text = _text(unknown)
            elif unknown:
                counts["skipped"] += 1
                ET.SubElement(case, "skipped", message=f"could not check (allowed): {unknown[0].summary}")
            elif any(id(f) in waived for f in findings):
                counts["skipped"] += 1
                reasons = "; ".join(f"{f.code} waived: {waived[id(f)]}" for f in findings if id(f) in waived)
                ET.SubElement(case, "skipped", message=reasons)
            if findings and not (bad or (unknown and unknown_fails)):
                ET.SubElement(case, "system-out").text = _text(findings)
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
    for k, v in totals.items():
        root.set(k, str(v))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _ts(t: datetime) -> str:
    return t.replace(microsecond=0, tzinfo=None).isoformat()
