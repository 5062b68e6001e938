"""``csdiag reach``: can this host (or an SSVM) fetch these template URLs, and how fast?"""

from __future__ import annotations

from typing import Annotated

import typer

from diagnostics.cli import common
from diagnostics.cli.app import app
from diagnostics.cli.options import ConfigOpt, Format, FormatOpt


@app.command()
def reach(
    urls: Annotated[list[str], typer.Argument(help="Template URLs to test.", metavar="URL")],
    from_host: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="HOST",
            help="Probe from this host over SSH (an SSVM: host or host:port, [ssh] defaults); default: from here.",
        ),
    ] = None,
    config: ConfigOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Can this host (or an SSVM) fetch these template URLs, and how fast? Exit by the worst severity."""
    from checks import reach as reach_check

    cfg = common.settings(config)
    probe = cfg.reach.model_copy(
        update={
            "urls": urls,
            "sample": 0,
            "ssvm_from_inventory": False,
            "from_hosts": [from_host] if from_host else [],
            "local": from_host is None,
        }
    )
    # only these URLs, from here or --from: neither the database's URLs nor runDiagnostics jobs on every SSVM
    cloudstack = cfg.cloudstack.model_copy(update={"database": None, "api": None})
    quick = cfg.model_copy(update={"reach": probe, "cloudstack": cloudstack})
    run = common.run_one(quick, [reach_check.CHECK])
    common.emit(run, fmt, None)
    raise typer.Exit(run.worst.nagios_code)
