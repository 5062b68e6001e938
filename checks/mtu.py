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

import shlex
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from checks import cloudstack_db, mtu_api, ssvm_vantage
from checks.mtu_judge import judge_path, parse_ping
from diagnostics.check import Check, CheckContext, Code, NoParams, RawEvidence
from diagnostics.config import MtuSettings, Settings
from diagnostics.model import Finding, Metric, Severity
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
    *ssvm_vantage.API_CODES,
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
    chosen, site = settings.cloudstack.chosen_source(), None
    if cfg.storage_from_inventory and settings.cloudstack.database is not None and chosen != "api":
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
    if cfg.storage_from_inventory and chosen == "api" and settings.cloudstack.api is not None:
        site = ssvm_vantage.list_site(settings.cloudstack.api, ctx.deadline - 1)
        targets += [t for t in mtu_api.store_servers(site) if t not in targets]
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
    # no SSH vantage point answered: the SSVMs probe through CloudStack's runDiagnostics (checks.mtu_api)
    if ssvm_vantage.wanted(settings, any("error" not in p for p in paths if p.get("vantage", "local") != "local")):
        via_api = mtu_api.collect(ctx, settings, targets, site)
        data["api"] = via_api["api"]
        paths += via_api["paths"]
    elif site is not None and site.get("error"):  # the stores could not be listed: say so, not a silent gap
        data["api"] = {"endpoint": site["endpoint"], "error": site["error"], "ssvms": []}
    return RawEvidence(data={**data, "required": cfg.required, "targets": targets, "paths": paths})


# --- evaluate ----------------------------------------------------------------------------------------------


def evaluate(raw: RawEvidence, params: NoParams) -> Iterator[Finding]:
    data = raw.data
    if data.get("configured") and (problems := cloudstack_db.failures(NAME, data)) is not None:
        yield from problems
    yield from _ssvm_mtu(data)
    yield from mtu_api.failures(data)
    if not data.get("paths") and data.get("api") is None:
        yield Finding(
            check=NAME,
            code="MTU_NOT_TESTED",
            severity=Severity.UNKNOWN,
            target="mtu",
            summary="no path to probe: set [mtu] targets, or [cloudstack.database] for the image stores",
            remediation="Name the storage addresses in [mtu] targets.",
        )
        return
    for path in data.get("paths", []):
        yield mtu_api.judge(path) if path.get("via") == "runDiagnostics" else judge_path(path)


def _ssvm_mtu(data: Mapping[str, Any]) -> Iterator[Finding]:
    """CloudStack's own view of the SSVM's MTU against what the storage paths need (cloudstack.md §2);
    the setting from the database, else from the API (listConfigurations)."""
    results = data.get("results") or {}
    required = int(data.get("required", 9000))
    for row in results.get("settings") or (data.get("api") or {}).get("settings") or []:
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
