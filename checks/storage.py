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
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pydantic import Field

from checks import cloudstack_db
from diagnostics.check import Check, CheckContext, Code, Params, RawEvidence
from diagnostics.config import Settings
from diagnostics.inventory import Inventory, parse_nfs_url, ssvm_mount_uuid
from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity
from diagnostics.sources import mountprobe, nfsprobe, ssh
from diagnostics.sources.errors import SourceError
from diagnostics.units import iec_bytes

NAME = "storage"
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
    *cloudstack_db.DB_CODES,
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
    if settings.cloudstack.database is not None:
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


def parse_ssvm(stdout: str) -> dict[str, Any]:
    out: dict[str, Any] = {"mount": None, "df": None, "write": None}
    for line in stdout.splitlines():
        tag, _, rest = line.partition(" ")
        if tag == "MOUNT":
            parts = rest.split()
            out["mount"] = (
                {"mount_point": parts[0], "fstype": parts[1], "options": parts[2].split(",")}
                if len(parts) >= 3
                else None
            )
        elif tag == "DF":
            f = rest.split()
            if len(f) >= 6 and f[1].isdigit():
                out["df"] = {"total_bytes": int(f[1]), "used_bytes": int(f[2]), "available_bytes": int(f[3])}
            else:
                out["df_error"] = rest.strip()
        elif tag == "WRITE":
            rc, _, msg = rest.partition(" ")
            out["write"] = {"ok": rc == "0", "rc": int(rc) if rc.lstrip("-").isdigit() else None, "message": msg}
    return out


def evaluate(raw: RawEvidence, params: StorageParams) -> Iterator[Finding]:
    data = raw.data
    if data.get("configured") and (problems := cloudstack_db.failures(NAME, data)) is not None:
        yield from problems
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
        m = re.match(r"store (\d+) ", t["store"] + " ")
        subjects = {
            "store": m.group(1) if m else t["url"],
            "store_name": t["store"],
            "zone": t.get("zone_id"),
            "server": t.get("server"),
        }
        for f in _judge_target(t, threshold):
            yield dataclasses.replace(f, subjects={k: str(v) for k, v in subjects.items() if v not in (None, "")})


def _judge_target(t: Mapping[str, Any], threshold: float) -> Iterator[Finding]:
    if t.get("skipped"):
        yield Finding(
            check=NAME,
            code="NFS_STORE_SKIPPED",
            severity=Severity.INFO,
            target=t["store"],
            summary=f"image store {t['url']} is {t['skipped']}, not NFS: this check probes NFS stores only",
            remediation="Check object stores (S3, Swift) with their own tools; the templates check still "
            "follows their template rows.",
        )
        return
    elsewhere = any(not s.get("error") for s in t.get("ssvm", [])) or bool(t.get("mounted"))
    # an RPC probe that got as far as MNT (or found NFSv4 only) reports on the store itself
    probed = elsewhere or any("mnt" in r or r.get("nfs4_only") for r in t.get("protocol", []))
    for r in t.get("protocol", []):
        said = list(_judge_protocol(t, r, threshold, others_probed=elsewhere))
        probed |= bool(said)
        yield from said
    for m in t.get("mounted", []):
        yield from _judge(t, "this host", m["path"], _from_mount(m), threshold)
    for s in t.get("ssvm", []):
        if not s.get("error"):
            yield from _judge(t, s["vantage"], s["mount_path"], _from_ssvm(s), threshold)
    if not probed:
        reasons = "; ".join(
            [s["error"]["message"] for s in t.get("ssvm", []) if s.get("error")]
            + [f"NFS protocol: {r['error']['message']}" for r in t.get("protocol", []) if "error" in r]
        )
        yield Finding(
            check=NAME,
            code="NFS_UNREACHABLE",
            severity=Severity.UNKNOWN,
            target=t["store"],
            summary=f"no vantage point could probe {t['url']}" + (f" ({reasons})" if reasons else ""),
            remediation="Check the NFS server answers (rpcinfo -p SERVER, showmount -e SERVER), or give "
            "[[storage]] mount_path or ssvm_hosts (or the database, for the SSVMs).",
        )


def _mnt_refused(
    t: Mapping[str, Any], r: Mapping[str, Any], target: str, ev: tuple[Evidence, ...], *, others_probed: bool
) -> Finding:
    """MNT said no. A listed export, or one another vantage point reached, refuses only this host; NOENT
    means it does not exist. Not listed and refused is ambiguous: servers like nfs-ganesha list only the
    exports the asking client may mount."""
    listed = [e for e in r.get("exports", []) if e["path"].rstrip("/") == t["export"].rstrip("/")]
    exported = ", ".join(e["path"] for e in r.get("exports", [])) or "nothing"
    if listed or (others_probed and r["mnt"] not in ("NOENT", "NOTDIR")):
        groups = ", ".join(listed[0]["groups"]) or "everyone" if listed else "other clients"
        port = "" if r.get("reserved_port") else "; this probe did not use a privileged source port (run as root)"
        seen = "" if listed else "; another vantage point reaches it"
        return Finding(
            check=NAME,
            code="NFS_NOT_ALLOWED_FROM_HERE",
            severity=Severity.INFO,
            target=target,
            summary=f"{t['export']} is exported (to {groups}) but refuses this host (MNT: {r['mnt']}){seen}{port}",
            evidence=ev,
            remediation="Expected when the export allows only the storage network: the ssvm mode probes from "
            "the SSVM, which is what matters.",
        )
    certain = r["mnt"] in ("NOENT", "NOTDIR")
    return Finding(
        check=NAME,
        code="NFS_EXPORT_MISSING",
        severity=Severity.CRIT if certain else Severity.WARN,
        target=target,
        summary=f"{t['server']} does not export {t['export']} (MNT: {r['mnt']}; exported: {exported})"
        + (
            ""
            if certain
            else " — or exports it only to other clients (some servers list only what the asking client may "
            "mount): probe from the SSVM to tell"
        ),
        evidence=ev,
        remediation="Export the path on the server (exportfs -ra / the ganesha EXPORT block) or fix the image "
        "store URL: the SSVM cannot mount what is not exported.",
    )


_NFS_ERRNO = {"ROFS": "EROFS", "ACCES": "EACCES", "PERM": "EPERM", "NOSPC": "ENOSPC", "DQUOT": "EDQUOT"}


def _judge_protocol(
    t: Mapping[str, Any], r: Mapping[str, Any], threshold: float, *, others_probed: bool
) -> Iterator[Finding]:
    """Findings from one ONC RPC probe record (diagnostics.sources.nfsprobe.probe)."""
    where, path = "this host (NFS protocol)", f"{t['server']}:{t['export']}"
    target = f"{t['store']} from {where}"
    ev = (Evidence(kind=EvidenceKind.PROBE, source=f"{where}: {path}", data=dict(r), text=None),)
    err = r.get("error")
    if r.get("nfs4_only"):
        yield Finding(
            check=NAME,
            code="NFS_V4_ONLY",
            severity=Severity.INFO,
            target=target,
            summary=f"{t['server']} answers NFSv4 only (no MOUNT v3 / portmapper): capacity and writability "
            "need the mounted or ssvm mode",
            evidence=ev,
        )
        return
    if err and "mnt" not in r:  # failed before MNT: silent, refusing, or not speaking RPC
        garbage = err["kind"] in ("ProtocolError", "RpcUnavailable")
        if not garbage and not others_probed:
            return  # the store's NFS_UNREACHABLE finding gives this reason with the others
        yield Finding(
            check=NAME,
            code="NFS_PROTOCOL_ERROR" if garbage else "NFS_UNREACHABLE",
            severity=Severity.UNKNOWN if garbage else Severity.INFO,
            target=target,
            summary=f"{path}: {err['message']} (step: {err['step']})"
            + ("; another vantage point probed the store" if others_probed and not garbage else ""),
            evidence=ev,
            remediation="Check the server runs rpcbind, mountd and nfsd (rpcinfo -p SERVER) and that "
            "TCP 111, 2049 and mountd's port are open from here.",
        )
        return
    if r.get("mnt") not in (None, "OK"):
        yield _mnt_refused(t, r, target, ev, others_probed=others_probed)
        return
    fs = r.get("fsstat")
    write = dict(r.get("write") or {})
    if write and not write.get("ok"):
        write["error"] = f"{_NFS_ERRNO.get(write.get('status', ''), write.get('status'))}: {write.get('message')}"
    access = r.get("access") or {}
    if not write and access and not access.get("modify"):
        squash = access.get("owner_modify") is True
        write = {
            "ok": False,
            "error": "EACCES: ACCESS: root may not modify the export root; its owner may (root_squash)"
            if squash
            else "ACCESS: root may not modify the export root (read-only or root_squash; write_probe tells which)",
        }
    result: dict[str, Any] = {
        "is_mount": True,
        "options": [],
        "write": write or None,
        "error": err,
        "space": {
            "total_bytes": fs["total_bytes"],
            "available_bytes": fs["available_bytes"],
            "used_bytes": fs["total_bytes"] - fs["free_bytes"],
        }
        if fs
        else None,
    }
    extra = (Metric(name="rpc_null_ms", value=r["null_ms"], unit="ms"),) if "null_ms" in r else ()
    yield from _judge(t, where, path, result, threshold, ev=ev, extra_metrics=extra)


def _from_mount(m: Mapping[str, Any]) -> dict[str, Any]:
    if m.get("stuck"):
        return {"stuck": m.get("detail", "")}
    mount = m.get("mount") or {}
    out = {"mount": mount, "options": mount.get("options", []), "error": m.get("error"), "write": m.get("write")}
    if "total_bytes" in m:
        out["space"] = {k: m[k] for k in ("total_bytes", "available_bytes")}
        out["space"]["used_bytes"] = m["total_bytes"] - m["free_bytes"]
    out["is_mount"] = bool(mount) and mount.get("mount_point") == m["path"]
    return out


def _from_ssvm(s: Mapping[str, Any]) -> dict[str, Any]:
    p = parse_ssvm(s.get("stdout") or "")
    return {
        "mount": p["mount"],
        "options": (p["mount"] or {}).get("options", []),
        "space": p["df"],
        "write": p["write"],
        "ssvm": True,
        "is_mount": p["mount"] is not None,
        "error": {"errno": "", "message": p["df_error"]} if p.get("df_error") and not p["df"] else None,
    }


def _judge(
    t: Mapping[str, Any],
    where: str,
    path: str,
    r: Mapping[str, Any],
    threshold: float,
    *,
    ev: tuple[Evidence, ...] = (),
    extra_metrics: tuple[Metric, ...] = (),
) -> Iterator[Finding]:
    target = f"{t['store']} from {where}"
    ev = ev or (Evidence(kind=EvidenceKind.PROBE, source=f"{where}: {path}", data=dict(r), text=None),)
    if r.get("stuck"):
        yield Finding(
            check=NAME,
            code="NFS_MOUNT_HUNG",
            severity=Severity.CRIT,
            target=target,
            summary=f"{path} on {where} does not answer: {r['stuck']}",
            evidence=ev,
            remediation="The NFS server or the path to it is gone while the mount is hard: check the "
            "server (rpcinfo, showmount -e) and the network; `umount -f -l` the path if the server is lost.",
        )
        return
    if not r.get("is_mount"):
        code = "NFS_NOT_MOUNTED_ON_SSVM" if r.get("ssvm") else "NFS_PATH_NOT_MOUNTED"
        sev = Severity.CRIT if r.get("ssvm") else Severity.UNKNOWN
        yield Finding(
            check=NAME,
            code=code,
            severity=sev,
            target=target,
            summary=f"{t['url']} is not mounted at {path} on {where}",
            evidence=ev,
            remediation="On the SSVM: check /var/log/cloud.log for 'Unable to mount' and restart the cloud service."
            if r.get("ssvm")
            else "Point [[storage]] mount_path at a mount of the export.",
        )
        return
    err = r.get("error") or {}
    if err.get("errno") == "ESTALE":
        yield Finding(
            check=NAME,
            code="NFS_STALE_HANDLE",
            severity=Severity.CRIT,
            target=target,
            summary=f"{path} on {where}: stale file handle",
            evidence=ev,
            remediation="The export was recreated or moved on the server: remount it (the SSVM: restart it).",
        )
        return
    write = r.get("write") or {}
    ro = "ro" in r.get("options", []) or "EROFS" in str(write.get("error")) or "Read-only" in str(write.get("message"))
    if ro:
        yield Finding(
            check=NAME,
            code="NFS_READ_ONLY",
            severity=Severity.CRIT,
            target=target,
            summary=f"{path} on {where} is read-only: templates cannot be written",
            evidence=ev,
            remediation="Export it read-write (rw) and remount; check the store is not marked read-only.",
        )
    elif write and not write.get("ok"):
        text = str(write.get("error") or write.get("message"))
        if "EACCES" in text or "EPERM" in text or "Permission denied" in text:
            yield Finding(
                check=NAME,
                code="NFS_ROOT_SQUASH",
                severity=Severity.CRIT,
                target=target,
                summary=f"root may not write to {path} on {where} ({text}): the export squashes root",
                evidence=ev,
                remediation="Export with no_root_squash for the SSVMs' storage network: "
                "the SSVM writes templates as root (ssvm-check.sh: 'You need to export with norootsquash').",
            )
        else:
            yield Finding(
                check=NAME,
                code="NFS_WRITE_FAILED",
                severity=Severity.CRIT,
                target=target,
                summary=f"the write probe on {path} on {where} failed: {text}",
                evidence=ev,
                remediation="Read the error: no space, quota, or an I/O problem on the server.",
            )
    space = r.get("space")
    if not space:
        return
    total, avail, used = space["total_bytes"], space["available_bytes"], space["used_bytes"]
    largest = int(t.get("largest") or 0)
    ratio = used / total if total else 0.0
    metrics = (
        Metric(name="total_bytes", value=total, unit="B"),
        Metric(
            name="available_bytes",
            value=avail,
            unit="B",
            warn=4 * largest or None,
            crit=3 * largest or None,
            direction="lower",
        ),
        Metric(name="used_ratio", value=round(ratio, 4), unit="", crit=threshold, direction="upper"),
        Metric(name="required_bytes", value=3 * largest, unit="B"),
        *extra_metrics,
    )
    named = t.get("largest_template")
    which = f"{named['name']} (id {named['id']}), " if named else ""
    if named:
        ev = (*ev, Evidence(kind=EvidenceKind.ROW, source="largest template on the store", data=named, text=None))
    if largest and avail < 4 * largest:
        sev = Severity.CRIT if avail < 3 * largest else Severity.WARN
        yield Finding(
            check=NAME,
            code="NFS_CAPACITY_LOW",
            severity=sev,
            target=target,
            summary=f"{iec_bytes(avail)} available on {path}; CloudStack practice wants 3 × the largest "
            f"template ({which}{iec_bytes(largest)}) = {iec_bytes(3 * largest)}",
            evidence=ev,
            metrics=metrics,
            remediation="Free space (old templates, snapshots), grow the export, or add an "
            "image store and migrate data (migrateSecondaryStorageData).",
        )
    if ratio >= threshold:
        yield Finding(
            check=NAME,
            code="NFS_ABOVE_THRESHOLD",
            severity=Severity.CRIT,
            target=target,
            summary=f"{ratio:.0%} used ≥ secondary.storage.capacity.threshold {threshold:.0%}: CloudStack "
            "stops downloading to this store and won't start an SSVM for it",
            evidence=ev,
            metrics=metrics,
            remediation="Free space or add an image store; the threshold itself is a global setting.",
        )
    elif not ro and (not write or write.get("ok")) and not (largest and avail < 4 * largest):
        yield Finding(
            check=NAME,
            code="NFS_OK",
            severity=Severity.INFO,
            target=target,
            summary=f"{path} on {where}: writable, {iec_bytes(avail)} available ({ratio:.0%} used)",
            evidence=ev,
            metrics=metrics,
        )


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
