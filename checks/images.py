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
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import Field

from checks import cloudstack_db, image_hygiene
from checks.image_hygiene import image_facts, judge_image
from diagnostics.check import Check, CheckContext, Code, Params, RawEvidence
from diagnostics.config import Settings
from diagnostics.inventory import Inventory, parse_nfs_url, ssvm_mount_uuid
from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity
from diagnostics.sources import mountprobe, ssh, templatefiles
from diagnostics.sources.errors import SourceError
from diagnostics.units import iec_bytes

NAME = image_hygiene.CHECK_NAME
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
