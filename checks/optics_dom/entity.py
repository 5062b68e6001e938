"""ENTITY-SENSOR-MIB (RFC 3433) optics: Arista EOS, SONiC and any device whose sensor names say which
interface they measure.

- Arista: `DOM RX Power Sensor for Ethernet49` in entPhysicalDescr (entPhysicalName is empty), power in
  watts × milli × precision 4, thresholds in ARISTA-ENTITY-SENSOR-MIB in the sensor's own units
  (±1000000000 = none).
- SONiC (and SONiC-based Edgecore): the same wording, lanes as `… for Ethernet52/1` beside the module's
  `DOM Temperature Sensor for Ethernet52`, and entPhySensorOperStatus unavailable(2) with a value 0 on
  lanes that do not exist: unavailable, not dark.
- Generic: a name that starts with an interface name (`Te1/1 Rx Power`); type other(1) counts as dBm only
  when entPhySensorUnitsDisplay says dBm.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from checks.optics_dom.core import (
    ARISTA_THRESHOLD,
    ENT_DESCR,
    ENT_NAME,
    LANE,
    OVERFLOW,
    SENSOR,
    Reading,
    Value,
    as_int,
    col,
    converted,
    drop_non_optics,
    kind_of,
    name_index,
    reading,
    rfc3433,
)

RFC3433 = [ENT_DESCR, ENT_NAME, *(f"{SENSOR}.{c}" for c in (1, 2, 3, 4, 5, 6))]
ARISTA = [*RFC3433, *(f"{ARISTA_THRESHOLD}.{c}" for c in (1, 2, 3, 4))]
_FOR = re.compile(r"\bfor\s+(\S+)\s*$")
_SUB = re.compile(r"^(.+)/(\d+)$")


def decode(
    cols: Mapping[str, Mapping[str, Any]], ifs: Mapping[int, Mapping[str, Any]], notes: list[str]
) -> list[Reading]:
    names, descr = col(cols, ENT_NAME), col(cols, ENT_DESCR)
    if_names = name_index(ifs)
    stype, scale, prec, value, status, units = (col(cols, f"{SENSOR}.{c}") for c in (1, 2, 3, 4, 5, 6))
    lows, lowc, highw, highc = (col(cols, f"{ARISTA_THRESHOLD}.{c}") for c in (1, 2, 3, 4))
    texts = {idx: str(descr.get(idx) or names.get(idx) or "") for idx in value}
    targets = {m.group(1) for t in texts.values() if (m := _FOR.search(t))}
    out: dict[tuple[str, int | None], Reading] = {}
    for idx, raw in value.items():
        text = texts[idx]
        kind = kind_of(text)
        if kind is None:
            continue
        port, lane = _port(text, targets, if_names)
        if port is None:
            continue
        r = reading(out, port, lane, f"entPhySensor {idx}")
        st = as_int(status.get(idx))
        if st in (2, 3):
            r.values[kind] = Value(
                None, "unavailable", f"entPhySensorOperStatus {'unavailable' if st == 2 else 'nonoperational'}"
            )
            continue
        u = str(units.get(idx) or "")
        v = rfc3433(kind, stype.get(idx), scale.get(idx), prec.get(idx), raw, units=u)
        for name, column in (("low_warn", lows), ("low_alarm", lowc), ("high_warn", highw), ("high_alarm", highc)):
            t = as_int(column.get(idx))
            if t is None or abs(t) >= OVERFLOW:
                continue
            level = converted(kind, stype.get(idx), scale.get(idx), prec.get(idx), t, False, u)
            if level is not None:
                v.thresholds[name] = level
        r.values[kind] = v
    return drop_non_optics(out)


def _port(text: str, targets: set[str], if_names: Mapping[str, str]) -> tuple[str | None, int | None]:
    m = _FOR.search(text)
    if m:
        target = m.group(1)
        sub = _SUB.match(target)
        if sub and sub.group(1) in targets and target not in if_names:
            return if_names.get(sub.group(1), sub.group(1)), int(sub.group(2))  # SONiC lane
        return if_names.get(target, target), None
    best = [n for n in if_names if text.startswith((n + " ", n + "-"))]
    if not best:
        return None, None
    lane = LANE.search(text)
    return if_names[max(best, key=len)], int(lane.group(1)) if lane else None
