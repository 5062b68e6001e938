"""CSV output: one row per finding, fixed column order, evidence flattened to text.

Cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or carriage return)
are prefixed with an apostrophe (OWASP's advice on CSV injection).
"""

from __future__ import annotations

from typing import Any

from diagnostics.model import Finding, Run

COLUMNS = [
    "severity",
    "check",
    "code",
    "target",
    "summary",
    "details",
    "remediation",
    "evidence",
    "metrics",
    "first_seen",
    "last_seen",
    "count",
]
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_DANGEROUS):
        return "'" + value
    return value


def _row(f: Finding) -> dict[str, Any]:
    return {
        "severity": f.severity.value,
        "check": f.check,
        "code": f.code,
        "target": f.target,
        "summary": f.summary,
        "details": f.details,
        "remediation": f.remediation,
        "evidence": "\n".join(e.summary(width=1000, source_width=1000) for e in f.evidence),
        "metrics": "; ".join(
            f"{m.name}={m.value if m.value is not None else 'U'}{m.unit}"
            + (f" (warn {m.warn}, crit {m.crit})" if m.warn is not None or m.crit is not None else "")
            for m in f.metrics
        ),
        "first_seen": f.first_seen.isoformat() if f.first_seen else "",
        "last_seen": f.last_seen.isoformat() if f.last_seen else "",
        "count": f.count,
    }


def render(run: Run) -> str:
    import pandas as pd

    frame = pd.DataFrame([_row(f) for f in run.findings], columns=COLUMNS)
    frame = frame.map(neutralise)
    return str(frame.to_csv(index=False, lineterminator="\n"))
