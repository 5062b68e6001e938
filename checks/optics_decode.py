"""Decoding DOM readings from SNMP walks, per vendor (facts: ../shared/docs/optics.md §2, §4).

Input: the columns walked on one device (``{column OID: {row index: value}}``, diagnostics.sources.snmp).
Output: :class:`Reading` per port and lane — Rx/Tx power in dBm, temperature °C, bias mA, voltage V,
each with the optic's own thresholds when it has them — plus the interfaces (name, admin/oper status,
error counters) and LLDP neighbours. "No light" is a state of its own, never a number; a value that is
out of range, of the wrong type or with an absurd precision is ``invalid`` with the reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# --- OIDs ---------------------------------------------------------------------------------------------------
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
SENSOR = "1.3.6.1.2.1.99.1.1.1"  # .1 type .2 scale .3 precision .4 value .5 oper status
CISCO_SENSOR = "1.3.6.1.4.1.9.9.91.1.1.1.1"  # .1 type .2 scale .3 precision .4 value .5 status
CISCO_THRESHOLD = "1.3.6.1.4.1.9.9.91.1.2.1.1"  # .2 severity .3 relation .4 value
ARISTA_THRESHOLD = "1.3.6.1.4.1.30065.3.12.1.1.1"  # .1 low warn .2 low crit .3 high warn .4 high crit
JNX_DOM = "1.3.6.1.4.1.2636.3.60.1.1.1.1"
JNX_LANE = "1.3.6.1.4.1.2636.3.60.1.2.1.1"
HUAWEI_OPTIC = "1.3.6.1.4.1.2011.5.25.31.1.1.3.1"

COMMON = [
    IF_NAME,
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
RFC3433 = [ENT_DESCR, ENT_NAME, *(f"{SENSOR}.{c}" for c in (1, 2, 3, 4, 5))]
COLUMNS: dict[str, list[str]] = {
    "cisco_ios": [
        ENT_NAME,
        ENT_CLASS,
        ENT_CONTAINED_IN,
        ENT_ALIAS,
        *(f"{CISCO_SENSOR}.{c}" for c in (1, 2, 3, 4, 5)),
        *(f"{CISCO_THRESHOLD}.{c}" for c in (2, 3, 4)),
    ],
    "arista_eos": [*RFC3433, *(f"{ARISTA_THRESHOLD}.{c}" for c in (1, 2, 3, 4))],
    "juniper_junos": [
        *(f"{JNX_DOM}.{c}" for c in (5, 6, 7, 8, *range(9, 26), 30)),
        *(f"{JNX_LANE}.{c}" for c in (6, 7, 8, 9)),
    ],
    "huawei_vrp": [ENT_NAME, *(f"{HUAWEI_OPTIC}.{c}" for c in (5, 6, 7, 8, 9, 13, 14, 15, 16))],
    "generic": RFC3433,
}
COLUMNS["cisco_nxos"] = COLUMNS["cisco_ios"]
COLUMNS["sonic"] = COLUMNS["arista_eos"]

NO_LIGHT_DBM = -30.0  # at or below: dark (−40 floors, −30 Arista dark lanes, −33.97 seen)
UNDERFLOW, OVERFLOW = -1_000_000_000, 1_000_000_000


@dataclass
class Value:
    value: float | None = None  # dBm, °C, mA or V
    state: str = "ok"  # ok | no_light | invalid
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
    if re.search(r"\b(rx|receive)\b.*power|rx power", t):
        return "rx"
    if re.search(r"\b(tx|transmit)\b.*power|tx power", t):
        return "tx"
    if "temperature" in t:
        return "temp"
    if "voltage" in t:
        return "voltage"
    return None


def _int(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def rfc3433(kind: str, stype: Any, scale: Any, precision: Any, value: Any, cisco: bool = False) -> Value:
    """One ENTITY-SENSOR-MIB (or Cisco) reading in our unit: dBm for power, °C, mA, V."""
    st, sc, pr, raw = _int(stype), _int(scale), _int(precision), _int(value)
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
        if st == 14 and cisco:  # dBm(14), Cisco's addition to the RFC list
            return power_dbm(real)
        if st == 6:  # watts
            return dbm_from_mw(real * 1000)
        return Value(None, "invalid", f"power sensor of type {st}: neither watts nor dBm")
    if kind == "bias":
        return Value(round(real * 1000, 3)) if st == 5 else Value(None, "invalid", f"bias of type {st}")
    if kind == "temp":
        return Value(round(real, 2)) if st == 8 else Value(None, "invalid", f"temperature of type {st}")
    return Value(round(real, 3)) if st in (3, 4) else Value(None, "invalid", f"voltage of type {st}")


def _convert(kind: str, stype: Any, scale: Any, precision: Any, raw: Any, cisco: bool) -> float | None:
    v = rfc3433(kind, stype, scale, precision, raw, cisco)
    return v.value if v.state == "ok" else None


# --- per vendor ---------------------------------------------------------------------------------------------


@dataclass
class Device:
    interfaces: dict[int, dict[str, Any]]  # ifIndex → name, admin, oper, in_errors, fcs_errors
    readings: list[Reading]
    neighbours: dict[str, dict[str, str]]  # local port → {"system", "port"}
    sysname: str | None
    uptime: int | None
    notes: list[str]
    types: dict[str, str] = field(default_factory=dict)  # port → optic type, where the device says

    @property
    def by_name(self) -> dict[str, dict[str, Any]]:
        return {i["name"]: i for i in self.interfaces.values()}


def _col(cols: Mapping[str, Mapping[str, Any]], oid: str) -> dict[str, Any]:
    return dict(cols.get(oid) or {})


def interfaces(cols: Mapping[str, Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    names, admin, oper = _col(cols, IF_NAME), _col(cols, IF_ADMIN), _col(cols, IF_OPER)
    errors, fcs = _col(cols, IF_IN_ERRORS), _col(cols, DOT3_FCS)
    for idx, name in names.items():
        if not idx.isdigit() or not isinstance(name, str):
            continue
        status = {1: "up", 2: "down", 3: "testing"}
        out[int(idx)] = {
            "name": name,
            "admin": status.get(_int(admin.get(idx)) or 0, "unknown"),
            "oper": {**status, 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}.get(
                _int(oper.get(idx)) or 0, "unknown"
            ),
            "in_errors": _int(errors.get(idx)),
            "fcs_errors": _int(fcs.get(idx)),
        }
    return out


def neighbours(
    cols: Mapping[str, Mapping[str, Any]], ifs: Mapping[int, Mapping[str, Any]]
) -> dict[str, dict[str, str]]:
    """Local port name → the far system and port (LLDP; localPortNum is an ifIndex or a bridge port)."""
    loc_ports = _col(cols, LLDP_LOC_PORT_ID)
    names = {i["name"] for i in ifs.values()}
    out = {}
    for idx, system in _col(cols, LLDP_REM_SYSNAME).items():
        parts = idx.split(".")
        if len(parts) < 3 or not isinstance(system, str):
            continue
        local_num = parts[1]
        local = loc_ports.get(local_num)
        if not (isinstance(local, str) and local in names):
            local = (ifs.get(int(local_num)) or {}).get("name") if local_num.isdigit() else None
        subtype = _int(_col(cols, LLDP_REM_PORT_SUBTYPE).get(idx))
        port = _col(cols, LLDP_REM_PORT_ID).get(idx)
        if subtype not in (5, 7) or not isinstance(port, str):
            port = _col(cols, LLDP_REM_PORT_DESC).get(idx)
        if local and isinstance(port, str) and port:
            out[local] = {"system": system, "port": port}
    return out


def _scalar(cols: Mapping[str, Mapping[str, Any]], oid: str) -> Any:
    col = _col(cols, oid)
    return col.get("0", next(iter(col.values()), None))


def decode(platform: str, cols: Mapping[str, Mapping[str, Any]]) -> Device:
    ifs = interfaces(cols)
    decoder = {
        "cisco_ios": _cisco,
        "cisco_nxos": _cisco,
        "arista_eos": _arista,
        "sonic": _arista,
        "juniper_junos": _juniper,
        "huawei_vrp": _huawei,
        "generic": _generic,
    }[platform]
    notes: list[str] = []
    readings = decoder(cols, ifs, notes)
    sysname = _scalar(cols, LLDP_LOC_SYSNAME)
    return Device(
        interfaces=ifs,
        readings=readings,
        neighbours=neighbours(cols, ifs),
        sysname=sysname if isinstance(sysname, str) else None,
        uptime=_int(_scalar(cols, SYS_UPTIME)),
        notes=notes,
    )


def _reading(readings: dict[tuple[str, int | None], Reading], port: str, lane: int | None, source: str) -> Reading:
    return readings.setdefault((port, lane), Reading(port=port, lane=lane, source=source))


_LANE = re.compile(r"\bLane\s+(\d+)\b", re.I)


def _cisco(
    cols: Mapping[str, Mapping[str, Any]], ifs: Mapping[int, Mapping[str, Any]], notes: list[str]
) -> list[Reading]:
    names, classes, parents = _col(cols, ENT_NAME), _col(cols, ENT_CLASS), _col(cols, ENT_CONTAINED_IN)
    alias = {k.split(".")[0]: v for k, v in _col(cols, ENT_ALIAS).items()}
    by_if = {str(i): d["name"] for i, d in ifs.items()}
    if_names = set(by_if.values())
    stype, scale, prec, value = (_col(cols, f"{CISCO_SENSOR}.{c}") for c in (1, 2, 3, 4))
    thr_sev, thr_rel, thr_val = (_col(cols, f"{CISCO_THRESHOLD}.{c}") for c in (2, 3, 4))
    out: dict[tuple[str, int | None], Reading] = {}
    for idx, raw in value.items():
        name = str(names.get(idx) or "")
        kind = kind_of(name)
        if kind is None:
            continue
        port = _port_of(idx, names, classes, parents, alias, by_if) or _port_prefix(name, if_names)
        if port is None:
            notes.append(f"sensor {idx} ({name}): no interface found for it")
            continue
        lane_m = _LANE.search(name)
        r = _reading(out, port, int(lane_m.group(1)) if lane_m else None, f"entSensor {idx}")
        v = rfc3433(kind, stype.get(idx), scale.get(idx), prec.get(idx), raw, cisco=True)
        for key, sev in thr_sev.items():
            sensor, _, _ = key.partition(".")
            if sensor != idx or _int(thr_val.get(key)) in (None, -32768):
                continue
            level = _convert(kind, stype.get(idx), scale.get(idx), prec.get(idx), thr_val[key], True)
            rel = _int(thr_rel.get(key))
            if level is None or rel is None:
                continue
            low = rel in (1, 2)
            name_ = ("low_" if low else "high_") + ("warn" if _int(sev) == 10 else "alarm")
            v.thresholds[name_] = level
        r.values[kind] = v
    return list(out.values())


def _port_of(
    idx: str,
    names: Mapping[str, Any],
    classes: Mapping[str, Any],
    parents: Mapping[str, Any],
    alias: Mapping[str, Any],
    by_if: Mapping[str, str],
) -> str | None:
    """Walk entPhysicalContainedIn up to a port(10) entity and read its ifIndex alias."""
    seen: set[str] = set()
    cur = idx
    while cur and cur not in seen and len(seen) < 10:
        seen.add(cur)
        if _int(classes.get(cur)) == 10:
            pointer = str(alias.get(cur) or "")
            if_index = pointer.rsplit(".", 1)[-1]
            if if_index in by_if:
                return by_if[if_index]
            name = names.get(cur)
            return str(name) if name else None
        cur = str(parents.get(cur) or "")
        if cur == "0":
            break
    return None


def _port_prefix(name: str, if_names: set[str]) -> str | None:
    """'TenGigabitEthernet2/1 Receive Power Sensor' → the interface the name starts with."""
    best = [n for n in if_names if name.startswith(n + " ")]
    return max(best, key=len) if best else None


_FOR = re.compile(r"\bfor\s+(\S+)\s*$")


def _arista(
    cols: Mapping[str, Mapping[str, Any]], ifs: Mapping[int, Mapping[str, Any]], notes: list[str]
) -> list[Reading]:
    descr = _col(cols, ENT_DESCR)
    stype, scale, prec, value = (_col(cols, f"{SENSOR}.{c}") for c in (1, 2, 3, 4))
    lows, lowc, highw, highc = (_col(cols, f"{ARISTA_THRESHOLD}.{c}") for c in (1, 2, 3, 4))
    out: dict[tuple[str, int | None], Reading] = {}
    for idx, raw in value.items():
        text = str(descr.get(idx) or "")
        kind, m = kind_of(text), _FOR.search(text)
        if kind is None or not m:
            continue
        r = _reading(out, m.group(1), None, f"entPhySensor {idx}")
        v = rfc3433(kind, stype.get(idx), scale.get(idx), prec.get(idx), raw)
        for name, column in (("low_warn", lows), ("low_alarm", lowc), ("high_warn", highw), ("high_alarm", highc)):
            t = _int(column.get(idx))
            if t is None or abs(t) >= OVERFLOW:
                continue
            level = _convert(kind, stype.get(idx), scale.get(idx), prec.get(idx), t, False)
            if level is not None:
                v.thresholds[name] = level
        r.values[kind] = v
    return list(out.values())


def _generic(
    cols: Mapping[str, Mapping[str, Any]], ifs: Mapping[int, Mapping[str, Any]], notes: list[str]
) -> list[Reading]:
    """RFC 3433 sensors whose entPhysicalDescr or Name names the interface and the kind."""
    names, descr = _col(cols, ENT_NAME), _col(cols, ENT_DESCR)
    if_names = {i["name"] for i in ifs.values()}
    stype, scale, prec, value = (_col(cols, f"{SENSOR}.{c}") for c in (1, 2, 3, 4))
    out: dict[tuple[str, int | None], Reading] = {}
    for idx, raw in value.items():
        text = str(names.get(idx) or descr.get(idx) or "")
        kind = kind_of(text)
        m = _FOR.search(text)
        port = m.group(1) if m else _port_prefix(text, if_names)
        if kind is None or port is None:
            continue
        lane_m = _LANE.search(text)
        r = _reading(out, port, int(lane_m.group(1)) if lane_m else None, f"entPhySensor {idx}")
        r.values[kind] = rfc3433(kind, stype.get(idx), scale.get(idx), prec.get(idx), raw)
    return list(out.values())


def _jnx_thresholds(row: Mapping[int, Any], first: int, scale: float) -> dict[str, float]:
    """Columns first..first+3: high alarm, low alarm, high warning, low warning (0 everywhere = unset)."""
    raw = [_int(row.get(first + i)) for i in range(4)]
    if all(x in (None, 0) for x in raw):
        return {}
    names = ("high_alarm", "low_alarm", "high_warn", "low_warn")
    return {n: round(x * scale, 3) for n, x in zip(names, raw, strict=True) if x is not None}


def _juniper(
    cols: Mapping[str, Mapping[str, Any]], ifs: Mapping[int, Mapping[str, Any]], notes: list[str]
) -> list[Reading]:
    rows: dict[str, dict[int, Any]] = {}
    for c in (5, 6, 7, 8, *range(9, 26), 30):
        for idx, v in _col(cols, f"{JNX_DOM}.{c}").items():
            rows.setdefault(idx, {})[c] = v
    out: dict[tuple[str, int | None], Reading] = {}
    for idx, row in rows.items():
        port = (ifs.get(int(idx)) or {}).get("name") if idx.isdigit() else None
        if port is None:
            notes.append(f"jnxDom ifIndex {idx}: not in IF-MIB")
            continue
        r = _reading(out, port, None, f"jnxDom ifIndex {idx}")
        r.values["rx"] = _jnx_power(row.get(5), _jnx_thresholds(row, 9, 0.01))
        r.values["tx"] = _jnx_power(row.get(7), _jnx_thresholds(row, 17, 0.01))
        bias = _int(row.get(6))
        r.values["bias"] = Value(
            round(bias / 1000, 3) if bias is not None else None,
            "ok" if bias is not None else "invalid",
            thresholds=_jnx_thresholds(row, 13, 0.001),
        )
        temp = _int(row.get(8))
        r.values["temp"] = Value(
            float(temp) if temp is not None else None,
            "ok" if temp is not None else "invalid",
            thresholds=_jnx_thresholds(row, 21, 1.0),
        )
        volt = _int(row.get(25))
        if volt is not None:
            r.values["voltage"] = Value(round(volt / 1000, 3))
        module = r.values
        lanes: dict[str, dict[int, Any]] = {}
        for c in (6, 7, 8, 9):
            for lidx, v in _col(cols, f"{JNX_LANE}.{c}").items():
                if lidx.split(".")[0] == idx:
                    lanes.setdefault(lidx.split(".")[1], {})[c] = v
        for lane, lrow in lanes.items():
            lr = _reading(out, port, int(lane), f"jnxDomLane {idx}.{lane}")
            lr.values["rx"] = _jnx_power(lrow.get(6), module["rx"].thresholds)  # lanes use the module's
            lr.values["tx"] = _jnx_power(lrow.get(8), module["tx"].thresholds)
            lb = _int(lrow.get(7))
            if lb is not None:
                lr.values["bias"] = Value(round(lb / 1000, 3), thresholds=module["bias"].thresholds)
    return list(out.values())


def _jnx_power(raw: Any, thresholds: dict[str, float]) -> Value:
    v = _int(raw)
    if v is None:
        return Value(None, "invalid", f"value of type {type(raw).__name__} ({raw!r})", thresholds)
    out = power_dbm(v / 100)
    out.thresholds = thresholds
    return out


def _huawei_power(raw: Any, dbm_mode: bool | None = None) -> Value | None:
    """Firmware reports µW (values > 0) or 0.01 dBm (values ≤ 0), as LibreNMS reads them; a threshold
    follows the unit its port's readings use (a +2 dBm high alarm is +200 in 0.01 dBm)."""
    v = _int(raw)
    if v is None or v == 2147483647:
        return None
    in_dbm = v <= 0 if dbm_mode is None else dbm_mode
    return power_dbm(v / 100) if in_dbm else dbm_from_mw(v / 1000)


def _huawei(
    cols: Mapping[str, Mapping[str, Any]], ifs: Mapping[int, Mapping[str, Any]], notes: list[str]
) -> list[Reading]:
    names = _col(cols, ENT_NAME)
    col = {c: _col(cols, f"{HUAWEI_OPTIC}.{c}") for c in (5, 6, 7, 8, 9, 13, 14, 15, 16)}
    out: dict[tuple[str, int | None], Reading] = {}
    for idx in col[8]:
        port = names.get(idx)
        if not isinstance(port, str) or not port:
            continue
        r = _reading(out, port, None, f"hwOpticalModuleInfo {idx}")
        dbm_mode = any(x is not None and x <= 0 for x in (_int(col[8].get(idx)), _int(col[9].get(idx))))
        for kind, c, low, high in (("rx", 8, 13, 14), ("tx", 9, 15, 16)):
            v = _huawei_power(col[c].get(idx))
            if v is None:
                r.values[kind] = Value(None, "invalid", "2147483647 (invalid) or not an integer")
                continue
            for name, tc in (("low_alarm", low), ("high_alarm", high)):
                t = _huawei_power(col[tc].get(idx), dbm_mode)
                if t is not None and t.value is not None:
                    v.thresholds[name] = t.value
            r.values[kind] = v
        temp, volt, bias = _int(col[5].get(idx)), _int(col[6].get(idx)), _int(col[7].get(idx))
        if temp is not None and temp != 2147483647:
            r.values["temp"] = Value(float(temp))
        if volt is not None and volt != 2147483647:
            r.values["voltage"] = Value(round(volt / 1000, 3))
        if bias is not None and bias != 2147483647:
            r.values["bias"] = Value(round(bias / 1000, 3))
    return list(out.values())
