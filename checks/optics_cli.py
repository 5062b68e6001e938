"""Parsing switch CLI output into DOM readings: TextFSM templates — ntc-templates where they are right,
our own (checks/textfsm/) where ntc-templates has none or is wrong (optics.md §3):

- cisco_ios ``show interfaces transceiver`` (the plural; negative temperatures; the "Alarms applicable…"
  header; the ``++ + - --`` flags kept as the device's own alarm state),
- juniper_junos ``show interfaces diagnostics optics`` (module values, thresholds, QSFP lanes),
- huawei_vrp ``display transceiver verbose`` (CE/VRP8 and VRP5/AR layouts),
- arista_eos ``show interfaces transceiver`` (ntc-templates' stops at a real Last Update column);

and through ntc-templates cisco_nxos ``show interface transceiver details`` and arista_eos ``show interfaces
transceiver detail`` (values and the optic's own levels). A Cisco VSS/stack that answers ``% Incomplete
command.`` is read member by member (``show interfaces transceiver switch N``, collected by switchcli).

Raw output is the evidence (diagnostics.sources.switchcli collects it); parsing happens here, on
recorded or live text alike. A switch that answers ``% Invalid input`` gives a note, not a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from checks import optics_decode as dec

OWN = "own"
NTC = "ntc"
# platform → role → (command, template source)
COMMANDS: dict[str, dict[str, tuple[str, str]]] = {
    "cisco_ios": {
        "transceiver": ("show interfaces transceiver", OWN),
        "status": ("show interfaces status", NTC),
        "lldp": ("show lldp neighbors detail", NTC),
    },
    "arista_eos": {
        "detail": ("show interfaces transceiver detail", NTC),  # values and the optic's own levels
        "transceiver": ("show interfaces transceiver", OWN),  # values only: where detail is refused or odd
        "status": ("show interfaces status", NTC),
        "lldp": ("show lldp neighbors detail", NTC),
    },
    "cisco_nxos": {
        "transceiver": ("show interface transceiver details", NTC),
        "status": ("show interface status", NTC),
        "lldp": ("show lldp neighbors detail", NTC),
    },
    "juniper_junos": {
        "transceiver": ("show interfaces diagnostics optics", OWN),
        "lldp": ("show lldp neighbors", NTC),
    },
    "huawei_vrp": {
        "transceiver": ("display transceiver verbose", OWN),
        "status": ("display interface brief", NTC),
    },
}
# Cisco VSS/stack: `show interfaces transceiver` answers "% Incomplete command."; ask each member instead
MEMBER_COMMAND = "show interfaces transceiver switch {n}"
MAX_MEMBERS = 9
FLAGS = {"++": "high_alarm", "+": "high_warn", "-": "low_warn", "--": "low_alarm"}
_REFUSED = ("% Invalid input", "% Unknown command", "syntax error", "Error: Unrecognized command", "% Incomplete")


@cache
def _template(name: str) -> str:
    return resources.files("checks").joinpath("textfsm", f"{name}.textfsm").read_text(encoding="utf-8")


def parse_own(platform: str, command: str, text: str) -> list[dict[str, str]]:
    import io

    import textfsm

    name = f"{platform}_{command.replace(' ', '_')}"
    fsm = textfsm.TextFSM(io.StringIO(_template(name)))
    rows: list[dict[str, str]] = fsm.ParseTextToDicts(text)
    return rows


def parse_ntc(platform: str, command: str, text: str) -> list[dict[str, Any]]:
    from ntc_templates.parse import parse_output

    rows = parse_output(platform=platform, command=command, data=text)
    return [{str(k).upper(): v for k, v in row.items()} for row in rows]  # ntc-templates lower-cases the keys


def refused(text: str) -> str | None:
    for line in text.splitlines():
        if any(marker in line for marker in _REFUSED):
            return line.strip()
    return None


def _num(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _power(text: str | None, flag: str | None = None) -> dec.Value | None:
    t = (text or "").strip()
    if not t or t.upper().replace("/", "") == "NA":
        return None  # no optic, or the value does not apply
    if "inf" in t.lower():
        return dec.Value(None, "no_light", f"{t} dBm")
    value = _num(t)
    if value is None:
        return dec.Value(None, "invalid", f"{t!r} is not a number")
    v = dec.power_dbm(value)
    v.flag = FLAGS.get(flag or "", "")
    return v


def _plain(text: str | None, scale: float = 1.0, flag: str | None = None) -> dec.Value | None:
    value = _num(text)
    if value is None:
        return None
    return dec.Value(round(value * scale, 3), flag=FLAGS.get(flag or "", ""))


def _thresholds(row: Mapping[str, str], prefix: str) -> dict[str, float]:
    out = {}
    for key, name in (
        ("HIGH_ALARM", "high_alarm"),
        ("LOW_ALARM", "low_alarm"),
        ("HIGH_WARN", "high_warn"),
        ("LOW_WARN", "low_warn"),
    ):
        value = _num(row.get(f"{prefix}_{key}"))
        if value is not None:
            out[name] = value
    return out


# kind → (value column, flag column or None, parser), per table layout
_CISCO = {
    "rx": ("RX_POWER", "RX_FLAG", "power"),
    "tx": ("TX_POWER", "TX_FLAG", "power"),
    "temp": ("TEMPERATURE", "TEMPERATURE_FLAG", "plain"),
    "voltage": ("VOLTAGE", "VOLTAGE_FLAG", "plain"),
    "bias": ("CURRENT", "CURRENT_FLAG", "plain"),
}
_ARISTA = {
    "rx": ("RX_POWER", None, "power"),
    "tx": ("TX_POWER", None, "power"),
    "temp": ("TEMP", None, "plain"),
    "voltage": ("VOLTAGE", None, "plain"),
    "bias": ("BIAS_CURRENT", None, "plain"),
}


def _readings_table(
    rows: list[dict[str, Any]], port: str, layout: Mapping[str, tuple[str, str | None, str]]
) -> list[dec.Reading]:
    """One reading per row of a `show interfaces transceiver` table (a row of N/A is no optic)."""
    out = []
    for r in rows:
        reading = dec.Reading(port=r[port], source="show interfaces transceiver")
        for kind, (column, flag, parser) in layout.items():
            fl = r.get(flag) if flag else None
            value = _power(r.get(column), fl) if parser == "power" else _plain(r.get(column), flag=fl)
            if value is not None:
                reading.values[kind] = value
        if reading.values:
            out.append(reading)
    return out


_ARISTA_DETAIL = {"temperature": "temp", "voltage": "voltage", "current": "bias", "tx power": "tx", "rx power": "rx"}
# the optic's own levels: our name → the template's column (Arista detail) or column suffix (NX-OS details)
_ARISTA_LEVELS = {
    "high_alarm": "HIGH_ALARM_THRESHOLD",
    "high_warn": "HIGH_WARN_THRESHOLD",
    "low_alarm": "LOW_ALARM_THRESHOLD",
    "low_warn": "LOW_WARN_THRESHOLD",
}
_NXOS_LEVELS = {"high_alarm": "ALARM_HIGH", "low_alarm": "ALARM_LOW", "high_warn": "WARN_HIGH", "low_warn": "WARN_LOW"}


def _with_levels(kind: str, text: Any, row: dict[str, Any], levels: dict[str, str]) -> dec.Value | None:
    """The value of ``kind`` read from ``text`` with the optic's own levels from ``row`` (None: no value)."""
    value = _power(text) if kind in ("rx", "tx") else _plain(text)
    if value is not None:
        value.thresholds = {name: level for name, col in levels.items() if (level := _num(row.get(col))) is not None}
    return value


def _readings_arista_detail(rows: list[dict[str, Any]]) -> list[dec.Reading]:
    """ntc-templates' arista_eos `show interfaces transceiver detail`: one row per (kind, port) with the value
    and the optic's own high/low alarm/warning levels."""
    by_port: dict[str, dec.Reading] = {}
    for r in rows:
        kind = _ARISTA_DETAIL.get(str(r.get("TYPE", "")).strip().lower())
        port = str(r.get("PORT") or "").strip()
        if kind is None or not port:
            continue
        value = _with_levels(kind, r.get("CURRENT_VALUE"), r, _ARISTA_LEVELS)
        if value is None:
            continue
        reading = by_port.setdefault(port, dec.Reading(port=port, source="show interfaces transceiver detail"))
        reading.values[kind] = value
    return list(by_port.values())


def _merge(first: list[dec.Reading], more: list[dec.Reading]) -> list[dec.Reading]:
    """``first`` wins; ``more`` adds the ports and kinds ``first`` lacks (detail + table on Arista)."""
    index = {(r.port, r.lane): r for r in first}
    out = list(first)
    for r in more:
        have = index.get((r.port, r.lane))
        if have is None:
            out.append(r)
            index[(r.port, r.lane)] = r
        else:
            for kind, value in r.values.items():
                have.values.setdefault(kind, value)
    return out


def _readings_junos(rows: list[dict[str, str]]) -> list[dec.Reading]:
    out = []
    module: dict[str, dict[str, dict[str, float]]] = {}
    for r in rows:
        lane = int(r["LANE"]) if r.get("LANE") else None
        reading = dec.Reading(port=r["INTERFACE"], lane=lane, source="show interfaces diagnostics optics")
        if lane is None:  # the module's levels; a QSFP's lanes have none of their own (they follow)
            module[r["INTERFACE"]] = {k: _thresholds(r, p) for k, p in (("rx", "RX"), ("tx", "TX"), ("bias", "BIAS"))}
            module[r["INTERFACE"]]["temp"] = _thresholds(r, "TEMP")
        limits = module.get(r["INTERFACE"], {})
        for kind, value in (("rx", _power(r.get("RX_DBM"))), ("tx", _power(r.get("TX_DBM")))):
            if value is not None:
                value.thresholds = dict(limits.get(kind, {}))
                reading.values[kind] = value
        if (value := _plain(r.get("BIAS_MA"))) is not None:
            value.thresholds = dict(limits.get("bias", {}))
            reading.values["bias"] = value
        if lane is None and (value := _plain(r.get("TEMPERATURE"))) is not None:
            value.thresholds = dict(limits.get("temp", {}))
            reading.values["temp"] = value
        if (volt := _plain(r.get("VOLTAGE"))) is not None:
            reading.values["voltage"] = volt
        if reading.values:
            out.append(reading)
    return out


def _readings_nxos(rows: list[dict[str, Any]]) -> list[dec.Reading]:
    """ntc-templates' cisco_nxos `show interface transceiver details`: per interface (and lane on QSFPs) the
    value and the optic's own alarm/warning levels of each kind; N/A is no value."""
    out = []
    for r in rows:
        lane = int(r["LANE"]) if str(r.get("LANE") or "").isdigit() else None
        reading = dec.Reading(port=str(r["INTERFACE"]), lane=lane, source="show interface transceiver details")
        for kind, key in (
            ("rx", "RX"),
            ("tx", "TX"),
            ("temp", "TEMPERATURE"),
            ("bias", "AMPS"),
            ("voltage", "VOLTAGE"),
        ):
            levels = {name: f"{key}_{col}" for name, col in _NXOS_LEVELS.items()}
            value = _with_levels(kind, r.get(f"{key}_VALUE"), r, levels)
            if value is not None:
                reading.values[kind] = value
        if reading.values:
            out.append(reading)
    return out


def _readings_huawei(rows: list[dict[str, str]]) -> tuple[list[dec.Reading], dict[str, str]]:
    out, types = [], {}
    for r in rows:
        if not str(r.get("INTERFACE") or "").strip():
            continue  # never a reading without a port name
        reading = dec.Reading(port=r["INTERFACE"], source="display transceiver verbose")
        if r.get("TYPE"):
            types[r["INTERFACE"]] = r["TYPE"]
        for kind in ("rx", "tx"):
            value = _power(r.get(f"{kind.upper()}_DBM"))
            if value is not None:
                value.thresholds = _thresholds(r, kind.upper())
                reading.values[kind] = value
        for kind, key, prefix in (
            ("temp", "TEMPERATURE", "TEMP"),
            ("voltage", "VOLTAGE", "VOLT"),
            ("bias", "BIAS_MA", "BIAS"),
        ):
            if (v := _plain(r.get(key))) is not None:
                v.thresholds = _thresholds(r, prefix)
                reading.values[kind] = v
        if reading.values:
            out.append(reading)
    return out, types


def _members(outputs: Mapping[str, str]) -> list[tuple[str, str]]:
    """The answers of `show interfaces transceiver switch N` that are not refusals, in member order."""
    out = []
    for n in range(1, MAX_MEMBERS + 1):
        command = MEMBER_COMMAND.format(n=n)
        text = outputs.get(command)
        if text is not None and not refused(text):
            out.append((command, text))
    return out


def _status(platform: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        if platform == "huawei_vrp":
            phy = str(r.get("PHY", ""))
            out.append(
                {
                    "name": r["INTERFACE"],
                    "admin": "down" if phy.startswith("*") else "up",
                    "oper": "up" if phy.startswith("up") else "down",
                }
            )
            continue
        status = str(r.get("STATUS", ""))
        admin = "down" if status == "disabled" else "up"
        out.append({"name": r["PORT"], "admin": admin, "oper": "up" if status in ("connected", "up") else "down"})
    return out


def _lldp(rows: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    out = {}
    for r in rows:
        local = r.get("LOCAL_INTERFACE")
        far = r.get("NEIGHBOR_INTERFACE") or r.get("NEIGHBOR_PORT_ID")
        name = r.get("NEIGHBOR_NAME")
        if local and far and name:
            out[str(local)] = {"system": str(name), "port": str(far)}
    return out


def parse(platform: str, outputs: Mapping[str, str]) -> dict[str, Any]:
    """Readings, interfaces, neighbours and notes from the raw outputs of COMMANDS[platform]."""
    notes: list[str] = []
    parsed: dict[str, list[dict[str, Any]]] = {}
    for role, (command, source) in COMMANDS.get(platform, {}).items():
        text = outputs.get(command)
        if text is None:
            continue
        if why := refused(text):
            members = _members(outputs) if role == "transceiver" and platform == "cisco_ios" else []
            if members:
                notes.append(f"`{command}` answered {why!r}: read per member ({', '.join(c for c, _ in members)})")
                parsed[role] = []
                for member_command, member_text in members:
                    try:
                        parsed[role] += parse_own(platform, command, member_text)
                    except Exception as exc:  # textfsm raises its own errors on text it cannot parse
                        notes.append(f"`{member_command}` could not be parsed: {exc.__class__.__name__}: {exc}")
                continue
            notes.append(f"the switch refused `{command}`: {why}")
            continue
        try:
            parsed[role] = (parse_own if source == OWN else parse_ntc)(platform, command, text)
        except Exception as exc:  # textfsm raises its own errors on text it cannot parse
            notes.append(f"`{command}` could not be parsed: {exc.__class__.__name__}: {exc}")
    rows = parsed.get("transceiver", [])
    types = {str(r["PORT"]): str(r["TYPE"]) for r in parsed.get("status", []) if r.get("PORT") and r.get("TYPE")}
    if platform == "cisco_ios":
        readings = _readings_table(rows, "INTERFACE", _CISCO)
    elif platform == "arista_eos":
        readings = _merge(_readings_arista_detail(parsed.get("detail", [])), _readings_table(rows, "PORT", _ARISTA))
    elif platform == "cisco_nxos":
        readings = _readings_nxos(rows)
    elif platform == "juniper_junos":
        readings = _readings_junos(rows)
    else:
        readings, optic_types = _readings_huawei(rows)
        types.update(optic_types)
    return {
        "readings": [r.to_dict() for r in readings],
        "interfaces": _status(platform, parsed.get("status", [])),
        "neighbours": _lldp(parsed.get("lldp", [])),
        "types": types,
        "notes": notes,
    }
