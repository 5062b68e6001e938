"""``csdiag api ping``: can csdiag use CloudStack's API with the configured key ([cloudstack.api])?"""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Annotated

import typer

from diagnostics.cli import common
from diagnostics.cli.app import fail, group
from diagnostics.cli.options import EX_UNKNOWN, ConfigOpt

api_app = group("api", "CloudStack's HTTP API as a source ([cloudstack.api]).")


@api_app.command("ping")
def api_ping(
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    timeout_s: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", help="Deadline for all calls.", min=1, max=600)
    ] = 30.0,
) -> None:
    """Check the key (signature v3), read CloudStack's version and which calls csdiag needs the key may make.

    Exit 0 when every call is allowed, 1 when some are not (checks will say UNKNOWN for them), 3 when the
    API cannot be used (wrong key, unreachable, not CloudStack)."""
    from diagnostics.config import ConfigError
    from diagnostics.sources import cloudstack_api
    from diagnostics.sources.errors import SourceError

    cfg = common.settings(config)
    if cfg.cloudstack.api is None:
        fail(f"{cfg.path or 'the configuration'}: cloudstack.api: not configured (endpoint, api_key, secret_key_env)")
    try:
        result = cloudstack_api.ping(cfg.cloudstack.api, time.monotonic() + timeout_s)
    except ConfigError as exc:
        fail(str(exc))
    except SourceError as exc:
        typer.echo(f"csdiag: api: {exc.kind}: {exc}", err=True)
        raise typer.Exit(EX_UNKNOWN) from None
    denied = sorted(c for c, ok in result.allowed.items() if not ok)
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(result), indent=2, sort_keys=True))
    else:
        typer.echo(f"{result.endpoint}: CloudStack {result.version or '(version not given)'}, {result.latency_ms} ms")
        typer.echo(f"page size: {result.page_size}")
        typer.echo("calls csdiag makes: " + ("all allowed" if not denied else f"not allowed: {', '.join(denied)}"))
    raise typer.Exit(1 if denied else 0)
