"""The ``mtu`` check's rules: ping output parsed into probe records, and the verdict on one probed path
(pure; the same for local probes, SSH ping and runDiagnostics, see checks.mtu)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity

NAME = "mtu"

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
