"""``csdiag logs scan``: CloudStack log files analysed offline, no configuration needed."""

from __future__ import annotations

from typing import Annotated

import typer

from diagnostics.cli import common
from diagnostics.cli.app import fail, group
from diagnostics.cli.options import ExplainOpt, FindingOpt, Format, FormatOpt, OutputFileOpt, TimeoutOpt

logs_app = group("logs", "Analyse CloudStack log files offline.")


@logs_app.command("scan")
def logs_scan(
    paths: Annotated[
        list[str], typer.Argument(help="Log files, folders (recursive) or globs; .gz is read as is.", metavar="PATH")
    ],
    since: Annotated[
        str, typer.Option("--since", metavar="WINDOW", help="Time window: 30m, 24h, 7d, or an ISO date.")
    ] = "24h",
    timezone: Annotated[
        str,
        typer.Option(
            "--timezone", metavar="ZONE", help="Zone of management/agent log times (the SSVM's cloud.log is UTC)."
        ),
    ] = "UTC",
    fmt: FormatOpt = Format.table,
    output: OutputFileOpt = None,
    timeout_s: TimeoutOpt = None,
    explain: ExplainOpt = False,
    finding: FindingOpt = None,
) -> None:
    """Scan log files with no configuration: findings ranked, exit by the worst severity."""
    import dataclasses

    from checks import logs, logs_scan
    from diagnostics.config import ConfigError, parse_settings

    try:
        cfg = parse_settings(common.with_timeout({"logs": {"since": since, "timezone": timezone}}, timeout_s))
    except ConfigError as exc:
        fail(f"{exc.key.replace('logs.', '--') if exc.key else ''}: {exc.message}")
    if output is not None:
        common.check_output_path(output, folder=False)
    check = dataclasses.replace(logs.CHECK, collect=lambda ctx: logs_scan.scan_paths(paths, since, timezone))
    run = common.run_one(cfg, [check])
    common.emit(run, fmt, output, explain=explain or bool(finding), pick=finding or [])
    raise typer.Exit(run.worst.nagios_code)
