"""The static part of a switch's SNMP tables, kept between runs so a sweep reads only what changes.

An optic's thresholds, the entity tree (names, classes, containment), sensor types/scales/precisions and
interface names do not change while the switch runs with the same optics; the readings, port status,
counters and neighbours do. :func:`sweep` walks the static columns of a switch once, keeps them in a
JSON file per switch (``cache_dir``), and on later runs walks only the changing columns — re-reading the
static ones as well when any of these says they may have changed:

- the entry is older than ``ttl_s`` (the optics' levels are re-read daily by default),
- sysUpTime went back (a reboot, a new line card or firmware),
- any port's ifLastChange differs (an optic cannot be swapped without its link going down, which sets it),
- a changing column has a row its static partner lacks (a sensor or a port appeared);
- the switch gives no sysUpTime (a reboot could not be seen): never cached.

A result built with cached columns says so: ``"static_from_cache": {"at": …, "columns": n}``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from diagnostics.sources import snmp

SYS_UPTIME = "1.3.6.1.2.1.1.3"
IF_LAST_CHANGE = "1.3.6.1.2.1.2.2.1.9"


def default_dir() -> Path:
    """$XDG_CACHE_HOME/csdiag/snmp-static, or ~/.cache/csdiag/snmp-static."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "csdiag" / "snmp-static"


def _file(cache_dir: Path, t: snmp.Target, static: Sequence[str]) -> Path:
    key = json.dumps([t.name, t.host, t.port, t.version, t.context, sorted(static)])
    return cache_dir / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def _load(path: Path) -> dict[str, Any] | None:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return entry if isinstance(entry, dict) and isinstance(entry.get("columns"), dict) else None


def _save(path: Path, entry: Mapping[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entry), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a cache that cannot be written only costs the next run a full read


def _uptime(result: Mapping[str, Any]) -> int | None:
    rows = result.get("columns", {}).get(SYS_UPTIME) or {}
    value = next(iter(rows.values()), None)
    return value if isinstance(value, int) else None


def _still_valid(entry: Mapping[str, Any], fresh: Mapping[str, Any], pairs: Mapping[str, str]) -> bool:
    cols = fresh.get("columns", {})
    before, now = entry.get("uptime"), _uptime(fresh)
    if before is None or now is None or now < before:
        return False
    if (cols.get(IF_LAST_CHANGE) or {}) != entry.get("last_change", {}):
        return False
    cached = entry["columns"]
    return all(set(cols.get(dyn) or {}) <= set(cached.get(st) or {}) for dyn, st in pairs.items())


def sweep(
    jobs: Sequence[tuple[snmp.Target, Sequence[str]]],
    static: Collection[str],
    pairs: Mapping[str, str],
    *,
    cache_dir: Path,
    ttl_s: float,
    **kw: Any,
) -> dict[str, dict[str, Any]]:
    """:func:`diagnostics.sources.snmp.sweep` that reads the ``static`` columns from the cache when it may:
    ``pairs`` maps a changing column to a static one that must hold all its rows. ``ttl_s`` 0: no cache."""
    if ttl_s <= 0:
        return snmp.sweep(jobs, **kw)
    now = time.time()
    entries: dict[str, tuple[Path, dict[str, Any] | None]] = {}
    light: list[tuple[snmp.Target, Sequence[str]]] = []
    full: list[tuple[snmp.Target, Sequence[str]]] = []
    for t, cols in jobs:
        path = _file(cache_dir, t, [c for c in cols if c in static])
        entry = _load(path)
        if entry is not None and now - float(entry.get("at", 0)) > ttl_s:
            entry = None
        entries[t.name] = (path, entry)
        if entry is None:
            full.append((t, [*cols, IF_LAST_CHANGE]))
        else:
            light.append((t, [*(c for c in cols if c not in static), IF_LAST_CHANGE]))
    results = snmp.sweep(light, **kw) if light else {}
    for t, _ in light:
        _, entry = entries[t.name]
        got = results[t.name]
        if "error" in got:
            continue
        assert entry is not None
        if _still_valid(entry, got, pairs):
            got["columns"].update(entry["columns"])
            got["static_from_cache"] = {"at": entry["at"], "columns": len(entry["columns"])}
        else:
            full.append((t, [*next(c for tt, c in jobs if tt is t), IF_LAST_CHANGE]))
    if full:
        results.update(snmp.sweep(full, **kw))
    for t, _ in full:
        got = results[t.name]
        if "error" in got or _uptime(got) is None:
            continue
        cols = got["columns"]
        _save(
            entries[t.name][0],
            {
                "at": now,
                "uptime": _uptime(got),
                "last_change": cols.get(IF_LAST_CHANGE) or {},
                "columns": {c: rows for c, rows in cols.items() if c in static},
            },
        )
    return results
