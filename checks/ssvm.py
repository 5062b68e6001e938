"""The ``ssvm`` check: does every enabled core zone have a secondary storage VM that runs, whose agent
is connected, on the SystemVM template the management server needs? Read from the database
(cloudstack.md §2): the VM row (``vm_instance``), its agent row (``host``), its IPs (``nics`` × ``networks``),
its template (``vm_template``) and ``minreq.sysvmtemplate.version``.

``host.last_ping`` is not a heartbeat: CloudStack keeps pings in memory and writes the column on connect
events only (``ResourceManagerImpl.createHostVO``), so a healthy agent connected for days has an old one.
The agent is judged by ``host.status`` (the manager turns a missed ping into Alert/Disconnected),
``mgmt_server_id`` (which management server holds its connection) and ``resource_state``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from checks import api_evaluate, cloudstack_api_source, cloudstack_db
from diagnostics import inventory
from diagnostics.check import Check, CheckContext, Code, NoParams, RawEvidence
from diagnostics.inventory import Inventory, Ssvm, Zone
from diagnostics.model import Evidence, Finding, Severity

NAME = "ssvm"
SETTINGS_SQL = (
    "SELECT name, value, default_value FROM configuration "
    "WHERE (name = 'minreq.sysvmtemplate.version' OR name LIKE 'router.template.%') AND category <> 'Hidden'"
)
VERSION_SQL = "SELECT version FROM version WHERE step = 'Complete' ORDER BY id DESC LIMIT 1"
SYSTEM_TEMPLATES_SQL = (
    "SELECT id, name, hypervisor_type, state FROM vm_template WHERE type = 'SYSTEM' AND removed IS NULL ORDER BY id"
)
CODES = (
    Code(code="SSVM_MISSING", severity=Severity.CRIT, meaning="an enabled zone has no secondary storage VM"),
    Code(code="SSVM_NOT_RUNNING", severity=Severity.CRIT, meaning="the SSVM's VM is not Running"),
    Code(
        code="SSVM_AGENT_NOT_UP",
        severity=Severity.CRIT,
        meaning="the SSVM runs but its agent is not Up with a management server (Alert, Disconnected, Down: it "
        "cannot reach the management server on port 8250); WARN while Connecting or not Enabled",
    ),
    Code(
        code="SYSTEMVM_TEMPLATE_MISMATCH",
        severity=Severity.CRIT,
        meaning="the SSVM runs a SystemVM template (or agent) older than the management server needs "
        "(minreq.sysvmtemplate.version), or no registered SystemVM template is new enough",
    ),
    *cloudstack_api_source.SOURCE_CODES,
)
TRANSITIONAL = {"Starting", "Stopping", "Migrating"}
_CHECK_SCRIPT = "/usr/local/cloud/systemvm/ssvm-check.sh"
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(text: str | None) -> tuple[int, ...] | None:
    """The first ``X.Y[.Z]`` in ``text`` (``systemvm-kvm-4.22.0-x86_64`` → (4, 22, 0))."""
    m = _VERSION.search(text or "")
    return tuple(int(g) for g in m.groups() if g is not None) if m else None


def _plan(db: Any, columns: Mapping[str, set[str]]) -> dict[str, str]:
    q = {k: v for k, v in inventory.queries(columns).items() if k != "largest"}
    if "configuration" in columns:
        q["settings"] = SETTINGS_SQL
    if "version" in columns:
        q["version"] = VERSION_SQL
    q["system_templates"] = SYSTEM_TEMPLATES_SQL
    return q


def collect(ctx: CheckContext[NoParams]) -> RawEvidence:
    required = {t: c for t, c in inventory.REQUIRED.items() if t != "template_store_ref"}

    def db() -> RawEvidence:
        return cloudstack_db.collect(ctx, required=required, optional_tables=("configuration", "version"), plan=_plan)

    return cloudstack_api_source.collect(ctx, db, api_evaluate.SSVM_CALLS)


def _evidence(target: str, data: Mapping[str, Any], s: Ssvm) -> tuple[Evidence, ...]:
    ips = ", ".join(f"{k} {v}" for k, v in sorted(s.ips.items())) or "no IPs recorded"
    return (
        cloudstack_db.row_evidence(
            target,
            "ssvms",
            data,
            s.row,
            f"VM {s.name} state {s.vm_state}; agent host row "
            + (
                f"{s.agent_id} status {s.agent_status}, version {s.agent_version}, last_ping {s.last_ping}"
                if s.agent_id is not None
                else "missing"
            )
            + f"; IPs: {ips}",
        ),
    )


def _settings(data: Mapping[str, Any]) -> dict[str, str]:
    rows = data["results"].get("settings") or []
    return {r["name"]: str(r["value"] if r["value"] is not None else r["default_value"] or "") for r in rows}


def evaluate(raw: RawEvidence, params: NoParams) -> Iterator[Finding]:
    data = raw.data
    if (problems := cloudstack_api_source.failures(NAME, data)) is not None:
        yield from problems
        return
    if "answers" in data:  # the API's answers: the same rules on the rows they translate into
        yield from api_evaluate.ssvm(data, params, evaluate)
        return
    target_db = data["target"]
    inv = Inventory.from_results(data["results"])
    settings = _settings(data)
    required = parse_version(settings.get("minreq.sysvmtemplate.version"))
    yield from _registered(data, settings, required)
    for zone in inv.zones:
        if not (zone.enabled and zone.core):
            continue
        ssvms = inv.ssvms_in(zone.id)
        if not ssvms:
            yield _missing(zone, target_db, data)
            continue
        for s in ssvms:
            yield from _judge(zone, s, ssvms, target_db, data)
            yield from _template(zone, s, target_db, data, required)


def _missing(zone: Zone, target_db: str, data: Mapping[str, Any]) -> Finding:
    return Finding(
        check=NAME,
        code="SSVM_MISSING",
        severity=Severity.CRIT,
        target=zone.label,
        summary=f"{zone.label} is enabled but has no secondary storage VM: templates cannot be downloaded or copied",
        evidence=(
            cloudstack_db.row_evidence(
                target_db, "ssvms", data, {"zone_id": zone.id}, f"no SecondaryStorageVm row in {zone.label}"
            ),
        ),
        remediation="Check the management-server.log for 'Unable to start secondary storage VM' and 'No secondary "
        "storage available in zone'; an SSVM needs an image store in the zone, a running system VM template and "
        "free public/management IPs.",
    )


def _judge(zone: Zone, s: Ssvm, peers: list[Ssvm], target_db: str, data: Mapping[str, Any]) -> Iterator[Finding]:
    target = f"ssvm {s.name} ({zone.label})"
    evidence = _evidence(target_db, data, s)
    if s.vm_state != "Running":
        others_up = [p.name for p in peers if p is not s and p.vm_state == "Running" and p.agent_status == "Up"]
        severity = Severity.WARN if s.vm_state in TRANSITIONAL or others_up else Severity.CRIT
        yield Finding(
            check=NAME,
            code="SSVM_NOT_RUNNING",
            severity=severity,
            target=target,
            summary=f"SSVM {s.name} is {s.vm_state}"
            + (f" (still served by {', '.join(others_up)})" if others_up else ": the zone has no working SSVM"),
            evidence=evidence,
            remediation="Start the SSVM (Infrastructure › System VMs › Start, or startSystemVm); if it does not "
            "start, read management-server.log for 'Unable to start secondary storage VM'.",
        )
        return
    status = s.agent_status
    resource_state = s.row.get("resource_state") or "Enabled"
    held = "mgmt_server_id" not in s.row or s.row.get("mgmt_server_id") is not None
    if status == "Up" and held and resource_state == "Enabled":
        return
    disconnected = s.row.get("disconnected")
    if status == "Up" and not held:
        why, severity = "Up but no management server holds its connection (mgmt_server_id is NULL)", Severity.CRIT
    elif status == "Up":
        why, severity = f"Up but its resource state is {resource_state}: it takes no new work", Severity.WARN
    elif status == "Connecting":
        why, severity = "Connecting: the management server is (re)attaching it", Severity.WARN
    else:
        why, severity = f"{status or 'missing (no host row)'}", Severity.CRIT
    yield Finding(
        check=NAME,
        code="SSVM_AGENT_NOT_UP",
        severity=severity,
        target=target,
        summary=f"SSVM {s.name} runs but its agent is {why}: it cannot take download or copy commands"
        if severity is Severity.CRIT
        else f"SSVM {s.name} runs; its agent is {why}",
        details="The classic cause: the agent inside the SSVM cannot reach the management server on port 8250 "
        "(firewall, the 'host' setting, DNS). host.last_ping is written on connect only and is not judged."
        + (f" Disconnected since {disconnected}." if disconnected else ""),
        evidence=evidence,
        remediation=f"On the SSVM (ssh -p 3922 root@{s.link_local_ip or s.private_ip or '<link-local IP>'}) run "
        f"{_CHECK_SCRIPT}; check TCP to each management server on 8250; restart the cloud service on the SSVM, "
        "or reboot the SSVM.",
    )


def _template(
    zone: Zone, s: Ssvm, target_db: str, data: Mapping[str, Any], required: tuple[int, ...] | None
) -> Iterator[Finding]:
    """The SSVM's SystemVM template and agent against what the management server needs."""
    if s.vm_state != "Running":
        return
    running = parse_version(str(s.row.get("template_name") or ""))
    ms = parse_version(str(((data["results"].get("version") or [{}])[0]).get("version") or ""))
    agent = parse_version(s.agent_version)
    problems: list[str] = []
    if required and running and running < required:
        problems.append(
            f"its template {s.row.get('template_name')!r} is {'.'.join(map(str, running))}, older than "
            f"minreq.sysvmtemplate.version {'.'.join(map(str, required))}"
        )
    if ms and agent and agent[:2] < ms[:2]:
        problems.append(f"its agent reports {s.agent_version}, but the database is at {'.'.join(map(str, ms))}")
    if not problems:
        return
    yield Finding(
        check=NAME,
        code="SYSTEMVM_TEMPLATE_MISMATCH",
        severity=Severity.CRIT,
        target=f"ssvm {s.name} ({zone.label})",
        summary=f"SSVM {s.name} runs an old SystemVM: " + "; ".join(problems),
        details="After an upgrade the SSVM must be recreated from the new SystemVM template; until then downloads "
        "and copies may fail on protocol or checksum changes.",
        evidence=_evidence(target_db, data, s),
        remediation="Register the SystemVM template of this release if it is missing, then destroy the SSVM "
        "(destroySystemVm) so CloudStack recreates it from the new template.",
    )


def _registered(
    data: Mapping[str, Any], settings: Mapping[str, str], required: tuple[int, ...] | None
) -> Iterator[Finding]:
    """A SystemVM template new enough must be registered for each hypervisor a router.template setting names."""
    if not required:
        return
    templates = data["results"].get("system_templates") or []
    need = ".".join(map(str, required))
    for name, value in sorted(settings.items()):
        if not name.startswith("router.template."):
            continue
        hv = name.rsplit(".", 1)[-1]
        # Registered SystemVM templates of this hypervisor (systemvm-<hv>-X.Y.Z…); none: the hypervisor is not
        # in use here, whatever stale default its router.template setting keeps.
        regs = [
            (v, t)
            for t in templates
            if str(t.get("hypervisor_type") or "").lower() == hv and (v := parse_version(str(t["name"])))
        ]
        if not regs:
            continue
        newest = max(v for v, _ in regs)
        named = parse_version(value)
        if newest < required:
            why = f"no registered {hv} SystemVM template is {need} or newer (newest {'.'.join(map(str, newest))})"
        elif named is not None and named < required:
            why = f"{name} names {value!r}, older than minreq.sysvmtemplate.version {need}"
        else:
            continue
        yield Finding(
            check=NAME,
            code="SYSTEMVM_TEMPLATE_MISMATCH",
            severity=Severity.CRIT,
            target=f"setting {name}",
            summary=f"{why}: new system VMs cannot be created on the version the management server needs",
            details="4.22 registers the SystemVM template on demand; an upgrade that could not register it "
            "(download failed, 'Failed to calculate sha512 checksum', a checksum without its {SHA-512} prefix) "
            "leaves the setting on the old template.",
            evidence=tuple(
                cloudstack_db.row_evidence(data["target"], "system_templates", data, t, f"{t['id']} {t['name']}")
                for t in templates
            ),
            remediation="Register the SystemVM template of this release (cloud-install-sys-tmplt, or registerTemplate "
            "with type SYSTEM) and set the router.template setting to its name.",
        )


CHECK = Check(
    name=NAME,
    title="Secondary storage VMs",
    description="Per enabled zone: an SSVM exists, its VM runs, its agent is Up and pinging (database, read only).",
    codes=CODES,
    params=NoParams,
    collect=collect,
    evaluate=evaluate,
)
