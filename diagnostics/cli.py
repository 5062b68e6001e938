"""The ``csdiag`` command line (typer). Thin: parse, call the engine, print, exit.

Exit codes of ``triage``: 0 worst OK/INFO, 1 WARN, 2 CRIT, 3 UNKNOWN only (Nagios order);
64 (EX_USAGE) for usage and configuration errors, with one line naming the file, key and problem.
Heavy libraries (pydantic, pymysql, pandas, jinja2, rich) are imported inside the commands so that
``csdiag --help`` answers fast.
"""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from diagnostics.config import Settings
    from diagnostics.model import Run
    from diagnostics.registry import Registry

EX_USAGE = 64

app = typer.Typer(
    name="csdiag",
    help="Diagnostics and health checks for Apache CloudStack template management.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rendering it with rich costs ~130 ms of imports on every --help
)
config_app = typer.Typer(help="Check or print the configuration.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(config_app, name="config")
logs_app = typer.Typer(help="Analyse CloudStack log files offline.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(logs_app, name="logs")
mtu_app = typer.Typer(help="Path-MTU (jumbo frame) probes.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(mtu_app, name="mtu")


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"
    nagios = "nagios"
    prom = "prom"


class _Opts:
    verbose = False
    quiet = False
    color = True


OPTS = _Opts()

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Config file (default ./csdiag.toml, then ~/.config/csdiag/config.toml).", dir_okay=False
    ),
]
JunitOpt = Annotated[Path | None, typer.Option("--junit", help="Also write JUnit XML to this file.", dir_okay=False)]
OnlyOpt = Annotated[str | None, typer.Option("--only", help="Run only these checks (comma-separated names).")]
SkipOpt = Annotated[str | None, typer.Option("--skip", help="Skip these checks (comma-separated names).")]


def fail(message: str, code: int = EX_USAGE) -> NoReturn:
    typer.echo(f"csdiag: error: {message}", err=True)
    raise typer.Exit(code)


def _print_version(value: bool) -> None:
    if value:
        from diagnostics import __version__

        typer.echo(f"csdiag {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log details (and tracebacks) to stderr.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the verdict line.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours in terminal output.")] = False,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version)
    ] = False,
) -> None:
    OPTS.verbose, OPTS.quiet, OPTS.color = verbose, quiet, not no_color and sys.stdout.isatty()
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="csdiag: %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if not verbose:
        # paramiko and pysnmp log connection noise at INFO/ERROR that our findings already carry
        for noisy in ("paramiko", "pysnmp", "asyncio"):
            logging.getLogger(noisy).setLevel(logging.CRITICAL)


def _settings(path: Path | None, code: int = EX_USAGE) -> Settings:
    from diagnostics.config import ConfigError, load_settings

    try:
        return load_settings(path)
    except ConfigError as exc:
        fail(str(exc), code)


def _registry() -> Registry:
    from diagnostics.registry import Registry

    return Registry.from_entry_points()


class _RichProgress:
    """A progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._task = self._progress.add_task("checks", total=total)
        self._running: set[str] = set()

    def __enter__(self) -> _RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def started(self, name: str) -> None:
        self._running.add(name)
        self._progress.update(self._task, description="running " + ", ".join(sorted(self._running)))

    def finished(self, name: str, status: Any) -> None:
        self._running.discard(name)
        self._progress.update(self._task, advance=1, description="running " + ", ".join(sorted(self._running)))


def _progress(total: int) -> _RichProgress | None:
    return _RichProgress(total) if sys.stderr.isatty() and not OPTS.quiet else None


def _render(run: Run, fmt: Format) -> str:
    if fmt is Format.json:
        from reports import jsondoc

        return jsondoc.render(run)
    if fmt is Format.csv:
        from reports import csvfile

        return csvfile.render(run)
    if fmt is Format.html:
        from reports import html

        return html.render(run)
    if fmt is Format.nagios:
        from reports import nagios

        return nagios.render(run)
    if fmt is Format.prom:
        from reports import prom

        return prom.render(run)
    import io

    from reports import table

    buf = io.StringIO()
    table.render(run, buf, color=False, quiet=OPTS.quiet, width=160)
    return buf.getvalue()


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"{path}: cannot write: {exc.strerror or exc}")


def _emit(run: Run, fmt: Format | None, output: Path | None) -> None:
    """Without --format, --output is a folder that gets findings.json, findings.csv and report.html,
    and the table goes to stdout; with --format, that one format goes to --output or stdout."""
    if fmt is None or (fmt is Format.table and output is None):
        if output is not None:
            for name, f in (("findings.json", Format.json), ("findings.csv", Format.csv), ("report.html", Format.html)):
                _write(output / name, _render(run, f))
            typer.echo(f"reports written to {output}/ (findings.json, findings.csv, report.html)", err=True)
        from reports import table

        table.render(run, sys.stdout, color=OPTS.color, quiet=OPTS.quiet)
        return
    if fmt is Format.prom and output is not None:
        from reports import prom

        try:
            prom.write(run, output)  # atomically, for node_exporter's textfile collector
        except OSError as exc:
            fail(f"{output}: cannot write: {exc.strerror or exc}")
        return
    text = _render(run, fmt)
    if output is None:
        sys.stdout.write(text)
    else:
        _write(output, text)


@app.command()
def triage(
    config: ConfigOpt = None,
    only: OnlyOpt = None,
    skip: SkipOpt = None,
    bundle: Annotated[
        Path | None, typer.Option("--bundle", help="Evaluate a bundle (.tar.gz or folder) instead of collecting live.")
    ] = None,
    fmt: Annotated[Format | None, typer.Option("--format", "-f", help="Output format (default: table).")] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File for --format; without --format a folder for findings.json, findings.csv and report.html.",
        ),
    ] = None,
    junit: JunitOpt = None,
) -> None:
    """Run the checks (live, or on a bundle), print a ranked summary, exit by the worst severity."""
    from diagnostics.registry import parse_names

    settings = _settings(config)
    run = _run(settings, parse_names(only), parse_names(skip), bundle)
    if settings.history.record and bundle is None:
        from diagnostics.cli_history import record

        record(settings, run)
    _emit(run, fmt, output)
    if junit is not None:
        from reports import junit as junit_report

        _write(junit, junit_report.render(run))
    raise typer.Exit(run.worst.nagios_code)


def _run(settings: Settings, only: list[str], skip: list[str], bundle: Path | None, code: int = EX_USAGE) -> Run:
    """Collect and evaluate live, or evaluate a bundle; configuration and bundle errors exit with ``code``."""
    from diagnostics import engine
    from diagnostics.bundle import BundleError
    from diagnostics.config import ConfigError

    registry = _registry()
    try:
        if bundle is not None:
            progress = _progress(1)
            with progress or _Null():
                return engine.replay(bundle, settings, registry, only, skip, progress=progress)
        checks = registry.select(only, skip)
        engine.resolve_params(settings, checks)
        settings.verify_secrets()
        progress = _progress(len(checks))
        with progress or _Null():
            run, _ = engine.collect_and_evaluate(settings, registry, only, skip, progress=progress)
        return run
    except (ConfigError, BundleError) as exc:
        fail(str(exc), code)


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


EX_GATE_USAGE = 2  # gate's contract: 0 pass, 1 fail, 2 usage or configuration error


@app.command()
def collect(
    output: Annotated[Path, typer.Option("--output", "-o", help="Bundle to write: B.tar.gz, or a folder.")],
    config: ConfigOpt = None,
    only: OnlyOpt = None,
    skip: SkipOpt = None,
) -> None:
    """Gather the raw evidence of the checks into a bundle (no secrets) for `triage --bundle`."""
    from diagnostics import bundle as bundle_mod
    from diagnostics import engine
    from diagnostics.config import ConfigError
    from diagnostics.registry import parse_names

    settings = _settings(config)
    registry = _registry()
    try:
        checks = registry.select(parse_names(only), parse_names(skip))
        engine.resolve_params(settings, checks)
        settings.verify_secrets()
        progress = _progress(len(checks))
        with progress or _Null():
            _, outcomes = engine.collect_and_evaluate(
                settings, registry, parse_names(only), parse_names(skip), evaluate=False, progress=progress
            )
        bundle_mod.write(
            output, outcomes, config_summary=settings.summary(), secrets=[s.reveal() for s in settings.secrets()]
        )
    except (ConfigError, bundle_mod.BundleError) as exc:
        fail(str(exc))
    for o in outcomes:
        typer.echo(f"{o.check.name:<12} {o.status.value:<10} {o.duration_s:6.2f} s  {o.error or ''}".rstrip(), err=True)
    typer.echo(f"bundle written to {output}", err=True)


@app.command("checks")
def list_checks(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json")] = "table",
) -> None:
    """List the checks, what each looks at, and the codes it can raise."""
    import json

    from diagnostics.check import ENGINE_CODES

    registry = _registry()
    if fmt == "json":
        doc = {
            "checks": [
                {
                    "name": c.name,
                    "title": c.title,
                    "description": c.description,
                    "origin": registry.origin(c.name),
                    "codes": [{"code": k.code, "severity": k.severity.value, "meaning": k.meaning} for k in c.codes],
                }
                for c in registry
            ],
            "engine_codes": [
                {"code": k.code, "severity": k.severity.value, "meaning": k.meaning} for k in ENGINE_CODES
            ],
            "problems": [
                {"name": p.name, "distribution": p.distribution, "reason": p.reason} for p in registry.problems
            ],
        }
        typer.echo(json.dumps(doc, indent=2))
    elif fmt == "table":
        for c in registry:
            typer.echo(f"{c.name} — {c.title}  [{registry.origin(c.name)}]")
            typer.echo(f"    {c.description}")
            for k in c.codes:
                typer.echo(f"    {k.code:<28} {k.severity.value:<8} {k.meaning}")
            typer.echo("")
        typer.echo("engine codes (any check):")
        for k in ENGINE_CODES:
            typer.echo(f"    {k.code:<28} {k.severity.value:<8} {k.meaning}")
        for p in registry.problems:
            typer.echo(f"BROKEN plugin {p.name} ({p.distribution}): {p.reason}", err=True)
    else:
        fail(f"--format: expected table or json, got {fmt!r}")


@app.command()
def reach(
    urls: Annotated[list[str], typer.Argument(help="Template URLs to test.")],
    from_host: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Probe from this host over SSH (an SSVM: host or host:port, [ssh] defaults); default: from here.",
        ),
    ] = None,
    config: ConfigOpt = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Can this host (or an SSVM) fetch these template URLs, and how fast? Exit by the worst severity."""
    from checks import reach as reach_check
    from diagnostics import engine

    settings = _settings(config)
    probe = settings.reach.model_copy(
        update={
            "urls": urls,
            "sample": 0,
            "ssvm_from_inventory": False,
            "from_hosts": [from_host] if from_host else [],
            "local": from_host is None,
        }
    )
    quick = settings.model_copy(
        update={"reach": probe, "cloudstack": settings.cloudstack.model_copy(update={"database": None})}
    )
    run = engine.run_checks(quick, [reach_check.CHECK])
    _emit(run, fmt, None)
    raise typer.Exit(run.worst.nagios_code)


@mtu_app.command("probe")
def mtu_probe(
    hosts: Annotated[list[str], typer.Argument(help="Hosts or addresses to probe from here.")],
    mtu: Annotated[
        int, typer.Option("--mtu", help="Packet size that must pass (IP header included).", min=576, max=65535)
    ] = 9000,
    kind: Annotated[str, typer.Option("--kind", help="auto, icmp or udp.")] = "auto",
    timeout_s: Annotated[float, typer.Option("--timeout", help="Seconds to wait per probe.")] = 1.0,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
) -> None:
    """Path-MTU probe from this machine (DF set, kernel PMTU cache ignored); exit by the worst severity."""
    from checks import mtu as mtu_check
    from diagnostics import engine
    from diagnostics.config import ConfigError, parse_settings

    try:
        settings = parse_settings(
            {
                "mtu": {
                    "required": mtu,
                    "targets": hosts,
                    "probe": kind,
                    "timeout_s": timeout_s,
                    "storage_from_inventory": False,
                }
            }
        )
    except ConfigError as exc:
        fail(f"{exc.key}: {exc.message}")
    run = engine.run_checks(settings, [mtu_check.CHECK])
    _emit(run, fmt, None)
    raise typer.Exit(run.worst.nagios_code)


@logs_app.command("scan")
def logs_scan(
    paths: Annotated[list[str], typer.Argument(help="Log files, folders (recursive) or globs; .gz is read as is.")],
    since: Annotated[str, typer.Option("--since", help="Time window: 30m, 24h, 7d, or an ISO date.")] = "24h",
    timezone: Annotated[
        str, typer.Option("--timezone", help="Zone of management/agent log times (the SSVM's cloud.log is UTC).")
    ] = "UTC",
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the output to this file.")] = None,
) -> None:
    """Scan log files with no configuration: findings ranked, exit by the worst severity."""
    import dataclasses

    from checks import logs
    from diagnostics import engine
    from diagnostics.config import ConfigError, parse_settings

    try:
        settings = parse_settings({"logs": {"since": since, "timezone": timezone}})
    except ConfigError as exc:
        fail(f"{exc.key.replace('logs.', '--') if exc.key else ''}: {exc.message}")
    check = dataclasses.replace(logs.CHECK, collect=lambda ctx: logs.scan_paths(paths, since, timezone))
    run = engine.run_checks(settings, [check])
    _emit(run, fmt, output)
    raise typer.Exit(run.worst.nagios_code)


@config_app.command("validate")
def config_validate(path: Annotated[Path, typer.Argument(help="Config file to check.", dir_okay=False)]) -> None:
    """Check a config file: syntax, keys, types, check parameters and that its secrets can be read."""
    from diagnostics import engine
    from diagnostics.config import ConfigError, load_settings

    try:
        settings = load_settings(path)
        engine.validate_settings(settings, _registry())
        settings.verify_secrets()
    except ConfigError as exc:
        fail(str(exc))
    typer.echo(f"{path}: OK")


@config_app.command("example")
def config_example() -> None:
    """Print the documented example configuration."""
    from diagnostics.config import example_text

    sys.stdout.write(example_text())


def _is_usage_error(exc: BaseException) -> bool:
    # typer ≥ 0.29 vendors click privately; its usage errors are ClickExceptions with show().
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__) and hasattr(exc, "show")


def main() -> None:
    try:
        rv = app(standalone_mode=False)
    except Exception as exc:
        if _is_usage_error(exc):
            exc.show()  # type: ignore[attr-defined]  # click's ClickException API, see above
            command = next((a for a in sys.argv[1:] if not a.startswith("-")), "")
            sys.exit(EX_GATE_USAGE if command == "gate" else EX_USAGE)
        raise
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)


# Commands that live in their own modules register on `app` when imported.
from diagnostics import cli_gate, cli_history, cli_image  # noqa: E402,F401

if __name__ == "__main__":
    # Run as `python -m diagnostics.cli`, this file is __main__ and a second copy of the module is what
    # cli_gate and cli_history registered their commands on: use that one.
    from diagnostics.cli import main as registered_main

    registered_main()
