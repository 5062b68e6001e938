"""The ``images`` check: template integrity on secondary storage, and images prepared as the runbook says.

Integrity (templates chosen in ``[images]`` — ``templates = [...]`` or ``all = true`` — since it reads whole
images): the file named by ``template.properties`` in ``template/tmpl/<account>/<template>/`` is hashed
with the algorithm of ``vm_template.checksum`` — over SSH on an SSVM (``sha256sum`` & co. under
``timeout``) or with hashlib on a local mount of the store — and compared case-insensitively, an
upper-case registered digest flagged; ``template.properties`` is checked against the row.

Hygiene (``csdiag image lint FILE…``, and templates read through a local mount): the image is opened
without mounting (diagnostics.sources.diskimage) and judged against the preparation runbook: no
persistent udev net rules or HWADDR/UUID lines, no SSH host keys, empty logs and package caches, no root
password, no private keys, cloud-init installed and enabled, an empty machine-id, thin QCOW2.
"""

from __future__ import annotations

import re
import shlex
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from pydantic import Field

from checks import cloudstack_db
from diagnostics.check import Check, CheckContext, Code, Params, RawEvidence
from diagnostics.config import Settings
from diagnostics.inventory import Inventory, parse_nfs_url, ssvm_mount_uuid
from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity
from diagnostics.sources import diskimage, mountprobe, ssh, templatefiles
from diagnostics.sources.errors import SourceError
from diagnostics.units import iec_bytes

NAME = "images"
CODES = (
    Code(code="TEMPLATE_CHECKSUM_OK", severity=Severity.INFO, meaning="the file on the store matches its checksum"),
    Code(code="TEMPLATE_CHECKSUM_MISMATCH", severity=Severity.CRIT, meaning="the file's digest differs"),
    Code(
        code="TEMPLATE_CHECKSUM_CASE",
        severity=Severity.WARN,
        meaning="the file matches, but the registered digest is upper-case: CloudStack compares case-sensitively",
    ),
    Code(code="TEMPLATE_FILE_MISSING", severity=Severity.CRIT, meaning="the template's folder or file is absent"),
    Code(
        code="TEMPLATE_PROPERTIES_INVALID",
        severity=Severity.CRIT,
        meaning="template.properties: no filename, size/virtualsize 0, uniquename or file size differ",
    ),
    Code(code="TEMPLATE_NOT_VERIFIED", severity=Severity.UNKNOWN, meaning="the template could not be read (reason)"),
    Code(code="IMAGES_NOT_SELECTED", severity=Severity.INFO, meaning="no template chosen for verification"),
    Code(
        code="IMAGE_PERSISTENT_NET_RULES",
        severity=Severity.CRIT,
        meaning="/etc/udev/rules.d/70-persistent-net.rules pins NICs to the template's MAC addresses",
    ),
    Code(code="IMAGE_IFCFG_HWADDR", severity=Severity.CRIT, meaning="HWADDR/UUID in ifcfg-*, or MACs in netplan"),
    Code(code="IMAGE_SSH_HOST_KEYS", severity=Severity.WARN, meaning="SSH host keys baked in: every VM shares them"),
    Code(code="IMAGE_LOGS_NOT_EMPTY", severity=Severity.WARN, meaning="sizeable files under /var/log"),
    Code(code="IMAGE_PACKAGE_CACHE", severity=Severity.WARN, meaning="yum/dnf/apt package caches left in the image"),
    Code(code="IMAGE_ROOT_PASSWORD", severity=Severity.CRIT, meaning="root has a password hash in /etc/shadow"),
    Code(code="IMAGE_PRIVATE_KEYS", severity=Severity.CRIT, meaning="private keys in /root or home folders"),
    Code(code="IMAGE_NO_CLOUD_INIT", severity=Severity.CRIT, meaning="cloud-init is not installed or disabled"),
    Code(
        code="IMAGE_NOT_THIN", severity=Severity.WARN, meaning="raw, or a fully allocated QCOW2, where thin is expected"
    ),
    Code(code="IMAGE_MACHINE_ID", severity=Severity.WARN, meaning="/etc/machine-id is set: clones share it"),
    Code(
        code="IMAGE_FORMAT_PROBLEM",
        severity=Severity.CRIT,
        meaning="a backing file (CRIT), the corrupt flag (CRIT) or the dirty flag (WARN) in the QCOW2 header",
    ),
    Code(
        code="IMAGE_UNREADABLE", severity=Severity.UNKNOWN, meaning="not an image, or no Linux root file system in it"
    ),
    Code(code="IMAGE_CLEAN", severity=Severity.INFO, meaning="the image passes every hygiene rule"),
    *cloudstack_db.DB_CODES,
)
ALGORITHMS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-224": "sha224",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}
HEX_LENGTHS = {32: "md5", 40: "sha1", 56: "sha224", 64: "sha256", 96: "sha384", 128: "sha512"}


class ImagesParams(Params):
    max_log_bytes: int = Field(64 * 1024, ge=0, description="total bytes under /var/log above which logs count")
    max_cache_bytes: int = Field(1 << 20, ge=0, description="package cache bytes above which the cache counts")
    expect_format: str = Field("qcow2", description="qcow2 (thin expected) or raw (nothing expected)")
    thin_ratio: float = Field(0.9, gt=0, le=1, description="allocated/virtual at or above this is fully allocated")
    hash_timeout_s: float = Field(3600, gt=0, le=86400, description="deadline of one remote hash")
    mount_probe_timeout_s: float = Field(10, gt=0, le=300, description="a local mount that does not answer")

    def deadline_s(self, settings: Settings) -> float | None:
        """The check's deadline when it hashes (the runner raises [run] check_timeout_s to it): one image
        hash may take ``hash_timeout_s``, plus the database, SSH set-up and the mount probe."""
        if not (settings.images.all or settings.images.templates):
            return None
        return self.hash_timeout_s + self.mount_probe_timeout_s + 60


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


# --- integrity on secondary storage (collect) -------------------------------------------------------------


def parse_checksum(value: str | None) -> tuple[str, str] | None:
    """``{SHA-256}ab…`` → ("sha256", "ab…"); no prefix → by length (MD5 for 32); None when empty."""
    if not value or not value.strip():
        return None
    m = re.match(r"^\{([A-Za-z0-9-]+)\}(.*)$", value.strip())
    algo_name, digest = (m.group(1).upper(), m.group(2)) if m else ("", value.strip())
    algo = ALGORITHMS.get(algo_name) or HEX_LENGTHS.get(len(digest), "md5")
    return algo, digest


TEMPLATES_SQL = (
    "SELECT t.id AS template_id, t.name, t.uuid, t.unique_name, t.checksum, t.format, t.account_id, "
    "r.store_id, r.install_path, r.size, r.physical_size, s.name AS store_name, s.url AS store_url, "
    "s.data_center_id AS zone_id FROM vm_template t "
    "JOIN template_store_ref r ON r.template_id = t.id AND (r.destroyed = 0 OR r.destroyed IS NULL) "
    "AND r.download_state = 'DOWNLOADED' AND r.store_role = 'Image' "
    "JOIN image_store s ON s.id = r.store_id AND s.removed IS NULL "
    "WHERE t.removed IS NULL AND t.format <> 'ISO' {where} ORDER BY t.id, r.store_id"
)


def _selection(settings: Settings) -> tuple[str, tuple[Any, ...]]:
    cfg = settings.images
    if cfg.all:
        return "", ()
    ids = [int(x) for x in cfg.templates if isinstance(x, int) or str(x).isdigit()]
    names = [str(x) for x in cfg.templates if not (isinstance(x, int) or str(x).isdigit())]
    clauses: list[str] = []
    args: list[Any] = []
    if ids:
        clauses.append(f"t.id IN ({', '.join(['%s'] * len(ids))})")
        args += ids
    if names:
        clauses.append(f"t.uuid IN ({', '.join(['%s'] * len(names))}) OR t.name IN ({', '.join(['%s'] * len(names))})")
        args += names + names
    return f"AND ({' OR '.join(clauses)})", tuple(args)


def ssvm_script(folder: str, algorithm: str | None, timeout_s: float) -> str:
    """Print the folder listing, template.properties and the digest of the file it names."""
    q = shlex.quote
    tool = f"{algorithm}sum" if algorithm else ""
    lines = [
        f"d={q(folder)}",
        'if [ ! -d "$d" ]; then echo "NODIR"; exit 0; fi',
        'ls -ln --time-style=+%s "$d" | sed "s/^/LS /"',
        'if [ -f "$d/template.properties" ]; then sed "s/^/PROP /" "$d/template.properties"; fi',
        "f=$(sed -n 's/^filename=//p' \"$d/template.properties\" 2>/dev/null | head -1)",
        'if [ -n "$f" ] && [ -f "$d/$f" ]; then echo "SIZE $(stat -c %s "$d/$f")"; fi',
    ]
    if tool:
        lines += [
            f'if [ -n "$f" ] && [ -f "$d/$f" ]; then s=$(date +%s.%N); '
            f'h=$(timeout {timeout_s:g} {tool} "$d/$f" 2>&1); rc=$?; e=$(date +%s.%N); '
            'echo "HASH $rc $s $e $h"; fi'
        ]
    return "\n".join(lines) + "\n"


def parse_ssvm(stdout: str) -> dict[str, Any]:
    out: dict[str, Any] = {"exists": "NODIR" not in stdout.splitlines(), "files": {}, "properties": {}}
    for line in stdout.splitlines():
        tag, _, rest = line.partition(" ")
        if tag == "LS":
            f = rest.split()
            if len(f) >= 7 and f[4].isdigit():
                out["files"][" ".join(f[6:])] = int(f[4])
        elif tag == "PROP":
            out["properties"].update(templatefiles.properties(rest))
        elif tag == "SIZE" and rest.strip().isdigit():
            out["size"] = int(rest)
        elif tag == "HASH":
            parts = rest.split(maxsplit=3)
            if len(parts) >= 3:
                rc, start, end = parts[0], parts[1], parts[2]
                digest = parts[3].split()[0] if len(parts) > 3 and parts[3] else ""
                seconds = max(0.0, float(end) - float(start)) if _num(start) and _num(end) else None
                out["hash"] = {
                    "rc": int(rc) if rc.lstrip("-").isdigit() else None,
                    "digest": digest,
                    "seconds": round(seconds, 3) if seconds is not None else None,
                    "message": parts[3] if len(parts) > 3 and rc != "0" else "",
                }
    return out


def _num(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def collect(ctx: CheckContext[ImagesParams]) -> RawEvidence:
    settings, params, cfg = ctx.settings, ctx.params, ctx.settings.images
    if not cfg.all and not cfg.templates:
        return RawEvidence(data={"mode": "store", "selected": False})
    where, args = _selection(settings)
    from diagnostics import inventory

    def plan(db: Any, columns: Mapping[str, set[str]]) -> dict[str, str]:
        q = inventory.queries(columns)
        out = {"templates": TEMPLATES_SQL.format(where=where)}
        if {"nics", "networks"} <= set(columns):
            out.update(ssvms=q["ssvms"], ssvm_nics=q["ssvm_nics"])
        return out

    data = dict(
        cloudstack_db.collect(
            ctx,
            required={
                "vm_template": ("id", "name", "uuid", "unique_name", "checksum", "format", "account_id", "removed"),
                "template_store_ref": ("template_id", "store_id", "install_path", "download_state", "destroyed"),
                "image_store": ("id", "name", "url", "data_center_id", "removed"),
            },
            optional_tables=("nics", "networks", "vm_instance", "host"),
            plan=plan,
            args={"templates": args},
        ).data
    )
    data.update(mode="store", selected=True)
    results = data.get("results") or {}
    inv = Inventory.from_results(results) if "ssvms" in results else None
    copies = []
    alive: dict[str, dict[str, Any]] = {}  # local mount → its probe, once per run
    for row in results.get("templates", []):
        parsed = parse_checksum(row.get("checksum"))
        algorithm = parsed[0] if parsed else None
        install = PurePosixPath(row.get("install_path") or "")
        folder = str(install.parent) if install.name else f"template/tmpl/{row['account_id']}/{row['template_id']}"
        copy: dict[str, Any] = {"row": row, "folder": folder, "algorithm": algorithm}
        local = cfg.local_mounts.get(row["store_url"]) or cfg.local_mounts.get(str(row["store_id"]))
        if local and local not in alive:
            # statvfs in a child with a deadline first: reading a dead hard NFS mount here would hang the run
            alive[local] = mountprobe.probe(local, params.mount_probe_timeout_s, write=False)
        if local and (alive[local].get("stuck") or alive[local].get("error")):
            state = alive[local]
            why = state.get("detail") if state.get("stuck") else (state.get("error") or {}).get("message")
            copy.update(vantage="this host", mount=local)
            copy["error"] = {"kind": "Timeout" if state.get("stuck") else "Unreachable", "message": f"{local}: {why}"}
        elif local:
            copy["vantage"] = "this host"
            try:
                copy.update(templatefiles.read_folder(Path(local) / folder, algorithm, ctx.deadline), mount=local)
                if cfg.lint and "image" in copy:
                    copy["lint"] = image_facts(Path(copy["image"]))
            except SourceError as exc:
                copy["error"] = {"kind": exc.kind, "message": f"{local}: {exc}"}
            except OSError as exc:  # there, but could not be read: not verified (never "absent")
                copy["error"] = {"kind": "Unreadable", "message": f"{local}: {exc.strerror or exc}"}
        else:
            if ctx.remaining() < 5:  # the check's deadline came first: said, and the copies verified are kept
                copy["error"] = {"kind": "Timeout", "message": "not read: the check's deadline came first"}
            else:
                budget = min(params.hash_timeout_s + 60, ctx.remaining() - 2)  # answer before the runner gives up
                copy.update(_over_ssh(row, folder, algorithm, settings, params, inv, budget))
        copies.append(copy)
    data["copies"] = copies
    return RawEvidence(data=data)


def _over_ssh(
    row: Mapping[str, Any],
    folder: str,
    algorithm: str | None,
    settings: Settings,
    params: ImagesParams,
    inv: Inventory | None,
    deadline: float,
) -> dict[str, Any]:
    cfg = settings.images
    hosts = list(cfg.ssvm_hosts)
    if not hosts and inv is not None:
        hosts = [v.private_ip for v in inv.ssvms_in(row["zone_id"]) if v.vm_state == "Running" and v.private_ip]
    if not hosts:
        return {
            "error": {
                "kind": "NotFound",
                "message": "no SSVM to read from (none running in the zone; set [images] ssvm_hosts or local_mounts)",
            }
        }
    server, export = parse_nfs_url(row["store_url"]) or ("", "")
    mount = cfg.ssvm_mount_path or f"/mnt/SecStorage/{ssvm_mount_uuid(server, export)}"
    script = ssvm_script(f"{mount.rstrip('/')}/{folder}", algorithm, params.hash_timeout_s)
    errors = []
    for spec in hosts:
        host, port = ssh.split_host(spec, settings.ssh.ssvm_port)
        try:
            rc, out, _ = ssh.run_script(host, port, settings.ssh, script, deadline)
            return {"vantage": host, "mount": mount, "rc": rc, **parse_ssvm(out)}
        except SourceError as exc:
            errors.append(f"{host}: {exc}")
    return {"error": {"kind": "Unreachable", "message": "; ".join(errors)}}


# --- evaluate ---------------------------------------------------------------------------------------------


def evaluate(raw: RawEvidence, params: ImagesParams) -> Iterator[Finding]:
    data = raw.data
    if data.get("mode") == "lint":
        for facts in data["images"]:
            yield from judge_image(facts, params, target=facts["path"], register=True)
        return
    if not data.get("selected"):
        yield Finding(
            check=NAME,
            code="IMAGES_NOT_SELECTED",
            severity=Severity.INFO,
            target="images",
            summary="no template chosen: integrity reads whole images, so it runs only for [images] templates "
            "(or all = true), or `csdiag gate --template X --verify-checksum`",
        )
        return
    if (problems := cloudstack_db.failures(NAME, data)) is not None:
        yield from problems
        return
    for copy in data.get("copies", []):
        yield from _judge_copy(copy, params)


def _target(row: Mapping[str, Any]) -> str:
    return f'template {row["template_id"]} "{row["name"]}" @ store {row["store_id"]} "{row["store_name"]}"'


def _judge_copy(copy: Mapping[str, Any], params: ImagesParams) -> Iterator[Finding]:
    row = copy["row"]
    target = _target(row)
    subjects = {"template": str(row["template_id"]), "store": str(row["store_id"]), "zone": str(row["zone_id"])}
    where = f"{copy.get('vantage', '?')}: {copy.get('mount', '')}/{copy['folder']}"
    ev = (
        Evidence(kind=EvidenceKind.PROBE, source=where, data={k: v for k, v in copy.items() if k != "lint"}, text=None),
    )

    def finding(code: str, severity: Severity, summary: str, remediation: str = "", **kw: Any) -> Finding:
        return Finding(
            check=NAME,
            code=code,
            severity=severity,
            target=target,
            summary=summary,
            evidence=ev,
            remediation=remediation,
            subjects=subjects,
            **kw,
        )

    if "error" in copy:
        yield finding(
            "TEMPLATE_NOT_VERIFIED",
            Severity.UNKNOWN,
            f"not verified: {copy['error']['message']}",
            "Make an SSVM reachable over SSH (port 3922) or give [images] local_mounts.",
        )
        return
    if not copy.get("exists"):
        yield finding(
            "TEMPLATE_FILE_MISSING",
            Severity.CRIT,
            f"the folder {copy['folder']} is not on the store",
            "The copy is gone from secondary storage: delete the store's copy in CloudStack and let "
            "template sync download it again (or restart the SSVM).",
        )
        return
    props, files = copy.get("properties") or {}, copy.get("files") or {}
    problems = _properties_problems(props, files, row)
    name = props.get("filename")
    if problems:
        yield finding(
            "TEMPLATE_PROPERTIES_INVALID",
            Severity.CRIT,
            "template.properties: " + "; ".join(problems),
            "CloudStack calls such a copy corrupted: re-download it (delete the store copy, template "
            "sync fetches it again).",
        )
    if not name or name not in files:
        if name:
            yield finding(
                "TEMPLATE_FILE_MISSING",
                Severity.CRIT,
                f"{name} (named by template.properties) is missing",
                "Re-download the template to this store.",
            )
        return
    yield from _judge_hash(copy, row, finding)
    if copy.get("lint"):
        yield from (
            f for f in judge_image(copy["lint"], params, target=target, register=False) if f.code != "IMAGE_CLEAN"
        )


def _properties_problems(props: Mapping[str, str], files: Mapping[str, int], row: Mapping[str, Any]) -> list[str]:
    if not props:
        return ["missing or empty"]
    out = []
    name = props.get("filename")
    if not name:
        out.append("no filename")
    for key in ("size", "virtualsize"):
        value = props.get(key, "")
        if not value.isdigit() or int(value) <= 0:
            out.append(f"{key} is {value or 'absent'}")
    if row.get("unique_name") and props.get("uniquename") and props["uniquename"] != row["unique_name"]:
        out.append(f"uniquename {props['uniquename']} ≠ vm_template.unique_name {row['unique_name']}")
    size = props.get("size", "")
    if name and name in files and size.isdigit() and int(size) > 0 and files[name] != int(size):
        out.append(f"size {size} but {name} has {files[name]} bytes")
    return out


def _judge_hash(copy: Mapping[str, Any], row: Mapping[str, Any], finding: Callable[..., Finding]) -> Iterator[Finding]:
    parsed = parse_checksum(row.get("checksum"))
    h = copy.get("hash")
    if parsed is None or h is None:
        return
    algo, registered = parsed
    if h.get("rc") != 0 or not h.get("digest"):
        yield finding("TEMPLATE_NOT_VERIFIED", Severity.UNKNOWN, f"{algo}sum failed: {h.get('message') or h}")
        return
    size = int(copy.get("size") or 0)
    seconds = h.get("seconds") or 0
    rate = f"{size / 2**20 / seconds:.0f} MiB/s" if seconds else "—"
    metrics = (
        Metric(name="hash_mib_per_s", value=round(size / 2**20 / seconds, 1) if seconds else None, unit="MiB/s"),
    )
    computed = str(h["digest"]).lower()
    what = f"{algo} of {iec_bytes(size)} in {seconds:g} s ({rate})"
    if computed != registered.lower():
        yield finding(
            "TEMPLATE_CHECKSUM_MISMATCH",
            Severity.CRIT,
            f"{what}: computed {computed}, registered {registered}",
            "The file on the store is not the registered image: re-download it to the store; if the "
            "source has it too, recompute the digest at the source (sha256sum) and re-register "
            "with {SHA-256}<lower-case hex>.",
            metrics=metrics,
        )
    elif registered != registered.lower():
        yield finding(
            "TEMPLATE_CHECKSUM_CASE",
            Severity.WARN,
            f"{what}: the file matches, but the registered digest is upper-case and CloudStack compares "
            "case-sensitively (a new download will fail its checksum)",
            f"Update the template's checksum to {{{algo.upper().replace('SHA', 'SHA-')}}}{computed}.",
            metrics=metrics,
        )
    else:
        yield finding(
            "TEMPLATE_CHECKSUM_OK", Severity.INFO, f"{what}: matches the registered checksum", metrics=metrics
        )


def judge_image(facts: Mapping[str, Any], params: ImagesParams, *, target: str, register: bool) -> Iterator[Finding]:
    """The hygiene and format rules on one image's facts (image_facts)."""
    path = facts["path"]

    def finding(code: str, severity: Severity, summary: str, remediation: str, data: Any, **kw: Any) -> Finding:
        ev = Evidence(
            kind=EvidenceKind.FILE, source=path, data=data if isinstance(data, dict) else {"found": data}, text=None
        )
        return Finding(
            check=NAME,
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
    facts: Mapping[str, Any], params: ImagesParams, finding: Callable[..., Finding]
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


def _hygiene_findings(h: Mapping[str, Any], params: ImagesParams, finding: Callable[..., Finding]) -> Iterator[Finding]:
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


CHECK = Check(
    name=NAME,
    title="Template images",
    description="Template files on secondary storage against their checksums and template.properties; images "
    "linted against the preparation runbook (csdiag image lint).",
    codes=CODES,
    params=ImagesParams,
    collect=collect,
    evaluate=evaluate,
)
