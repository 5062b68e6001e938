"""Values for people, shared by the terminal and the HTML: sizes in KiB/MiB/GiB, times in ms/s/min/h/d,
ratios as percentages, levels with their unit — never ``6.71089e+07 B``. Evidence data keeps its keys;
a value's unit is read from the key's suffix (``available_bytes``, ``rtt_ms``, ``used_ratio``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from diagnostics.model import Metric
from diagnostics.units import iec_bytes


def duration(seconds: float) -> str:
    """``0.0123`` → ``12.3 ms``; ``95`` → ``1.6 min``; ``86400`` → ``1 d``."""
    s = abs(seconds)
    if s < 1:
        return f"{seconds * 1000:.3g} ms"
    if s < 120:
        return f"{seconds:.3g} s"
    if s < 7200:
        return f"{seconds / 60:.3g} min"
    if s < 172800:
        return f"{seconds / 3600:.3g} h"
    return f"{seconds / 86400:.3g} d"


def _number(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))  # ids, ports, modes and counts: no thousands separators
    return f"{value:.4g}" if abs(value) >= 1e-4 else f"{value:.2e}"


def human(value: float | None, unit: str, name: str = "") -> str:
    """A measured value with its unit: ``67108864, 'B'`` → ``64 MiB``; ``0.9375, '', 'used_ratio'`` → ``93.8%``."""
    if value is None:
        return "not measured"
    if unit == "B":
        return iec_bytes(value)
    if unit == "s":
        return duration(value)
    if unit == "ms":
        return duration(value / 1000)
    if unit == "min":
        return duration(value * 60)
    if unit == "ticks":  # SNMP TimeTicks: hundredths of a second
        return duration(value / 100)
    if unit == "%":
        return f"{value:.3g}%"
    if unit in ("", "ratio") and name.endswith("_ratio"):
        return f"{value * 100:.3g}%"
    if unit in ("", "count"):
        return _number(value)
    return f"{value:.4g} {unit}"


def metric_text(m: Metric) -> str:
    """``64 KiB (warn below 400 KiB, crit below 300 KiB)``."""
    word = {"upper": "above", "lower": "below"}.get(m.direction or "", "at")
    levels = [
        f"{label} {word} {human(level, m.unit, m.name)}"
        for label, level in (("warn", m.warn), ("crit", m.crit))
        if level is not None
    ]
    return human(m.value, m.unit, m.name) + (f" ({', '.join(levels)})" if levels else "")


_SUFFIX_UNITS = (
    ("_bytes", "B"),
    ("bytes", "B"),
    ("_size", "B"),
    ("_ms", "ms"),
    ("_seconds", "s"),
    ("_s", "s"),
    ("_ratio", "ratio"),
    ("_pct", "%"),
    ("_percent", "%"),
    ("_dbm", "dBm"),
    ("_db", "dB"),
)


def value(key: str, v: Any) -> str:
    """One evidence value for people; numbers get the unit their key names."""
    if isinstance(v, bool) or v is None:
        return {True: "yes", False: "no", None: "—"}[v]
    if isinstance(v, int | float):
        k = key.lower()
        if k in ("ms", "bytes", "seconds"):
            return human(float(v), {"ms": "ms", "bytes": "B", "seconds": "s"}[k], k)
        for suffix, unit in _SUFFIX_UNITS:
            if k.endswith(suffix):
                return human(float(v), unit, k)
        return _number(float(v))
    if isinstance(v, str):
        return v
    if isinstance(v, Mapping):
        return ", ".join(f"{k}={value(str(k), x)}" for k, x in v.items())
    if isinstance(v, list | tuple):
        return "; ".join(value(key, x) for x in v) if v else "none"
    return json.dumps(v, default=str)


def is_table(v: Any) -> bool:
    """A list of flat dicts: rows to show as a table."""
    return (
        isinstance(v, list | tuple)
        and len(v) > 0
        and all(isinstance(r, Mapping) and all(not isinstance(x, Mapping | list) for x in r.values()) for r in v)
    )


def columns(rows: list[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for r in rows for k in r))
