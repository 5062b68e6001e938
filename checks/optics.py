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
from collections.abc import Generator, Iterator, Mapping
from typing import Any

from checks import optics_decode as dec
from checks import optics_rules
from checks.optics_links import counter_metrics, error_findings, link_findings
from checks.optics_rules import UNIT, WHAT, OpticsParams, optic_type, port_selected, reading_findings
from diagnostics.check import Check, CheckContext, Code, RawEvidence
from diagnostics.config import ConfigError, Settings, SwitchSettings
from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity
from diagnostics.sources import snmp
from diagnostics.sources.errors import SourceError

NAME = optics_rules.CHECK_NAME
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
    yield from link_findings(decoded, data, params)


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
        otype = types.get(f"{name}:{r.port}") or optic_type(device.types.get(r.port)) or "unknown"
        ev = (
            Evidence(kind=EvidenceKind.METRIC, source=f"{name} {r.source}", data={**r.to_dict(), "interface": iface}),
        )
        subjects = {"switch": name, "port": f"{name}:{r.port}"}
        metrics: list[Metric] = []
        found = list(reading_findings(r, target, iface, otype, params, ev, metrics))
        if r.lane is None:
            found += error_findings(name, r.port, target, iface, device, previous, params, r, ev)
            metrics += counter_metrics(iface, device)
        if not found:
            summary = ", ".join(
                f"{WHAT[k]} {v.value:g} {UNIT[k]}" for k, v in r.values.items() if k in WHAT and v.value is not None
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
