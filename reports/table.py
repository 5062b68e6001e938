"""The terminal summary: findings worst first, each with its evidence and what to do."""

from __future__ import annotations

from typing import IO

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from diagnostics.model import Run, Severity
from reports import verdict

STYLE = {
    Severity.CRIT: "bold red",
    Severity.UNKNOWN: "bold magenta",
    Severity.WARN: "bold yellow",
    Severity.INFO: "cyan",
    Severity.OK: "green",
}
MAX_EVIDENCE = 3


def render(run: Run, file: IO[str], *, color: bool = True, quiet: bool = False, width: int | None = None) -> None:
    if width is None and not file.isatty():
        width = 140  # a pipe or a file: rich would assume 80 columns and squeeze the table
    console = Console(
        file=file,
        no_color=not color,
        highlight=False,
        soft_wrap=False,
        width=width,
        force_terminal=color if color else None,
    )
    if not quiet and run.findings:
        table = Table(
            show_lines=True,
            expand=True,
            title=f"csdiag — {len(run.findings)} finding{'s' if len(run.findings) != 1 else ''}",
        )
        table.add_column("#", justify="right", width=3)
        table.add_column("Severity", width=8)
        table.add_column("Check", width=10)
        table.add_column("Target", ratio=1, overflow="fold")
        table.add_column("Finding", ratio=3, overflow="fold")
        for n, f in enumerate(run.findings, 1):
            lines: list[Text | str] = [Text.assemble((f.summary, "bold"), ("  " + f.code, "dim"))]
            for e in f.evidence[:MAX_EVIDENCE]:
                lines.append(Text("  " + e.summary(), style="dim"))
            if len(f.evidence) > MAX_EVIDENCE:
                lines.append(Text(f"  … {len(f.evidence) - MAX_EVIDENCE} more evidence items", style="dim"))
            if f.count > 1:
                lines.append(Text(f"  seen {f.count}× ({f.first_seen} … {f.last_seen})", style="dim"))
            if f.remediation:
                lines.append(Text("→ " + f.remediation, style="green"))
            table.add_row(
                str(n), Text(f.severity.value, style=STYLE[f.severity]), escape(f.check), Text(f.target), Group(*lines)
            )
        console.print(table)
    duration = (run.finished - run.started).total_seconds()
    statuses = ", ".join(f"{c.name} {c.status.value}" for c in run.checks)
    console.print(Text(verdict(run), style=STYLE[run.worst]))
    if not quiet:
        console.print(
            Text(f"{len(run.checks)} checks in {duration:.1f} s ({statuses}); source {run.source}", style="dim")
        )
