"""``csdiag config validate`` and ``csdiag config example``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from diagnostics.cli import common
from diagnostics.cli.app import fail, group
from diagnostics.cli.options import EX_USAGE

if TYPE_CHECKING:
    from pydantic import ValidationError

config_app = group("config", "Check or print the configuration.")


def _all_errors(exc: ValidationError, file: Path, prefix: tuple[str | int, ...] = ()) -> list[str]:
    from diagnostics.config import ConfigError, key_path

    out = []
    for err in exc.errors():
        loc = [p for p in (*prefix, *err["loc"]) if not (isinstance(p, str) and p.startswith("function-"))]
        msg = "unknown key" if err["type"] == "extra_forbidden" else str(err["msg"]).removeprefix("Value error, ")
        out.append(str(ConfigError(msg, file=file, key=key_path(loc) or None)))
    return out


def problems(path: Path) -> list[str]:
    """Every problem of the config file at ``path``, one line each (empty: it is valid)."""
    import tomllib

    from pydantic import ValidationError

    from diagnostics.config import ConfigError, Settings, load_settings

    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [str(ConfigError("no such file", file=path))]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return [str(ConfigError(f"cannot read: {exc}", file=path))]
    try:
        Settings.model_validate(data, context={"file_private": True})
    except ValidationError as exc:
        return _all_errors(exc, path)  # the settings do not load: their checks below cannot run
    try:
        settings = load_settings(path)
    except ConfigError as exc:
        return [str(exc)]
    found: list[str] = []
    reg = common.registry()
    for name, section in settings.thresholds.items():
        if name not in reg:
            known = ", ".join(reg.names())
            found.append(
                str(
                    ConfigError(
                        f"no check named {name!r} is installed (known: {known})", file=path, key=f"thresholds.{name}"
                    )
                )
            )
            continue
        try:
            reg.get(name).params.model_validate(section)
        except ValidationError as exc:
            found += _all_errors(exc, path, ("thresholds", name))
    for check in reg:
        if check.name not in settings.thresholds:
            try:
                check.params.model_validate({})
            except ValidationError as exc:
                found += _all_errors(exc, path, ("thresholds", check.name))
    for secret in settings.secrets():
        try:
            secret.reveal()
        except ConfigError as exc:
            found.append(str(ConfigError(exc.message, file=path, key=exc.key)))
    return found


@config_app.command("validate")
def config_validate(
    path: Annotated[Path, typer.Argument(help="Config file to check.", dir_okay=False, metavar="FILE")],
) -> None:
    """Check a config file: syntax, keys, types, check parameters and that its secrets can be read.
    Every problem is listed, one line each; exit 64 if there is any."""
    found = problems(path)
    if len(found) == 1:
        fail(found[0])
    for p in found:
        typer.echo(f"csdiag: error: {p}", err=True)
    if found:
        raise typer.Exit(EX_USAGE)
    typer.echo(f"{path}: OK")


@config_app.command("example")
def config_example() -> None:
    """Print the documented example configuration."""
    from diagnostics.config import example_text

    sys.stdout.write(example_text())
