"""CloudStack API answers → the ``results`` rows the database queries of ``platform``, ``ssvm`` and
``templates`` give, so the same rules judge both sources. Pure functions over the stored answers.

Field names are CloudStack's response classes at b0601e5478 (prashanthr2/cloudstack):
``CapabilitiesResponse.cloudstackversion``; ``ConfigurationResponse`` ``name``/``value``/``defaultvalue``/
``category`` (``ManagementServerImpl.searchForConfigurations`` matches ``name`` with LIKE %name% and never
returns the Hidden category); ``ZoneResponse``; ``ImageStoreResponse`` ``id``/``name``/``zoneid``/
``zonename``/``url``/``protocol``/``providername``/``scope``/``readonly``; ``SystemVmResponse``
``id``/``name``/``systemvmtype``/``zoneid``/``state``/``agentstate``/``privateip``/``linklocalip``/
``publicip``/``storageip``/``templatename``/``version``/``disconnected``; ``HostResponse`` ``id``/``name``/
``state``/``resourcestate``/``managementserverid``/``version``/``disconnected``/``ipaddress``;
``TemplateResponse`` ``id``/``name``/``templatetype``/``format``/``hypervisor``/``ispublic``/``isfeatured``/
``crossZones``/``checksum``/``size``/``physicalsize``/``status``/``isready``/``zoneid``/``directdownload``/
``url``/``downloaddetails``. ``TemplateJoinDaoImpl.newTemplateResponse`` renders one response per
template × zone (``template_view``'s ``temp_zone_pair``) whose ``status``, ``size`` and ``physicalsize``
come from *one* ``template_store_ref`` row of that zone (size and physical size omitted when 0, the
checksum without its ``{ALG}`` prefix — ``DigestHelper.getHashValueFromChecksumValue``) and whose
``downloaddetails`` hold, per store of the zone, ``datastore``, ``datastoreId``, ``datastoreRole`` (full
view), ``downloadPercent`` and ``downloadState``.

The API shows UUIDs, never the numeric ids the rules and targets use: :class:`Ids` numbers each kind
in listing order for the rules, and :meth:`Ids.relabel` puts the UUID back into targets and summaries
(``template <uuid> "name" @ store <uuid> "name"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from checks import template_sync
from diagnostics import api_inventory

API_ROW = "n/a (API)"
_LABEL = re.compile(r"\b(template|store|zone|host|selector|certificate) (\d+)\b")
ERROR_STATES = ("DOWNLOAD_ERROR", "ABANDONED", "UPLOAD_ERROR")
_PROBLEM_STATES = ("DOWNLOAD_IN_PROGRESS", *ERROR_STATES)
_NO_ERROR_TEXT = ("Processing", "Active", "Inactive")


class Ids:
    """Surrogate integer ids per kind (listing order), and the way back to the UUID."""

    def __init__(self) -> None:
        self._ids: dict[str, dict[str, int]] = {}

    def of(self, kind: str, uuid: Any) -> int | None:
        if uuid in (None, ""):
            return None
        ids = self._ids.setdefault(kind, {})
        return ids.setdefault(str(uuid), len(ids) + 1)

    def uuid(self, kind: str, number: int) -> str | None:
        return next((u for u, n in self._ids.get(kind, {}).items() if n == number), None)

    def relabel(self, text: str) -> str:
        def back(m: re.Match[str]) -> str:
            u = self.uuid(m[1], int(m[2]))
            return f"{m[1]} {u}" if u else m[0]

        return _LABEL.sub(back, text)


def items(answers: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = answers.get(name)
    return [x for x in value if isinstance(x, Mapping)] if isinstance(value, list) else []


def version_rows(answers: Mapping[str, Any]) -> list[dict[str, Any]]:
    caps = (answers.get("capabilities") or {}).get("capability") or {}
    version = caps.get("cloudstackversion")
    return [{"id": API_ROW, "version": version, "updated": API_ROW, "step": "Complete"}] if version else []


def setting_rows(answers: Mapping[str, Any], names: Iterable[str], prefix: str = "") -> list[dict[str, Any]]:
    """Configuration rows for ``names`` (exact) or starting with ``prefix``, from listConfigurations answers."""
    wanted = set(names)
    rows: dict[str, dict[str, Any]] = {}
    for key, value in answers.items():
        if not key.startswith("setting:") or not isinstance(value, list):
            continue
        for c in value:
            name = str(c.get("name") or "")
            if name in wanted or (prefix and name.startswith(prefix)):
                rows[name] = {
                    "name": name,
                    "value": c.get("value"),
                    "default_value": c.get("defaultvalue"),
                    "category": c.get("category"),
                }
    return [rows[n] for n in sorted(rows)]


def platform_results(answers: Mapping[str, Any], settings: Sequence[str]) -> dict[str, Any]:
    return {
        "version": version_rows(answers),
        "server": [{"server_version": "not visible through the API"}],
        "settings": setting_rows(answers, settings),
    }


def ssvm_results(answers: Mapping[str, Any], ids: Ids) -> dict[str, Any]:
    rows = api_inventory.rows_from_api(answers)
    for z in rows["zones"]:
        ids.of("zone", z["uuid"])
    hosts = {str(h.get("name")): h for h in items(answers, "ssvm_hosts")}
    vms = {str(v.get("id")): v for v in items(answers, "systemvms")}
    for row in rows["ssvms"]:
        vm = vms.get(str(row["uuid"]), {})
        row["template_name"] = vm.get("templatename")
        host = hosts.get(str(row["instance_name"]))
        if host is None:
            row.update(agent_id=None, agent_status=None)
            continue
        row.update(
            agent_id=ids.of("host", host.get("id")),
            agent_status=host.get("state"),
            agent_ip=host.get("ipaddress") or row.get("agent_ip"),
            agent_version=host.get("version") or row.get("agent_version"),
            disconnected=host.get("disconnected"),
            resource_state=host.get("resourcestate"),
            mgmt_server_id=host.get("managementserverid"),
        )
    system: dict[str, dict[str, Any]] = {}
    for t in items(answers, "system_templates"):
        if t.get("templatetype") == "SYSTEM" and str(t.get("id")) not in system:
            system[str(t.get("id"))] = {
                "id": ids.of("template", t.get("id")),
                "name": t.get("name"),
                "hypervisor_type": t.get("hypervisor"),
                "state": API_ROW,
            }
    return {
        **rows,
        "settings": setting_rows(answers, ("minreq.sysvmtemplate.version",), prefix="router.template."),
        "version": version_rows(answers),
        "system_templates": list(system.values()),
    }


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def stores_rows(answers: Mapping[str, Any], ids: Ids) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """Image stores (Image role, zone scope) as the ``stores``/``all_stores`` rows; and by UUID."""
    zones = {str(z.get("id")): z for z in items(answers, "zones")}
    for z in zones:
        ids.of("zone", z)
    out: list[dict[str, Any]] = []
    for s in items(answers, "imagestores"):
        zone = ids.of("zone", s.get("zoneid"))
        out.append(
            {
                "id": ids.of("store", s.get("id")),
                "uuid": s.get("id"),
                "name": s.get("name"),
                "zone_id": zone,
                "zone_name": s.get("zonename") or zones.get(str(s.get("zoneid")), {}).get("name"),
                "created": None,  # ImageStoreResponse has no creation time
                "readonly": bool(s.get("readonly")),
                "role": "Image",
                "removed": None,
            }
        )
    return out, {str(s["uuid"]): s for s in out}


def template_copies(
    answers: Mapping[str, Any], ids: Ids, stores: Mapping[str, Mapping[str, Any]]
) -> Iterable[tuple[Mapping[str, Any], Mapping[str, Any], Mapping[str, Any], int]]:
    """(template response, download detail, store row, number of Image-store details in that response) per
    template copy on an Image store, in listing order."""
    by_name = {str(s["name"]): s for s in stores.values()}
    for t in [*items(answers, "templates"), *items(answers, "isos")]:
        ids.of("template", t.get("id"))
        details = [
            d
            for d in t.get("downloaddetails") or ()
            if isinstance(d, Mapping) and d.get("datastoreRole", "Image") == "Image"
        ]
        for d in details:
            store = stores.get(str(d.get("datastoreId"))) or by_name.get(str(d.get("datastore")))
            if store is not None:
                yield t, d, store, len(details)


def copy_row(
    t: Mapping[str, Any], d: Mapping[str, Any], store: Mapping[str, Any], ids: Ids, *, attributable: bool
) -> dict[str, Any]:
    """A ``problem_rows`` row (templates.PROBLEM_ROWS_SQL's columns) for one copy. ``attributable``: the
    response's status and sizes are this copy's (the only one in its zone)."""
    state = str(d.get("downloadState") or "")
    status = str(t.get("status") or "")
    # getTemplateStatus shows error_str for a failed copy — or, with none, "Processing" (4.22.1+) or the
    # template's state ("Active", before): those are no error text.
    error = status if state in ERROR_STATES and attributable and status not in _NO_ERROR_TEXT else ""
    return {
        "ref_id": API_ROW,
        "store_id": store["id"],
        "template_id": ids.of("template", t.get("id")),
        "created": None,
        "last_updated": None,
        "job_id": None,
        "download_pct": _int(d.get("downloadPercent")),
        "size": (t.get("size") or 0) if attributable else None,
        "physical_size": (t.get("physicalsize") or 0) if attributable else None,
        "download_state": state,
        "error_str": error,
        "install_path": None,
        "url": None,
        "state": "Ready" if state == "DOWNLOADED" and t.get("isready") else API_ROW,
        "store_role": "Image",
        "template_name": t.get("name"),
        "template_uuid": t.get("id"),
        "template_type": t.get("templatetype"),
        "format": t.get("format"),
        "template_url": t.get("url"),
        "template_state": API_ROW,
        "store_name": store["name"],
        "store_url": None,
        "zone_id": store["zone_id"],
        "store_readonly": store["readonly"],
        "status": status,
    }


def is_problem(row: Mapping[str, Any]) -> bool:
    """templates._PROBLEM on a copy row (sizes unknown → not judged here)."""
    if row["download_state"] in _PROBLEM_STATES:
        return True
    return row["download_state"] == "DOWNLOADED" and row["size"] is not None and (row["size"] or 0) <= 0


# The digest length of each algorithm, for a checksum the API shows without its {ALG} prefix.
_BY_LENGTH = {32: "MD5", 40: "SHA-1", 56: "SHA-224", 64: "SHA-256", 96: "SHA-384", 128: "SHA-512"}


def checksum_rows(answers: Mapping[str, Any], ids: Ids) -> list[dict[str, Any]]:
    """``checksums`` rows the rules can judge without the prefix: a digest of a known length gets the
    algorithm of that length (so only its case is judged); anything else is passed as shown."""
    seen: dict[str, dict[str, Any]] = {}
    for t in [*items(answers, "templates"), *items(answers, "isos")]:
        checksum = str(t.get("checksum") or "")
        if not checksum or str(t.get("id")) in seen:
            continue
        alg = _BY_LENGTH.get(len(checksum)) if re.fullmatch(r"[0-9a-fA-F]+", checksum) else None
        seen[str(t.get("id"))] = {
            "id": ids.of("template", t.get("id")),
            "name": t.get("name"),
            "uuid": t.get("id"),
            "checksum": f"{{{alg}}}{checksum}" if alg and alg != "MD5" else checksum,
            "shown": checksum,
        }
    return list(seen.values())


def cluster_rows(answers: Mapping[str, Any], ids: Ids) -> list[dict[str, Any]]:
    """``hypervisors`` rows (templates.HYPERVISORS_SQL) from listClusters (``ClusterResponse`` ``zoneid``,
    ``hypervisortype``)."""
    return [
        {"zone_id": ids.of("zone", c.get("zoneid")), "hypervisor_type": c.get("hypervisortype")}
        for c in items(answers, "clusters")
        if c.get("zoneid") and c.get("hypervisortype")
    ]


def heuristic_rows(answers: Mapping[str, Any], ids: Ids) -> list[dict[str, Any]]:
    """``heuristics`` rows from listSecondaryStorageSelectors per zone (``SecondaryStorageHeuristicsResponse``
    ``id``/``name``/``zoneid``/``type``/``heuristicrule``)."""
    return [
        {
            "id": ids.of("selector", h.get("id")),
            "uuid": h.get("id"),
            "name": h.get("name"),
            "zone_id": ids.of("zone", h.get("zoneid")),
            "type": h.get("type"),
            "heuristic_rule": h.get("heuristicrule"),
        }
        for key in sorted(answers)
        if key.startswith("selectors:")
        for h in items(answers, key)
    ]


def missing_rows(
    answers: Mapping[str, Any], ids: Ids, stores: Sequence[Mapping[str, Any]], limit: int
) -> list[dict[str, Any]]:
    """``missing`` rows (template sync): each template's writable Image stores of enabled zones that
    template_sync.expected_stores says should hold it and whose ``downloaddetails`` do not name. The
    API gives no store creation time (``store_created`` None: no sync grace) and no ``vm_template.state``."""
    enabled = {ids.of("zone", z.get("id")) for z in items(answers, "zones") if z.get("allocationstate") == "Enabled"}
    writable: dict[int, list[Mapping[str, Any]]] = {}
    for s in stores:
        if s["zone_id"] in enabled and not s["readonly"]:
            writable.setdefault(int(s["zone_id"]), []).append(s)
    zone_of = {int(s["id"]): int(s["zone_id"]) for s in stores if s["zone_id"] is not None}
    hypervisors = template_sync.zone_hypervisors(cluster_rows(answers, ids), writable)
    by_uuid = {str(s["uuid"]): s for s in stores}
    by_name = {str(s["name"]): s for s in stores}
    seen: dict[str, tuple[dict[str, Any], set[int]]] = {}
    for t in [*items(answers, "templates"), *items(answers, "isos")]:
        row, present = seen.setdefault(
            str(t.get("id")),
            (
                {
                    "template_id": ids.of("template", t.get("id")),
                    "template_name": t.get("name"),
                    "template_type": t.get("templatetype"),
                    "public": bool(t.get("ispublic")),
                    "featured": bool(t.get("isfeatured")),
                    "hypervisor_type": t.get("hypervisor") or "None",
                    "cross_zones": bool(t.get("crossZones")),
                    "direct_download": bool(t.get("directdownload")),
                },
                set(),
            ),
        )
        for d in t.get("downloaddetails") or ():
            store = by_uuid.get(str(d.get("datastoreId"))) or by_name.get(str(d.get("datastore")))
            if store is not None and d.get("datastoreRole", "Image") == "Image":
                present.add(int(store["id"]))
    out: list[dict[str, Any]] = []
    for row, present in seen.values():
        for s in template_sync.expected_stores(row, present, writable, zone_of, hypervisors):
            out.append(
                {
                    **{k: row[k] for k in ("template_id", "template_name", "template_type", "public", "featured")},
                    "hypervisor_type": row["hypervisor_type"],
                    "cross_zones": row["cross_zones"],
                    "store_id": s["id"],
                    "store_name": s["name"],
                    "store_created": None,
                    "zone_id": s["zone_id"],
                    "zone_name": s["zone_name"],
                }
            )
            if len(out) > limit:
                return out
    return out


# DirectDownloadCertificateResponse.validity: String.format("From: [%s] - To: [%s]", notBefore, notAfter) with
# java.util.Date.toString() — "EEE MMM dd HH:mm:ss zzz yyyy" in the management server's time zone
# (ApiResponseHelper.handleCertificateResponse at b0601e5478). The zone's name is not an offset: it is read
# as UTC, off by hours at most (expiry is judged in days).
_VALIDITY_TO = re.compile(r"To: \[\w{3} (\w{3} \d{1,2} \d{2}:\d{2}:\d{2}) \S+ (\d{4})\]")


def not_after(validity: Any) -> str | None:
    m = _VALIDITY_TO.search(str(validity or ""))
    if not m:
        return None
    try:
        return datetime.strptime(f"{m[1]} {m[2]}", "%b %d %H:%M:%S %Y").replace(tzinfo=UTC).isoformat()
    except ValueError:
        return None


def certificate_rows(answers: Mapping[str, Any], ids: Ids) -> dict[str, list[dict[str, Any]]]:
    """``certificates``, ``cert_hosts`` and ``kvm_hosts`` rows (templates' direct-download queries) from
    listTemplateDirectDownloadCertificates listhosts=true (``DirectDownloadCertificateResponse`` ``id``/
    ``alias``/``zoneid``/``hypervisor``/``subject``/``validity``/``hostsmap`` of ``hostid``/``status``
    UPLOADED|REVOKED) and listHosts type=Routing hypervisor=KVM (``HostResponse`` ``state``)."""
    certificates, cert_hosts = [], []
    for c in items(answers, "certificates"):
        cid = ids.of("certificate", c.get("id"))
        certificates.append(
            {
                "id": cid,
                "uuid": c.get("id"),
                "alias": c.get("alias"),
                "hypervisor_type": c.get("hypervisor"),
                "zone_id": ids.of("zone", c.get("zoneid")),
                "subject": c.get("subject"),
                "validity": c.get("validity"),
                "not_after": not_after(c.get("validity")),
            }
        )
        cert_hosts += [
            {"certificate_id": cid, "host_id": ids.of("host", m.get("hostid")), "revoked": m.get("status") == "REVOKED"}
            for m in c.get("hostsmap") or ()
            if isinstance(m, Mapping) and m.get("hostid")
        ]
    kvm_hosts = [
        {
            "id": ids.of("host", h.get("id")),
            "name": h.get("name"),
            "zone_id": ids.of("zone", h.get("zoneid")),
            "status": "Up",
        }
        for h in items(answers, "kvm_hosts")
        if h.get("state") == "Up" and h.get("hypervisor", "KVM") == "KVM" and h.get("type", "Routing") == "Routing"
    ]
    return {"certificates": certificates, "cert_hosts": cert_hosts, "kvm_hosts": kvm_hosts}


def direct_templates(answers: Mapping[str, Any]) -> int:
    """KVM direct-download templates (templates.DIRECT_TEMPLATES_SQL)."""
    return len(
        {
            str(t.get("id"))
            for t in items(answers, "templates")
            if t.get("directdownload") and t.get("hypervisor") == "KVM"
        }
    )
