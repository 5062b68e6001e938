"""`csdiag image lint` (registered on the app of diagnostics.cli): the pre-deployment gate for image
builders — a local image judged against the preparation runbook before it is registered."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer

from diagnostics.cli import OPTS, Format, _emit, app

image_app = typer.Typer(help="Template image files.", no_args_is_help=True, rich_markup_mode=None)
app.add_typer(image_app, name="image")


@image_app.command("lint")
def image_lint(
    files: Annotated[list[Path], typer.Argument(help="Image files (QCOW2 or raw).", dir_okay=False)],
    expect: Annotated[
        str, typer.Option("--expect", help="qcow2: thin QCOW2 expected (raw or fully allocated is flagged); raw.")
    ] = "qcow2",
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Output format.")] = Format.table,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the output to this file.")] = None,
) -> None:
    """Lint images without mounting them; prints the SHA-256 to register a clean one with. Exit codes as
    triage (0 clean, 1 warnings, 2 critical faults, 3 unreadable)."""
    import dataclasses

    from checks import images
    from diagnostics import engine
    from diagnostics.config import ConfigError, parse_settings

    if expect not in ("qcow2", "raw"):
        typer.echo("csdiag: error: --expect: qcow2 or raw", err=True)
        raise typer.Exit(64)
    try:
        settings = parse_settings({"thresholds": {"images": {"expect_format": expect}}})
    except ConfigError as exc:
        typer.echo(f"csdiag: error: {exc}", err=True)
        raise typer.Exit(64) from None
    with _hash_progress(files, enabled=sys.stderr.isatty() and not OPTS.quiet) as progress:
        check = dataclasses.replace(
            images.CHECK, collect=lambda ctx: images.lint_paths([str(f) for f in files], progress)
        )
        run = engine.run_checks(settings, [check])
    _emit(run, fmt, output)
    raise typer.Exit(run.worst.nagios_code)


@contextlib.contextmanager
def _hash_progress(files: list[Path], enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A byte progress bar over the hashing of every file, on stderr when it is a terminal."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    total = sum(f.stat().st_size for f in files if f.is_file())
    with Progress(
        "hashing", BarColumn(), DownloadColumn(), TransferSpeedColumn(), transient=True, console=Console(stderr=True)
    ) as bar:
        task = bar.add_task("sha256", total=total)
        yield lambda n: bar.advance(task, n)
