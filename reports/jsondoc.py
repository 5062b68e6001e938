"""JSON output: the ``csdiag.run/1`` document (design.md)."""

from __future__ import annotations

import json

from diagnostics.model import Run


def render(run: Run) -> str:
    return json.dumps(run.to_dict(), indent=2, ensure_ascii=False) + "\n"
