"""The data model of a decoded device and the vendor-neutral parts of decoding.

Input: the columns walked on one device (``{column OID: {row index: value}}``, diagnostics.sources.snmp).
Output: :class:`Reading` per port and lane — Rx/Tx power in dBm, temperature °C, bias mA, voltage V,
each with the optic's own thresholds when it has them — plus the interfaces (name, admin/oper status,
error counters) and LLDP neighbours. A :class:`Value` has a state: ``ok`` (a number), ``no_light``
(dark: never a number), ``unavailable`` (the device says it has no value — Cisco's N/A, a status
other than ok: never judged), or ``invalid`` (undecodable, with the reason).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# --- OIDs ---------------------------------------------------------------------------------------------------
IF_DESCR = "1.3.6.1.2.1.2.2.1.2"
IF_NAME = "1.3.6.1.2.1.31.1.1.1.1"
IF_ADMIN = "1.3.6.1.2.1.2.2.1.7"
IF_OPER = "1.3.6.1.2.1.2.2.1.8"
IF_IN_ERRORS = "1.3.6.1.2.1.2.2.1.14"
DOT3_FCS = "1.3.6.1.2.1.10.7.2.1.3"
SYS_UPTIME = "1.3.6.1.2.1.1.3"
LLDP_LOC_SYSNAME = "1.0.8802.1.1.2.1.3.3"
LLDP_LOC_PORT_ID = "1.0.8802.1.1.2.1.3.7.1.3"
LLDP_REM_PORT_SUBTYPE = "1.0.8802.1.1.2.1.4.1.1.6"
LLDP_REM_PORT_ID = "1.0.8802.1.1.2.1.4.1.1.7"
LLDP_REM_PORT_DESC = "1.0.8802.1.1.2.1.4.1.1.8"
LLDP_REM_SYSNAME = "1.0.8802.1.1.2.1.4.1.1.9"
ENT_DESCR = "1.3.6.1.2.1.47.1.1.1.1.2"
ENT_CONTAINED_IN = "1.3.6.1.2.1.47.1.1.1.1.4"
ENT_CLASS = "1.3.6.1.2.1.47.1.1.1.1.5"
ENT_NAME = "1.3.6.1.2.1.47.1.1.1.1.7"
ENT_ALIAS = "1.3.6.1.2.1.47.1.3.2.1.2"
SENSOR = "1.3.6.1.2.1.99.1.1.1"  # .1 type .2 scale .3 precision .4 value .5 oper status .6 units
CISCO_SENSOR = "1.3.6.1.4.1.9.9.91.1.1.1.1"  # .1 type .2 scale .3 precision .4 value .5 status
CISCO_THRESHOLD = "1.3.6.1.4.1.9.9.91.1.2.1.1"  # .2 severity .3 relation .4 value
ARISTA_THRESHOLD = "1.3.6.1.4.1.30065.3.12.1.1.1"  # .1 low warn .2 low crit .3 high warn .4 high crit
JNX_DOM = "1.3.6.1.4.1.2636.3.60.1.1.1.1"
JNX_LANE = "1.3.6.1.4.1.2636.3.60.1.2.1.1"
HUAWEI_OPTIC = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1"

COMMON = [
    IF_NAME,
    IF_DESCR,
    IF_ADMIN,
    IF_OPER,
    IF_IN_ERRORS,
    DOT3_FCS,
    SYS_UPTIME,
    LLDP_LOC_SYSNAME,
    LLDP_LOC_PORT_ID,
    LLDP_REM_PORT_SUBTYPE,
    LLDP_REM_PORT_ID,
    LLDP_REM_PORT_DESC,
    LLDP_REM_SYSNAME,
]

NO_LIGHT_DBM = -30.0  # at or below: dark (−40 floors, −30 Arista dark lanes, −33.97 seen)
UNDERFLOW, OVERFLOW = -1_000_000_000, 1_000_000_000


@dataclass
class Value:
    value: float | None = None  # dBm, °C, mA or V
    state: str = "ok"  # ok | no_light | unavailable | invalid
    reason: str = ""
    thresholds: dict[str, float] = field(default_factory=dict)  # low_alarm, low_warn, high_warn, high_alarm
    flag: str = ""  # the device's own alarm state (CLI flags), e.g. low_alarm


@dataclass
class Reading:
    port: str
    lane: int | None = None
    values: dict[str, Value] = field(default_factory=dict)  # by kind: rx, tx, temp, bias, voltage
    source: str = ""  # where it came from (sensor index, ifIndex…)

    def to_dict(self) -> dict[str, Any]:
        return {
            "port": self.port,
            "lane": self.lane,
            "source": self.source,
            "values": {k: v.__dict__ for k, v in self.values.items()},
        }


@dataclass
class Device:
    interfaces: dict[int, dict[str, Any]]  # ifIndex → name, descr, admin, oper, in_errors, fcs_errors
    readings: list[Reading]
    neighbours: dict[str, dict[str, str]]  # local port → {"system", "port"}
    sysname: str | None
    uptime: int | None
    notes: list[str]
    types: dict[str, str] = field(default_factory=dict)  # port → optic type, where the device says

    @property
    def by_name(self) -> dict[str, dict[str, Any]]:
        return {i["name"]: i for i in self.interfaces.values()}


def dbm_from_mw(mw: float) -> Value:
    if mw <= 0:
        return Value(None, "no_light", "0 mW")
    dbm = 10 * math.log10(mw)
    return Value(round(dbm, 2), "no_light" if dbm <= NO_LIGHT_DBM else "ok")


def power_dbm(dbm: float, reason: str = "") -> Value:
    if dbm <= NO_LIGHT_DBM:
        return Value(None, "no_light", reason or f"{dbm:g} dBm (a no-light floor)")
    return Value(round(dbm, 2))


def kind_of(text: str) -> str | None:
    t = text.lower()
    if "bias" in t:
        return "bias"
    if re.search(r"\b(rx|receive)\b.*power|rx power|\brx\b", t) and "power" in t:
        return "rx"
    if re.search(r"\b(tx|transmit)\b.*power|tx power|\btx\b", t) and "power" in t:
        return "tx"
    if "temperature" in t:
        return "temp"
    if "voltage" in t:
        return "voltage"
    return None


def as_int(v: Any) -> int | None:
    """An SNMP integer as int; anything else (text, an error marker) is not a number."""
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def rfc3433(
    kind: str, stype: Any, scale: Any, precision: Any, value: Any, cisco: bool = False, units: str = ""
) -> Value:
    """One ENTITY-SENSOR-MIB (or Cisco) reading in our unit: dBm for power, °C, mA, V.
    real = value × 10^(−precision) × 10^(3·(scale − 9)) (RFC 3433)."""
    st, sc, pr, raw = as_int(stype), as_int(scale), as_int(precision), as_int(value)
    if raw is None:
        return Value(None, "invalid", f"value of type {type(value).__name__} ({value!r}), not an integer")
    if st is None or sc is None or pr is None:
        return Value(None, "invalid", "sensor type, scale or precision missing or not an integer")
    if not 0 <= pr <= 9 and not (cisco and -8 <= pr < 0):
        return Value(None, "invalid", f"precision {pr} is outside 0..9")
    if not 1 <= sc <= 17:
        return Value(None, "invalid", f"scale {sc} is not an SI prefix (1..17)")
    if raw == UNDERFLOW:
        return Value(None, "no_light", "underflow") if kind == "rx" else Value(None, "invalid", "underflow")
    if raw == OVERFLOW:
        return Value(None, "invalid", "overflow")
    real = raw * 10.0 ** (-pr) * 10.0 ** (3 * (sc - 9))
    if kind in ("rx", "tx"):
        dbm_type = (st == 14 and cisco) or (st == 1 and "dbm" in units.lower())  # Cisco's dBm(14)
        if dbm_type:
            return power_dbm(real)
        if st == 6:  # watts
            return dbm_from_mw(real * 1000)
        return Value(None, "invalid", f"power sensor of type {st}: neither watts nor dBm")
    if kind == "bias":
        return Value(round(real * 1000, 3)) if st == 5 else Value(None, "invalid", f"bias of type {st}")
    if kind == "temp":
        return Value(round(real, 2)) if st == 8 else Value(None, "invalid", f"temperature of type {st}")
    return Value(round(real, 3)) if st in (3, 4) else Value(None, "invalid", f"voltage of type {st}")


def converted(
    kind: str, stype: Any, scale: Any, precision: Any, raw: Any, cisco: bool, units: str = ""
) -> float | None:
    v = rfc3433(kind, stype, scale, precision, raw, cisco, units)
    return v.value if v.state == "ok" else None


def col(cols: Mapping[str, Mapping[str, Any]], oid: str) -> dict[str, Any]:
    return dict(cols.get(oid) or {})


_IF_STATUS = {1: "up", 2: "down", 3: "testing"}
_OPER = {**_IF_STATUS, 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}


def interfaces(cols: Mapping[str, Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    """IF-MIB by ifIndex: the name is ifName, else ifDescr (some devices have no ifXTable)."""
    out: dict[int, dict[str, Any]] = {}
    names, descrs, admin, oper = col(cols, IF_NAME), col(cols, IF_DESCR), col(cols, IF_ADMIN), col(cols, IF_OPER)
    errors, fcs = col(cols, IF_IN_ERRORS), col(cols, DOT3_FCS)
    for idx in {*names, *descrs}:
        name = names.get(idx) if isinstance(names.get(idx), str) and names.get(idx) else descrs.get(idx)
        if not idx.isdigit() or not isinstance(name, str) or not name:
            continue
        descr = descrs.get(idx)
        out[int(idx)] = {
            "name": name,
            "descr": descr if isinstance(descr, str) else "",
            "admin": _IF_STATUS.get(as_int(admin.get(idx)) or 0, "unknown"),
            "oper": _OPER.get(as_int(oper.get(idx)) or 0, "unknown"),
            "in_errors": as_int(errors.get(idx)),
            "fcs_errors": as_int(fcs.get(idx)),
        }
    return out


def name_index(ifs: Mapping[int, Mapping[str, Any]]) -> dict[str, str]:
    """Every name an interface goes by (ifName, ifDescr) → its ifName."""
    out: dict[str, str] = {}
    for i in ifs.values():
        for n in (i.get("descr"), i["name"]):
            if n:
                out[str(n)] = i["name"]
    return out


def neighbours(
    cols: Mapping[str, Mapping[str, Any]], ifs: Mapping[int, Mapping[str, Any]]
) -> dict[str, dict[str, str]]:
    """Local port name → the far system and port (LLDP; localPortNum is an ifIndex or a bridge port)."""
    loc_ports = col(cols, LLDP_LOC_PORT_ID)
    names = name_index(ifs)
    out = {}
    subtypes, port_ids, port_descs = (
        col(cols, LLDP_REM_PORT_SUBTYPE),
        col(cols, LLDP_REM_PORT_ID),
        col(cols, LLDP_REM_PORT_DESC),
    )
    for idx, system in col(cols, LLDP_REM_SYSNAME).items():
        parts = idx.split(".")
        if len(parts) < 3 or not isinstance(system, str):
            continue
        local_num = parts[1]
        loc = loc_ports.get(local_num)
        local = names.get(loc) if isinstance(loc, str) else None
        if local is None and local_num.isdigit():
            local = (ifs.get(int(local_num)) or {}).get("name")
        subtype = as_int(subtypes.get(idx))
        port = port_ids.get(idx)
        if subtype not in (5, 7) or not isinstance(port, str):
            port = port_descs.get(idx)
        if local and isinstance(port, str) and port:
            out[local] = {"system": system, "port": port}
    return out


def scalar(cols: Mapping[str, Mapping[str, Any]], oid: str) -> Any:
    c = col(cols, oid)
    return c.get("0", next(iter(c.values()), None))


def reading(readings: dict[tuple[str, int | None], Reading], port: str, lane: int | None, source: str) -> Reading:
    return readings.setdefault((port, lane), Reading(port=port, lane=lane, source=source))


LANE = re.compile(r"\bLane\s+(\d+)\b", re.I)


# What a transceiver can physically report; beyond it the value is undecodable, never a fault to page on
# (an optic at +30 dBm, a bias of −866597556 A seen on a Catalyst 9200L walk).
PLAUSIBLE = {
    "rx": (-60.0, 20.0),
    "tx": (-60.0, 20.0),
    "temp": (-55.0, 150.0),
    "bias": (0.0, 500.0),
    "voltage": (0.0, 10.0),
}


def plausible(readings: list[Reading]) -> list[Reading]:
    """Mark values outside :data:`PLAUSIBLE` invalid, with the reason."""
    for r in readings:
        for kind, v in r.values.items():
            low, high = PLAUSIBLE.get(kind, (-math.inf, math.inf))
            if v.state == "ok" and v.value is not None and not low <= v.value <= high:
                r.values[kind] = Value(None, "invalid", f"{v.value:g} is outside {low:g}..{high:g}", v.thresholds)
    return readings


def drop_non_optics(readings: dict[tuple[str, int | None], Reading]) -> list[Reading]:
    """Temperature or voltage alone is a board sensor beside a port, not an optic: keep readings that
    have a power or bias value (or are lanes of a port that has)."""
    optic_ports = {p for (p, _), r in readings.items() if {"rx", "tx", "bias"} & set(r.values)}
    return [r for (p, _), r in readings.items() if p in optic_ports]
