"""Huawei VRP, CloudEngine and NE: HUAWEI-ENTITY-EXTENT-MIB hwOpticalModuleInfoTable, indexed by
entPhysicalIndex (entPhysicalName is the port).

Columns: 5 temperature °C, 6 voltage mV, 7 bias, 8 Rx power, 9 Tx power, 13/14 Rx low/high alarm,
15/16 Tx low/high alarm, 32/33 per-lane Rx/Tx in dBm as text (`-1.25,-1.39,-2.47,-1.34`).
Units by device, never by value (tests/data/devices/huawei-*):
- power: µW on S5720-class firmware, 0.01 dBm on NE8000 and CloudEngine/YunShan. A device with any
  negative power reading reports 0.01 dBm (µW cannot be negative); one with only positive readings, µW.
- thresholds: always 0.01 dBm.
- bias: µA (S5720, YunShan: 22236, 7300) or mA (NE8000: 34) — a device with any bias above 500 reports µA.
Sentinels: −1, −255 and 2147483647 are "no value"; a row whose temperature, voltage, bias and power are all
sentinels or 0 is an empty cage (or an optic without DOM) and gives no reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.optics_dom.core import ENT_NAME, HUAWEI_OPTIC, Reading, Value, as_int, col, dbm_from_mw, power_dbm, reading

COLUMNS = [ENT_NAME, *(f"{HUAWEI_OPTIC}.{c}" for c in (5, 6, 7, 8, 9, 13, 14, 15, 16, 32, 33))]
SENTINELS = {-1, -255, 2147483647, -2147483648}


def _v(raw: Any) -> int | None:
    v = as_int(raw)
    return None if v is None or v in SENTINELS else v


def _lanes(text: Any) -> list[float] | None:
    if not isinstance(text, str) or "," not in text:
        return None
    try:
        return [float(x) for x in text.split(",")]
    except ValueError:
        return None


def decode(
    cols: Mapping[str, Mapping[str, Any]], ifs: Mapping[int, Mapping[str, Any]], notes: list[str]
) -> list[Reading]:
    names = col(cols, ENT_NAME)
    c = {n: col(cols, f"{HUAWEI_OPTIC}.{n}") for n in (5, 6, 7, 8, 9, 13, 14, 15, 16, 32, 33)}
    rows = [idx for idx in c[8] if any(_v(c[n].get(idx)) not in (None, 0) for n in (5, 6, 7, 8, 9))]
    powers = [p for idx in rows for n in (8, 9) if (p := _v(c[n].get(idx))) is not None]
    in_dbm = any(p < 0 for p in powers)
    biases = [b for idx in rows if (b := _v(c[7].get(idx))) is not None]
    bias_ua = any(b > 500 for b in biases)
    out: dict[tuple[str, int | None], Reading] = {}
    for idx in rows:
        port = names.get(idx)
        if not isinstance(port, str) or not port:
            notes.append(f"hwOpticalModuleInfo {idx}: no entPhysicalName")
            continue
        r = reading(out, port, None, f"hwOpticalModuleInfo {idx}")
        for kind, n, low, high in (("rx", 8, 13, 14), ("tx", 9, 15, 16)):
            raw = as_int(c[n].get(idx))
            p = _v(c[n].get(idx))
            if raw is None:
                r.values[kind] = Value(None, "invalid", f"{c[n].get(idx)!r} is not an integer")
                continue
            if p is None:
                r.values[kind] = Value(None, "unavailable", f"{raw} (the device's no-value)")
                continue
            v = power_dbm(p / 100) if in_dbm else dbm_from_mw(p / 1000)
            levels = {name: _v(c[tc].get(idx)) for name, tc in (("low_alarm", low), ("high_alarm", high))}
            if any(x not in (None, 0) for x in levels.values()):
                v.thresholds = {k: x / 100 for k, x in levels.items() if x is not None}
            r.values[kind] = v
            for lane, dbm in enumerate(_lanes(c[32 if kind == "rx" else 33].get(idx)) or [], 1):
                lr = reading(out, port, lane, f"hwOpticalModuleInfo {idx} lane {lane}")
                lv = power_dbm(dbm)
                lv.thresholds = dict(v.thresholds)
                lr.values[kind] = lv
        temp, volt, bias = _v(c[5].get(idx)), _v(c[6].get(idx)), _v(c[7].get(idx))
        if temp is not None:
            r.values["temp"] = Value(float(temp))
        if volt is not None and volt > 0:
            r.values["voltage"] = Value(round(volt / 1000, 3))
        if bias is not None:
            r.values["bias"] = Value(round(bias / 1000, 3) if bias_ua else float(bias))
    return list(out.values())
