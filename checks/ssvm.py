"""The ``ssvm`` check: does every enabled core zone have a secondary storage VM that runs, whose agent
is Up and still pinging? Read from the database (cloudstack.md §2): the VM row (``vm_instance``), its
agent row (``host``), its IPs (``nics`` × ``networks``).

``host.last_ping`` is not epoch seconds: it is ``currentTimeMillis() >> 10``; the agent is overdue
when the management server's cut-off ``ping.interval × ping.timeout`` (60 × 2.5 s) has passed.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from checks import cloudstack_db
from diagnostics import inventory
from diagnostics.check import Check, CheckContext, Code, NoParams, RawEvidence
from diagnostics.inventory import Inventory, Ssvm, Zone
from diagnostics.model import Evidence, EvidenceKind, Finding, Severity

NAME = "ssvm"
PING_SQL = (
    "SELECT name, value, default_value FROM configuration "
    "WHERE name IN ('ping.interval', 'ping.timeout') AND category <> 'Hidden'"
)
CODES = (
    Code(code="SSVM_MISSING", severity=Severity.CRIT, meaning="an enabled zone has no secondary storage VM"),
    Code(code="SSVM_NOT_RUNNING", severity=Severity.CRIT, meaning="the SSVM's VM is not Running"),
    Code(
        code="SSVM_AGENT_NOT_UP",
        severity=Severity.CRIT,
        meaning="the SSVM runs but its agent is not Up (it cannot reach the management server on port 8250)",
    ),
    Code(
        code="SSVM_PING_STALE",
        severity=Severity.WARN,
        meaning="the SSVM agent's last ping is older than ping.interval × ping.timeout",
    ),
    *cloudstack_db.DB_CODES,
)
TRANSITIONAL = {"Starting", "Stopping", "Migrating"}
_CHECK_SCRIPT = "/usr/local/cloud/systemvm/ssvm-check.sh"


def _plan(db: Any, columns: Mapping[str, set[str]]) -> dict[str, str]:
    q = {k: v for k, v in inventory.queries(columns).items() if k != "largest"}
    if "configuration" in columns:
        q["ping"] = PING_SQL
    return q


def collect(ctx: CheckContext[NoParams]) -> RawEvidence:
    required = {t: c for t, c in inventory.REQUIRED.items() if t != "template_store_ref"}
    return cloudstack_db.collect(ctx, required=required, optional_tables=("configuration",), plan=_plan)


def _ping_cutoff(rows: list[Mapping[str, Any]]) -> float:
    values = {"ping.interval": 60.0, "ping.timeout": 2.5}
    for r in rows:
        raw = r["value"] if r["value"] is not None else r["default_value"]
        # keep CloudStack's default for a value it could not parse either
        with contextlib.suppress(TypeError, ValueError):
            values[r["name"]] = float(raw)
    return values["ping.interval"] * values["ping.timeout"]


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


def evaluate(raw: RawEvidence, params: NoParams) -> Iterator[Finding]:
    data = raw.data
    if (problems := cloudstack_db.failures(NAME, data)) is not None:
        yield from problems
        return
    target_db = data["target"]
    inv = Inventory.from_results(data["results"])
    cutoff_s = _ping_cutoff(data["results"].get("ping", []))
    now_units = int(data["db_epoch_ms"]) >> 10
    for zone in inv.zones:
        if not (zone.enabled and zone.core):
            continue
        ssvms = inv.ssvms_in(zone.id)
        if not ssvms:
            yield _missing(zone, target_db, data)
            continue
        for s in ssvms:
            yield from _judge(zone, s, ssvms, target_db, data, now_units, cutoff_s)


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


def _judge(
    zone: Zone, s: Ssvm, peers: list[Ssvm], target_db: str, data: Mapping[str, Any], now_units: int, cutoff_s: float
) -> Iterator[Finding]:
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
    if s.agent_status != "Up":
        status = s.agent_status or "missing (no host row)"
        disconnected = s.row.get("disconnected")
        yield Finding(
            check=NAME,
            code="SSVM_AGENT_NOT_UP",
            severity=Severity.CRIT,
            target=target,
            summary=f"SSVM {s.name} runs but its agent is {status}: it cannot take download or copy commands",
            details="The classic cause: the agent inside the SSVM cannot reach the management server on port 8250 "
            "(firewall, the 'host' setting, DNS)." + (f" Disconnected since {disconnected}." if disconnected else ""),
            evidence=evidence,
            remediation=f"On the SSVM (ssh -p 3922 root@{s.link_local_ip or s.private_ip or '<link-local IP>'}) run "
            f"{_CHECK_SCRIPT}; check TCP to each management server on 8250; restart the cloud service on the SSVM, "
            "or reboot the SSVM.",
        )
        return
    if s.last_ping is not None:
        age_s = now_units - int(s.last_ping)  # both in units of 1.024 s, as the management server compares them
        if age_s > cutoff_s:
            yield Finding(
                check=NAME,
                code="SSVM_PING_STALE",
                severity=Severity.WARN,
                target=target,
                summary=f"SSVM {s.name} agent is Up but last pinged about {age_s:.0f} s ago "
                f"(cut-off ping.interval × ping.timeout = {cutoff_s:g} s)",
                evidence=(
                    *evidence,
                    Evidence(
                        kind=EvidenceKind.METRIC,
                        source=f"{target_db} host.last_ping",
                        text=f"last_ping {s.last_ping}, now {now_units} (ms >> 10)",
                    ),
                ),
                remediation="The management server will soon mark the agent Disconnected; check the SSVM's "
                "connectivity to port 8250 and the management server's load ('Found the following agents "
                "behind on ping' in management-server.log).",
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
