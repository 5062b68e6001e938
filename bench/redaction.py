"""What structural redaction costs a run: the runner redacts every check's evidence before evaluate.

Builds evidence shaped like the largest a check produces — the logs check's 20 000 candidate lines (each
a dict with the line, its file, line number and timestamp) plus a 1 MiB verbatim file — and times, in the
same run, five rounds each of

- ``json.dumps`` of that evidence (the baseline: what writing it into a bundle costs anyway), and
- ``Redactor(secrets)(data)`` + ``.blob(file)`` with 8 secrets (database, history and e-mail passwords,
  SNMP communities and keys), which is what every live run now adds per check.

    .venv/bin/python bench/redaction.py [LINES]
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from diagnostics.redaction import Redactor  # noqa: E402

SECRETS = ["s3cret-reader-pw", "hist-pw-123", "m@il-pässwörd", "public", "c0mmunity!", "authKey-9f", 'pr"ivKey', "pw"]


def evidence(lines: int) -> tuple[dict[str, object], bytes]:
    text = (
        "2026-11-24 10:{m:02d}:{s:02d},{ms:03d} ERROR [o.a.c.s.i.TemplateServiceImpl] (Work-Job-Executor-{n}:"
        "ctx-{n:08x} job-{n}) (logid:{n:08x}) Failed to download template {n}: "
        "http://mirror.example.org/templates/{n}.qcow2 returned 404"
    )
    rows = [
        {
            "file": "/var/log/cloudstack/management/management-server.log",
            "line": i + 1,
            "at": f"2026-11-24T10:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "text": text.format(m=i // 60 % 60, s=i % 60, ms=i % 1000, n=i),
        }
        for i in range(lines)
    ]
    return {"files": [{"path": "management-server.log", "lines": rows, "complete_to": 123456}]}, os.urandom(1 << 20)


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    data, blob = evidence(lines)
    redactor = Redactor(SECRETS)
    base, ours = [], []
    for _ in range(5):
        t0 = time.perf_counter()
        json.dumps(data)
        base.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        redactor(data)
        redactor.blob(blob)
        ours.append(time.perf_counter() - t0)
    b, o = statistics.median(base), statistics.median(ours)
    print(f"evidence: {lines} log lines ({len(json.dumps(data)) / 2**20:.1f} MiB as JSON) + a 1 MiB file, 8 secrets")
    print(f"baseline json.dumps: median {b * 1000:.0f} ms ({', '.join(f'{t * 1000:.0f}' for t in base)})")
    print(f"redaction:           median {o * 1000:.0f} ms ({', '.join(f'{t * 1000:.0f}' for t in ours)})")
    print(f"ratio redaction / json.dumps: {o / b:.2f}")


if __name__ == "__main__":
    main()
