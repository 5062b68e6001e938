"""The self-contained HTML report (jinja2, autoescaped): verdict and counts first, failures first,
"could not check" apart from "failed", passed items collapsed, each finding with its evidence,
measured values against thresholds and what to do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from diagnostics.model import Run, Severity

if TYPE_CHECKING:
    from diagnostics.history import Change
from reports import VERDICT_WORDS, verdict


def render(run: Run, changes: Sequence[Change] = ()) -> str:
    """``changes`` (from the history store) marks findings new or open since when, and lists what was
    resolved since the previous run."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,  # every value is escaped: evidence is untrusted text from logs and devices
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    findings = run.findings
    groups = [
        ("Failed", "failed", [f for f in findings if f.severity in (Severity.CRIT, Severity.WARN)]),
        ("Could not check", "unknown", [f for f in findings if f.severity is Severity.UNKNOWN]),
        ("Passed and informational", "passed", [f for f in findings if f.severity in (Severity.OK, Severity.INFO)]),
    ]
    return env.get_template("report.html.j2").render(
        run=run,
        verdict=verdict(run),
        verdict_word=VERDICT_WORDS[run.worst],
        worst=run.worst.value,
        counts=run.counts(),
        groups=groups,
        duration_s=(run.finished - run.started).total_seconds(),
        marks={f"{c.check}|{c.code}|{c.target}": c for c in changes if c.status != "resolved"},
        resolved=[c for c in changes if c.status == "resolved"],
        have_history=bool(changes),
    )
