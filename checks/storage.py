"""The ``storage`` check: can templates be written to each NFS image store, with room to spare?

For each store (the database's NFS image stores, and ``[[storage]]`` entries) three vantage points:

- ``mounted``: a local mount of the export (``mount_path``, or every NFS mount here whose source is the
  export), probed in a child process with a deadline (diagnostics.sources.mountprobe): mount options,
  statvfs numbers, a write probe;
- ``ssvm``: over SSH on the SSVMs (port 3922): is the export mounted at ``/mnt/SecStorage/<uuid>``, ``df``
  numbers, the same write probe with coreutils under ``timeout``;
- ``protocol``: no mount at all, ONC RPC from here (diagnostics.sources.nfsprobe): portmapper, NULL,
  MOUNT EXPORT/MNT, FSSTAT, ACCESS and — with ``write_probe`` — CREATE/WRITE/READ/REMOVE of a temp file.

Judged against CloudStack's rules (probing.md §2): free space of at least 3 × the largest (virtual)
template, and a used fraction below ``secondary.storage.capacity.threshold``. Image stores that are not
NFS (S3, Swift) are skipped with an INFO finding.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import Field

from checks import cloudstack_api_source, cloudstack_db, storage_api, storage_rules
from checks.storage_rules import judge_target
from diagnostics.check import Check, CheckContext, Code, Params, RawEvidence
from diagnostics.config import Settings
from diagnostics.inventory import Inventory, parse_nfs_url, ssvm_mount_uuid
from diagnostics.model import Finding, Severity
from diagnostics.sources import mountprobe, nfsprobe, ssh
from diagnostics.sources.errors import SourceError

NAME = storage_rules.CHECK_NAME
MODES = ("protocol", "mounted", "ssvm")
CODES = (
    Code(code="NFS_OK", severity=Severity.INFO, meaning="writable, with room for 4 × the largest template"),
    Code(code="NFS_READ_ONLY", severity=Severity.CRIT, meaning="mounted or exported read-only"),
    Code(
        code="NFS_ROOT_SQUASH",
        severity=Severity.CRIT,
        meaning="root may not write (root_squash): the SSVM writes as root and needs no_root_squash",
    ),
    Code(code="NFS_WRITE_FAILED", severity=Severity.CRIT, meaning="the write probe failed (reason given)"),
    Code(
        code="NFS_CAPACITY_LOW",
        severity=Severity.CRIT,
        meaning="available < 3 × the largest template (CRIT), < 4 × (WARN)",
    ),
    Code(
        code="NFS_ABOVE_THRESHOLD",
        severity=Severity.CRIT,
        meaning="used fraction ≥ secondary.storage.capacity.threshold: CloudStack stops using the store",
    ),
    Code(code="NFS_MOUNT_HUNG", severity=Severity.CRIT, meaning="statvfs/open on the mount never returned"),
    Code(code="NFS_STALE_HANDLE", severity=Severity.CRIT, meaning="the mount answers 'stale file handle'"),
    Code(
        code="NFS_NOT_MOUNTED_ON_SSVM",
        severity=Severity.CRIT,
        meaning="the SSVM has not mounted the export: it cannot write templates there",
    ),
    Code(
        code="NFS_PATH_NOT_MOUNTED",
        severity=Severity.UNKNOWN,
        meaning="the configured mount_path holds no mount of the export: nothing to probe there",
    ),
    Code(
        code="NFS_UNREACHABLE",
        severity=Severity.UNKNOWN,
        meaning="no vantage point could probe the store (server silent over RPC, no mount here, no SSVM reachable)",
    ),
    Code(
        code="NFS_EXPORT_MISSING",
        severity=Severity.CRIT,
        meaning="the server does not export the store's path (not in its export list, MNT refused)",
    ),
    Code(
        code="NFS_NOT_ALLOWED_FROM_HERE",
        severity=Severity.INFO,
        meaning="the export exists but refuses this host (export ACL or privileged port): probe from the SSVM",
    ),
    Code(code="NFS_PROTOCOL_ERROR", severity=Severity.UNKNOWN, meaning="the server answered, but not valid RPC"),
    Code(
        code="NFS_V4_ONLY",
        severity=Severity.INFO,
        meaning="an NFSv4-only server: it answers NULL, capacity needs the mounted or ssvm mode",
    ),
    Code(code="NFS_STORE_SKIPPED", severity=Severity.INFO, meaning="an image store that is not NFS (S3, Swift)"),
    *storage_api.CODES,
    *cloudstack_api_source.SOURCE_CODES,
)
LARGEST_TEMPLATE_SQL = (
    "SELECT r.store_id, r.template_id, t.name, t.unique_name, r.size FROM template_store_ref r "
    "JOIN vm_template t ON t.id = r.template_id WHERE (r.destroyed = 0 OR r.destroyed IS NULL) AND r.size = "
    "(SELECT MAX(r2.size) FROM template_store_ref r2 WHERE r2.store_id = r.store_id "
    "AND (r2.destroyed = 0 OR r2.destroyed IS NULL)) ORDER BY r.store_id, r.template_id"
)
THRESHOLD_SQL = (
    "SELECT name, value, default_value FROM configuration WHERE name = 'secondary.storage.capacity.threshold' "
    "AND category <> 'Hidden'"
)


class StorageParams(Params):
    capacity_threshold: float = Field(0.90, gt=0, le=1, description="used when the database does not say")
    probe_timeout_s: float = Field(10, gt=0, le=300, description="deadline of each mounted, SSVM or RPC probe")
    write_probe: bool = True


# --- collect ----------------------------------------------------------------------------------------------


def _targets(settings: Settings, results: Mapping[str, Any]) -> list[dict[str, Any]]:
    inv = Inventory.from_results(results) if results else None
    targets: dict[str, dict[str, Any]] = {}
    largest_named = {int(r["store_id"]): r for r in results.get("largest_template", ())}
    for s in inv.stores if inv else []:
        if (s.role or "Image") == "Image" and not s.nfs:
            targets[s.url or s.label] = {"url": s.url, "store": s.label, "skipped": s.protocol or "not nfs://"}
        elif s.nfs and (s.role or "Image") == "Image":
            targets[s.url or ""] = {
                "url": s.url,
                "store": s.label,
                "zone_id": s.zone_id,
                "largest": inv.largest_by_store.get(s.id, 0) if inv else 0,
                "largest_template": _named(largest_named.get(s.id)),
                "config": {},
            }
    for entry in settings.storage:
        t = targets.setdefault(entry.url, {"url": entry.url, "store": entry.url, "zone_id": None, "largest": 0})
        t["config"] = entry.model_dump()
        if entry.largest_template_bytes is not None:
            t["largest"] = entry.largest_template_bytes
    for t in targets.values():
        if t.get("skipped"):
            continue
        server, export = parse_nfs_url(t["url"]) or ("", "")
        t.update(server=server, export=export, uuid=ssvm_mount_uuid(server, export))
        hosts = list((t.get("config") or {}).get("ssvm_hosts") or [])
        if inv and t["zone_id"] is not None:
            hosts += [
                v.private_ip
                for v in inv.ssvms_in(t["zone_id"])
                if v.vm_state == "Running" and v.private_ip and v.private_ip not in hosts
            ]
        t["ssvm_hosts"] = hosts
    return list(targets.values())


def _named(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"id": row["template_id"], "name": row["name"], "unique_name": row["unique_name"], "bytes": row["size"]}


def _local_mounts(t: Mapping[str, Any]) -> list[str]:
    """Mount points here for the export: the configured one, else every NFS mount with that source."""
    if path := (t.get("config") or {}).get("mount_path"):
        return [path]
    return mountprobe.nfs_mounts_of(f"{t['server']}:{t['export'].rstrip('/') or '/'}")


def ssvm_script(mount_path: str, source: str, write: bool, timeout_s: float) -> str:
    q, t = shlex.quote, f"{timeout_s:g}"
    lines = [
        f"mp={q(mount_path)}; src={q(source)}",
        'm=$(awk -v s="$src" -v p="$mp" \'($1==s || $2==p) {print $2" "$3" "$4; exit}\' /proc/mounts)',
        'echo "MOUNT $m"',
        'if [ -n "$m" ]; then mp=$(echo "$m" | cut -d" " -f1); fi',
        f'echo "DF $(timeout {t} df -PB1 "$mp" 2>&1 | tail -1)"',
    ]
    if write:
        lines += [
            'f="$mp/.csdiag-probe-$(date +%s)-$$-$RANDOM"',
            f'out=$(timeout {t} sh -c \'head -c 65536 /dev/zero > "$1" && sync "$1" && cat "$1" > /dev/null\' '
            '_ "$f" 2>&1); rc=$?; timeout 5 rm -f "$f"; echo "WRITE $rc $out"',
        ]
    return "\n".join(lines) + "\n"


def _probe_ssvm(
    host_spec: str, t: Mapping[str, Any], settings: Settings, params: StorageParams, timeout_s: float
) -> dict[str, Any]:
    host, port = ssh.split_host(host_spec, settings.ssh.ssvm_port)
    mp = (t.get("config") or {}).get("ssvm_mount_path") or f"/mnt/SecStorage/{t['uuid']}"
    script = ssvm_script(mp, f"{t['server']}:{t['export']}", params.write_probe, params.probe_timeout_s)
    record: dict[str, Any] = {"vantage": host, "mount_path": mp}
    try:
        rc, out, _ = ssh.run_script(host, port, settings.ssh, script, timeout_s)
        record.update(rc=rc, stdout=out)
    except SourceError as exc:
        record["error"] = {"kind": exc.kind, "message": str(exc)}
    return record


def collect(ctx: CheckContext[StorageParams]) -> RawEvidence:
    settings, params = ctx.settings, ctx.params
    data: dict[str, Any] = {"configured": False}
    if cloudstack_api_source.use_api(ctx):
        data = dict(
            cloudstack_api_source.collect(ctx, lambda: RawEvidence(data={}), storage_api.CALLS, storage_api.trim).data
        )
        if data.get("configured") and "error" not in data:
            data["results"] = storage_api.results(data["answers"])
    elif settings.cloudstack.database is not None:
        from diagnostics import inventory

        def plan(db: Any, columns: Mapping[str, set[str]]) -> dict[str, str]:
            q = inventory.queries(columns)
            out = {k: q[k] for k in ("stores", "largest", "zones")}
            if "vm_template" in columns and "template_id" in columns["template_store_ref"]:
                out["largest_template"] = LARGEST_TEMPLATE_SQL
            if {"nics", "networks", "vm_instance", "host"} <= set(columns):
                out.update(ssvms=q["ssvms"], ssvm_nics=q["ssvm_nics"])
            if "configuration" in columns:
                out["threshold"] = THRESHOLD_SQL
            return out

        data = dict(
            cloudstack_db.collect(
                ctx,
                required={
                    "image_store": ("id", "url", "removed", "role", "data_center_id"),
                    "template_store_ref": ("store_id", "size", "destroyed"),
                    "data_center": ("id", "name"),
                },
                optional_tables=("configuration", "nics", "networks", "vm_instance", "host", "vm_template"),
                plan=plan,
            ).data
        )
    targets = _targets(settings, data.get("results") or {})
    if data.get("via") == "api" and "answers" in data:
        storage_api.relabel(targets, data["answers"])
    budget = ctx.timeout(params.probe_timeout_s * 3 + 30)
    live = [t for t in targets if not t.get("skipped")]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for t in live:
            modes = (t.get("config") or {}).get("modes") or MODES
            # each mount probe is a spawned process with its own deadline (no fork: safe beside threads),
            # so the mounts are probed at once, not one deadline after another
            t["mounted"] = [
                pool.submit(mountprobe.probe, p, params.probe_timeout_s, params.write_probe)
                for p in (_local_mounts(t) if "mounted" in modes else [])
            ]
            t["protocol"] = (
                [pool.submit(nfsprobe.probe, t["server"], t["export"], params.probe_timeout_s, params.write_probe)]
                if "protocol" in modes and t["server"]
                else []
            )
            t["ssvm"] = [
                pool.submit(_probe_ssvm, h, t, settings, params, budget)
                for h in (t["ssvm_hosts"] if "ssvm" in modes else [])
            ]
        for t in live:
            t["mounted"] = [f.result() for f in t["mounted"]]
            t["protocol"] = [f.result() for f in t["protocol"]]
            t["ssvm"] = [f.result() for f in t["ssvm"]]
    return RawEvidence(data={**data, "targets": targets})


# --- evaluate ---------------------------------------------------------------------------------------------


def _threshold(data: Mapping[str, Any], params: StorageParams) -> float:
    for row in (data.get("results") or {}).get("threshold", []):
        try:
            return float(row["value"] if row["value"] is not None else row["default_value"])
        except (TypeError, ValueError):
            pass
    return params.capacity_threshold


def evaluate(raw: RawEvidence, params: StorageParams) -> Iterator[Finding]:
    data = raw.data
    if (data.get("configured") or data.get("via") == "api") and (
        problems := cloudstack_api_source.failures(NAME, data)
    ) is not None:
        yield from problems
        if not data.get("targets"):
            return
    threshold = _threshold(data, params)
    if not data.get("targets") and not data.get("configured"):
        yield Finding(
            check=NAME,
            code="NFS_UNREACHABLE",
            severity=Severity.UNKNOWN,
            target="storage",
            summary="no image store to check: configure [cloudstack.database] or [[storage]] entries",
            remediation="Add [cloudstack.database] (the stores come from it) or [[storage]] url = ….",
        )
        return
    for t in data.get("targets", []):
        # the database's store id (templates name it too), else the URL; the label for incident texts
        # (the API names the store's and the zone's UUID, as the templates check does through it)
        m = re.match(r"store (\S+) ", t["store"] + " ")
        subjects = {
            "store": m.group(1) if m else t["url"],
            "store_name": t["store"],
            "zone": t.get("zone_uuid") or t.get("zone_id"),
            "server": t.get("server"),
        }
        found: Iterable[Finding] = judge_target(t, threshold)
        if "api_stats" in t:
            found = storage_api.with_api_view(found, t, threshold, data.get("target", "API"))
        for f in found:
            yield dataclasses.replace(f, subjects={k: str(v) for k, v in subjects.items() if v not in (None, "")})


CHECK = Check(
    name=NAME,
    title="Secondary storage",
    description="NFS image stores: mounted here and on the SSVMs, writable (also by root), with 3 × the largest "
    "template free and below the capacity threshold; never hangs on a dead mount.",
    codes=CODES,
    params=StorageParams,
    collect=collect,
    evaluate=evaluate,
)
