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
    values: list[tuple[str, str]] = []
    for secret in settings.secrets():
        try:
            values.append((secret.key, secret.reveal()))
        except ConfigError as exc:
            found.append(str(ConfigError(exc.message, file=path, key=exc.key)))
    return found + [str(ConfigError(m, file=path, key=k)) for k, m in _secrets_in_names(data, values)]


# Keys whose values are secrets or say where one is: a secret naturally occurs there.
_SECRET_KEYS = ("password", "community", "secret_key", "auth_key", "priv_key", "passphrase")


def _secrets_in_names(
    data: Any, secrets: list[tuple[str, str]], at: tuple[str | int, ...] = ()
) -> list[tuple[str, str]]:
    """A secret's value inside another value of the config (a switch name, a link's end, a host): every
    secret is masked wherever it occurs in evidence, so that name would be read as ``***`` — a switch
    named ``public-core`` with the community ``public`` loses its LLDP and [[links]] pairing."""
    from diagnostics.config import key_path

    out: list[tuple[str, str]] = []
    if isinstance(data, dict):
        for k, v in data.items():
            if not any(str(k).startswith(s) for s in _SECRET_KEYS):
                out += _secrets_in_names(v, secrets, (*at, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _secrets_in_names(v, secrets, (*at, i))
    elif isinstance(data, str):
        for key, value in secrets:
            if value and value in data:
                where = key_path(list(at))
                out.append(
                    (
                        key,
                        f"the secret's value occurs in {where}: csdiag masks secrets wherever they occur, so that "
                        "value would read as *** in evidence (names no longer match); choose a longer secret",
                    )
                )
    return out


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
