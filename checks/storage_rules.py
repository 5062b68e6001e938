"""The storage rules on one target: what its three vantage points (a local mount, the SSVMs, the NFS
protocol) say about it, judged against CloudStack's rules — free space of at least 3 × the largest template,
used below ``secondary.storage.capacity.threshold`` — and the protocol's own errors (probing.md §2)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity
from diagnostics.units import iec_bytes

CHECK_NAME = "storage"
# The state rules of one vantage point, in order (documented in the file).
STATE_RULES: list[dict[str, Any]] = tomllib.loads(
    Path(__file__).with_name("storage_rules.toml").read_text(encoding="utf-8")
)["rule"]


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


def judge_target(t: Mapping[str, Any], threshold: float) -> Iterator[Finding]:
    if t.get("skipped"):
        yield Finding(
            check=CHECK_NAME,
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
        yield from judge_vantage(t, "this host", m["path"], _from_mount(m), threshold)
    for s in t.get("ssvm", []):
        if not s.get("error"):
            yield from judge_vantage(t, s["vantage"], s["mount_path"], _from_ssvm(s), threshold)
    if not probed:
        reasons = "; ".join(
            [s["error"]["message"] for s in t.get("ssvm", []) if s.get("error")]
            + [f"NFS protocol: {r['error']['message']}" for r in t.get("protocol", []) if "error" in r]
        )
        yield Finding(
            check=CHECK_NAME,
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
            check=CHECK_NAME,
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
        check=CHECK_NAME,
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
            check=CHECK_NAME,
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
            check=CHECK_NAME,
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
    yield from judge_vantage(t, where, path, result, threshold, ev=ev, extra_metrics=extra)


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


def _state_word(r: Mapping[str, Any], write: Mapping[str, Any]) -> str:
    """What the vantage point showed beyond the numbers: a write that succeeded, or no write tried."""
    if r.get("api"):
        return "as the SSVM last reported it, "
    return "writable, " if write.get("ok") else "not write-probed, "


def judge_vantage(
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
    facts = _state_facts(r)
    text = {"path": path, "where": where, "url": t["url"], "stuck": r.get("stuck"), "error": facts["error"]}
    for rule in STATE_RULES:
        if facts[rule["when"]]:
            yield Finding(
                check=CHECK_NAME,
                code=rule["code"],
                severity=Severity[rule["severity"]],
                target=target,
                summary=rule["summary"].format(**text),
                evidence=ev,
                remediation=rule["remediation"],
            )
            if rule.get("final"):
                return
    write = r.get("write") or {}
    ro = facts["read_only"]
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
            check=CHECK_NAME,
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
            check=CHECK_NAME,
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
            check=CHECK_NAME,
            code="NFS_OK",
            severity=Severity.INFO,
            target=target,
            summary=f"{path} on {where}: {_state_word(r, write)}{iec_bytes(avail)} available ({ratio:.0%} used)",
            evidence=ev,
            metrics=metrics,
        )


def _state_facts(r: Mapping[str, Any]) -> dict[str, Any]:
    """The facts the state rules (``storage_rules.toml``) are judged on, from one vantage point's probe."""
    write = r.get("write") or {}
    error = str(write.get("error") or write.get("message"))
    mounted = bool(r.get("is_mount"))
    read_only = (
        "ro" in r.get("options", []) or "EROFS" in str(write.get("error")) or "Read-only" in str(write.get("message"))
    )
    failed = bool(write) and not write.get("ok") and not read_only
    denied = failed and any(w in error for w in ("EACCES", "EPERM", "Permission denied"))
    return {
        "stuck": bool(r.get("stuck")),
        "unmounted_ssvm": not mounted and bool(r.get("ssvm")),
        "unmounted_here": not mounted and not r.get("ssvm"),
        "stale": (r.get("error") or {}).get("errno") == "ESTALE",
        "read_only": read_only,
        "write_denied": denied,
        "write_failed": failed and not denied,
        "error": error,
    }
