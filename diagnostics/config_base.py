"""What every settings model shares: the error type, the lazily read :class:`Secret`, the strict model
base, and the rules for a secret's three sources (``<name>``, ``<name>_env``, ``<name>_file``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationInfo


class ConfigError(Exception):
    """A configuration problem; ``str()`` is one line: ``FILE: KEY: problem``."""

    def __init__(self, message: str, *, file: Path | str | None = None, key: str | None = None) -> None:
        self.file = str(file) if file is not None else None
        self.key = key
        self.message = message
        super().__init__(": ".join(p for p in (self.file, key, message) if p))


class Secret:
    """A reference to a credential. ``reveal()`` reads it; nothing else ever shows it.

    It cannot be serialised: pickling, copying into a dict (``vars``) or JSON-encoding it raises
    ``TypeError``, and ``repr``/``str`` show only where it comes from. Evidence redaction
    (:mod:`diagnostics.redaction`) turns one found in evidence into the marker.
    """

    __slots__ = ("_literal", "env", "file", "key")

    def __init__(self, key: str, env: str | None = None, file: Path | None = None, _literal: str | None = None) -> None:
        object.__setattr__(self, "key", key)  # config key path, for error messages
        object.__setattr__(self, "env", env)
        object.__setattr__(self, "file", file)
        object.__setattr__(self, "_literal", _literal)

    key: str
    env: str | None
    file: Path | None
    _literal: str | None

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Secret is immutable")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return (self.key, self.env, self.file, self._literal) == (other.key, other.env, other.file, other._literal)

    def __hash__(self) -> int:
        return hash((self.key, self.env, self.file))

    def __reduce_ex__(self, protocol: object) -> Any:
        raise TypeError(f"{self} cannot be serialised")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: object) -> Secret:
        return self

    @property
    def origin(self) -> str:
        """Where the secret comes from, safe to print (``env:NAME``, ``file:PATH`` or ``literal``)."""
        if self.env:
            return f"env:{self.env}"
        if self.file:
            return f"file:{self.file}"
        return "literal"

    def reveal(self) -> str:
        if self.env:
            value = os.environ.get(self.env)
            if value is None:
                raise ConfigError(f"environment variable {self.env} is not set", key=f"{self.key}_env")
            return value
        if self.file:
            try:
                return self.file.expanduser().read_text(encoding="utf-8").rstrip("\r\n")
            except OSError as exc:
                raise ConfigError(
                    f"cannot read secret file {self.file}: {exc.strerror or exc}", key=f"{self.key}_file"
                ) from None
        assert self._literal is not None
        return self._literal

    def __str__(self) -> str:
        return f"<secret {self.origin}>"

    def __repr__(self) -> str:
        return f"Secret(key={self.key!r}, origin={self.origin!r})"


class StrictModel(BaseModel):
    """Unknown keys are refused; values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def one_source(model: BaseModel, name: str) -> None:
    """At most one of ``name`` / ``name_env`` / ``name_file``."""
    given = [k for k in (name, f"{name}_env", f"{name}_file") if getattr(model, k) is not None]
    if len(given) > 1:
        raise ValueError(f"give only one of {', '.join(given)}")


def private_literal(value: str | None, info: ValidationInfo) -> str | None:
    """A literal secret only from a file nobody else can read (the loader tells, via the context)."""
    if value is not None and not (info.context or {}).get("file_private", False):
        raise ValueError(
            f"a literal {info.field_name} is refused because the config file can be read by others; "
            f"use {info.field_name}_env or {info.field_name}_file, or make the file private (chmod 600)"
        )
    return value


def secret_of(model: BaseModel, name: str, key: str) -> Secret | None:
    literal, env, file = (getattr(model, k) for k in (name, f"{name}_env", f"{name}_file"))
    if literal is None and env is None and file is None:
        return None
    return Secret(key=key, env=env, file=Path(file) if file else None, _literal=literal)
