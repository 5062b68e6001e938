"""What the commands share: loading the settings, running the engine with a progress bar, and writing
the outputs (the renderers get a ranked run: diagnostics.ranking decides the order, not them)."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from diagnostics.cli.app import OPTS, fail
from diagnostics.cli.options import EX_USAGE, Format

if TYPE_CHECKING:
    from diagnostics.check import Check
    from diagnostics.config import Settings
    from diagnostics.model import Run
    from diagnostics.registry import Registry

log = logging.getLogger(__name__)

FIRST_RUN_HINT = "no config file; to start: csdiag config example > csdiag.toml"


def settings(path: Path | None, code: int = EX_USAGE, source: str | None = None) -> Settings:
    """The settings from ``path`` (or the default places); errors exit with ``code``. From here on, log
    records and an internal error's message are redacted of the secrets these settings name.

    ``source`` (``--source``) replaces ``[cloudstack] source``; asking for a source the configuration
    does not describe is a usage error, not a run full of NOT_CONFIGURED findings."""
    from diagnostics.config import ConfigError, load_settings
    from diagnostics.redaction import install_log_filter

    try:
        loaded = load_settings(path)
    except ConfigError as exc:
        fail(str(exc), code)
    if source is not None:
        cs = loaded.cloudstack
        section = {"db": ("database", cs.database), "api": ("api", cs.api)}.get(source)
        if section is not None and section[1] is None:
            where = loaded.path or "the configuration (no config file found)"
            fail(f"--source {source}: {where} has no [cloudstack.{section[0]}] section", code)
        loaded = loaded.model_copy(update={"cloudstack": cs.model_copy(update={"source": source})})
    OPTS.redact = install_log_filter(loaded).redactor.text
    log.debug("configuration: %s", loaded.path or "none found, built-in defaults")
    return loaded


def first_run_hint(cfg: Settings) -> None:
    """Without any config file, say how to start (the defaults ran what needs no configuration)."""
    if cfg.path is None and not OPTS.quiet:
        typer.echo(f"csdiag: {FIRST_RUN_HINT}", err=True)


def registry() -> Registry:
    from diagnostics.registry import Registry

    return Registry.from_entry_points()


class _RichProgress:
    """A progress bar on stderr, only when stderr is a terminal: checks finished out of checks started."""

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
        self._seen: set[str] = set()

    def __enter__(self) -> _RichProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def started(self, name: str) -> None:
        self._running.add(name)
        self._seen.add(name)
        total = max(len(self._seen), int(self._progress.tasks[0].total or 0))
        self._progress.update(self._task, total=total, description="running " + ", ".join(sorted(self._running)))

    def finished(self, name: str, status: Any) -> None:
        self._running.discard(name)
        self._progress.update(self._task, advance=1, description="running " + ", ".join(sorted(self._running)))


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def progress(total: int) -> _RichProgress | None:
    return _RichProgress(total) if sys.stderr.isatty() and not OPTS.quiet else None


def run_selected(cfg: Settings, only: list[str], skip: list[str], bundle: Path | None, code: int = EX_USAGE) -> Run:
    """Collect and evaluate live, or evaluate a bundle; configuration and bundle errors exit with ``code``."""
    from diagnostics import engine
    from diagnostics.bundle import BundleError
    from diagnostics.config import ConfigError

    reg = registry()
    try:
        if bundle is not None:
            from diagnostics import bundle as bundle_mod

            b = bundle_mod.read(bundle)
            names = [n for n in b.checks if (not only or n in only) and n not in skip]
            log.debug("replaying %s: checks %s", bundle, ", ".join(sorted(names)))
            bar = progress(len(names))
            with bar or _Null():
                return stamp(cfg, engine.replay(bundle, cfg, reg, only, skip, progress=bar))
        checks = reg.select(only, skip)
        engine.resolve_params(cfg, checks)
        cfg.verify_secrets()
        log.debug("running live: checks %s", ", ".join(c.name for c in checks))
        bar = progress(len(checks))
        with bar or _Null():
            run, _ = engine.collect_and_evaluate(cfg, reg, only, skip, progress=bar)
        return stamp(cfg, run)
    except (ConfigError, BundleError) as exc:
        fail(str(exc), code)


def stamp(cfg: Settings, run: Run) -> Run:
    """``run`` with its scope's identity (diagnostics.scope): the runner (``[run] runner``, default the host
    name) and host unless it carries them (a replayed bundle keeps its own), and the digest of what its
    checks were configured to look at."""
    import dataclasses
    import socket

    from diagnostics import scope

    digest = scope.targets_digest(cfg.model_dump(mode="json"))
    return dataclasses.replace(
        run,
        runner=run.runner or cfg.run.runner or scope.default_runner(),
        host=run.host or socket.gethostname(),
        config={**run.config, scope.DIGEST_KEY: run.config.get(scope.DIGEST_KEY) or digest},
    )


def run_one(cfg: Settings, checks: Sequence[Check[Any]]) -> Run:
    """Run checks that are not (only) the registered ones (``logs scan``, ``image lint`` …)."""
    from diagnostics import engine

    bar = progress(len(checks))
    with bar or _Null():
        return engine.run_checks(cfg, checks, progress=bar)


def with_timeout(data: dict[str, Any], timeout_s: float | None) -> dict[str, Any]:
    """``data`` for parse_settings with ``[run] check_timeout_s`` from a ``--timeout`` option."""
    return data if timeout_s is None else {**data, "run": {"check_timeout_s": timeout_s}}


def check_output_path(path: Path, *, folder: bool) -> None:
    """``--output`` must point into a folder that exists: a typo must not silently create a tree."""
    parent = path if folder and path.is_dir() else path.parent
    if folder and path.exists() and not path.is_dir():
        fail(f"--output: {path} is not a folder")
    if not parent.is_dir():
        fail(f"--output: {parent} does not exist (create it first)")


def render(run: Run, fmt: Format, *, explain: bool = False, pick: Sequence[str] = ()) -> str:
    from diagnostics.ranking import rank

    ranked = rank(run)
    if fmt is Format.json:
        from reports import jsondoc

        return jsondoc.render(ranked)
    if fmt is Format.csv:
        from reports import csvfile

        return csvfile.render(ranked)
    if fmt is Format.html:
        from reports import html

        return html.render(ranked)
    if fmt is Format.nagios:
        from reports import nagios

        return nagios.render(ranked)
    if fmt is Format.prom:
        from reports import prom

        return prom.render(ranked)
    from reports import table

    buf = io.StringIO()
    table.render(ranked, buf, color=False, quiet=OPTS.quiet, explain=explain, pick=pick)
    return buf.getvalue()


def write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"{path}: cannot write: {exc.strerror or exc}")


def emit(
    run: Run,
    fmt: Format | None,
    output: Path | None,
    *,
    explain: bool = False,
    pick: Sequence[str] = (),
) -> None:
    """Without --format, --output is a folder that gets findings.json, findings.csv and report.html,
    and the terminal view goes to stdout; with --format, that one format goes to --output or stdout."""
    if output is not None:
        check_output_path(output, folder=fmt is None)
    if fmt is None or (fmt is Format.table and output is None):
        if output is not None:
            output.mkdir(exist_ok=True)
            for name, f in (("findings.json", Format.json), ("findings.csv", Format.csv), ("report.html", Format.html)):
                write(output / name, render(run, f))
            typer.echo(f"reports written to {output}/ (findings.json, findings.csv, report.html)", err=True)
        from diagnostics.ranking import rank
        from reports import table

        table.render(rank(run), sys.stdout, color=OPTS.color, quiet=OPTS.quiet, explain=explain, pick=pick)
        return
    if fmt is Format.prom and output is not None:
        from diagnostics.ranking import rank
        from reports import prom

        try:
            prom.write(rank(run), output)  # atomically, for node_exporter's textfile collector
        except OSError as exc:
            fail(f"{output}: cannot write: {exc.strerror or exc}")
        return
    text = render(run, fmt, explain=explain, pick=pick)
    if output is None:
        sys.stdout.write(text)
    else:
        write(output, text)
