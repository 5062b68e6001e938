"""Renderers: each turns a :class:`diagnostics.model.Run` into one output format.

Modules import their heavy libraries (pandas, jinja2, rich) themselves, so the CLI imports a renderer
only when that format is asked for.
"""

from __future__ import annotations

from diagnostics.model import Run, Severity

VERDICT_WORDS = {
    Severity.OK: "OK",
    Severity.INFO: "OK",
    Severity.WARN: "WARNING",
    Severity.UNKNOWN: "UNKNOWN",
    Severity.CRIT: "CRITICAL",
}


def verdict(run: Run) -> str:
    """``CRITICAL — 1 critical, 2 warnings, 0 could not check, 3 passed`` (passed: OK and INFO)."""
    c = run.counts()
    return (
        f"{VERDICT_WORDS[run.worst]} — {c['CRIT']} critical, {c['WARN']} warning{'s' if c['WARN'] != 1 else ''}, "
        f"{c['UNKNOWN']} could not check, {c['INFO'] + c['OK']} passed"
    )
