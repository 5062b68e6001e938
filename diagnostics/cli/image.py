"""``csdiag image lint``: the pre-deployment gate for image builders — a local image judged against the
preparation runbook before it is registered."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

import typer

from diagnostics.cli import common
from diagnostics.cli.app import OPTS, fail, group
from diagnostics.cli.options import Format, FormatOpt, OutputFileOpt, TimeoutOpt

image_app = group("image", "Template image files.")


@image_app.command("lint")
def image_lint(
    files: Annotated[list[Path], typer.Argument(help="Image files (QCOW2 or raw).", metavar="FILE")],
    expect: Annotated[
        str,
        typer.Option(
            "--expect",
            metavar="qcow2|raw",
            help="qcow2: thin QCOW2 expected (raw or fully allocated is flagged); raw.",
        ),
    ] = "qcow2",
    fmt: FormatOpt = Format.table,
    output: OutputFileOpt = None,
    timeout_s: TimeoutOpt = None,
) -> None:
    """Lint images without mounting them; prints the SHA-256 to register a clean one with. Exit codes as
    triage (0 clean, 1 warnings, 2 critical faults, 3 unreadable); 64 for a file that does not exist."""
    import dataclasses

    from checks import image_hygiene, images
    from diagnostics import engine
    from diagnostics.config import ConfigError, parse_settings

    if expect not in ("qcow2", "raw"):
        fail("--expect: qcow2 or raw")
    for f in files:
        if not f.exists():
            fail(f"{f}: no such file")
        if f.is_dir():
            fail(f"{f}: is a folder, not an image file")
    if output is not None:
        common.check_output_path(output, folder=False)
    try:
        cfg = parse_settings(common.with_timeout({"thresholds": {"images": {"expect_format": expect}}}, timeout_s))
    except ConfigError as exc:
        fail(str(exc))
    with _hash_progress(files, enabled=sys.stderr.isatty() and not OPTS.quiet) as bar:
        check = dataclasses.replace(
            images.CHECK, collect=lambda ctx: image_hygiene.lint_paths([str(f) for f in files], bar, ctx.deadline)
        )
        run = engine.run_checks(cfg, [check])  # the byte bar above is the progress here
    common.emit(run, fmt, output)
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
