"""The optics rules on one reading: the parameters, the levels a value is judged against (the user's
override, else the optic's own when sane, else the standard's for its type — ``optics_standards.toml``),
and the findings of one port's readings ("no light" judged by the port's admin status)."""

from __future__ import annotations

import fnmatch
import re
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import Field

from checks import optics_decode as dec
from diagnostics.check import Params
from diagnostics.model import Evidence, Finding, Metric, Severity

CHECK_NAME = "optics"
_STANDARDS = tomllib.loads((Path(__file__).with_name("optics_standards.toml")).read_text(encoding="utf-8"))
# Standard levels per optic type: Rx low alarm/warn, Tx low alarm/warn/high warn, channel insertion loss.
STANDARD: dict[str, dict[str, float]] = {
    t: {k: float(v) for k, v in lv.items()} for t, lv in _STANDARDS["types"].items()
}
CONNECTOR_DB: float = float(_STANDARDS["budget"]["connector_db"])
SPLICE_DB: float = float(_STANDARDS["budget"]["splice_db"])


class OpticsParams(Params):
    default_type: str = Field("10GBASE-LR", description="optic type assumed for standard levels when unknown")
    rx_low_warn: float | None = Field(None, description="override (dBm) for every port")
    rx_low_alarm: float | None = None
    tx_low_warn: float | None = None
    tx_low_alarm: float | None = None
    temp_high_warn: float = Field(70.0, description="°C, when the optic gives none")
    temp_high_alarm: float = 75.0
    bias_low_ma: float = Field(2.0, description="mA, when the optic gives none")
    bias_high_ma: float = 100.0
    loss_crit_margin_db: float = Field(3.0, ge=0, description="loss this far above the expected is CRIT")
    asymmetry_db: float = Field(2.0, gt=0, description="difference between the two directions that is flagged")
    errors_warn: int = Field(10, ge=1, description="new input/FCS errors since the last run that are flagged")
    concurrency: int = Field(32, ge=1, le=512, description="switches walked at once")
    workers: int = Field(1, ge=1, le=16, description="processes sharing the sweep (pysnmp decodes in Python)")
    max_repetitions: int = Field(25, ge=1, le=100)
    static_cache_h: float = Field(
        24.0, ge=0, description="hours the optics' thresholds and the entity tree are kept between runs (0: off)"
    )


def port_selected(port: str, patterns: list[str]) -> bool:
    """``Ethernet1-48`` (a numeric range after a prefix) or an fnmatch glob; no patterns: every port."""
    if not patterns:
        return True
    for p in patterns:
        m = re.fullmatch(r"(.*?)(\d+)-(\d+)", p)
        if m:
            n = re.fullmatch(re.escape(m.group(1)) + r"(\d+)", port)
            if n and int(m.group(2)) <= int(n.group(1)) <= int(m.group(3)):
                return True
        elif fnmatch.fnmatchcase(port, p):
            return True
    return False


def standard_levels(kind: str, otype: str, params: OpticsParams) -> tuple[dict[str, float], str]:
    """The standard's levels for the optic type. An assumed type (none known for the port) lends only its
    low levels: a dim signal is a fault on any optic, a strong one is normal on many."""
    known = otype in STANDARD
    table = STANDARD[otype] if known else STANDARD.get(params.default_type, {})
    keys = ("low_alarm", "low_warn", "high_warn") if known else ("low_alarm", "low_warn")
    levels = {k: table[f"{kind}_{k}"] for k in keys if f"{kind}_{k}" in table}
    return levels, f"standard {otype}" if known else f"assumed {params.default_type}"


def levels_for(kind: str, v: dec.Value, params: OpticsParams, otype: str) -> tuple[dict[str, float], str, bool]:
    """(levels, where they came from, were the optic's own nonsense): an override > the optic's own when
    sane > the standard's (power) or the defaults (temperature, bias)."""
    if kind in ("rx", "tx"):
        base, origin = standard_levels(kind, otype, params)
    elif kind == "temp":
        base, origin = {"high_warn": params.temp_high_warn, "high_alarm": params.temp_high_alarm}, "default"
    elif kind == "bias":
        base, origin = {"low_alarm": params.bias_low_ma, "high_alarm": params.bias_high_ma}, "default"
    else:
        base, origin = {}, "default"
    override = {
        name: level
        for name in ("low_warn", "low_alarm")
        if (level := getattr(params, f"{kind}_{name}", None)) is not None
    }
    own = dict(v.thresholds)
    suspect = bool(own) and not sane_levels(kind, own)
    usable = own if own and not suspect else base
    if override:
        return {**usable, **override}, "override", suspect
    return usable, "optic" if usable is own else origin, suspect


def sane_levels(kind: str, t: Mapping[str, float]) -> bool:
    order = [t[k] for k in ("low_alarm", "low_warn", "high_warn", "high_alarm") if k in t]
    if order != sorted(order):  # equal levels are normal (bias low warn = low alarm = 0, Junos Tx highs)
        return False
    if len(order) >= 2 and order[0] == order[-1]:
        return False  # every level the same: no window at all
    if kind in ("rx", "tx"):
        low = t.get("low_alarm", t.get("low_warn"))
        high = t.get("high_alarm", t.get("high_warn"))
        if low is not None and ((kind == "rx" and low >= 0) or low < -35):
            return False  # an Rx low alarm at 0 dBm is nonsense; a Tx one is normal for ER/ZR optics
        if high is not None and not -20 < high < 15:
            return False
    return True


def judge_value(value: float, levels: Mapping[str, float]) -> tuple[Severity, str] | None:
    for name, sev, low in (
        ("low_alarm", Severity.CRIT, True),
        ("high_alarm", Severity.CRIT, False),
        ("low_warn", Severity.WARN, True),
        ("high_warn", Severity.WARN, False),
    ):
        level = levels.get(name)
        if level is not None and (value < level if low else value > level):
            return sev, name
    return None


_CODE = {
    "rx": ("OPTICS_RX_LOW", "OPTICS_RX_HIGH"),
    "tx": ("OPTICS_TX_LOW", "OPTICS_TX_HIGH"),
    "temp": ("OPTICS_TEMP_HIGH", "OPTICS_TEMP_HIGH"),
    "bias": ("OPTICS_BIAS_OUT_OF_RANGE",) * 2,
}
UNIT = {"rx": "dBm", "tx": "dBm", "temp": "°C", "bias": "mA", "voltage": "V"}
WHAT = {"rx": "receive power", "tx": "transmit power", "temp": "temperature", "bias": "bias current"}
_FIX = {
    "OPTICS_RX_LOW": "Clean and re-seat both connectors of the fibre (inspect with a scope), check the patch path "
    "for tight bends; if the far end's Tx power is low too, replace that optic.",
    "OPTICS_RX_HIGH": "Too much light: an LR/ER optic on a short fibre needs an attenuator.",
    "OPTICS_TX_LOW": "The laser is weak or failing: replace the optic.",
    "OPTICS_TX_HIGH": "Check the optic type matches the link; replace a faulty optic.",
    "OPTICS_TEMP_HIGH": "Check airflow and fan trays; a hot optic ages fast.",
    "OPTICS_BIAS_OUT_OF_RANGE": "A bias far from its levels predicts laser failure: plan to replace the optic.",
}


def reading_findings(
    r: dec.Reading,
    target: str,
    iface: Mapping[str, Any],
    otype: str,
    params: OpticsParams,
    ev: tuple[Evidence, ...],
    metrics: list[Metric],
) -> Iterator[Finding]:
    invalid = {k: v.reason for k, v in r.values.items() if v.state == "invalid"}
    if invalid:
        yield Finding(
            check=CHECK_NAME,
            code="OPTICS_READING_INVALID",
            severity=Severity.UNKNOWN,
            target=target,
            summary="cannot decode " + "; ".join(f"{WHAT.get(k, k)}: {why}" for k, why in invalid.items()),
            evidence=ev,
            remediation="Check the platform setting; update the switch firmware if its sensors report nonsense.",
        )
    admin_down = iface.get("admin") == "down"
    for kind in ("rx", "tx", "temp", "bias"):
        v = r.values.get(kind)
        if v is None or v.state in ("invalid", "unavailable"):
            continue  # unavailable: the device says it has no value (Cisco N/A, a sensor status)
        if v.state == "no_light":
            if kind == "rx":
                yield _no_light(target, iface, v, ev)
            continue
        if kind == "bias" and v.value == 0:
            continue  # the laser is off (a shut or unused lane): 0 mA is its state, not a drifting laser
        if admin_down and kind in ("rx", "tx", "bias"):
            continue  # a port shut by the operator: its light says nothing about a fault
        tx = r.values.get("tx")
        if kind == "bias" and tx is not None and tx.state == "no_light":
            continue  # the laser is off: its bias says nothing more
        levels, origin, suspect = levels_for(kind, v, params, otype)
        if suspect:
            yield Finding(
                check=CHECK_NAME,
                code="OPTICS_THRESHOLDS_SUSPECT",
                severity=Severity.WARN,
                target=target,
                summary=f"the optic's {WHAT[kind]} thresholds make no sense "
                f"({', '.join(f'{k} {x:g}' for k, x in v.thresholds.items())}): judged against "
                f"{origin} instead",
                evidence=ev,
                remediation="Set [thresholds.optics] levels for these optics, or replace optics with "
                "broken EEPROM data.",
            )
        power = kind in ("rx", "tx")
        metrics.append(
            Metric(
                name=f"{kind}_power" if power else kind,
                value=v.value,
                unit=UNIT[kind],
                warn=levels.get("low_warn") if power else levels.get("high_warn"),
                crit=levels.get("low_alarm") if power else levels.get("high_alarm"),
                direction="lower" if power else "upper",
            )
        )
        assert v.value is not None
        verdict = judge_value(v.value, levels)
        if verdict is None and v.flag and (kind != "temp" or v.flag.startswith("high")):  # CLI ++ + - --
            sev = Severity.CRIT if v.flag.endswith("alarm") else Severity.WARN
            if kind == "bias" and _tx_fine(r, params, otype):
                sev = Severity.WARN  # the laser sends its normal power: the bias flag alone does not page
            code = _CODE[kind][0 if v.flag.startswith("low") else 1]
            yield Finding(
                check=CHECK_NAME,
                code=code,
                severity=sev,
                target=target,
                summary=f"the switch flags {WHAT[kind]} {v.value:g} {UNIT[kind]} as "
                f"{v.flag.replace('_', ' ').replace('warn', 'warning')}",
                evidence=ev,
                remediation=_FIX[code],
            )
            continue
        if verdict:
            sev, level_name = verdict
            code = _CODE[kind][0 if level_name.startswith("low") else 1]
            yield Finding(
                check=CHECK_NAME,
                code=code,
                severity=sev,
                target=target,
                summary=f"{WHAT[kind]} {v.value:g} {UNIT[kind]} beyond {level_name.replace('_', ' ')} "
                f"{levels[level_name]:g} {UNIT[kind]} ({origin} levels)",
                evidence=ev,
                remediation=_FIX[code],
            )


def _tx_fine(r: dec.Reading, params: OpticsParams, otype: str) -> bool:
    """Tx power read, unflagged and inside its levels: the laser works whatever its bias flag says."""
    tx = r.values.get("tx")
    if tx is None or tx.value is None or tx.state != "ok" or tx.flag:
        return False
    levels, _, _ = levels_for("tx", tx, params, otype)
    return judge_value(tx.value, levels) is None


def optic_type(text: str | None) -> str | None:
    """'10GBASE_LR' or 'SFP-10GBase-LR' → '10GBASE-LR' when it is one the standard table knows."""
    if not text:
        return None
    norm = re.sub(r"[^0-9A-Z]", "", text.upper())
    return next((t for t in STANDARD if re.sub(r"[^0-9A-Z]", "", t) in norm), None)


def _no_light(target: str, iface: Mapping[str, Any], v: dec.Value, ev: tuple[Evidence, ...]) -> Finding:
    admin, oper = iface.get("admin", "unknown"), iface.get("oper", "unknown")
    if oper == "up":  # an optical link cannot be up without light: the 0 is the sensor's, not the fibre's
        return Finding(
            check=CHECK_NAME,
            code="OPTICS_NO_LIGHT",
            severity=Severity.INFO,
            target=target,
            summary=f"the sensor reads no light ({v.reason or 'dark'}) but the port is up: not a measurement",
            evidence=ev,
        )
    down = admin == "down"
    unknown = admin == "unknown"
    return Finding(
        check=CHECK_NAME,
        code="OPTICS_NO_LIGHT",
        severity=Severity.INFO if down else Severity.UNKNOWN if unknown else Severity.CRIT,
        target=target,
        summary=f"no light received ({v.reason or 'dark'}); port admin {admin}, oper {oper}"
        + (
            ": unused, not a fault"
            if down
            else ": the port's status is unknown (no IF-MIB row for it)"
            if unknown
            else ": the link is dark"
        ),
        evidence=ev,
        remediation=""
        if down
        else "Check the far end transmits (its Tx power, its port enabled), then the "
        "fibre and patch panels; swap the optic.",
    )
