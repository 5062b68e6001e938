"""Prometheus textfile-collector output (node_exporter conventions) through ``prometheus_client``.

Gauges for this run, base units, no timestamps: ``csdiag_check_status{check,target}`` (0 OK, 1 WARN,
2 CRIT, 3 UNKNOWN — worst finding per check and target), ``csdiag_finding{check,code,severity,target}``
(1 per finding), every measured metric as ``csdiag_<check>_<metric>_<base unit>{code,target}`` (bytes,
seconds, ratio, dbm, celsius, decibels …: a unit already in the metric's name is not doubled; several
findings sharing a metric differ by ``code``) and ``csdiag_last_run_timestamp_seconds``. For a fleet
(one Prometheus over many runners): ``csdiag_run_info{runner,host}`` (1), ``csdiag_runner_last_run_timestamp_seconds
{runner}`` and the run's scope, ``csdiag_check_covered{check,runner}`` (1 the check completed, 0 it failed
or timed out: it covered nothing) — join them on ``instance`` for a runner label on the other series
(contrib/prometheus/csdiag-fleet.yml). ``write`` replaces the file atomically.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from diagnostics.model import CheckStatus, Run, Severity
from diagnostics.ranking import Ranked, rank

# unit → (metric name suffix, factor to the base unit)
_UNITS = {
    "B": ("bytes", 1.0),
    "s": ("seconds", 1.0),
    "ms": ("seconds", 1e-3),
    "us": ("seconds", 1e-6),
    "min": ("seconds", 60.0),
    "ticks": ("seconds", 0.01),  # SNMP TimeTicks: hundredths of a second
    "%": ("ratio", 0.01),
    "MiB/s": ("bytes_per_second", 1024.0 * 1024.0),
    "dB": ("decibels", 1.0),
    "dBm": ("dbm", 1.0),
    "C": ("celsius", 1.0),
    "°C": ("celsius", 1.0),
    "mA": ("amperes", 1e-3),
    "mW": ("watts", 1e-3),
    "count": ("", 1.0),
    "": ("", 1.0),
}
# Unit words a check may already have put at the end of a metric name: dropped before the base unit is
# added, so that ``rtt_ms`` in ms becomes ``rtt_seconds`` (not ``rtt_ms_seconds``).
_UNIT_WORDS = ("_mib_per_s", "_bytes", "_seconds", "_ms", "_s", "_ratio", "_pct", "_percent", "_db", "_dbm")


def _name(*parts: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_]", "_", "_".join(p for p in parts if p))


_DIRECTION = re.compile(r"^(?P<stem>.+)_(?P<direction>a_to_b|b_to_a)$")


def metric_name(check: str, name: str, unit: str) -> tuple[str, float]:
    """``csdiag_<check>_<name>_<base unit>`` and the factor from ``unit`` to that base unit (a direction
    at the end of the name, ``loss_a_to_b``, is a ``direction`` label instead: see :func:`split_direction`)."""
    name = split_direction(name)[0]
    suffix, factor = _UNITS.get(unit, (_name(unit.lower()), 1.0))
    if not suffix and name.endswith("_ratio"):
        suffix = "ratio"
    stem = name
    for word in _UNIT_WORDS:
        if stem.endswith(word) and len(stem) > len(word):
            stem = stem[: -len(word)]
            break
    return _name("csdiag", check, stem, suffix), factor


def split_direction(name: str) -> tuple[str, str]:
    """``loss_a_to_b`` → ``('loss', 'a_to_b')``; ``('name', '')`` for a name without a direction."""
    m = _DIRECTION.match(name)
    return (m["stem"], m["direction"]) if m else (name, "")


def registry_for(run: Run | Ranked) -> Any:
    from prometheus_client import CollectorRegistry, Gauge

    run = rank(run).run
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
            name, factor = metric_name(f.check, m.name, m.unit)
            stem, direction = split_direction(m.name)
            labels = ["code", "target", "direction"] if direction else ["code", "target"]
            if name not in gauges:
                gauges[name] = Gauge(
                    name,
                    f"{f.check} {stem} (measured in {m.unit or 'no unit'}), per finding code and target",
                    labels,
                    registry=reg,
                )
            values = (f.code, f.target, direction) if direction else (f.code, f.target)
            gauges[name].labels(*values).set(m.value * factor)
    for (check, target), sev in worst.items():
        status.labels(check, target).set(sev.nagios_code)
    Gauge("csdiag_last_run_timestamp_seconds", "When this run finished (Unix time)", registry=reg).set(
        run.finished.timestamp()
    )
    runner = run.runner or "unknown"
    Gauge("csdiag_run_info", "The runner ([run] runner) and host of this run", ["runner", "host"], registry=reg).labels(
        runner, run.host or "unknown"
    ).set(1)
    Gauge(
        "csdiag_runner_last_run_timestamp_seconds",
        "When this runner's run finished (Unix time)",
        ["runner"],
        registry=reg,
    ).labels(runner).set(run.finished.timestamp())
    covered = Gauge(
        "csdiag_check_covered",
        "1 when the check completed in this run (it covered its targets), 0 when it failed or timed out",
        ["check", "runner"],
        registry=reg,
    )
    for c in run.checks:
        covered.labels(c.name, runner).set(1 if c.status is CheckStatus.COMPLETED else 0)
    return reg


def render(run: Run | Ranked) -> str:
    from prometheus_client import generate_latest

    return str(generate_latest(registry_for(run)).decode())


def write(run: Run | Ranked, path: Path) -> None:
    """Atomically (temporary file + rename), as the textfile collector needs."""
    from prometheus_client import write_to_textfile

    write_to_textfile(str(path), registry_for(run))
