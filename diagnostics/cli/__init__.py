"""The ``csdiag`` command line: its own layer over the engine (diagnostics.engine, diagnostics.ranking)
and the renderers (reports/). Nothing outside this package imports it; the modules below register their
commands on :data:`diagnostics.cli.app.app` when imported."""

from __future__ import annotations

from diagnostics.cli import config, gate, image, logs, mtu, reach, report, triage  # noqa: F401  (registration)
from diagnostics.cli.app import app, main

__all__ = ["app", "main"]
