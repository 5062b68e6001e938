"""Where CloudStack itself puts templates, and what it needs for direct downloads — the rules the
``templates`` check measures the database against. Pure functions over rows; the SQL is data.

Facts, from apache/cloudstack ``TemplateServiceImpl`` (``handleTemplateSync``, ``handleSysTemplateDownload``,
``shouldDownloadTemplateToStore``) at 4.18–main:

- template sync runs per writable image store when its zone's SSVM connects; direct-download templates are
  never copied (``isDirectDownload`` → "discarding it for download on image stores");
- only templates of a hypervisor that the zone has a cluster of (``ClusterDao.getAvailableHypervisorInZone``;
  KVM when the zone has none yet; ``None`` for ISOs; never BareMetal) are downloaded;
- public, featured and SYSTEM templates are copied to every such store; a private template is not copied
  to another store of a zone that already holds it;
- system and builtin templates of a hypervisor go to every store of a zone with that hypervisor
  (``handleSysTemplateDownload``); other templates only to zones they belong to (cross-zone: all).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from checks import cloudstack_db
from diagnostics.model import Finding, Metric, Severity

HYPERVISORS_SQL = (
    "SELECT DISTINCT c.data_center_id AS zone_id, c.hypervisor_type FROM cluster c "
    "WHERE c.removed IS NULL AND c.hypervisor_type IS NOT NULL"
)
CERTIFICATES_SQL = (
    "SELECT c.id, c.uuid, c.alias, c.certificate, c.hypervisor_type, c.zone_id FROM direct_download_certificate c "
    "ORDER BY c.id"
)
CERT_HOSTS_SQL = "SELECT m.certificate_id, m.host_id, m.revoked FROM direct_download_certificate_host_map m"
KVM_HOSTS_SQL = (
    "SELECT h.id, h.name, h.data_center_id AS zone_id, h.status FROM host h WHERE h.type = 'Routing' "
    "AND h.hypervisor_type = 'KVM' AND h.removed IS NULL AND h.status = 'Up' ORDER BY h.id"
)
DIRECT_TEMPLATES_SQL = (
    "SELECT COUNT(*) AS n FROM vm_template WHERE removed IS NULL AND direct_download = 1 AND hypervisor_type = 'KVM'"
)
HEURISTICS_SQL = (
    "SELECT h.id, h.uuid, h.name, h.zone_id, h.type, h.heuristic_rule FROM heuristics h WHERE h.removed IS NULL "
    "ORDER BY h.id"
)
ALL_STORES_SQL = (
    "SELECT s.id, s.uuid, s.name, s.data_center_id AS zone_id, s.role, s.removed{readonly} "
    + "FROM image_store s ORDER BY s.id"
)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_QUOTED = re.compile(r"""(['"])(.*?)\1""")


def zone_hypervisors(rows: Iterable[Mapping[str, Any]], zone_ids: Iterable[int]) -> dict[int, set[str]]:
    """Hypervisors template sync serves per zone: its clusters', KVM for a zone without clusters, and None."""
    out: dict[int, set[str]] = {int(z): set() for z in zone_ids}
    for r in rows:
        out.setdefault(int(r["zone_id"]), set()).add(str(r["hypervisor_type"]))
    for hypers in out.values():
        if not hypers:
            hypers.add("KVM")
        hypers.discard("BareMetal")
        hypers.discard("External")
        hypers.add("None")
    return out


def syncable(template: Mapping[str, Any]) -> bool:
    """Would template sync copy this template to a store at all (whatever the zone)?"""
    if template.get("direct_download") or template.get("template_type") == "PERHOST":
        return False
    # listAllSystemVMTemplates takes SYSTEM templates in any state; the others must be Active.
    if template.get("template_type") != "SYSTEM" and (template.get("state") or "Active") != "Active":
        return False
    return bool(template.get("public") or template.get("featured") or template.get("template_type") == "SYSTEM")


def expected_stores(
    template: Mapping[str, Any],
    present: set[int],
    writable: Mapping[int, list[Mapping[str, Any]]],
    zone_of: Mapping[int, int],
    hypervisors: Mapping[int, set[str]],
) -> list[Mapping[str, Any]]:
    """The writable Image stores template sync should have copied ``template`` to and did not: every
    zone for a cross-zone (or system/builtin) template, else the zones that already hold it; only zones
    with its hypervisor."""
    if not syncable(template):
        return []
    everywhere = template.get("cross_zones") or template.get("template_type") in ("SYSTEM", "BUILTIN")
    zones = writable.keys() if everywhere else {zone_of[s] for s in present if s in zone_of}
    hv = str(template.get("hypervisor_type") or "None")
    return [
        s
        for z in sorted(zones)
        if hv in hypervisors.get(z, {"KVM", "None"})
        for s in writable.get(z, [])
        if s["id"] not in present
    ]


@dataclass(frozen=True)
class CertInfo:
    subject: str
    not_after: datetime | None
    error: str | None = None


def read_certificate(pem: str) -> CertInfo:
    """Subject and expiry of a PEM certificate as CloudStack stores it (the text uploaded, possibly
    without the BEGIN/END lines)."""
    from cryptography import x509

    text = pem.strip()
    if "BEGIN CERTIFICATE" not in text:
        text = "-----BEGIN CERTIFICATE-----\n" + text + "\n-----END CERTIFICATE-----\n"
    try:
        cert = x509.load_pem_x509_certificate(text.encode())
    except ValueError as exc:
        return CertInfo(subject="?", not_after=None, error=f"not a readable certificate: {exc}")
    return CertInfo(subject=cert.subject.rfc4514_string(), not_after=cert.not_valid_after_utc.astimezone(UTC))


def certificate_info(row: Mapping[str, Any]) -> CertInfo:
    """From the PEM of a database row, or from what the API shows instead (``subject``, ``not_after`` read
    from ``validity`` by checks/api_rows.py)."""
    if "certificate" not in row and "not_after" in row:
        if not row["not_after"]:
            return CertInfo(subject="?", not_after=None, error=f"validity {row.get('validity')!r} not readable")
        return CertInfo(subject=str(row.get("subject") or "?"), not_after=datetime.fromisoformat(row["not_after"]))
    return read_certificate(str(row.get("certificate") or ""))


def heuristic_store_refs(rule: str) -> list[str]:
    """The store uuids and quoted names a storage-selector rule mentions."""
    found = [m[1] for m in _QUOTED.findall(rule or "")]
    found += [u for u in _UUID.findall(rule or "") if u not in found]
    return found


def heuristic_problems(
    heuristic: Mapping[str, Any], stores: list[Mapping[str, Any]]
) -> list[tuple[str, Mapping[str, Any] | None]]:
    """(why, store) for each store a rule names that cannot take new templates: removed, read-only, in
    another zone, or a uuid no store has."""
    by_uuid = {str(s["uuid"]): s for s in stores if s.get("uuid")}
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for s in stores:
        by_name.setdefault(str(s["name"]), []).append(s)
    out: list[tuple[str, Mapping[str, Any] | None]] = []
    for ref in heuristic_store_refs(str(heuristic.get("heuristic_rule") or "")):
        candidates = [by_uuid[ref]] if ref in by_uuid else by_name.get(ref, [])
        if not candidates:
            if _UUID.fullmatch(ref):
                out.append((f"names store uuid {ref}, which no image store has", None))
            continue
        live = [s for s in candidates if s.get("removed") is None]
        if not live:
            out.append((f"names store {ref!r}, which was removed", candidates[0]))
            continue
        s = live[0]
        if s.get("readonly"):
            out.append((f'names store {s["id"]} "{s["name"]}", which is read-only', s))
        elif s.get("zone_id") is not None and int(s["zone_id"]) != int(heuristic["zone_id"]):
            out.append((f'names store {s["id"]} "{s["name"]}" of zone {s["zone_id"]}, not of the rule\'s zone', s))
    return out


# --- findings ---------------------------------------------------------------------------------------------


def placement_findings(check: str, data: Mapping[str, Any], now: datetime, cert_warn_days: float) -> Iterator[Finding]:
    """IMAGE_STORE_READ_ONLY_TARGET and the direct-download certificate findings."""
    results = data["results"]
    yield from _read_only_downloads(check, data)
    for h in results.get("heuristics", []):
        for why, store in heuristic_problems(h, results.get("all_stores", [])):
            yield Finding(
                check=check,
                code="IMAGE_STORE_READ_ONLY_TARGET",
                severity=Severity.WARN,
                target=f'storage selector {h["id"]} "{h["name"]}" (zone {h["zone_id"]}, {h["type"]})',
                summary=f"the rule {why}: {str(h['type']).lower()} placements it decides cannot land there",
                evidence=(
                    cloudstack_db.row_evidence(
                        data["target"],
                        "heuristics",
                        data,
                        {**h, "store": dict(store or {})},
                        f"rule: {h['heuristic_rule']}",
                    ),
                ),
                remediation="Update the selector (updateSecondaryStorageSelector) to name a writable store of its "
                "zone, or remove it (removeSecondaryStorageSelector).",
            )
    if int(((results.get("direct_templates") or [{}])[0]).get("n") or 0) > 0:
        yield from _certificates(check, data, now, cert_warn_days)


def _read_only_downloads(check: str, data: Mapping[str, Any]) -> Iterator[Finding]:
    by_store: dict[int, list[Mapping[str, Any]]] = {}
    for r in data["results"].get("problem_rows", []):
        if r.get("store_readonly") and r.get("download_state") == "DOWNLOAD_IN_PROGRESS" and r.get("store_id"):
            by_store.setdefault(int(r["store_id"]), []).append(r)
    for store_id, rows in sorted(by_store.items()):
        names = ", ".join(f'{r["template_id"]} "{r.get("template_name")}"' for r in rows[:5])
        yield Finding(
            check=check,
            code="IMAGE_STORE_READ_ONLY_TARGET",
            severity=Severity.WARN,
            target=f'store {store_id} "{rows[0].get("store_name")}"',
            summary=f"the store is read-only but {len(rows)} download(s) to it are still in progress "
            f"(templates {names}): they can never finish there",
            evidence=tuple(
                cloudstack_db.row_evidence(
                    data["target"], "problem_rows", data, r, f"ref {r.get('ref_id')}: {r.get('download_state')}"
                )
                for r in rows[:5]
            ),
            remediation="Make the store writable again until the downloads finish, or delete these template copies "
            "so template sync downloads them to a writable store.",
        )


def _certificates(check: str, data: Mapping[str, Any], now: datetime, warn_days: float) -> Iterator[Finding]:
    results = data["results"]
    held: dict[int, set[int]] = {}
    for m in results.get("cert_hosts", []):
        if not m.get("revoked"):
            held.setdefault(int(m["certificate_id"]), set()).add(int(m["host_id"]))
    for c in results.get("certificates", []):
        if str(c.get("hypervisor_type") or "KVM") != "KVM":
            continue
        info = certificate_info(c)
        label = f'direct-download certificate {c["id"]} "{c["alias"]}" (zone {c["zone_id"]})'
        shown = {k: v for k, v in c.items() if k != "certificate"}  # the PEM is public, but long: not repeated
        ev = cloudstack_db.row_evidence(
            data["target"], "certificates", data, shown, f"{info.subject}, not after {info.not_after or '?'}"
        )
        if info.not_after is None:
            yield Finding(
                check=check,
                code="DIRECT_DOWNLOAD_CERT_EXPIRING",
                severity=Severity.UNKNOWN,
                target=label,
                summary=f"cannot read the certificate: {info.error}",
                evidence=(ev,),
                remediation="Upload the certificate again (uploadTemplateDirectDownloadCertificate) in PEM form.",
            )
        else:
            days = (info.not_after - now.astimezone(UTC)).total_seconds() / 86400
            if days <= warn_days:
                expired = days <= 0
                yield Finding(
                    check=check,
                    code="DIRECT_DOWNLOAD_CERT_EXPIRING",
                    severity=Severity.CRIT if expired else Severity.WARN,
                    target=label,
                    summary=(
                        f"expired {-days:.0f} days ago ({info.not_after:%Y-%m-%d})"
                        if expired
                        else f"expires in {days:.0f} days ({info.not_after:%Y-%m-%d})"
                    )
                    + ": KVM hosts cannot verify direct-download template servers with it",
                    evidence=(ev,),
                    metrics=(Metric(name="cert_days_left", value=round(days, 1), unit="", warn=warn_days, crit=0),),
                    remediation="Upload the renewed certificate (uploadTemplateDirectDownloadCertificate) to the zone; "
                    "it is pushed to its KVM hosts.",
                )
        for h in results.get("kvm_hosts", []):
            if int(h["zone_id"]) == int(c["zone_id"]) and int(h["id"]) not in held.get(int(c["id"]), set()):
                yield Finding(
                    check=check,
                    code="DIRECT_DOWNLOAD_CERT_MISSING",
                    severity=Severity.WARN,
                    target=f'host {h["id"]} "{h["name"]}"',
                    summary=f"KVM host has not got {label}: direct-download deployments on it can fail TLS checks",
                    evidence=(ev,),
                    remediation="Provision it (provisionTemplateDirectDownloadCertificate hostid=…), or upload the "
                    "certificate to the zone again.",
                )
