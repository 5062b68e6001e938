"""``csdiag mtu probe`` (ad hoc, no configuration) and ``csdiag mtu check`` (the configured check)."""

from __future__ import annotations

from typing import Annotated

import typer

from diagnostics.cli import common
from diagnostics.cli.app import fail, group
from diagnostics.cli.options import BundleOpt, ConfigOpt, ExplainOpt, Format, FormatOpt

mtu_app = group("mtu", "Path-MTU (jumbo frame) probes.")


@mtu_app.command("probe")
def mtu_probe(
    hosts: Annotated[list[str], typer.Argument(help="Hosts or addresses to probe from here.", metavar="HOST")],
    mtu: Annotated[
        int,
        typer.Option(
            "--mtu", metavar="BYTES", help="Packet size that must pass (IP header included).", min=576, max=65535
        ),
    ] = 9000,
    kind: Annotated[str, typer.Option("--kind", metavar="auto|icmp|udp", help="auto, icmp or udp.")] = "auto",
    timeout_s: Annotated[float, typer.Option("--timeout", metavar="SECONDS", help="Seconds to wait per probe.")] = 1.0,
    fmt: FormatOpt = Format.table,
) -> None:
    """Path-MTU probe from this machine (DF set, kernel PMTU cache ignored); exit by the worst severity."""
    from checks import mtu as mtu_check
    from diagnostics.config import ConfigError, parse_settings

    try:
        cfg = parse_settings(
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
    run = common.run_one(cfg, [mtu_check.CHECK])
    common.emit(run, fmt, None)
    raise typer.Exit(run.worst.nagios_code)


@mtu_app.command("check")
def mtu_check_cmd(config: ConfigOpt = None, bundle: BundleOpt = None, explain: ExplainOpt = False) -> None:
    """Run the configured mtu check alone (as `triage --only mtu`); exit by its worst severity."""
    from diagnostics.cli.triage import _triage

    _triage(config, ["mtu"], [], bundle, None, None, None, explain, [])
