"""The ``optics`` check: SFP+/QSFP optical health from every switch, span loss per link, error counters.

Collect: ``[[switches]]`` over SNMP (all devices at once, diagnostics.sources.snmp; only the columns the
platform needs, checks/optics_decode.py) and/or SSH CLI (netmiko + TextFSM, diagnostics.sources.switchcli);
the previous run's error counters from the history store. Evaluate, per port and lane: Rx/Tx power,
temperature and bias against thresholds — the user's override, else the optic's own when sane, else the
standard's for the optic type —; "no light" judged by the port's admin status; span loss of every link
paired by LLDP or ``[[links]]`` in both directions, and their asymmetry; error counters rising between
runs, flagged with low Rx as a dirty-connector suspect. Facts: ../shared/docs/optics.md.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
from collections.abc import Generator, Iterator, Mapping
from typing import Any

from pydantic import Field

from checks import optics_decode as dec
from diagnostics.check import Check, CheckContext, Code, Params, RawEvidence
from diagnostics.config import ConfigError, Settings, SwitchSettings
from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity
from diagnostics.sources import snmp
from diagnostics.sources.errors import SourceError

NAME = "optics"
CODES = (
    Code(code="OPTICS_OK", severity=Severity.INFO, meaning="the port's optic reads within its thresholds"),
    Code(code="OPTICS_RX_LOW", severity=Severity.CRIT, meaning="receive power below the low alarm (CRIT) / warning"),
    Code(code="OPTICS_RX_HIGH", severity=Severity.CRIT, meaning="receive power above the high alarm / warning"),
    Code(code="OPTICS_TX_LOW", severity=Severity.CRIT, meaning="transmit power below the low alarm / warning"),
    Code(code="OPTICS_TX_HIGH", severity=Severity.CRIT, meaning="transmit power above the high alarm / warning"),
    Code(
        code="OPTICS_NO_LIGHT",
        severity=Severity.CRIT,
        meaning="no light received: CRIT on an admin-up port, INFO on an admin-down one",
    ),
    Code(code="OPTICS_TEMP_HIGH", severity=Severity.CRIT, meaning="module temperature above its alarm / warning"),
    Code(code="OPTICS_BIAS_OUT_OF_RANGE", severity=Severity.WARN, meaning="laser bias current outside its levels"),
    Code(code="LINK_LOSS_HIGH", severity=Severity.CRIT, meaning="span loss (Tx far − Rx near) above the expected"),
    Code(code="LINK_LOSS_ASYMMETRIC", severity=Severity.WARN, meaning="one direction loses much more than the other"),
    Code(code="IF_ERRORS_RISING", severity=Severity.WARN, meaning="input/FCS errors grew since the last run"),
    Code(
        code="OPTICS_THRESHOLDS_SUSPECT",
        severity=Severity.WARN,
        meaning="the optic's own thresholds make no sense: replaced by the standard's",
    ),
    Code(code="OPTICS_NOT_SUPPORTED", severity=Severity.UNKNOWN, meaning="no DOM readings from this device"),
    Code(code="OPTICS_READING_INVALID", severity=Severity.UNKNOWN, meaning="a sensor value that cannot be decoded"),
    Code(code="SWITCH_UNREACHABLE", severity=Severity.UNKNOWN, meaning="the switch did not answer (reason)"),
    Code(code="OPTICS_NOT_CONFIGURED", severity=Severity.UNKNOWN, meaning="no [[switches]] in the config"),
)
# Standard levels per optic type (optics.md §5): Rx low alarm/warn, Tx low alarm/warn, channel insertion loss.
STANDARD: dict[str, dict[str, float]] = {
    "10GBASE-SR": {
        "rx_low_alarm": -13.9,
        "rx_low_warn": -9.9,
        "tx_low_alarm": -11.3,
        "tx_low_warn": -7.3,
        "tx_high_warn": -1.0,
        "loss": 2.6,
    },
    "10GBASE-LR": {
        "rx_low_alarm": -17.4,
        "rx_low_warn": -14.4,
        "tx_low_alarm": -10.2,
        "tx_low_warn": -8.2,
        "tx_high_warn": 0.5,
        "loss": 6.2,
    },
    "10GBASE-ER": {
        "rx_low_alarm": -17.8,
        "rx_low_warn": -15.8,
        "tx_low_alarm": -6.7,
        "tx_low_warn": -4.7,
        "tx_high_warn": 4.0,
        "loss": 11.0,
    },
    "40GBASE-LR4": {
        "rx_low_alarm": -15.7,
        "rx_low_warn": -13.7,
        "tx_low_alarm": -9.0,
        "tx_low_warn": -7.0,
        "tx_high_warn": 2.3,
        "loss": 6.7,
    },
    "100GBASE-LR4": {
        "rx_low_alarm": -13.6,
        "rx_low_warn": -10.6,
        "tx_low_alarm": -6.3,
        "tx_low_warn": -4.3,
        "tx_high_warn": 4.5,
        "loss": 6.3,
    },
    "100GBASE-ER4": {
        "rx_low_alarm": -22.9,
        "rx_low_warn": -20.9,
        "tx_low_alarm": -4.9,
        "tx_low_warn": -2.9,
        "tx_high_warn": 2.9,
        "loss": 18.0,
    },
}
CONNECTOR_DB, SPLICE_DB = 0.75, 0.3


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


# --- collect -----------------------------------------------------------------------------------------------


def _target(sw: SwitchSettings) -> snmp.Target:
    cfg = sw.snmp
    assert cfg is not None

    def reveal(name: str) -> str:
        secret = cfg.secret(name, f"switches.{sw.name}.snmp.{name}")
        return secret.reveal() if secret else ""

    return snmp.Target(
        name=sw.name,
        host=sw.host,
        port=cfg.port,
        version=cfg.version,
        community=reveal("community") if cfg.version != "3" else "",
        user=cfg.user or "",
        auth_protocol=cfg.auth_protocol,
        auth_key=reveal("auth_key"),
        priv_protocol=cfg.priv_protocol,
        priv_key=reveal("priv_key"),
        timeout_s=cfg.timeout_s,
        retries=cfg.retries,
        context=cfg.context,
    )


def _previous(settings: Settings) -> dict[str, dict[str, Any]]:
    """The last recorded counters per port target (history store), for deltas between runs."""
    from diagnostics.history import History

    out: dict[str, dict[str, Any]] = {}
    try:
        with History.open(settings.history.full_url()) as store:
            for row in store.series(NAME, days=30):
                if row["name"] in ("in_errors", "fcs_errors", "sys_uptime"):
                    out.setdefault(row["target"], {})[row["name"]] = {"value": row["value"], "at": row["at"]}
    except (SourceError, ConfigError):
        return {}
    return out


def _start_cli_polls(ctx: CheckContext[OpticsParams]) -> dict[str, Any]:
    """Start polling every SSH switch at once, beside the SNMP sweep, each in a daemon thread bounded by
    its session's own timeouts (daemon: a session still talking at the deadline is left behind, and does
    not hold the process at exit as an executor's worker would)."""
    import threading

    settings = ctx.settings
    budget = ctx.timeout(60) * 0.9
    polls: dict[str, Any] = {}
    for sw in settings.switches:
        if "ssh" not in sw.transport:
            continue
        from diagnostics.sources import switchcli

        box: dict[str, Any] = {}

        def poll(sw: Any = sw, box: dict[str, Any] = box) -> None:
            try:
                box["result"] = switchcli.collect(sw, settings.ssh, budget)
            except Exception as exc:  # a library bug must not cost the other switches' results
                box["result"] = {"error": {"kind": "ProtocolError", "message": f"{type(exc).__name__}: {exc}"[:300]}}

        thread = threading.Thread(target=poll, name=f"optics-cli-{sw.name}", daemon=True)
        thread.start()
        polls[sw.name] = (thread, box)
    return polls


def _finish_cli_polls(polls: dict[str, Any], until: float) -> dict[str, dict[str, Any]]:
    """Each SSH switch's answer, or a Timeout for one still talking at ``until`` (monotonic): the check
    returns before its deadline with everything else it read, SNMP results included."""
    import time

    out: dict[str, dict[str, Any]] = {}
    for name, (thread, box) in polls.items():
        thread.join(max(0.0, until - time.monotonic()))
        out[name] = box.get("result") or {
            "error": {"kind": "Timeout", "message": "the CLI session had not ended by the check's deadline"}
        }
    return out


def collect(ctx: CheckContext[OpticsParams]) -> RawEvidence:
    import time

    settings, params = ctx.settings, ctx.params
    until = time.monotonic() + ctx.timeout(60) * 0.9
    cli_polls = _start_cli_polls(ctx)
    switches: dict[str, dict[str, Any]] = {}
    jobs = []
    for sw in settings.switches:
        entry: dict[str, Any] = {"platform": sw.platform, "host": sw.host, "ports": sw.ports}
        switches[sw.name] = entry
        if "snmp" in sw.transport:
            try:
                jobs.append((_target(sw), [*dec.COMMON, *dec.COLUMNS[sw.platform]]))
            except ConfigError as exc:
                entry["snmp"] = {"error": {"kind": "AuthFailed", "message": str(exc)}}
    if jobs:
        from diagnostics.sources import snmpcache

        results = snmpcache.sweep(
            jobs,
            dec.STATIC,
            dec.PAIRS,
            cache_dir=snmpcache.default_dir(),
            ttl_s=params.static_cache_h * 3600,
            concurrency=params.concurrency,
            max_rep=params.max_repetitions,
            deadline_s=ctx.timeout(60) * 0.9,
            workers=params.workers,
        )
        for name, result in results.items():
            switches[name]["snmp"] = result
    for name, cli in _finish_cli_polls(cli_polls, until).items():
        switches[name]["cli"] = cli
    return RawEvidence(
        data={
            "switches": switches,
            "links": [link.model_dump() for link in settings.links],
            "previous": _previous(settings) if settings.switches else {},
        }
    )


# --- evaluate ----------------------------------------------------------------------------------------------


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


def _standard(kind: str, otype: str, params: OpticsParams) -> tuple[dict[str, float], str]:
    """The standard's levels for the optic type. An assumed type (none known for the port) lends only its
    low levels: a dim signal is a fault on any optic, a strong one is normal on many."""
    known = otype in STANDARD
    table = STANDARD[otype] if known else STANDARD.get(params.default_type, {})
    keys = ("low_alarm", "low_warn", "high_warn") if known else ("low_alarm", "low_warn")
    levels = {k: table[f"{kind}_{k}"] for k in keys if f"{kind}_{k}" in table}
    return levels, f"standard {otype}" if known else f"assumed {params.default_type}"


def _levels(kind: str, v: dec.Value, params: OpticsParams, otype: str) -> tuple[dict[str, float], str, bool]:
    """(levels, where they came from, were the optic's own nonsense): an override > the optic's own when
    sane > the standard's (power) or the defaults (temperature, bias)."""
    if kind in ("rx", "tx"):
        base, origin = _standard(kind, otype, params)
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
    suspect = bool(own) and not _sane(kind, own)
    usable = own if own and not suspect else base
    if override:
        return {**usable, **override}, "override", suspect
    return usable, "optic" if usable is own else origin, suspect


def _sane(kind: str, t: Mapping[str, float]) -> bool:
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


def _judge(value: float, levels: Mapping[str, float]) -> tuple[Severity, str] | None:
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
_UNIT = {"rx": "dBm", "tx": "dBm", "temp": "°C", "bias": "mA", "voltage": "V"}
_WHAT = {"rx": "receive power", "tx": "transmit power", "temp": "temperature", "bias": "bias current"}
_FIX = {
    "OPTICS_RX_LOW": "Clean and re-seat both connectors of the fibre (inspect with a scope), check the patch path "
    "for tight bends; if the far end's Tx power is low too, replace that optic.",
    "OPTICS_RX_HIGH": "Too much light: an LR/ER optic on a short fibre needs an attenuator.",
    "OPTICS_TX_LOW": "The laser is weak or failing: replace the optic.",
    "OPTICS_TX_HIGH": "Check the optic type matches the link; replace a faulty optic.",
    "OPTICS_TEMP_HIGH": "Check airflow and fan trays; a hot optic ages fast.",
    "OPTICS_BIAS_OUT_OF_RANGE": "A bias far from its levels predicts laser failure: plan to replace the optic.",
}


def _link_types(links: list[Mapping[str, Any]]) -> dict[str, str]:
    out = {}
    for link in links:
        if link.get("type"):
            out[link["a"]] = out[link["b"]] = str(link["type"]).upper()
    return out


def evaluate(raw: RawEvidence, params: OpticsParams) -> Iterator[Finding]:
    data = raw.data
    if not data.get("switches"):
        yield Finding(
            check=NAME,
            code="OPTICS_NOT_CONFIGURED",
            severity=Severity.UNKNOWN,
            target="optics",
            summary="no [[switches]] in the configuration: the optics of the storage and template paths are not "
            "checked",
            remediation="Add a [[switches]] entry (name, host, platform, snmp or ssh) per switch on those paths, "
            "or run without this check (--skip optics).",
        )
        return
    decoded: dict[str, dec.Device] = {}
    types = _link_types(data.get("links", []))
    for name, sw in data.get("switches", {}).items():
        device = yield from _device(name, sw, decoded)
        if device is None:
            continue
        yield from _ports(name, sw, device, params, types, data.get("previous", {}))
    yield from _links(decoded, data, params)


def _device(
    name: str, sw: Mapping[str, Any], decoded: dict[str, dec.Device]
) -> Generator[Finding, None, dec.Device | None]:
    """Findings about reaching and reading the switch; returns the decoded device (or None)."""
    result = sw.get("snmp") or sw.get("cli")
    source = "SNMP" if sw.get("snmp") else "SSH CLI"
    if result is None:
        return None
    if "error" in result and not result.get("columns") and not result.get("outputs"):
        yield Finding(
            check=NAME,
            code="SWITCH_UNREACHABLE",
            severity=Severity.UNKNOWN,
            target=name,
            summary=f"{name} ({sw['host']}) over {source}: {result['error']['message']}",
            evidence=(Evidence(kind=EvidenceKind.PROBE, source=f"{source} {sw['host']}", data=dict(result["error"])),),
            remediation="Check the address, the community or SNMPv3 user and keys, and that the switch's ACL "
            "allows this host (UDP 161).",
        )
        return None
    device = dec.decode(sw["platform"], result["columns"]) if "columns" in result else _from_cli(sw["platform"], result)
    decoded[name] = device
    if not device.readings:
        yield Finding(
            check=NAME,
            code="OPTICS_NOT_SUPPORTED",
            severity=Severity.UNKNOWN,
            target=name,
            summary=f"{name} answered over {source} but gave no DOM readings ({len(device.interfaces)} interfaces)"
            + (f"; {'; '.join(device.notes[:3])}" if device.notes else ""),
            remediation="Enable DOM (transceiver monitoring) on the switch, check the platform setting, or read "
            'it over SSH (transport = ["ssh"]).',
        )
    return device


def _from_cli(platform: str, result: Mapping[str, Any]) -> dec.Device:
    from checks import optics_cli

    parsed = optics_cli.parse(platform, result.get("outputs") or {})
    readings = []
    for r in parsed["readings"]:
        values = {k: dec.Value(**v) for k, v in r["values"].items()}
        readings.append(dec.Reading(port=r["port"], lane=r.get("lane"), values=values, source=r.get("source", "")))
    readings = dec.plausible(readings)
    ifs = {i: dict(v) for i, v in enumerate(parsed["interfaces"], 1)}
    notes = [*parsed["notes"], *(result.get("notes") or [])]
    device = dec.Device(
        interfaces=ifs, readings=readings, neighbours=parsed["neighbours"], sysname=None, uptime=None, notes=notes
    )
    device.types = parsed.get("types", {})
    return device


def _ports(
    name: str,
    sw: Mapping[str, Any],
    device: dec.Device,
    params: OpticsParams,
    types: Mapping[str, str],
    previous: Mapping[str, Any],
) -> Iterator[Finding]:
    """Per port and lane: its findings, or OPTICS_OK; the first of them carries every reading and counter
    of the port as metrics (what history, charts and Prometheus keep)."""
    by_name = device.by_name
    for r in sorted(device.readings, key=lambda r: (r.port, r.lane or 0)):
        if not port_selected(r.port, sw.get("ports") or []):
            continue
        target = f"{name}:{r.port}" + (f"/{r.lane}" if r.lane is not None else "")
        iface = by_name.get(r.port, {})
        otype = types.get(f"{name}:{r.port}") or _optic_type(device.types.get(r.port)) or "unknown"
        ev = (
            Evidence(kind=EvidenceKind.METRIC, source=f"{name} {r.source}", data={**r.to_dict(), "interface": iface}),
        )
        subjects = {"switch": name, "port": f"{name}:{r.port}"}
        metrics: list[Metric] = []
        found = list(_reading_findings(r, target, iface, otype, params, ev, metrics))
        if r.lane is None:
            found += _errors(name, r.port, target, iface, device, previous, params, r, ev)
            metrics += _counter_metrics(iface, device)
        if not found:
            summary = ", ".join(
                f"{_WHAT[k]} {v.value:g} {_UNIT[k]}" for k, v in r.values.items() if k in _WHAT and v.value is not None
            )
            if iface.get("admin") == "down":
                summary = f"port admin down, light not judged: {summary or 'no values'}"
            elif r.values and all(v.state == "unavailable" for v in r.values.values()):
                summary = "the switch has no values for this optic (" + next(iter(r.values.values())).reason + ")"
            found = [
                Finding(
                    check=NAME,
                    code="OPTICS_OK",
                    severity=Severity.INFO,
                    target=target,
                    summary=summary or "read",
                    evidence=ev,
                )
            ]
        first, *rest = (dataclasses.replace(f, subjects=subjects) for f in found)
        yield dataclasses.replace(first, metrics=tuple(metrics))
        yield from rest


def _reading_findings(
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
            check=NAME,
            code="OPTICS_READING_INVALID",
            severity=Severity.UNKNOWN,
            target=target,
            summary="cannot decode " + "; ".join(f"{_WHAT.get(k, k)}: {why}" for k, why in invalid.items()),
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
        levels, origin, suspect = _levels(kind, v, params, otype)
        if suspect:
            yield Finding(
                check=NAME,
                code="OPTICS_THRESHOLDS_SUSPECT",
                severity=Severity.WARN,
                target=target,
                summary=f"the optic's {_WHAT[kind]} thresholds make no sense "
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
                unit=_UNIT[kind],
                warn=levels.get("low_warn") if power else levels.get("high_warn"),
                crit=levels.get("low_alarm") if power else levels.get("high_alarm"),
                direction="lower" if power else "upper",
            )
        )
        assert v.value is not None
        verdict = _judge(v.value, levels)
        if verdict is None and v.flag and (kind != "temp" or v.flag.startswith("high")):  # CLI ++ + - --
            sev = Severity.CRIT if v.flag.endswith("alarm") else Severity.WARN
            if kind == "bias" and _tx_fine(r, params, otype):
                sev = Severity.WARN  # the laser sends its normal power: the bias flag alone does not page
            code = _CODE[kind][0 if v.flag.startswith("low") else 1]
            yield Finding(
                check=NAME,
                code=code,
                severity=sev,
                target=target,
                summary=f"the switch flags {_WHAT[kind]} {v.value:g} {_UNIT[kind]} as "
                f"{v.flag.replace('_', ' ').replace('warn', 'warning')}",
                evidence=ev,
                remediation=_FIX[code],
            )
            continue
        if verdict:
            sev, level_name = verdict
            code = _CODE[kind][0 if level_name.startswith("low") else 1]
            yield Finding(
                check=NAME,
                code=code,
                severity=sev,
                target=target,
                summary=f"{_WHAT[kind]} {v.value:g} {_UNIT[kind]} beyond {level_name.replace('_', ' ')} "
                f"{levels[level_name]:g} {_UNIT[kind]} ({origin} levels)",
                evidence=ev,
                remediation=_FIX[code],
            )


def _tx_fine(r: dec.Reading, params: OpticsParams, otype: str) -> bool:
    """Tx power read, unflagged and inside its levels: the laser works whatever its bias flag says."""
    tx = r.values.get("tx")
    if tx is None or tx.value is None or tx.state != "ok" or tx.flag:
        return False
    levels, _, _ = _levels("tx", tx, params, otype)
    return _judge(tx.value, levels) is None


def _optic_type(text: str | None) -> str | None:
    """'10GBASE_LR' or 'SFP-10GBase-LR' → '10GBASE-LR' when it is one the standard table knows."""
    if not text:
        return None
    norm = re.sub(r"[^0-9A-Z]", "", text.upper())
    return next((t for t in STANDARD if re.sub(r"[^0-9A-Z]", "", t) in norm), None)


def _no_light(target: str, iface: Mapping[str, Any], v: dec.Value, ev: tuple[Evidence, ...]) -> Finding:
    admin, oper = iface.get("admin", "unknown"), iface.get("oper", "unknown")
    if oper == "up":  # an optical link cannot be up without light: the 0 is the sensor's, not the fibre's
        return Finding(
            check=NAME,
            code="OPTICS_NO_LIGHT",
            severity=Severity.INFO,
            target=target,
            summary=f"the sensor reads no light ({v.reason or 'dark'}) but the port is up: not a measurement",
            evidence=ev,
        )
    down = admin == "down"
    unknown = admin == "unknown"
    return Finding(
        check=NAME,
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


def _counter_metrics(iface: Mapping[str, Any], device: dec.Device) -> list[Metric]:
    out = [
        Metric(name=k, value=iface[k], unit="count") for k in ("in_errors", "fcs_errors") if iface.get(k) is not None
    ]
    if device.uptime is not None:
        out.append(Metric(name="sys_uptime", value=device.uptime, unit="ticks"))
    return out


def _errors(
    name: str,
    port: str,
    target: str,
    iface: Mapping[str, Any],
    device: dec.Device,
    previous: Mapping[str, Any],
    params: OpticsParams,
    reading: dec.Reading,
    ev: tuple[Evidence, ...],
) -> Iterator[Finding]:
    before = previous.get(target) or {}
    if not before or device.uptime is None:
        return
    up_before = (before.get("sys_uptime") or {}).get("value")
    if up_before is not None and device.uptime < up_before:
        return  # the switch rebooted: counters restarted, no delta
    grown = {}
    for key in ("in_errors", "fcs_errors"):
        now, prev = iface.get(key), (before.get(key) or {}).get("value")
        if now is None or prev is None:
            continue
        delta = now - prev
        if delta < 0:
            if prev > 2**31:  # a Counter32 that wrapped
                delta = now + 2**32 - prev
            else:
                continue  # reset (cleared counters)
        if delta >= params.errors_warn:
            grown[key] = int(delta)
    if not grown:
        return
    since = (before.get("in_errors") or before.get("fcs_errors") or {}).get("at")
    rx = reading.values.get("rx")
    low_rx = (
        rx is not None
        and rx.value is not None
        and (_judge(rx.value, _levels("rx", rx, params, params.default_type)[0]) is not None)
    )
    yield Finding(
        check=NAME,
        code="IF_ERRORS_RISING",
        severity=Severity.CRIT if low_rx else Severity.WARN,
        target=target,
        summary=", ".join(f"{k.replace('_', ' ')} +{v}" for k, v in grown.items())
        + (f" since {str(since)[:16]}" if since else "")
        + (
            f" with low Rx ({rx.value:g} dBm): dirty connector suspect"
            if low_rx and rx and rx.value is not None
            else ""
        ),
        evidence=ev,
        remediation="Errors with low receive power: clean both connectors and re-seat; errors with good power: "
        "check the optic, the port, duplex/speed.",
        subjects={"switch": name, "port": f"{name}:{port}"},
    )


def _links(decoded: Mapping[str, dec.Device], data: Mapping[str, Any], params: OpticsParams) -> Iterator[Finding]:
    """Span loss in both directions for links paired by LLDP (or ``[[links]]``)."""
    names = {(d.sysname or n): n for n, d in decoded.items()} | {n: n for n in decoded}
    configured = {tuple(sorted((lk["a"], lk["b"]))): lk for lk in data.get("links", [])}
    pairs: dict[tuple[str, str], Mapping[str, Any] | None] = {}
    for n, d in decoded.items():
        for port, nb in d.neighbours.items():
            far = names.get(nb["system"]) or names.get(nb["system"].split(".")[0])
            if far is not None:
                key = tuple(sorted((f"{n}:{port}", f"{far}:{nb['port']}")))
                pairs[key] = configured.get(key)  # type: ignore[index]
    for key, lk in configured.items():
        pairs.setdefault(key, lk)  # type: ignore[arg-type]
    for (a, b), lk in sorted(pairs.items()):
        yield from _span(a, b, lk, decoded, params)


def _power(decoded: Mapping[str, dec.Device], end: str, kind: str) -> float | None:
    sw, _, port = end.partition(":")
    d = decoded.get(sw)
    if d is None:
        return None
    vals = [r.values[kind].value for r in d.readings if r.port == port and r.lane is None and kind in r.values]
    return vals[0] if vals and vals[0] is not None else None


def expected_loss(lk: Mapping[str, Any] | None, params: OpticsParams) -> tuple[float, str]:
    if lk and lk.get("length_km") is not None:
        loss = lk["length_km"] * lk["fiber_db_per_km"] + lk["connectors"] * CONNECTOR_DB + lk["splices"] * SPLICE_DB
        return round(
            loss, 2
        ), f"{lk['length_km']:g} km × {lk['fiber_db_per_km']:g} dB/km + {lk['connectors']} connectors"
    otype = str((lk or {}).get("type") or params.default_type).upper()
    std = STANDARD.get(otype, STANDARD["10GBASE-LR"])
    return std["loss"], f"the {otype} channel insertion loss"


def _span(
    a: str, b: str, lk: Mapping[str, Any] | None, decoded: Mapping[str, dec.Device], params: OpticsParams
) -> Iterator[Finding]:
    loss, names = {}, {}
    for near, far, metric in ((b, a, "loss_a_to_b"), (a, b, "loss_b_to_a")):  # light from far to near
        tx, rx = _power(decoded, far, "tx"), _power(decoded, near, "rx")
        if tx is not None and rx is not None:
            loss[f"{far} → {near}"] = round(tx - rx, 2)
            names[f"{far} → {near}"] = metric
    if not loss:
        return
    expected, why = expected_loss(lk, params)
    target = f"{a} ↔ {b}"
    metrics = tuple(
        Metric(
            name=names[d],
            value=v,
            unit="dB",
            warn=expected,
            crit=expected + params.loss_crit_margin_db,
            direction="upper",
        )
        for d, v in loss.items()
    )
    ev = (
        Evidence(
            kind=EvidenceKind.METRIC,
            source="Tx far − Rx near",
            data={"loss_db": loss, "expected_db": expected, "expected_from": why, "link": dict(lk) if lk else None},
        ),
    )
    worst_dir, worst = max(loss.items(), key=lambda kv: kv[1])
    if worst > expected:
        sev = Severity.CRIT if worst > expected + params.loss_crit_margin_db else Severity.WARN
        yield Finding(
            check=NAME,
            code="LINK_LOSS_HIGH",
            severity=sev,
            target=target,
            summary=f"span loss {worst:g} dB {worst_dir}, expected ≤ {expected:g} dB ({why})",
            evidence=ev,
            metrics=metrics,
            remediation="Clean and inspect every connector on the path (patch panels too), look for "
            "tight bends; a loss that grows over days is a dirty connector.",
        )
    if len(loss) == 2:
        (d1, l1), (d2, l2) = loss.items()
        if abs(l1 - l2) > params.asymmetry_db:
            bad = d1 if l1 > l2 else d2
            yield Finding(
                check=NAME,
                code="LINK_LOSS_ASYMMETRIC",
                severity=Severity.WARN,
                target=target,
                summary=f"{bad} loses {abs(l1 - l2):g} dB more than the other direction "
                f"({d1} {l1:g} dB, {d2} {l2:g} dB)",
                evidence=ev,
                metrics=metrics,
                remediation="One connector or one optic is at fault, not the fibre: clean the "
                f"receiving end of {bad.split(' → ')[1]} and the sending end first.",
            )


CHECK = Check(
    name=NAME,
    title="Optics",
    description="SFP+/QSFP DOM over SNMP and SSH CLI: Rx/Tx power, temperature and bias against thresholds, "
    "no light by port status, span loss per link both ways, error counters rising.",
    codes=CODES,
    params=OpticsParams,
    collect=collect,
    evaluate=evaluate,
)
