"""The ``mtu`` check: do jumbo frames really get through on the storage paths, and if not, where not?

collect probes each path (``[mtu] targets`` plus the image stores' NFS servers from the database) from this
machine with DF set and the kernel's PMTU cache ignored (diagnostics.sources.pmtu), and from SSH vantage
points with the system's ``ping -M do``. evaluate classifies each probe log (probing.md §1):

- the required size passes                      → MTU_PATH_OK (INFO)
- a router answers "fragmentation needed"       → MTU_PATH_TOO_SMALL (CRIT), naming the hop and its MTU
- this host refuses to send it (EMSGSIZE)       → MTU_LOCAL_TOO_SMALL (CRIT), naming the interface
- small packets pass, big ones vanish silently  → MTU_BLACKHOLE (CRIT), with the largest size that passed
- even small packets get no answer              → MTU_UNREACHABLE (UNKNOWN): no MTU verdict possible
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from checks import cloudstack_db
from diagnostics.check import Check, CheckContext, Code, NoParams, RawEvidence
from diagnostics.config import MtuSettings, Settings
from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity
from diagnostics.sources import pmtu, ssh
from diagnostics.sources.errors import SourceError

NAME = "mtu"
CODES = (
    Code(code="MTU_PATH_OK", severity=Severity.INFO, meaning="the required packet size passes the path"),
    Code(code="MTU_PATH_TOO_SMALL", severity=Severity.CRIT, meaning="a hop reports a smaller MTU (frag-needed)"),
    Code(
        code="MTU_BLACKHOLE",
        severity=Severity.CRIT,
        meaning="big packets vanish while small ones pass, and no ICMP comes back",
    ),
    Code(
        code="MTU_LOCAL_TOO_SMALL",
        severity=Severity.CRIT,
        meaning="the probing host's own interface or route MTU is below the required size",
    ),
    Code(
        code="SSVM_MTU_MISMATCH",
        severity=Severity.WARN,
        meaning="secstorage.vm.mtu.size or an SSVM NIC's MTU is below the required size",
    ),
    Code(
        code="MTU_UNREACHABLE",
        severity=Severity.UNKNOWN,
        meaning="even small probes get no answer (host down or ICMP blocked): no MTU verdict",
    ),
    Code(
        code="MTU_NOT_TESTED",
        severity=Severity.UNKNOWN,
        meaning="a path could not be probed (name does not resolve, no privileges, ping missing, SSH failed)",
    ),
    *cloudstack_db.DB_CODES,
)
SSVM_MTU_SQL = (
    "SELECT name, value, default_value FROM configuration WHERE name = 'secstorage.vm.mtu.size' "
    "AND category <> 'Hidden'"
)


def _headers(target: str) -> int:
    """ping -s counts ICMP payload bytes: packet = payload + IP header (20, or 40 for IPv6) + 8 (ICMP)."""
    return 48 if ":" in target else 28


# --- remote vantage points: the system's ping over SSH -----------------------------------------------------
# `-M probe` sets DF and ignores the PMTU the remote kernel may have cached from an earlier frag-needed.


def ping_script(targets: Sequence[str], required: int, timeout_s: float) -> str:
    """``-M probe`` where ping knows it (it ignores a cached PMTU), else ``-M do``; each target's route and
    interface MTU too, so that a cached PMTU is not mistaken for a small local interface."""
    lines = [
        "command -v ping >/dev/null 2>&1 || echo NOPING",
        "if LC_ALL=C ping -M probe -c 1 -W 1 127.0.0.1 2>&1 | grep -q 'invalid -M'; then M=do; else M=probe; fi",
    ]
    w = max(1, round(timeout_s))
    for i, t in enumerate(targets):
        q = shlex.quote(t)
        lines.append(
            f"r=$(ip -o route get {q} 2>/dev/null); d=$(echo \"$r\" | sed -n 's/.* dev \\([^ ]*\\).*/\\1/p'); "
            f'echo "ROUTE {i} ${{d:--}} $(cat /sys/class/net/$d/mtu 2>/dev/null || echo -)"'
        )
        for size in (min(1280, required), required):
            lines.append(
                f"echo 'PING {i} {size}'; LC_ALL=C ping -n -M $M -s {size - _headers(t)} -c 3 -i 0.2 "
                f'-W {w} {q} 2>&1; echo "PINGRC $?"'
            )
    return "\n".join(lines) + "\n"


def parse_routes(output: str) -> dict[int, tuple[str | None, int | None]]:
    """``ROUTE i dev mtu`` lines: the interface each target is routed through, and its MTU."""
    routes: dict[int, tuple[str | None, int | None]] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "ROUTE" and parts[1].isdigit():
            dev = None if parts[2] == "-" else parts[2]
            routes[int(parts[1])] = (dev, int(parts[3]) if parts[3].isdigit() else None)
    return routes


_FRAG = re.compile(r"From (\S+).*Frag needed and DF set \(mtu = (\d+)\)")
_LOCAL = re.compile(r"message too long, mtu[ =]+(\d+)", re.IGNORECASE)
_REPLY = re.compile(r"bytes from \S+?:? .*time[=<]([\d.]+) ms")


def parse_ping(output: str) -> list[dict[str, Any]]:
    """The probes in ``ping -M do`` output (iputils, LC_ALL=C), as probe records per target index."""
    probes: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for line in output.splitlines():
        if line.startswith("PING ") and len(line.split()) == 3 and line.split()[1].isdigit():
            _, i, size = line.split()
            current = {
                "target": int(i),
                "size": int(size),
                "outcome": "timeout",
                "mtu": None,
                "router": None,
                "rtt_ms": None,
                "detail": "",
            }
            probes.append(current)
        elif current is None:
            continue
        elif m := _REPLY.search(line):
            current.update(outcome="reply", rtt_ms=float(m[1]))
        elif (m := _FRAG.search(line)) and current["outcome"] != "reply":
            current.update(outcome="frag_needed", router=m[1], mtu=int(m[2]))
        elif (m := _LOCAL.search(line)) and current["outcome"] == "timeout":
            current.update(outcome="local_too_big", mtu=int(m[1]))
        elif "unknown host" in line or "Name or service not known" in line:
            current.update(outcome="error", detail=line.strip())
    return probes


def _remote(
    host_spec: str, targets: Sequence[str], cfg: MtuSettings, settings: Settings, ctx: CheckContext[Any]
) -> list[dict[str, Any]]:
    host, port = ssh.split_host(host_spec, settings.ssh.port)
    script = ping_script(targets, cfg.required, cfg.timeout_s)
    try:
        _, out, _ = ssh.run_script(
            host, port, settings.ssh, script, ctx.timeout(cfg.timeout_s * 8 * max(1, len(targets)) + 30)
        )
    except SourceError as exc:
        return [
            {"host": t, "vantage": host, "required": cfg.required, "error": {"kind": exc.kind, "message": str(exc)}}
            for t in targets
        ]
    if "NOPING" in out.splitlines():
        return [
            {
                "host": t,
                "vantage": host,
                "required": cfg.required,
                "error": {"kind": "NotFound", "message": f"ping is not installed on {host}"},
            }
            for t in targets
        ]
    probes, routes = parse_ping(out), parse_routes(out)
    return [
        {
            "host": t,
            "vantage": host,
            "required": cfg.required,
            "probe_kind": "ping",
            "device": routes.get(i, (None, None))[0],
            "device_mtu": routes.get(i, (None, None))[1],
            "probes": [p for p in probes if p["target"] == i],
        }
        for i, t in enumerate(targets)
    ]


# --- collect -----------------------------------------------------------------------------------------------


def collect(ctx: CheckContext[NoParams]) -> RawEvidence:
    settings, cfg = ctx.settings, ctx.settings.mtu
    data: dict[str, Any] = {"configured": False}
    targets = list(cfg.targets)
    if cfg.storage_from_inventory and settings.cloudstack.database is not None:
        from diagnostics import inventory

        def plan(db: Any, columns: Mapping[str, set[str]]) -> dict[str, str]:
            q = inventory.queries(columns)
            out = {"stores": q["stores"]}
            if {"nics", "networks", "vm_instance", "host"} <= set(columns):
                out.update(ssvms=q["ssvms"], ssvm_nics=q["ssvm_nics"])
            if "configuration" in columns:
                out["settings"] = SSVM_MTU_SQL
            return out

        tables = ("data_center", "configuration", "nics", "networks", "vm_instance", "host")
        data = dict(
            cloudstack_db.collect(
                ctx, required={"image_store": ("id", "url", "removed")}, plan=plan, optional_tables=tables
            ).data
        )
        for store in (data.get("results") or {}).get("stores", []):
            if (nfs := inventory.parse_nfs_url(store.get("url"))) and nfs[0] not in targets:
                targets.append(nfs[0])
    paths: list[dict[str, Any]] = []
    with ThreadPoolExecutor(max_workers=32) as pool:
        if cfg.local:
            paths += pool.map(
                # each path stops before the check's deadline: the paths measured are kept, not all lost
                lambda t: pmtu.probe_path(
                    t, cfg.required, timeout_s=cfg.timeout_s, kind=cfg.probe, deadline=ctx.deadline - 1
                ),
                targets,
            )
        for part in pool.map(lambda h: _remote(h, targets, cfg, settings, ctx), cfg.from_hosts):
            paths += part
    return RawEvidence(data={**data, "required": cfg.required, "targets": targets, "paths": paths})


# --- evaluate ----------------------------------------------------------------------------------------------


def evaluate(raw: RawEvidence, params: NoParams) -> Iterator[Finding]:
    data = raw.data
    if data.get("configured") and (problems := cloudstack_db.failures(NAME, data)) is not None:
        yield from problems
    yield from _ssvm_mtu(data)
    if not data.get("paths"):
        yield Finding(
            check=NAME,
            code="MTU_NOT_TESTED",
            severity=Severity.UNKNOWN,
            target="mtu",
            summary="no path to probe: set [mtu] targets, or [cloudstack.database] for the image stores",
            remediation="Name the storage addresses in [mtu] targets.",
        )
        return
    for path in data["paths"]:
        yield judge_path(path)


def _ssvm_mtu(data: Mapping[str, Any]) -> Iterator[Finding]:
    """CloudStack's own view of the SSVM's MTU against what the storage paths need (cloudstack.md §2)."""
    results = data.get("results") or {}
    required = int(data.get("required", 9000))
    for row in results.get("settings", []):
        raw = row["value"] if row["value"] is not None else row["default_value"]
        try:
            value = int(float(raw))
        except (TypeError, ValueError):
            continue
        if value < required:
            yield Finding(
                check=NAME,
                code="SSVM_MTU_MISMATCH",
                severity=Severity.WARN,
                target="secstorage.vm.mtu.size",
                summary=f"secstorage.vm.mtu.size is {value} while the storage paths are to carry {required}-byte "
                "packets: the SSVM talks to secondary storage with small frames",
                metrics=(Metric(name="ssvm_mtu_bytes", value=value, unit="B", warn=required, direction="lower"),),
                remediation=f"Set secstorage.vm.mtu.size to {required} if the storage network is jumbo end to end "
                "(csdiag mtu check proves it), then recreate the SSVM.",
            )
    names = {int(s["id"]): s["instance_name"] for s in results.get("ssvms", [])}
    for nic in results.get("ssvm_nics", []):
        mtu = nic.get("mtu")
        if mtu and int(mtu) < required and nic.get("traffic_type") in ("Storage", "Management"):
            name = names.get(int(nic["instance_id"]), f"vm {nic['instance_id']}")
            yield Finding(
                check=NAME,
                code="SSVM_MTU_MISMATCH",
                severity=Severity.WARN,
                target=f"{name} {nic['traffic_type']} NIC {nic.get('ip4_address')}",
                summary=f"{name}'s {nic['traffic_type']} NIC has MTU {mtu}, below the required {required}",
                remediation="Align the network's MTU (and secstorage.vm.mtu.size) with the storage network.",
            )


def judge_path(path: Mapping[str, Any]) -> Finding:
    """The verdict on one probed path (pure; the same for local probes and remote ping)."""
    vantage = path.get("vantage", "local")
    where = "this host" if vantage == "local" else vantage
    target = f"{where} → {path['host']}"
    required = int(path["required"])
    if err := path.get("error"):
        return Finding(
            check=NAME,
            code="MTU_NOT_TESTED",
            severity=Severity.UNKNOWN,
            target=target,
            summary=f"cannot probe {path['host']} from {where}: {err['message']}",
            remediation="Raise [run] check_timeout_s, or probe fewer paths at once."
            if err.get("kind") == "Timeout"
            else "Raw ICMP needs root or CAP_NET_RAW (else UDP probes are used); remote probing "
            "needs ping (iputils) on the vantage point.",
        )
    probes = path.get("probes", [])
    text = "\n".join(
        f"{p['size']} bytes: {p['outcome']}"
        + (f" (mtu {p['mtu']})" if p.get("mtu") else "")
        + (f" from {p['router']}" if p.get("router") else "")
        + (f", {p['rtt_ms']} ms" if p.get("rtt_ms") is not None else "")
        + (f" — {p['detail']}" if p.get("detail") else "")
        for p in probes
    )
    evidence: tuple[Evidence, ...] = (
        Evidence(
            kind=EvidenceKind.PROBE,
            source=f"{where}: {path.get('probe_kind', '?')} probes with DF to {path.get('address', path['host'])}",
            text=text or "no probes",
            data=None,
        ),
    )
    if path.get("probe_kind") == "udp":
        evidence = (
            *evidence,
            Evidence(
                kind=EvidenceKind.PROBE,
                source=f"{where}: probe kind",
                text="UDP probes (no raw sockets here): ICMP echo would be faster and not rate-limited by the target; "
                "it needs CAP_NET_RAW (e.g. setcap cap_net_raw+ep on the Python binary) or root.",
            ),
        )
    small = [p for p in probes if p["size"] < required]
    big = [p for p in probes if p["size"] == required]
    largest = path.get("largest_passing")
    rtts = [p["rtt_ms"] for p in probes if p.get("rtt_ms") is not None]
    metrics = [Metric(name="required_bytes", value=required, unit="B")]
    if largest is not None:
        metrics.append(Metric(name="largest_passing_bytes", value=largest, unit="B", crit=required, direction="lower"))
    if rtts:
        metrics.append(Metric(name="rtt_ms", value=round(min(rtts), 3), unit="ms"))
    if any(p["outcome"] == "reply" for p in big):
        return Finding(
            check=NAME,
            code="MTU_PATH_OK",
            severity=Severity.INFO,
            target=target,
            summary=f"{required}-byte packets with DF reach {path['host']} from {where}",
            evidence=evidence,
            metrics=tuple(metrics),
        )
    local = next((p for p in probes if p["outcome"] == "local_too_big"), None)
    if local and path.get("device_mtu") and int(path["device_mtu"]) >= required and local.get("mtu"):
        # the interface is big enough: the refusal came from a PMTU a router reported earlier (cached)
        return Finding(
            check=NAME,
            code="MTU_PATH_TOO_SMALL",
            severity=Severity.CRIT,
            target=target,
            summary=f"a hop on the path from {where} to {path['host']} has MTU {local['mtu']} (required "
            f"{required}; learned earlier from a router's frag-needed and cached on {where})",
            evidence=evidence,
            metrics=tuple(metrics),
            remediation=f"Raise the MTU to {required} on every hop of the path; `ip route get "
            f"{path['host']}` on {where} shows the cached value.",
        )
    if local:
        dev, dev_mtu = path.get("device"), path.get("device_mtu") or local.get("mtu")
        return Finding(
            check=NAME,
            code="MTU_LOCAL_TOO_SMALL",
            severity=Severity.CRIT,
            target=target,
            summary=f"{where} cannot send {required} bytes to {path['host']}: interface "
            f"{dev or '?'} has MTU {dev_mtu or '?'}",
            evidence=evidence,
            metrics=tuple(metrics),
            remediation=f"Raise the MTU of {dev or 'the interface'} (and its bond/bridge/VLAN parents) to "
            f"{required}; for an SSVM, secstorage.vm.mtu.size.",
        )
    if not any(p["outcome"] == "reply" for p in small):
        return Finding(
            check=NAME,
            code="MTU_UNREACHABLE",
            severity=Severity.UNKNOWN,
            target=target,
            summary=f"no answer from {path['host']} even to small probes from {where}: host down or "
            "ICMP filtered — no MTU verdict",
            evidence=evidence,
            metrics=tuple(metrics),
            remediation="Check the host is up and that ICMP echo (or UDP probes' port-unreachable) "
            "is allowed on the path.",
        )
    if frag := next((p for p in probes if p["outcome"] == "frag_needed"), None):
        return Finding(
            check=NAME,
            code="MTU_PATH_TOO_SMALL",
            severity=Severity.CRIT,
            target=target,
            summary=f"hop {frag['router']} reports MTU {frag['mtu']} on the path from {where} to "
            f"{path['host']} (required {required})",
            evidence=evidence,
            metrics=(
                *metrics,
                Metric(name="path_mtu_bytes", value=frag["mtu"], unit="B", crit=required, direction="lower"),
            ),
            remediation=f"Raise the MTU to {required} on the next-hop interface of router {frag['router']} "
            "(and every switch port after it), or keep this traffic at the smaller MTU.",
        )
    return Finding(
        check=NAME,
        code="MTU_BLACKHOLE",
        severity=Severity.CRIT,
        target=target,
        summary=f"{required}-byte packets to {path['host']} vanish without an ICMP error while small ones "
        f"pass" + (f"; the largest that passed was {largest} bytes" if largest else ""),
        details="No router reported the smaller MTU: a switch port, bond or VLAN on the same subnet is "
        "still at a smaller MTU, or a firewall filters ICMP 'fragmentation needed'.",
        evidence=evidence,
        metrics=tuple(metrics),
        remediation=f"Find the link below {required} on this path (switch ports, bonds, VLAN interfaces on "
        "both ends) and raise it; allow ICMP type 3 code 4 through firewalls.",
    )


CHECK = Check(
    name=NAME,
    title="Jumbo-frame paths",
    description="Path MTU with DF set to the storage paths, from here and from SSH vantage points: the guilty hop, "
    "the blackhole, the local interface.",
    codes=CODES,
    params=NoParams,
    collect=collect,
    evaluate=evaluate,
)
