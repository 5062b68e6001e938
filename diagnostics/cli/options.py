"""Option types, formats and exit codes shared by every command (one place, so that help texts and
metavars stay the same everywhere)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

EX_USAGE = 64  # usage and configuration errors (sysexits EX_USAGE)
EX_GATE_USAGE = 2  # gate's contract: 0 pass, 1 fail, 2 usage or configuration error
EX_UNKNOWN = 3  # an unexpected failure of csdiag itself: UNKNOWN to Nagios and cron


class Source(StrEnum):
    db = "db"
    api = "api"
    auto = "auto"


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    html = "html"
    nagios = "nagios"
    prom = "prom"


ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        help="Config file (default ./csdiag.toml, then ~/.config/csdiag/config.toml).",
        dir_okay=False,
        metavar="FILE",
    ),
]
JunitOpt = Annotated[
    Path | None, typer.Option("--junit", help="Also write JUnit XML to this file.", dir_okay=False, metavar="FILE")
]
OnlyOpt = Annotated[
    str | None, typer.Option("--only", help="Run only these checks (comma-separated names).", metavar="CHECKS")
]
SkipOpt = Annotated[
    str | None, typer.Option("--skip", help="Skip these checks (comma-separated names).", metavar="CHECKS")
]
BundleOpt = Annotated[
    Path | None,
    typer.Option(
        "--bundle", help="Evaluate a bundle (.tar.gz or folder) instead of collecting live.", metavar="BUNDLE"
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.", metavar="FORMAT")]
OutputFileOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the output to this file.", metavar="FILE")
]
ExplainOpt = Annotated[
    bool,
    typer.Option("--explain", "-v", help="Show every finding with its evidence and full remediation."),
]
FindingOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--finding",
        help="Explain only these findings: a number from the default view, a code or a check (repeat the option).",
        metavar="N|CODE|CHECK",
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout", help="Seconds the check may take (default: [run] check_timeout_s, 60).", min=1, metavar="SECONDS"
    ),
]
SourceOpt = Annotated[
    Source | None,
    typer.Option(
        "--source",
        help="Where CloudStack's facts come from: db ([cloudstack.database]), api ([cloudstack.api]), auto "
        "(the database when configured, else the API). Default: [cloudstack] source.",
        metavar="db|api|auto",
    ),
]
