"""Juniper: JUNIPER-DOM-MIB jnxDomCurrentTable, indexed by ifIndex: power in 0.01 dBm, bias in µA
(0.001 mA), temperature in °C, voltage in mV; thresholds in the same units, columns 9–24 in the order
high alarm, low alarm, high warning, low warning (Rx, bias, Tx, temperature). QSFP lanes in
jnxDomModuleLaneTable {ifIndex, lane from 0}, judged against the module's thresholds.

A row whose Rx, Tx and bias are all 0 is no optic (an empty cage, a DAC or a copper module: seen on
EX4600, MX5 and QFX5130 walks) and gives no reading.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from checks.optics_dom.core import JNX_DOM, JNX_LANE, Reading, Value, as_int, col, power_dbm, reading

COLUMNS = [
    *(f"{JNX_DOM}.{c}" for c in (5, 6, 7, 8, *range(9, 26), 30)),
    *(f"{JNX_LANE}.{c}" for c in (6, 7, 8, 9)),
]


def _thresholds(row: Mapping[int, Any], first: int, scale: float) -> dict[str, float]:
    """Columns first..first+3: high alarm, low alarm, high warning, low warning (0 everywhere = unset)."""
    raw = [as_int(row.get(first + i)) for i in range(4)]
    if all(x in (None, 0) for x in raw):
        return {}
    names = ("high_alarm", "low_alarm", "high_warn", "low_warn")
    return {n: round(x * scale, 3) for n, x in zip(names, raw, strict=True) if x is not None}


def _power(raw: Any, thresholds: dict[str, float]) -> Value:
    v = as_int(raw)
    if v is None:
        return Value(None, "invalid", f"value of type {type(raw).__name__} ({raw!r})", thresholds)
    out = power_dbm(v / 100)
    out.thresholds = thresholds
    return out


def _empty(row: Mapping[int, Any], rx: int, bias: int, tx: int) -> bool:
    return all(as_int(row.get(c)) == 0 for c in (rx, bias, tx))


def decode(
    cols: Mapping[str, Mapping[str, Any]], ifs: Mapping[int, Mapping[str, Any]], notes: list[str]
) -> list[Reading]:
    rows: dict[str, dict[int, Any]] = {}
    for c in (5, 6, 7, 8, *range(9, 26), 30):
        for idx, v in col(cols, f"{JNX_DOM}.{c}").items():
            rows.setdefault(idx, {})[c] = v
    lanes: dict[str, dict[str, dict[int, Any]]] = {}
    for c in (6, 7, 8, 9):
        for lidx, v in col(cols, f"{JNX_LANE}.{c}").items():
            idx, _, lane = lidx.partition(".")
            lanes.setdefault(idx, {}).setdefault(lane, {})[c] = v
    out: dict[tuple[str, int | None], Reading] = {}
    empty = 0
    for idx, row in rows.items():
        port = (ifs.get(int(idx)) or {}).get("name") if idx.isdigit() else None
        if port is None:
            notes.append(f"jnxDom ifIndex {idx}: not in IF-MIB")
            continue
        if _empty(row, 5, 6, 7):
            empty += 1
            continue
        r = reading(out, port, None, f"jnxDom ifIndex {idx}")
        r.values["rx"] = _power(row.get(5), _thresholds(row, 9, 0.01))
        r.values["tx"] = _power(row.get(7), _thresholds(row, 17, 0.01))
        bias = as_int(row.get(6))
        r.values["bias"] = Value(
            round(bias / 1000, 3) if bias is not None else None,
            "ok" if bias is not None else "invalid",
            "" if bias is not None else f"bias {row.get(6)!r} is not an integer",
            thresholds=_thresholds(row, 13, 0.001),
        )
        temp = as_int(row.get(8))
        r.values["temp"] = Value(
            float(temp) if temp is not None else None,
            "ok" if temp is not None else "invalid",
            "" if temp is not None else f"temperature {row.get(8)!r} is not an integer",
            thresholds=_thresholds(row, 21, 1.0),
        )
        volt = as_int(row.get(25))
        if volt is not None and volt > 0:
            r.values["voltage"] = Value(round(volt / 1000, 3))
        module = r.values
        port_lanes = lanes.get(idx, {})
        if set(port_lanes) == {"0"}:
            port_lanes = {}  # an SFP's one lane repeats the module's values
        for lane, lrow in port_lanes.items():
            if not lane.isdigit() or _empty(lrow, 6, 7, 8):
                continue
            lr = reading(out, port, int(lane), f"jnxDomLane {idx}.{lane}")
            lr.values["rx"] = _power(lrow.get(6), module["rx"].thresholds)  # lanes use the module's
            lr.values["tx"] = _power(lrow.get(8), module["tx"].thresholds)
            lb = as_int(lrow.get(7))
            if lb is not None:
                lr.values["bias"] = Value(round(lb / 1000, 3), thresholds=module["bias"].thresholds)
    if empty:
        notes.append(f"{empty} jnxDom rows all zero (empty cage, DAC or copper): not optics")
    return list(out.values())
