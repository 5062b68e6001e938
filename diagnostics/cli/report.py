"""``csdiag report`` (report files, history, e-mail) and ``csdiag history``."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from diagnostics.cli import common
from diagnostics.cli.app import OPTS, app, fail
from diagnostics.cli.options import ConfigOpt, OnlyOpt, SkipOpt

if TYPE_CHECKING:
    from diagnostics.config import Settings
    from diagnostics.model import Run


@dataclass
class Past:
    """What the history store says about a run: its changes, the recent runs and metric series."""

    changes: list[Any] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    series: list[dict[str, Any]] = field(default_factory=list)
    recorded: bool = False
    error: str | None = None  # why the run could not be recorded


def record(settings: Settings, run: Run) -> Past:
    """Record ``run`` in the history store; return what changed since the previous run and the recent
    history (for trends and charts). A store that cannot be opened is a warning, not a failure."""
    from diagnostics.config import ConfigError
    from diagnostics.history import History, run_cursors
    from diagnostics.sources.errors import SourceError

    days = settings.report.trend_days
    try:
        with History.open(settings.history.full_url()) as store:
            if store.record(run) and settings.logs.cursor_file and run.log_cursors:
                # the log cursors live in their own file: moved only now that the run is recorded
                with History.open(f"sqlite:///{settings.logs.cursor_file}") as cursors:
                    for c in run_cursors(run):
                        cursors.set_cursor(c.source, c.head, c.path, c.offset, c.lines)
            _name_clash(settings, store, run)
            store.prune(settings.history.retention_days)
            return Past(store.changes(run), store.runs(days), store.series(days=days), recorded=True)
    except (SourceError, ConfigError) as exc:
        typer.echo(f"csdiag: warning: run not recorded: {exc}", err=True)
        return Past(error=str(exc))


def _name_clash(settings: Settings, store: Any, run: Run) -> None:
    """Say so when another host recorded runs under this runner's name lately: their runs would be
    compared as one runner's (report --fleet reports it as RUNNER_NAME_CLASH)."""
    from datetime import timedelta

    from diagnostics.config import parse_duration

    if not run.runner or not run.host:
        return
    since = run.finished - timedelta(seconds=parse_duration(settings.report.runner_stale_after))
    hosts = store.hosts_of(run.runner, since.isoformat())
    if len(hosts) > 1:
        typer.echo(
            f"csdiag: warning: runner name {run.runner!r} is used by {len(hosts)} hosts ({', '.join(hosts)}): "
            "give each its own [run] runner, or their change marks mix",
            err=True,
        )


@app.command()
def report(
    config: ConfigOpt = None,
    from_run: Annotated[
        list[Path] | None,
        typer.Option(
            "--from",
            metavar="FILE",
            help="A run document (findings.json) or bundle to report on instead of running the checks; "
            "repeat it for several (each recorded under its own runner, reported merged).",
            dir_okay=False,
        ),
    ] = None,
    fleet: Annotated[
        bool,
        typer.Option(
            "--fleet",
            help="Merge the latest covering run of every runner in the history store into one report, "
            "with each runner's freshness (RUNNER_STALE).",
        ),
    ] = False,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="FOLDER", help="Folder for report.html, findings.csv, findings.json."),
    ] = Path("csdiag-report"),
    email: Annotated[bool, typer.Option("--email", help="Also send the report as configured in [email].")] = False,
    only: OnlyOpt = None,
    skip: SkipOpt = None,
) -> None:
    """HTML + CSV + JSON report files with what changed since the previous run, trends and forecasts
    (history store), incidents and charts; with --email, sent as configured. Exit code: the verdict's."""
    from diagnostics import trends
    from diagnostics.history import damp
    from diagnostics.model import Severity
    from diagnostics.ranking import rank
    from diagnostics.registry import parse_names
    from reports import charts, csvfile, html, jsondoc

    settings = common.settings(config)
    if email and settings.email is None:
        fail("--email needs an [email] section in the configuration")
    common.check_output_path(output, folder=True)
    password = _email_password(settings) if email else None
    if fleet and from_run:
        fail("--fleet reports on the history store: give it without --from")
    if fleet:
        run, past = _fleet(settings)
    elif from_run and len(from_run) > 1:
        runs = [_read_run(settings, p, only, skip) for p in from_run]
        for r in runs:
            record(settings, r)
        past = Past()
        run = _merge_documents(settings, runs)
    else:
        if from_run:
            run = _read_run(settings, from_run[0], only, skip)
        else:
            run = common.run_selected(settings, parse_names(only), parse_names(skip), None)
        _warn_scope(run)
        past = record(settings, run)
    run = damp(run, past.changes, settings.report.crit_after_runs)
    found = trends.notable(trends.trends(run, past.series))
    pictures = charts.charts(run, past.runs, found)
    ranked = rank(run)
    csv_text = csvfile.render(ranked, past.changes)
    html_text = html.render(ranked, past.changes, trends=found, charts=pictures)
    output.mkdir(exist_ok=True)
    common.write(output / "findings.json", jsondoc.render(ranked))
    common.write(output / "findings.csv", csv_text)
    common.write(output / "report.html", html_text)
    new = sum(1 for c in past.changes if c.status == "new")
    resolved = sum(1 for c in past.changes if c.status == "resolved")
    typer.echo(
        f"report written to {output}/ (report.html, findings.csv, findings.json); "
        f"{new} new, {resolved} resolved since the previous run",
        err=True,
    )
    from reports import table

    table.render(ranked, sys.stdout, color=OPTS.color, quiet=OPTS.quiet)  # the same view as triage
    common.first_run_hint(settings)
    if email:
        _send(settings, run, past, found, pictures, csv_text, html_text, password)
    if past.error is not None:
        # the files are written, but the history (new/resolved, trends, cursors) is not: at least UNKNOWN
        raise typer.Exit(Severity.worst([run.worst, Severity.UNKNOWN]).nagios_code)
    raise typer.Exit(run.worst.nagios_code)


def _read_run(settings: Settings, path: Path, only: str | None, skip: str | None) -> Run:
    """A run document (kept as it is, with its runner) or a bundle (evaluated here). A document of an
    older csdiag without a runner is recorded under this runner's name ([run] runner), said on stderr."""
    import dataclasses
    import json

    from diagnostics.model import ModelError
    from diagnostics.model import Run as RunModel
    from diagnostics.registry import parse_names

    try:
        text = path.read_bytes()
    except OSError as exc:
        fail(f"{path}: {exc.strerror or exc}")
    try:
        doc = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return common.run_selected(settings, parse_names(only), parse_names(skip), path)  # a bundle
    try:
        run = RunModel.from_dict(doc)
    except ModelError as exc:
        fail(f"{path}: {exc}")
    if not run.runner:
        # an older csdiag's document: it was written by this site's runner as far as anyone can tell, so it
        # joins this runner's series (a name per file would make every daily document a new runner)
        from diagnostics import scope

        name = settings.run.runner or scope.default_runner()
        typer.echo(f"csdiag: {path}: a run document without a runner (older csdiag): recorded as {name}", err=True)
        run = dataclasses.replace(run, runner=name)
    return run


def _warn_scope(run: Run) -> None:
    from diagnostics.scope import scope_of

    if scope_of(run).empty:
        typer.echo("csdiag: this run completed no check: it covers nothing, nothing is marked resolved", err=True)


def _merge_documents(settings: Settings, runs: list[Run]) -> Run:
    """Several runs (``--from`` given more than once) as one fleet report, runner by runner."""
    from diagnostics import fleet
    from diagnostics.config import parse_duration
    from diagnostics.model import utcnow

    rows = [
        {
            "runner": r.runner,
            "run": r.id,
            "finished": r.finished.isoformat(),
            "check": f.check,
            "code": f.code,
            "severity": f.severity.value,
            "target": f.target,
            "summary": f.summary,
            "subjects": dict(f.subjects),
        }
        for r in runs
        for f in r.findings
    ]
    runners = [(r.runner, r.host, r.finished.isoformat(), 1) for r in runs]
    stale = settings.report.runner_stale_after
    return fleet.merge(rows, runners, utcnow(), parse_duration(stale), stale, runs[0].tool_version)


def _fleet(settings: Settings) -> tuple[Run, Past]:
    """The merged fleet run from the history store; a store that cannot be read is a usage failure."""
    from diagnostics import __version__, fleet
    from diagnostics.config import ConfigError, parse_duration
    from diagnostics.history import History
    from diagnostics.model import utcnow
    from diagnostics.sources.errors import SourceError

    stale = settings.report.runner_stale_after
    try:
        with History.open(settings.history.full_url()) as store:
            rows, runners = store.fleet_findings(), store.fleet_runners()
    except (SourceError, ConfigError) as exc:
        fail(f"report --fleet: {exc}", 3)
    if not runners:
        fail("report --fleet: the history store has no run with a runner yet", 3)
    return fleet.merge(rows, runners, utcnow(), parse_duration(stale), stale, __version__), Past()


def _email_password(settings: Settings) -> str | None:
    from diagnostics.config import ConfigError

    assert settings.email is not None
    secret = settings.email.password_secret()
    try:
        return secret.reveal() if secret else None
    except ConfigError as exc:
        fail(str(exc))


def _send(
    settings: Settings,
    run: Run,
    past: Past,
    found: list[Any],
    pictures: list[Any],
    csv_text: str,
    html_text: str,
    password: str | None,
) -> None:
    from diagnostics.model import Severity
    from diagnostics.sources import smtp
    from diagnostics.sources.errors import SourceError
    from reports import email as mail

    cfg = settings.email
    assert cfg is not None
    if cfg.only_on_change and past.recorded and not any(c.status in ("new", "resolved") for c in past.changes):
        typer.echo("email not sent: nothing new or resolved since the previous run (only_on_change)", err=True)
        return
    msg = mail.build(cfg, run, past.changes, trends=found, charts=pictures, csv_text=csv_text, html_file=html_text)
    try:
        attempts = smtp.send(cfg, msg, password, log=lambda m: typer.echo(f"csdiag: email: {m}", err=True))
    except SourceError as exc:
        typer.echo(f"csdiag: email not sent: {exc}", err=True)
        # the files are written but nobody was told: at least UNKNOWN, so cron and systemd notice
        raise typer.Exit(Severity.worst([run.worst, Severity.UNKNOWN]).nagios_code) from None
    typer.echo(f"email sent to {', '.join(cfg.recipients)} ({attempts} attempt(s))", err=True)


@app.command()
def history(
    config: ConfigOpt = None,
    check: Annotated[str | None, typer.Option("--check", metavar="CHECK", help="Only this check's metrics.")] = None,
    target: Annotated[
        str | None, typer.Option("--target", metavar="TARGET", help="Only this target's metrics.")
    ] = None,
    days: Annotated[int | None, typer.Option("--days", metavar="N", help="Only the last N days.", min=1)] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="FORMAT", help="table or json")] = "table",
) -> None:
    """Past runs, and with --check/--target the series of their measured metrics."""
    import json

    from diagnostics.config import ConfigError
    from diagnostics.history import History
    from diagnostics.sources.errors import SourceError

    settings = common.settings(config)
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
