"""The hygiene half of the ``images`` check: the facts of one image file, read without mounting it
(diagnostics.sources.diskimage), and the preparation runbook's rules on them — used by ``csdiag image lint``
and by the images check on templates read through a local mount of a store."""

from __future__ import annotations

import re
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from diagnostics.check import RawEvidence
from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity
from diagnostics.sources import diskimage, templatefiles
from diagnostics.sources.errors import SourceError
from diagnostics.units import iec_bytes

CHECK_NAME = "images"


class HygieneParams(Protocol):
    """The limits the hygiene and format rules read (``ImagesParams`` in checks.images)."""

    @property
    def max_log_bytes(self) -> int: ...
    @property
    def max_cache_bytes(self) -> int: ...
    @property
    def expect_format(self) -> str: ...
    @property
    def thin_ratio(self) -> float: ...


# --- facts of an image (collect) ---------------------------------------------------------------------------


def _lines(data: bytes | None, pattern: str) -> list[str]:
    if not data:
        return []
    text = data.decode("utf-8", "replace")
    return [ln.strip() for ln in text.splitlines() if re.search(pattern, ln) and not ln.lstrip().startswith("#")]


def _root_password(shadow: bytes | None) -> str:
    """The kind of root's password field — never the hash: 'hash:$6$', 'locked', 'empty' or 'absent'."""
    for line in (shadow or b"").decode("utf-8", "replace").splitlines():
        fields = line.split(":")
        if fields[0] == "root" and len(fields) > 1:
            pw = fields[1]
            if pw == "":
                return "empty"
            if pw.startswith(("!", "*")) or pw in ("x",):
                return "locked"
            m = re.match(r"^(\$[0-9a-z]+\$)", pw)
            return f"hash:{m.group(1) if m else 'DES'}"
    return "absent"


def _key_kind(head: bytes) -> str | None:
    m = re.search(rb"-----BEGIN ((?:[A-Z0-9]+ )?PRIVATE KEY)-----", head[:4096])
    return m.group(1).decode() if m else None


def _cloud_init(tree: diskimage.Tree) -> dict[str, Any]:
    installed = [
        p for p in ("/usr/bin/cloud-init", "/usr/local/bin/cloud-init", "/etc/cloud/cloud.cfg") if tree.is_file(p)
    ]
    disabled = [p for p in ("/etc/cloud/cloud-init.disabled",) if tree.node(p) is not None]
    for unit in ("cloud-init.service", "cloud-init-local.service", "cloud-config.service", "cloud-final.service"):
        node = tree._get(f"/etc/systemd/system/{unit}")
        if node is not None and node.filetype == stat.S_IFLNK and "/dev/null" in str(getattr(node, "link", "")):
            disabled.append(f"/etc/systemd/system/{unit} → /dev/null (masked)")
    sources: list[str] = []
    for cfg in ["/etc/cloud/cloud.cfg", *tree.glob("/etc/cloud/cloud.cfg.d/*.cfg")]:
        for line in _lines(tree.read(cfg), r"^\s*datasource_list\s*:"):
            sources.append(f"{cfg}: {line}")
    return {"installed": installed, "disabled": disabled, "datasource_list": sources}


T = TypeVar("T")


def hygiene_facts(tree: diskimage.Tree) -> dict[str, Any]:
    """What the hygiene rules judge, read from the root file system ``tree``.

    A part that could not be read (a corrupt inode, extent or folder) is listed in ``unreadable`` and its
    fact is None (not "absent"): the rules skip it and the image cannot be judged clean."""

    def guard(read: Callable[[], T], default: T) -> T:
        try:
            return read()
        except diskimage.PartUnreadable as exc:
            tree.unreadable.append({"path": exc.path, "reason": exc.reason})
            return default

    none: list[str] = []

    def lines_of(pattern: str, regex: str) -> dict[str, list[str]]:
        found = guard(lambda: tree.glob(pattern), none)
        return {p: guard(lambda p=p: _lines(tree.read(p), regex), none) for p in found}  # type: ignore[misc]

    def head(path: str) -> bytes:
        return guard(lambda: tree.read(path, 4096), None) or b""

    ifcfg = lines_of("/etc/sysconfig/network-scripts/ifcfg-*", r"^\s*(HWADDR|MACADDR|UUID)\s*=")
    netplan = lines_of("/etc/netplan/*.yaml", r"macaddress\s*:")
    logs = sorted(tree.walk("/var/log"), key=lambda x: -x[1])
    caches: dict[str, int] = {}
    for top, pattern in (("/var/cache/yum", "*"), ("/var/cache/dnf", "*"), ("/var/cache/apt/archives", "*.deb")):
        total = sum(size for path, size in tree.walk(top) if Path(path).match(pattern) or pattern == "*")
        if total:
            caches[top] = total
    keys = []
    homes = ["/root", *(f"/home/{h}" for h in guard(lambda: tree.listdir("/home"), none))]
    for home in homes:
        for path, size in tree.walk(home, limit=5000):
            if 0 < size <= 64 * 1024 and (kind := _key_kind(head(path))):
                keys.append({"path": path, "type": kind})
    machine_id = (guard(lambda: tree.read("/etc/machine-id", 256), None) or b"").strip()
    net_rules = "/etc/udev/rules.d/70-persistent-net.rules"
    facts = {
        "persistent_net_rules": guard(
            lambda: _lines(tree.read(net_rules), r"\S") if tree.is_file(net_rules) else None, None
        ),
        "ifcfg": {p: lines for p, lines in ifcfg.items() if lines},
        "netplan": {p: lines for p, lines in netplan.items() if lines},
        "ssh_host_keys": guard(lambda: [p for p in tree.glob("/etc/ssh/ssh_host_*_key") if tree.is_file(p)], none),
        "logs_total_bytes": sum(s for _, s in logs),
        "largest_logs": [{"path": p, "bytes": s} for p, s in logs[:10]],
        "package_caches": caches,
        "root_password": guard(lambda: _root_password(tree.read("/etc/shadow")), None),
        "private_keys": keys,
        "cloud_init": guard(lambda: _cloud_init(tree), None),
        "machine_id": machine_id.decode("ascii", "replace")[:8] + "…"
        if machine_id not in (b"", b"uninitialized")
        else "",
        "os_release": guard(lambda: _lines(tree.read("/etc/os-release"), r"^PRETTY_NAME="), none),
    }
    facts["unreadable"] = list({u["path"]: u for u in tree.unreadable}.values())
    return facts


def image_facts(path: Path, with_hygiene: bool = True) -> dict[str, Any]:
    """Everything csdiag reads from one local image file; failures become ``error``."""
    facts: dict[str, Any] = {"path": str(path)}
    try:
        facts["allocation"] = diskimage.allocation(path)
        facts["qemu_img"] = diskimage.qemu_img_info(path)
        facts["format"], facts["header"] = diskimage.header_facts(path)
        with diskimage.opened(path) as (_stream, trees):
            facts["filesystems"] = [{"type": t.kind, "where": t.where} for t in trees]
            roots = [t for t in trees if t.is_dir("/etc")]
            if with_hygiene and roots:
                facts["root_fs"] = roots[0].where
                facts["hygiene"] = hygiene_facts(roots[0])
    except SourceError as exc:
        facts["error"] = {"kind": exc.kind, "message": str(exc)}
    except Exception as exc:
        facts["error"] = {"kind": "ProtocolError", "message": f"cannot read the image: {exc.__class__.__name__}: {exc}"}
    return facts


def lint_paths(
    paths: Sequence[str], progress: Callable[[int], None] | None = None, deadline: float | None = None
) -> RawEvidence:
    """collect for ``csdiag image lint``: the facts of each local image, and its SHA-256 to register.

    With ``deadline`` (``ctx.deadline``) hashing stops there: that image is IMAGE_UNREADABLE with the reason
    and the images done are kept, instead of the whole check being abandoned."""
    images = []
    for p in paths:
        facts = image_facts(Path(p))
        if "error" not in facts:
            try:
                facts["sha256"] = templatefiles.hash_file(Path(p), "sha256", progress, deadline)
            except SourceError as exc:
                facts["error"] = {"kind": exc.kind, "message": str(exc)}
            except OSError as exc:
                facts["error"] = {"kind": "Unreadable", "message": f"{p}: {exc.strerror or exc}"}
        images.append(facts)
    return RawEvidence(data={"mode": "lint", "images": images})


def judge_image(facts: Mapping[str, Any], params: HygieneParams, *, target: str, register: bool) -> Iterator[Finding]:
    """The hygiene and format rules on one image's facts (image_facts)."""
    path = facts["path"]

    def finding(code: str, severity: Severity, summary: str, remediation: str, data: Any, **kw: Any) -> Finding:
        ev = Evidence(
            kind=EvidenceKind.FILE, source=path, data=data if isinstance(data, dict) else {"found": data}, text=None
        )
        return Finding(
            check=CHECK_NAME,
            code=code,
            severity=severity,
            target=target,
            summary=summary,
            evidence=(ev,),
            remediation=remediation,
            **kw,
        )

    found = list(_format_findings(facts, params, finding))
    yield from found
    if "error" in facts:
        yield finding(
            "IMAGE_UNREADABLE",
            Severity.UNKNOWN,
            facts["error"]["message"],
            "Check the file is a complete QCOW2 or raw image (qemu-img check).",
            facts["error"],
        )
        return
    hygiene = facts.get("hygiene")
    if hygiene is None:
        kinds = ", ".join(f"{f['type']} ({f['where']})" for f in facts.get("filesystems", [])) or "none readable"
        yield finding(
            "IMAGE_UNREADABLE",
            Severity.UNKNOWN,
            f"no Linux root file system found (file systems: {kinds}); LVM, encrypted or other file "
            "systems are not read",
            "Lint the image where it was built, or export the root file system as a raw/qcow2 image of ext4 or XFS.",
            facts.get("filesystems", []),
        )
        return
    rules = list(_hygiene_findings(hygiene, params, finding))
    yield from rules
    if unreadable := hygiene.get("unreadable"):
        parts = ", ".join(f"{u['path']} ({u['reason']})" for u in unreadable[:5])
        more = f" and {len(unreadable) - 5} more" if len(unreadable) > 5 else ""
        yield finding(
            "IMAGE_UNREADABLE",
            Severity.UNKNOWN,
            f"could not read {len(unreadable)} part(s) of the root file system: {parts}{more}; "
            "the hygiene rules on them were not evaluated",
            "Run fsck (e2fsck -fn / xfs_repair -n) on a copy of the image, rebuild it, and lint it again.",
            {"unreadable": unreadable},
        )
        return
    if not rules and not any(f.severity in (Severity.CRIT, Severity.WARN) for f in found):
        digest = (facts.get("sha256") or {}).get("digest")
        summary = "passes every hygiene rule" + (
            f"; register it with checksum {{SHA-256}}{digest}" if register and digest else ""
        )
        yield finding(
            "IMAGE_CLEAN", Severity.INFO, summary, "", {"os": hygiene.get("os_release"), "root": facts.get("root_fs")}
        )


def _format_findings(
    facts: Mapping[str, Any], params: HygieneParams, finding: Callable[..., Finding]
) -> Iterator[Finding]:
    header, alloc = facts.get("header") or {}, facts.get("allocation") or {}
    virtual = int(header.get("virtual_size") or 0)
    if header.get("backing_file"):
        yield finding(
            "IMAGE_FORMAT_PROBLEM",
            Severity.CRIT,
            f"the QCOW2 image depends on the backing file {header['backing_file']}: a template must stand alone",
            "qemu-img convert -O qcow2 IMAGE standalone.qcow2 (flattens the chain).",
            header,
        )
    if header.get("corrupt"):
        yield finding(
            "IMAGE_FORMAT_PROBLEM",
            Severity.CRIT,
            "the QCOW2 corrupt flag is set",
            "qemu-img check -r all IMAGE, or rebuild the image.",
            header,
        )
    elif header.get("dirty"):
        yield finding(
            "IMAGE_FORMAT_PROBLEM",
            Severity.WARN,
            "the QCOW2 dirty flag is set (not cleanly closed)",
            "qemu-img check -r leaks IMAGE before registering it.",
            header,
        )
    if params.expect_format.lower() != "qcow2":
        return
    if facts.get("format") == "raw":
        yield finding(
            "IMAGE_NOT_THIN",
            Severity.WARN,
            f"a raw image ({iec_bytes(virtual)}) where thin QCOW2 is expected: every copy moves every byte",
            "qemu-img convert -O qcow2 IMAGE IMAGE.qcow2 (add -c to compress) and register the QCOW2.",
            alloc | {"virtual_size": virtual},
        )
    elif virtual and alloc.get("allocated_bytes", 0) >= params.thin_ratio * virtual:
        ratio = alloc["allocated_bytes"] / virtual
        yield finding(
            "IMAGE_NOT_THIN",
            Severity.WARN,
            f"the QCOW2 image is fully allocated: {iec_bytes(alloc['allocated_bytes'])} on disk for "
            f"{iec_bytes(virtual)} virtual ({ratio:.0%})",
            "qemu-img convert -O qcow2 IMAGE thin.qcow2 (no preallocation) before registering.",
            alloc | {"virtual_size": virtual},
        )


def _hygiene_findings(
    h: Mapping[str, Any], params: HygieneParams, finding: Callable[..., Finding]
) -> Iterator[Finding]:
    if h.get("persistent_net_rules") is not None:
        yield finding(
            "IMAGE_PERSISTENT_NET_RULES",
            Severity.CRIT,
            "/etc/udev/rules.d/70-persistent-net.rules exists: VMs cloned from it rename their NIC "
            "(eth1 instead of eth0) and come up without network",
            "rm -f /etc/udev/rules.d/70-persistent-net.rules before sealing the template.",
            {"lines": h["persistent_net_rules"][:20]},
        )
    if h.get("ifcfg") or h.get("netplan"):
        where = sorted({*h.get("ifcfg", {}), *h.get("netplan", {})})
        yield finding(
            "IMAGE_IFCFG_HWADDR",
            Severity.CRIT,
            f"interface configuration pinned to the template's NIC ({', '.join(where)})",
            "Remove HWADDR=/MACADDR=/UUID= lines from ifcfg-* and macaddress: matches from netplan.",
            {**h.get("ifcfg", {}), **h.get("netplan", {})},
        )
    if h.get("ssh_host_keys"):
        yield finding(
            "IMAGE_SSH_HOST_KEYS",
            Severity.WARN,
            f"{len(h['ssh_host_keys'])} SSH host key(s) baked in: every VM would share them unless "
            "cloud-init regenerates them (ssh_deletekeys)",
            "rm -f /etc/ssh/ssh_host_*_key* before sealing; the first boot generates new ones.",
            {"keys": h["ssh_host_keys"]},
        )
    if h.get("logs_total_bytes", 0) > params.max_log_bytes:
        yield finding(
            "IMAGE_LOGS_NOT_EMPTY",
            Severity.WARN,
            f"{iec_bytes(h['logs_total_bytes'])} of logs under /var/log (largest: {h['largest_logs'][0]['path']})",
            "Truncate the logs before sealing: find /var/log -type f -exec truncate -s 0 {} +",
            {"largest": h["largest_logs"]},
            metrics=(
                Metric(
                    name="log_bytes",
                    value=h["logs_total_bytes"],
                    unit="B",
                    warn=params.max_log_bytes,
                    direction="upper",
                ),
            ),
        )
    cache_total = sum((h.get("package_caches") or {}).values())
    if cache_total > params.max_cache_bytes:
        yield finding(
            "IMAGE_PACKAGE_CACHE",
            Severity.WARN,
            f"{iec_bytes(cache_total)} of package caches: "
            + ", ".join(f"{k} {iec_bytes(v)}" for k, v in h["package_caches"].items()),
            "yum clean all / dnf clean all / apt-get clean before sealing.",
            h["package_caches"],
        )
    if str(h.get("root_password", "")).startswith("hash:"):
        yield finding(
            "IMAGE_ROOT_PASSWORD",
            Severity.CRIT,
            f"root has a password ({h['root_password'][5:]} hash) in /etc/shadow: every VM shares it",
            "passwd -l root (or usermod -p '!' root); let cloud-init or CloudStack's password "
            "service set credentials at first boot.",
            {"root": h["root_password"]},
        )
    elif h.get("root_password") == "empty":
        yield finding(
            "IMAGE_ROOT_PASSWORD",
            Severity.CRIT,
            "root has an EMPTY password in /etc/shadow",
            "passwd -l root.",
            {"root": "empty"},
        )
    if h.get("private_keys"):
        yield finding(
            "IMAGE_PRIVATE_KEYS",
            Severity.CRIT,
            f"{len(h['private_keys'])} private key(s) in the image: "
            + ", ".join(k["path"] for k in h["private_keys"][:5]),
            "Remove them; keys come from cloud-init at runtime (CloudStack SSH key pairs).",
            {"keys": h["private_keys"]},
        )
    ci = h.get("cloud_init")
    if ci is None:  # could not be read: IMAGE_UNREADABLE says so; not "not installed"
        pass
    elif not ci.get("installed"):
        yield finding(
            "IMAGE_NO_CLOUD_INIT",
            Severity.CRIT,
            "cloud-init is not installed: SSH keys, passwords and user data will not reach the VMs",
            "Install cloud-init and configure the CloudStack datasource "
            "(datasource_list: [CloudStack, ConfigDrive, None]).",
            ci,
        )
    elif ci.get("disabled"):
        yield finding(
            "IMAGE_NO_CLOUD_INIT",
            Severity.CRIT,
            f"cloud-init is disabled: {', '.join(ci['disabled'])}",
            "Remove /etc/cloud/cloud-init.disabled and unmask the cloud-init units.",
            ci,
        )
    elif ci.get("datasource_list") and not any(
        ("CloudStack" in s or "ConfigDrive" in s) for s in ci["datasource_list"]
    ):
        yield finding(
            "IMAGE_NO_CLOUD_INIT",
            Severity.WARN,
            f"cloud-init will not look for CloudStack: {'; '.join(ci['datasource_list'])}",
            "Add CloudStack (and ConfigDrive) to datasource_list.",
            ci,
        )
    if h.get("machine_id"):
        yield finding(
            "IMAGE_MACHINE_ID",
            Severity.WARN,
            f"/etc/machine-id is set ({h['machine_id']}): every clone has the same id (same DHCP "
            "client id, same journal)",
            "truncate -s 0 /etc/machine-id before sealing (systemd makes a new one at first boot).",
            {"machine_id": h["machine_id"]},
        )
