"""The terminal view, in the order of :mod:`diagnostics.ranking` (it sorts nothing itself).

Default (fits 80 columns): the verdict; each incident with its root cause, the first action and how
many findings it explains; one line per other problem (findings that say the same thing from several
vantage points are one line); passes as a count per check. ``explain`` adds every finding's evidence,
measured values and full remediation (``pick`` limits that to some findings: rank numbers, codes or
checks).
"""

from __future__ import annotations

import shutil
import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import IO, Any

from rich.console import Console
from rich.text import Text

from diagnostics.model import Evidence, Finding, Run, Severity
from diagnostics.ranking import Line, Ranked, fold, rank
from reports import humanize, verdict

STYLE = {
    Severity.CRIT: "bold red",
    Severity.UNKNOWN: "bold magenta",
    Severity.WARN: "bold yellow",
    Severity.INFO: "cyan",
    Severity.OK: "green",
}
SHORT = {
    Severity.CRIT: "CRIT",
    Severity.UNKNOWN: "UNKN",
    Severity.WARN: "WARN",
    Severity.INFO: "INFO",
    Severity.OK: "OK",
}
DEFAULT_WIDTH = 80
FOLD_SAME_CODE = 4  # this many subjects with the same problem code share one line in the default view


def render(
    run: Run | Ranked,
    file: IO[str],
    *,
    color: bool = True,
    quiet: bool = False,
    width: int | None = None,
    explain: bool = False,
    pick: Sequence[str] = (),
) -> None:
    ranked = rank(run)
    console = Console(
        file=file,
        no_color=not color,
        highlight=False,
        soft_wrap=True,
        width=width or 1000,
        force_terminal=color if color else None,
    )
    if width is None:
        width = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns if file.isatty() else DEFAULT_WIDTH
    width = max(60, min(width, 160))
    out = _Out(console, width)
    out.line(verdict(ranked.run), STYLE[ranked.run.worst])
    if quiet:
        return
    out.line(_about(ranked.run), "dim")
    if explain:
        _explain(out, ranked, pick)
    else:
        _summary(out, ranked)


class _Out:
    def __init__(self, console: Console, width: int) -> None:
        self.console = console
        self.width = width

    def line(self, text: str | Text, style: str = "") -> None:
        t = text if isinstance(text, Text) else Text(text, style=style)
        t.truncate(self.width, overflow="ellipsis")
        self.console.print(t, no_wrap=True, overflow="ellipsis", crop=False)

    def wrapped(self, text: str, first: str, rest: str, style: str = "", max_lines: int | None = None) -> None:
        lines = textwrap.wrap(
            " ".join(text.split()), self.width, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False
        ) or [first.rstrip()]
        if max_lines is not None and len(lines) > max_lines:
            lines = lines[:max_lines]
            lines[-1] = lines[-1][: self.width - 1].rstrip() + "…"
        for ln in lines:
            self.console.print(Text(ln, style=style), no_wrap=True, crop=False)

    def blank(self) -> None:
        self.console.print("")


def _about(run: Run) -> str:
    took = (run.finished - run.started).total_seconds()
    failed = [f"{c.name} {c.status.value}" for c in run.checks if c.status.value != "completed"]
    if run.source == "live":
        text = f"{len(run.checks)} checks in {took:.1f} s · {run.started:%Y-%m-%d %H:%M} UTC"
    else:
        bundle = run.source.removeprefix("bundle:").rstrip("/").rsplit("/", 1)[-1]
        text = f"{len(run.checks)} checks replayed from the bundle {bundle} · {run.started:%Y-%m-%d %H:%M} UTC"
    return text + (f" · {', '.join(failed)}" if failed else "")


def _sev(s: Severity) -> Text:
    return Text(f"{SHORT[s]:<4}", style=STYLE[s])


def _line_text(ranked: Ranked, ln: Line, width: int) -> Text:
    f = ln.first
    if ln.subjects > 1:
        targets = "; ".join(dict.fromkeys(x.target for x in ln.findings))
        t = Text.assemble(
            f"{ranked.rank(f):>3} ", _sev(ln.severity), f" {f.code} ×{ln.subjects}", ": ", (targets, "bold")
        )
        t.truncate(width, overflow="ellipsis")
        return t
    where = ln.subject
    if len(ln.findings) > 1:
        where += f" (from {', '.join(ln.vantages)})" if ln.vantages else f" (×{len(ln.findings)})"
    t = Text.assemble(f"{ranked.rank(f):>3} ", _sev(ln.severity), f" {f.code} ", (where, "bold"), f": {f.summary}")
    t.truncate(width, overflow="ellipsis")
    return t


def _summary(out: _Out, ranked: Ranked) -> None:
    if ranked.incidents:
        out.blank()
        n = len(ranked.incidents)
        out.line(f"{n} incident{'s' if n != 1 else ''} — root cause first, fix these first:", "bold")
        for ri in ranked.incidents:
            inc = ri.incident
            explained = len(ri.members)
            head = Text.assemble(
                f"{ranked.rank(ri.findings[0]):>3} " if ri.findings else "    ",
                _sev(inc.severity),
                (f" {inc.title}", "bold"),
                f" — explains {explained} more finding{'s' if explained != 1 else ''}",
            )
            out.line(head)
            cause = ri.cause
            if cause is not None:
                out.line(f"     cause {cause.code} {cause.target}")
            out.wrapped(inc.summary, "           ", "           ", max_lines=2)
            if inc.remediation:
                out.wrapped(inc.remediation, "     do    ", "           ", style="green", max_lines=2)
    lines = fold(ranked.unexplained, same_code=FOLD_SAME_CODE)
    if lines:
        out.blank()
        count = len(ranked.unexplained)
        label = "other problems" if ranked.incidents else "problems"
        out.line(f"{count} {label} (worst first, lower layers first):", "bold")
        for ln in lines:
            out.line(_line_text(ranked, ln, out.width))
    if ranked.passes:
        out.blank()
        per_check = Counter(f.check for f in ranked.passes)
        body = ", ".join(f"{c} {n}" for c, n in per_check.items())
        out.wrapped(body, f"passed ({len(ranked.passes)}): ", "  ", style="green")
    out.line("details: --explain (all), --finding N|CODE|CHECK (one)", "dim")


def _picked(ranked: Ranked, pick: Sequence[str]) -> list[Finding]:
    if not pick:
        return list(ranked.findings)
    wanted = {p.strip() for item in pick for p in item.split(",") if p.strip()}
    return [f for f in ranked.findings if str(ranked.rank(f)) in wanted or f.code in wanted or f.check in wanted]


def _explain(out: _Out, ranked: Ranked, pick: Sequence[str]) -> None:
    chosen = _picked(ranked, pick)
    if not pick:
        for ri in ranked.incidents:
            out.blank()
            inc = ri.incident
            out.line(Text.assemble(_sev(inc.severity), (f" incident {inc.title}", "bold"), f" ({inc.rule})"))
            out.wrapped(inc.summary, "  ", "  ")
            if inc.remediation:
                out.wrapped(inc.remediation, "  do: ", "      ", style="green")
            for f in ri.findings:
                role = "cause " if ranked.is_cause(f) else "effect"
                out.line(f"  {role} #{ranked.rank(f)} {f.severity.value} {f.code} {f.target}")
    if pick and not chosen:
        out.blank()
        out.line(f"no finding matches {', '.join(pick)}", "bold")
    for f in chosen:
        _explain_one(out, ranked, f)


def _explain_one(out: _Out, ranked: Ranked, f: Finding) -> None:
    out.blank()
    out.line(Text.assemble(f"#{ranked.rank(f)} ", _sev(f.severity), (f" {f.code}", "bold"), f"  {f.check}"))
    out.wrapped(f.target, "  target   ", "           ")
    inc = ranked.incident_of(f)
    if inc is not None:
        out.line(f"  incident {inc.title} ({'root cause' if ranked.is_cause(f) else 'explained by its cause'})")
    out.wrapped(f.summary, "  finding  ", "           ")
    if f.details:
        out.wrapped(f.details, "  details  ", "           ")
    if f.count > 1:
        out.line(f"  seen     {f.count}× from {_when(f.first_seen)} to {_when(f.last_seen)}")
    for m in f.metrics:
        out.line(f"  measured {m.name} = {humanize.metric_text(m)}")
    for e in f.evidence:
        _evidence(out, e)
    if f.remediation:
        out.wrapped(f.remediation, "  do       ", "           ", style="green")


def _when(t: Any) -> str:
    return "?" if t is None else f"{t:%Y-%m-%d %H:%M:%S}"


def _evidence(out: _Out, e: Evidence) -> None:
    when = f" at {_when(e.at)}" if e.at else ""
    db, sep, sql = e.source.partition(" SQL: ")
    if sep:
        out.line(f"  {e.kind.value:<8} {db} (database query){when}", "dim")
        out.wrapped(sql, "           query: ", "             ", style="dim")
    else:
        out.wrapped(e.source + when, f"  {e.kind.value:<8} ", "           ", style="dim")
    if e.text is not None:
        for ln in e.text.splitlines()[:40]:
            out.wrapped(ln, "           ", "             ")
    if e.data is not None and e.text is None:
        for k, v in e.data.items():
            if humanize.is_table(v):
                out.line(f"           {k}:")
                for row in v:
                    cells = ", ".join(f"{c}={humanize.value(c, row.get(c))}" for c in humanize.columns(v))
                    out.wrapped(cells, "             - ", "               ")
            else:
                out.wrapped(humanize.value(k, v), f"           {k}: ", "             ")
