"""Nagios/Icinga plugin output, in rank order (diagnostics.ranking).

Line 1 is what a pager shows: ``CSDIAG <STATE> - <the first thing to fix> (<counts>) | <counts perfdata>``
— the first incident's title, summary and first action, or else the top-ranked problem. Then the long
output: one line per problem in rank order, then ``| `` and the measured values as perfdata. The whole
output stays under :data:`LIMIT` bytes (NRPE's 4 KiB; Nagios 4 keeps 8 KiB): what does not fit is
counted in a last line, and ``csdiag triage --explain`` shows all of it.

Perfdata follows the plugin API: ``'label'=value[UOM];warn;crit;min;max``, labels unique, thresholds as
ranges that work for negative values too: an upper level W is ``~:W`` (alert above W), a lower level W is
``W:`` (alert below). Units the API does not know (dBm, min, …) are left off and kept in the label.
"""

from __future__ import annotations

from diagnostics.model import Finding, Metric, Run
from diagnostics.ranking import Ranked, rank
from reports import VERDICT_WORDS

LIMIT = 4000  # bytes of the whole output: below NRPE's 4 KiB buffer with room for the newline
FIRST_LINE = 300  # characters of the summary text on line 1
LINE = 200  # characters of each long-output line
LABEL = 60  # characters of a perfdata label
# Units of the plugin API; "c" (a continuous counter) is left out: our counts are per run, not counters.
_UOM = {"s": "s", "ms": "ms", "us": "us", "%": "%", "B": "B", "KB": "KB", "MB": "MB", "TB": "TB"}


def _num(v: float) -> str:
    """Plain decimal, never an exponent (the plugin API does not know ``2.1e+09``)."""
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.6f}".rstrip("0").rstrip(".")


def _range(level: float | None, direction: str | None) -> str:
    if level is None:
        return ""
    return f"~:{_num(level)}" if direction == "upper" else f"{_num(level)}:" if direction == "lower" else _num(level)


def _clean(text: str, limit: int) -> str:
    text = " ".join(text.replace("|", "/").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def perfdata_item(f: Finding, m: Metric, label: str | None = None) -> str:
    uom = _UOM.get(m.unit, "")
    if label is None:
        unit_note = f"_{m.unit}" if m.unit and not uom and m.unit != "count" else ""
        label = f"{f.check} {f.target} {m.name}{unit_note}"
    label = label.replace("'", "''").replace("=", ":")
    value = "U" if m.value is None else _num(m.value)
    return f"'{label}'={value}{uom};{_range(m.warn, m.direction)};{_range(m.crit, m.direction)};;"


def _labels(items: list[tuple[Finding, Metric]]) -> list[str]:
    """Unique, bounded labels: ``check target metric[_unit]``, shortened from the middle, ``#2`` on repeats."""
    seen: dict[str, int] = {}
    out = []
    for f, m in items:
        unit_note = f"_{m.unit}" if m.unit and m.unit not in _UOM and m.unit != "count" else ""
        tail = f" {m.name}{unit_note}"
        head = f"{f.check} {f.target}"
        room = LABEL - len(tail)
        if len(head) > room:
            head = head[: max(8, room - 1)] + "…"
        label = head + tail
        n = seen.get(label, 0) + 1
        seen[label] = n
        out.append(label if n == 1 else f"{label} #{n}")
    return out


def _headline(ranked: Ranked) -> str:
    c = ranked.run.counts()
    counts = (
        f"{c['CRIT']} critical, {c['WARN']} warning{'s' if c['WARN'] != 1 else ''}, "
        f"{c['UNKNOWN']} could not check, {c['INFO'] + c['OK']} passed"
    )
    if ranked.incidents:
        n = len(ranked.incidents)
        first = ranked.incidents[0].incident
        action = f" — do: {first.remediation}" if first.remediation else ""
        lead = f"{n} incident{'s' if n != 1 else ''}, first {first.title}: {first.summary}{action}"
    elif ranked.problems:
        top = ranked.problems[0]
        lead = f"{top.code} {top.target}: {top.summary}"
    else:
        lead = "no problem found"
    return f"{_clean(lead, FIRST_LINE)} ({counts})"  # no ';' of ours: Nagios turns it into ':'


def render(run: Run | Ranked) -> str:
    ranked = rank(run)
    c = ranked.run.counts()
    word = VERDICT_WORDS[ranked.run.worst]
    counts_perf = (
        f"'critical'={c['CRIT']};;;0; 'warning'={c['WARN']};;;0; 'unknown'={c['UNKNOWN']};;;0; "
        f"'passed'={c['INFO'] + c['OK']};;;0; 'incidents'={len(ranked.incidents)};;;0;"
    )
    lines = [f"CSDIAG {word} - {_headline(ranked)} | {counts_perf}"]
    used = len(lines[0]) + 1
    long_lines = []
    for ri in ranked.incidents:
        inc = ri.incident
        long_lines.append(
            _clean(f"[{inc.severity.value}] incident {inc.title}: {inc.summary} — {len(ri.members)} related", LINE)
        )
    long_lines += [
        _clean(f"[{f.severity.value}] #{ranked.rank(f)} {f.check} {f.code} {f.target}: {f.summary}", LINE)
        for f in ranked.problems
    ]
    metric_items = [(f, m) for f in ranked.findings for m in f.metrics]
    perf = [perfdata_item(f, m, label) for (f, m), label in zip(metric_items, _labels(metric_items), strict=True)]
    text_budget = LIMIT - used - min(sum(len(p) + 1 for p in perf) + 2, LIMIT // 3)
    shown = 0
    for ln in long_lines:
        if used + len(ln) + 1 > text_budget:
            break
        lines.append(ln)
        used += len(ln) + 1
        shown += 1
    if shown < len(long_lines):
        more = f"… {len(long_lines) - shown} more lines: csdiag triage --explain"
        lines.append(more)
        used += len(more) + 1
    perf_text = ""
    for p in perf:
        add = (" " if perf_text else "| ") + p
        if used + len(perf_text) + len(add) + 1 > LIMIT:
            break
        perf_text += add
    if perf_text:
        lines.append(perf_text)
    return "\n".join(lines) + "\n"
