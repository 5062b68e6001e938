"""CSV output: one row per finding, fixed column order, evidence flattened to text.

Cells that a spreadsheet would run as a formula (starting with ``= + - @``, tab or carriage return)
are prefixed with an apostrophe (OWASP's advice on CSV injection).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from diagnostics.model import Finding, Run
from diagnostics.ranking import Ranked, rank

if TYPE_CHECKING:
    from diagnostics.history import Change

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
    "change",  # new | open | resolved, from the history store ("" without one)
    "since",  # when an open problem was first seen in the unbroken series of runs
    "incident",  # the correlation rule of the incident the finding belongs to
    "rank",  # 1 = look at this first (diagnostics.ranking); empty for resolved rows
    "runner",  # the runner whose run saw it ([run] runner; report --fleet merges several)
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


def render(run: Run | Ranked, changes: Sequence[Change] = ()) -> str:
    """One row per finding in rank order, then one per problem resolved since the previous run."""
    import pandas as pd

    ranked = rank(run)

    marks = {c.key: c for c in changes if c.status != "resolved"}
    rows = []
    for f in ranked.findings:
        inc = ranked.incident_of(f)
        mark = marks.get(f.key)
        rows.append(
            {
                **_row(f),
                "change": mark.status if mark else "",
                "since": mark.since if mark and mark.status == "open" else "",
                "incident": inc.rule if inc else "",
                "rank": ranked.rank(f),
                "runner": f.subjects.get("runner") or ranked.run.runner,
            }
        )
    blank = dict.fromkeys(COLUMNS, "")
    rows += [
        blank
        | {"severity": c.severity, "check": c.check, "code": c.code, "target": c.target, "summary": c.summary}
        | {"change": "resolved", "runner": ranked.run.runner}
        for c in changes
        if c.status == "resolved"
    ]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame.map(neutralise)
    return str(frame.to_csv(index=False, lineterminator="\n"))
