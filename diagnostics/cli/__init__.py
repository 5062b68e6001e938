"""The ``csdiag`` command line: its own layer over the engine (diagnostics.engine, diagnostics.ranking)
and the renderers (reports/). Nothing outside this package imports it; the modules below register their
commands on :data:`diagnostics.cli.app.app` when imported."""

from __future__ import annotations

from diagnostics.cli import api, config, gate, image, logs, mtu, reach, report, triage  # noqa: F401  (registration)
from diagnostics.cli.app import app, main

__all__ = ["app", "main"]

# --help lists the commands in the order a user needs them, not in the order their modules were imported.
_ORDER = ("triage", "gate", "report", "history", "collect", "checks", "reach")


def _name(info: object) -> str:
    name = getattr(info, "name", None)
    callback = getattr(info, "callback", None)
    return str(name or getattr(callback, "__name__", ""))


app.registered_commands.sort(key=lambda c: _ORDER.index(_name(c)) if _name(c) in _ORDER else len(_ORDER))
