"""The ``csdiag`` typer application, its global options, and ``main`` with the exit-code contract.

Exit codes: a command's own (triage: 0 OK/INFO, 1 WARN, 2 CRIT, 3 UNKNOWN; gate: 0/1/2); 64 (EX_USAGE)
for usage and configuration errors with one line naming the file, key and problem; 3 (UNKNOWN) for any
unexpected failure of csdiag itself — one line on stderr naming what failed, the traceback only with
``--verbose``. Heavy libraries are imported inside the commands so that ``csdiag --help`` answers fast.
"""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable
from typing import Annotated, NoReturn

import typer

from diagnostics.cli.options import EX_GATE_USAGE, EX_UNKNOWN, EX_USAGE


def _words_not_types() -> None:
    """typer prints each argument's Python type beside its name in --help (``FILE <list[Path]>``); the
    help says what an argument is in words (its metavar and text), so the type column is left out."""
    from typer import core

    argument = getattr(core, "TyperArgument", None)
    if argument is not None and hasattr(argument, "display_type_rich"):
        argument.display_type_rich = lambda self, ctx: None


_words_not_types()

app = typer.Typer(
    name="csdiag",
    help="Diagnostics and health checks for Apache CloudStack template management.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rendering it with rich costs ~130 ms of imports on every --help
)


def group(name: str, help_text: str) -> typer.Typer:
    """A sub-command group registered on ``app``."""
    sub = typer.Typer(help=help_text, no_args_is_help=True, rich_markup_mode=None)
    app.add_typer(sub, name=name)
    return sub


class _Opts:
    verbose = False
    quiet = False
    color = True
    # Replaces the configured secrets in a text (set once the settings are loaded, diagnostics.redaction):
    # the one-line internal error and the --verbose traceback go through it.
    redact: Callable[[str], str] = staticmethod(lambda text: text)


OPTS = _Opts()


def fail(message: str, code: int = EX_USAGE) -> NoReturn:
    """One line on stderr, then exit with ``code``."""
    typer.echo(f"csdiag: error: {message}", err=True)
    raise typer.Exit(code)


def _print_version(value: bool) -> None:
    if value:
        from diagnostics import __version__

        typer.echo(f"csdiag {__version__}")
        raise typer.Exit(0)


@app.callback()
def _global(
    verbose: Annotated[
        bool, typer.Option("--verbose", help="Log csdiag's own debug messages (and tracebacks) to stderr.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only the verdict line.")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colours in terminal output.")] = False,
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", is_eager=True, callback=_print_version)
    ] = False,
) -> None:
    OPTS.verbose, OPTS.quiet, OPTS.color = verbose, quiet, not no_color and sys.stdout.isatty()
    configure_logging(verbose)


def configure_logging(verbose: bool) -> None:
    """csdiag's own loggers at DEBUG with --verbose; libraries stay at WARNING (matplotlib's font scoring,
    paramiko's and pysnmp's connection chatter are not what a user asked to see)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("csdiag: %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    for ours in ("diagnostics", "checks", "reports"):
        logging.getLogger(ours).setLevel(logging.DEBUG if verbose else logging.WARNING)
    for noisy in ("paramiko", "pysnmp", "asyncio", "matplotlib", "PIL", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.CRITICAL)


def _is_usage_error(exc: BaseException) -> bool:
    # typer ≥ 0.29 vendors click privately; its usage errors are ClickExceptions with show().
    return any(cls.__name__ == "ClickException" for cls in type(exc).__mro__) and hasattr(exc, "show")


def _what_failed(exc: BaseException) -> str:
    tb = traceback.extract_tb(exc.__traceback__)
    ours = [
        fr for fr in tb if "/diagnostics/" in fr.filename or "/checks/" in fr.filename or "/reports/" in fr.filename
    ]
    where = ours[-1] if ours else (tb[-1] if tb else None)
    place = (
        f" in {where.name} ({where.filename.rsplit('/', 2)[-2]}/{where.filename.rsplit('/', 1)[-1]}:{where.lineno})"
        if where
        else ""
    )
    return f"{type(exc).__name__}{place}: {exc}"


def main() -> None:
    """The console-script entry point."""
    argv = sys.argv[1:]
    command = next((a for a in argv if not a.startswith("-")), "")
    try:
        rv = app(standalone_mode=False)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        if _is_usage_error(exc):
            exc.show()  # type: ignore[attr-defined]  # click's ClickException API, see above
            sys.exit(EX_GATE_USAGE if command == "gate" else EX_USAGE)
        if "--verbose" in argv:
            text = "".join(traceback.format_exception(exc))
            typer.echo(OPTS.redact(text.rstrip()), err=True)
        hint = "" if "--verbose" in argv else " (csdiag --verbose … shows the traceback)"
        what = OPTS.redact(_what_failed(exc))
        typer.echo(f"csdiag: internal error in {command or 'csdiag'}: {what}{hint}", err=True)
        sys.exit(EX_UNKNOWN)
    sys.exit(rv if isinstance(rv, int) else 0)
