"""JSON output: the ``csdiag.run/1`` document (design.md), findings in rank order, each with its ``rank``
(1 = look at this first; diagnostics.ranking)."""

from __future__ import annotations

import json

from diagnostics.model import Run
from diagnostics.ranking import Ranked, rank


def render(run: Run | Ranked) -> str:
    ranked = rank(run)
    doc = ranked.run.to_dict()
    doc["findings"] = [
        {**f.to_dict(), "rank": ranked.rank(f), "runner": f.subjects.get("runner") or ranked.run.runner}
        for f in ranked.findings
    ]
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
