"""Cisco IOS, IOS-XE, IOS-XR and NX-OS: CISCO-ENTITY-SENSOR-MIB values and thresholds, mapped to
interfaces through ENTITY-MIB.

Sensor → interface, in this order (each seen on real devices, tests/data/devices/cisco-*):
0. the sensor's own name starting with an interface name (ifName or ifDescr) and a space or a dash
   (`Te1/2/0/1 Receive Power Sensor`, IOS-XR `GigabitEthernet0/0/0/19-Rx Power`): the name wins over
   the tree, which a Catalyst 9400X gets wrong (Te1/2/0/1's sensors under Te1/2/0/2's port entity);
1. up the entPhysicalContainedIn chain to a port(10) entity (IOS `Gi1/0/52 Receive Power Sensor` under
   its port; NX-OS under `Transceiver(slot:1-port:25)` under `Linecard-1 Port-97`);
2. a module on the way with exactly one port(10) child: the port sits beside the sensors under the
   transceiver module (IOS-XE routers: `subslot 0/0 transceiver 0` holds `GigabitEthernet0/0/0` and
   its sensors);
3. a module on the way named like an interface (IOS-XR NCS: `GigabitEthernet0/0/0/4` holds its sensors).
A port entity's interface is its entAliasMappingIdentifier (``…ifIndex.N``), else its name.

"No value": an entSensorStatus other than ok(1) is unavailable; an optic whose every sensor reads
exactly 0 (bias, power, temperature and voltage together, impossible for a working optic) is Cisco's
N/A — seen on NX-OS and IOS-XR walks where the CLI prints N/A — and is unavailable too, not 0 dBm.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.optics_dom.core import (
    CISCO_SENSOR,
    CISCO_THRESHOLD,
    ENT_ALIAS,
    ENT_CLASS,
    ENT_CONTAINED_IN,
    ENT_DESCR,
    ENT_NAME,
    LANE,
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

COLUMNS = [
    ENT_NAME,
    ENT_DESCR,
    ENT_CLASS,
    ENT_CONTAINED_IN,
    ENT_ALIAS,
    *(f"{CISCO_SENSOR}.{c}" for c in (1, 2, 3, 4, 5)),
    *(f"{CISCO_THRESHOLD}.{c}" for c in (2, 3, 4)),
]
PORT, MODULE, CHASSIS, STACK = 10, 9, 3, 11
UNSET = -32768


class _Tree:
    def __init__(self, cols: Mapping[str, Mapping[str, Any]], ifs: Mapping[int, Mapping[str, Any]]) -> None:
        self.names, self.classes = col(cols, ENT_NAME), col(cols, ENT_CLASS)
        self.parents = col(cols, ENT_CONTAINED_IN)
        self.alias = {k.split(".")[0]: v for k, v in col(cols, ENT_ALIAS).items()}
        self.by_if = {str(i): d["name"] for i, d in ifs.items()}
        self.if_names = name_index(ifs)
        self.port_children: dict[str, list[str]] = {}
        for child, parent in self.parents.items():
            if as_int(self.classes.get(child)) == PORT:
                self.port_children.setdefault(str(parent), []).append(child)

    def interface(self, entity: str) -> str | None:
        """A port entity's interface: its alias RowPointer's ifIndex, else its name."""
        pointer = str(self.alias.get(entity) or "")
        if_index = pointer.rsplit(".", 1)[-1]
        if if_index in self.by_if:
            return str(self.by_if[if_index])
        name = self.names.get(entity)
        if isinstance(name, str) and name:
            return str(self.if_names.get(name, name))
        return None

    def port_of(self, idx: str, text: str) -> str | None:
        named = self.prefix(text)
        if named is not None:
            return named  # the name wins: a Catalyst 9400 parents Te1/2/0/1's sensors under Te1/2/0/2's port
        cur, depth = str(self.parents.get(idx) or ""), 0
        while cur and cur != "0" and depth < 6:
            cls = as_int(self.classes.get(cur))
            if cls == PORT:
                return self.interface(cur)
            if cls in (CHASSIS, STACK):
                break
            kids = self.port_children.get(cur, [])
            if len(kids) == 1:
                return self.interface(kids[0])
            name = self.names.get(cur)
            if isinstance(name, str) and name in self.if_names:
                return self.if_names[name]
            cur, depth = str(self.parents.get(cur) or ""), depth + 1
        return None

    def prefix(self, text: str) -> str | None:
        """'TenGigabitEthernet2/1 Receive Power Sensor', 'GigabitEthernet0/0/0/19-Rx Power' → the interface."""
        best = [n for n in self.if_names if text.startswith((n + " ", n + "-"))]
        return self.if_names[max(best, key=len)] if best else None


def decode(
    cols: Mapping[str, Mapping[str, Any]], ifs: Mapping[int, Mapping[str, Any]], notes: list[str]
) -> list[Reading]:
    tree = _Tree(cols, ifs)
    descr = col(cols, ENT_DESCR)
    stype, scale, prec, value, status = (col(cols, f"{CISCO_SENSOR}.{c}") for c in (1, 2, 3, 4, 5))
    thresholds: dict[str, list[tuple[Any, Any, Any]]] = {}
    sev, rel, val = (col(cols, f"{CISCO_THRESHOLD}.{c}") for c in (2, 3, 4))
    for row, level in val.items():
        sensor, _, _ = row.partition(".")
        thresholds.setdefault(sensor, []).append((sev.get(row), rel.get(row), level))
    out: dict[tuple[str, int | None], Reading] = {}
    raws: dict[tuple[str, int | None], list[Any]] = {}
    unmapped = 0
    for idx, raw in value.items():
        text = str(tree.names.get(idx) or descr.get(idx) or "")
        kind = kind_of(text)
        if kind is None:
            continue
        if kind in ("rx", "tx") and as_int(stype.get(idx)) not in (14, 6):
            continue  # a power supply's watts, or a C9500 "Transmit Power Sensor" typed celsius or unknown(2)
        fits = {"bias": (5,), "temp": (8,), "voltage": (3, 4)}.get(kind)
        if fits is not None and as_int(stype.get(idx)) not in fits:
            continue  # unknown(2) (C9500H QSFP lanes, value 0) or a type that is not what the name says
        port = tree.port_of(idx, text)
        if port is None:
            unmapped += 1
            continue
        lane_m = LANE.search(text)
        key = (port, int(lane_m.group(1)) if lane_m else None)
        r = reading(out, *key, source=f"entSensor {idx}")
        st = as_int(status.get(idx))
        if st is not None and st != 1:
            what = {2: "unavailable", 3: "nonoperational"}.get(st, f"status {st}")
            r.values[kind] = Value(None, "unavailable", f"entSensorStatus {what}")
            continue
        if as_int(raw) == UNSET:
            r.values[kind] = Value(None, "unavailable", "−32768 (no value)")
            continue
        if st is None and as_int(raw) == 0 and as_int(stype.get(idx)) == 14:
            # Cisco answers 0 where its CLI prints N/A; without entSensorStatus a dBm of exactly 0 is that
            # (NX-OS: Rx 0 beside Tx −6.58 dBm and a bias of 18.8 mA, at 0.001 dB resolution)
            r.values[kind] = Value(None, "unavailable", "0 without entSensorStatus (Cisco's N/A)")
            continue
        v = rfc3433(kind, stype.get(idx), scale.get(idx), prec.get(idx), raw, cisco=True)
        if v.state == "ok":
            v.thresholds = _levels(kind, thresholds.get(idx, []), stype.get(idx), scale.get(idx), prec.get(idx))
        r.values[kind] = v
        raws.setdefault(key, []).append(raw)
    for group, values in raws.items():
        if len(values) >= 2 and all(x == 0 for x in values):
            for kind in out[group].values:
                out[group].values[kind] = Value(None, "unavailable", "every sensor of the optic reads 0 (Cisco's N/A)")
    if unmapped:
        notes.append(f"{unmapped} transceiver sensors without an interface in ENTITY-MIB")
    return drop_non_optics(out)


def _levels(kind: str, rows: list[tuple[Any, Any, Any]], stype: Any, scale: Any, prec: Any) -> dict[str, float]:
    """entSensorThresholdTable rows: minor(10) is a warning, major(20)/critical(30) an alarm; relation
    less(1)/lessOrEqual(2) a low level, greater(3)/greaterOrEqual(4) a high one; −32768 is unset. A sensor
    whose every level is 0 has none set (IOS-XR on an empty bay)."""
    out: dict[str, float] = {}
    usable = [(s, r, v) for s, r, v in rows if as_int(v) is not None and as_int(v) != UNSET]
    if usable and all(as_int(v) == 0 for _, _, v in usable):
        return {}
    for s, r, v in usable:
        relation, severity = as_int(r), as_int(s)
        if relation not in (1, 2, 3, 4) or severity is None:
            continue
        level = converted(kind, stype, scale, prec, v, True)
        if level is None:
            continue
        name = ("low_" if relation in (1, 2) else "high_") + ("warn" if severity == 10 else "alarm")
        out.setdefault(name, level)
    return out
