"""Nagios/Icinga plugin output: ``CSDIAG <STATE> - <summary> | perfdata`` then one line per finding.

Perfdata follows the plugin API: ``'label'=value[UOM];warn;crit;;`` with threshold ranges that work for
negative values too: an upper level W is ``~:W`` (alert above W), a lower level W is ``W:`` (alert below).
Units the API does not know (dBm, min, …) are left off the value and kept in the label.
"""

from __future__ import annotations

from diagnostics.model import Finding, Metric, Run
from reports import VERDICT_WORDS, verdict

_UOM = {"s": "s", "ms": "ms", "us": "us", "%": "%", "B": "B", "KB": "KB", "MB": "MB", "TB": "TB"}


def _num(v: float) -> str:
    return f"{v:g}"


def _range(level: float | None, direction: str | None) -> str:
    if level is None:
        return ""
    return f"~:{_num(level)}" if direction == "upper" else f"{_num(level)}:" if direction == "lower" else _num(level)


def perfdata_item(f: Finding, m: Metric) -> str:
    uom = _UOM.get(m.unit, "")
    unit_note = f"_{m.unit}" if m.unit and not uom else ""
    label = f"{f.check} {f.target} {m.name}{unit_note}".replace("'", "''").replace("=", ":")
    value = "U" if m.value is None else _num(m.value)
    return f"'{label}'={value}{uom};{_range(m.warn, m.direction)};{_range(m.crit, m.direction)};;"


def render(run: Run) -> str:
    word = VERDICT_WORDS[run.worst]
    worst = next(iter(run.findings), None)
    headline = verdict(run).split(" — ", 1)[1]
    if worst is not None and worst.severity.rank >= 2:
        headline += f"; {worst.summary}"
    perf = " ".join(perfdata_item(f, m) for f in run.findings for m in f.metrics)
    lines = [f"CSDIAG {word} - {headline.replace('|', '/')}" + (f" | {perf}" if perf else "")]
    lines += [
        f"[{f.severity.value}] {f.check} {f.code} {f.target}: {f.summary}".replace("|", "/") for f in run.findings
    ]
    return "\n".join(lines) + "\n"
