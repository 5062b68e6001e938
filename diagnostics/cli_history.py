"""`csdiag report` and `csdiag history` (registered on the app of diagnostics.cli)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from diagnostics.cli import (
    ConfigOpt,
    OnlyOpt,
    SkipOpt,
    _run,
    _settings,
    _write,
    app,
    fail,
)

if TYPE_CHECKING:
    from diagnostics.config import Settings
    from diagnostics.model import Run


def record(settings: Settings, run: Run) -> list[Any]:
    """Record ``run`` in the history store and return what changed since the previous run."""
    from diagnostics.config import ConfigError
    from diagnostics.history import History
    from diagnostics.sources.errors import SourceError

    try:
        with History.open(settings.history.full_url()) as store:
            store.record(run)
            store.prune(settings.history.retention_days)
            return store.changes(run)
    except (SourceError, ConfigError) as exc:
        typer.echo(f"csdiag: warning: run not recorded: {exc}", err=True)
        return []


@app.command()
def report(
    config: ConfigOpt = None,
    from_run: Annotated[
        Path | None,
        typer.Option(
            "--from", help="A run document (findings.json) to report on instead of running the checks.", dir_okay=False
        ),
    ] = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for report.html, findings.csv, findings.json.")
    ] = Path("csdiag-report"),
    only: OnlyOpt = None,
    skip: SkipOpt = None,
) -> None:
    """HTML + CSV + JSON report files, with what changed since the previous run (history store)."""
    import json

    from diagnostics.model import ModelError
    from diagnostics.model import Run as RunModel
    from diagnostics.registry import parse_names
    from reports import csvfile, html, jsondoc

    settings = _settings(config)
    if from_run is not None:
        try:
            run = RunModel.from_dict(json.loads(from_run.read_text(encoding="utf-8")))
        except (OSError, ValueError, ModelError) as exc:
            fail(f"{from_run}: {exc}")
    else:
        run = _run(settings, parse_names(only), parse_names(skip), None)
    changes = record(settings, run)
    _write(output / "findings.json", jsondoc.render(run))
    _write(output / "findings.csv", csvfile.render(run))
    _write(output / "report.html", html.render(run, changes))
    new = sum(1 for c in changes if c.status == "new")
    resolved = sum(1 for c in changes if c.status == "resolved")
    typer.echo(
        f"report written to {output}/ (report.html, findings.csv, findings.json); "
        f"{new} new, {resolved} resolved since the previous run",
        err=True,
    )
    raise typer.Exit(run.worst.nagios_code)


@app.command()
def history(
    config: ConfigOpt = None,
    check: Annotated[str | None, typer.Option("--check", help="Only this check's metrics.")] = None,
    target: Annotated[str | None, typer.Option("--target", help="Only this target's metrics.")] = None,
    days: Annotated[int | None, typer.Option("--days", help="Only the last N days.", min=1)] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """Past runs, and with --check/--target the series of their measured metrics."""
    import json

    from diagnostics.config import ConfigError
    from diagnostics.history import History
    from diagnostics.sources.errors import SourceError

    settings = _settings(config)
    try:
        with History.open(settings.history.full_url()) as store:
            runs = store.runs(days)
            series = store.series(check, target, days) if (check or target) else []
    except (SourceError, ConfigError) as exc:
        fail(str(exc))
    if fmt == "json":
        typer.echo(json.dumps({"runs": runs, "series": series}, indent=2))
        return
    for r in runs:
        c = r["counts"]
        typer.echo(
            f"{r['finished'][:19]}  {r['worst']:<8} {c.get('CRIT', 0)} crit {c.get('WARN', 0)} warn "
            f"{c.get('UNKNOWN', 0)} unknown  {r['id']}"
        )
    for s in series:
        typer.echo(f"{s['at'][:19]}  {s['check']} {s['target']} {s['name']} = {s['value']:g} {s['unit']}")
