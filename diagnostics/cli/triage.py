"""``csdiag triage``, ``collect``, ``checks`` and the per-check shortcuts (``csdiag ssvm check`` …)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from diagnostics.cli import common
from diagnostics.cli.app import app, fail, group
from diagnostics.cli.options import (
    BundleOpt,
    ConfigOpt,
    ExplainOpt,
    FindingOpt,
    Format,
    JunitOpt,
    OnlyOpt,
    SkipOpt,
    SourceOpt,
)


def _triage(
    config: Path | None,
    only: list[str],
    skip: list[str],
    bundle: Path | None,
    fmt: Format | None,
    output: Path | None,
    junit: Path | None,
    explain: bool,
    finding: list[str],
    source: str | None = None,
) -> None:
    if source is not None and bundle is not None:
        fail("--source chooses where a live run reads CloudStack; a bundle replays what it recorded")
    cfg = common.settings(config, source=source)
    if output is not None:
        common.check_output_path(output, folder=fmt is None)
    if junit is not None:
        common.check_output_path(junit, folder=False)
    run = common.run_selected(cfg, only, skip, bundle)
    if cfg.history.record and bundle is None:
        from diagnostics.cli.report import record

        record(cfg, run)
    common.emit(run, fmt, output, explain=explain or bool(finding), pick=finding)
    if junit is not None:
        from diagnostics.ranking import rank
        from reports import junit as junit_report

        common.write(junit, junit_report.render(rank(run)))
    common.first_run_hint(cfg)
    raise typer.Exit(run.worst.nagios_code)


@app.command()
def triage(
    config: ConfigOpt = None,
    only: OnlyOpt = None,
    skip: SkipOpt = None,
    bundle: BundleOpt = None,
    fmt: Annotated[
        Format | None,
        typer.Option("--format", "-f", help="Output format (default: the terminal view).", metavar="FORMAT"),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File for --format; without --format a folder for findings.json, findings.csv and report.html.",
            metavar="PATH",
        ),
    ] = None,
    junit: JunitOpt = None,
    explain: ExplainOpt = False,
    finding: FindingOpt = None,
    source: SourceOpt = None,
) -> None:
    """Run the checks (live, or on a bundle): the verdict, incidents with their root cause and first
    action, then the other problems, one line each; exit by the worst severity (0 OK, 1 WARN, 2 CRIT,
    3 UNKNOWN)."""
    from diagnostics.registry import parse_names

    _triage(config, parse_names(only), parse_names(skip), bundle, fmt, output, junit, explain, finding or [], source)


@app.command()
def collect(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Bundle to write: B.tar.gz, or a folder.", metavar="PATH")
    ],
    config: ConfigOpt = None,
    only: OnlyOpt = None,
    skip: SkipOpt = None,
    source: SourceOpt = None,
) -> None:
    """Gather the raw evidence of the checks into a bundle (no secrets) for `triage --bundle`."""
    from diagnostics import bundle as bundle_mod
    from diagnostics import engine
    from diagnostics.config import ConfigError
    from diagnostics.registry import parse_names

    cfg = common.settings(config, source=source)
    common.check_output_path(output, folder=False)
    reg = common.registry()
    try:
        checks = reg.select(parse_names(only), parse_names(skip))
        engine.resolve_params(cfg, checks)
        cfg.verify_secrets()
        bar = common.progress(len(checks))
        with bar or common._Null():
            _, outcomes = engine.collect_and_evaluate(
                cfg, reg, parse_names(only), parse_names(skip), evaluate=False, progress=bar
            )
        bundle_mod.write(output, outcomes, config_summary=cfg.summary(), secrets=[s.reveal() for s in cfg.secrets()])
    except (ConfigError, bundle_mod.BundleError) as exc:
        fail(str(exc))
    for o in outcomes:
        typer.echo(f"{o.check.name:<12} {o.status.value:<10} {o.duration_s:6.2f} s  {o.error or ''}".rstrip(), err=True)
    typer.echo(f"bundle written to {output}", err=True)


@app.command("checks")
def list_checks(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json", metavar="FORMAT")] = "table",
) -> None:
    """List the checks, what each looks at, and the codes it can raise."""
    import json

    from diagnostics.check import ENGINE_CODES

    reg = common.registry()
    if fmt == "json":
        doc = {
            "checks": [
                {
                    "name": c.name,
                    "title": c.title,
                    "description": c.description,
                    "origin": reg.origin(c.name),
                    "codes": [{"code": k.code, "severity": k.severity.value, "meaning": k.meaning} for k in c.codes],
                }
                for c in reg
            ],
            "engine_codes": [
                {"code": k.code, "severity": k.severity.value, "meaning": k.meaning} for k in ENGINE_CODES
            ],
            "problems": [{"name": p.name, "distribution": p.distribution, "reason": p.reason} for p in reg.problems],
        }
        typer.echo(json.dumps(doc, indent=2))
    elif fmt == "table":
        for c in reg:
            typer.echo(f"{c.name} — {c.title}  [{reg.origin(c.name)}]")
            typer.echo(f"    {c.description}")
            for k in c.codes:
                typer.echo(f"    {k.code:<28} {k.severity.value:<8} {k.meaning}")
            typer.echo("")
        typer.echo("engine codes (any check):")
        for k in ENGINE_CODES:
            typer.echo(f"    {k.code:<28} {k.severity.value:<8} {k.meaning}")
        for p in reg.problems:
            typer.echo(f"BROKEN plugin {p.name} ({p.distribution}): {p.reason}", err=True)
    else:
        fail(f"--format: expected table or json, got {fmt!r}")


# Shortcuts named in remediation texts: `csdiag ssvm check` runs one check and shows its findings,
# `csdiag ssvm findings` shows them with all their evidence. (mtu, logs and image have their own groups.)
SHORTCUTS = {
    "ssvm": "Secondary storage VMs: state, agent, mounts.",
    "storage": "Image stores: mounted, writable, capacity.",
    "templates": "Template downloads and copies on the image stores.",
    "platform": "CloudStack version and settings.",
    "optics": "Switch optics and links.",
}


def _shortcut(name: str, help_text: str) -> None:
    sub = group(name, help_text)

    def check(config: ConfigOpt = None, bundle: BundleOpt = None, explain: ExplainOpt = False) -> None:
        _triage(config, [name], [], bundle, None, None, None, explain, [])

    def findings(config: ConfigOpt = None, bundle: BundleOpt = None) -> None:
        _triage(config, [name], [], bundle, None, None, None, True, [])

    check.__doc__ = f"Run the {name} check alone (as `triage --only {name}`); exit by its worst severity."
    findings.__doc__ = f"The {name} check's findings with all their evidence (as `triage --only {name} --explain`)."
    sub.command("check")(check)
    sub.command("findings")(findings)


for _name, _help in SHORTCUTS.items():
    _shortcut(_name, _help)
