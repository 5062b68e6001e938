"""Prometheus textfile-collector output (node_exporter conventions) through ``prometheus_client``.

Gauges for this run, base units, no timestamps: ``csdiag_check_status{check,target}`` (0 OK, 1 WARN,
2 CRIT, 3 UNKNOWN — worst finding per check and target), ``csdiag_finding{check,code,severity,target}``
(1 per finding), every measured metric as ``csdiag_<check>_<metric>_<base unit>{target}`` (bytes,
seconds, ratio, dbm, …) and ``csdiag_last_run_timestamp_seconds``. ``write`` replaces the file atomically.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from diagnostics.model import Run, Severity

# unit → (metric name suffix, factor to the base unit)
_UNITS = {
    "B": ("bytes", 1.0),
    "s": ("seconds", 1.0),
    "ms": ("seconds", 1e-3),
    "min": ("seconds", 60.0),
    "%": ("ratio", 0.01),
    "dBm": ("dbm", 1.0),
    "C": ("celsius", 1.0),
    "mA": ("amperes", 1e-3),
    "count": ("", 1.0),
    "": ("", 1.0),
}


def _name(*parts: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", "_".join(p for p in parts if p))


def registry_for(run: Run) -> Any:
    from prometheus_client import CollectorRegistry, Gauge

    reg = CollectorRegistry()
    status = Gauge(
        "csdiag_check_status",
        "Worst state per check and target: 0 OK, 1 WARN, 2 CRIT, 3 UNKNOWN",
        ["check", "target"],
        registry=reg,
    )
    finding = Gauge(
        "csdiag_finding", "1 for each finding of this run", ["check", "code", "severity", "target"], registry=reg
    )
    worst: dict[tuple[str, str], Severity] = {}
    gauges: dict[str, Any] = {}
    for f in run.findings:
        key = (f.check, f.target)
        worst[key] = Severity.worst([worst.get(key, Severity.OK), f.severity])
        finding.labels(f.check, f.code, f.severity.value, f.target).set(1)
        for m in f.metrics:
            if m.value is None:
                continue
            suffix, factor = _UNITS.get(m.unit, (_name(m.unit.lower()), 1.0))
            name = _name("csdiag", f.check, m.name, suffix)
            if name not in gauges:
                gauges[name] = Gauge(
                    name, f"{f.check} {m.name} ({m.unit or 'no unit'}), per target", ["target"], registry=reg
                )
            gauges[name].labels(f.target).set(m.value * factor)
    for (check, target), sev in worst.items():
        status.labels(check, target).set(sev.nagios_code)
    Gauge("csdiag_last_run_timestamp_seconds", "When this run finished (Unix time)", registry=reg).set(
        run.finished.timestamp()
    )
    return reg


def render(run: Run) -> str:
    from prometheus_client import generate_latest

    return str(generate_latest(registry_for(run)).decode())


def write(run: Run, path: Path) -> None:
    """Atomically (temporary file + rename), as the textfile collector needs."""
    from prometheus_client import write_to_textfile

    path.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(path), registry_for(run))
