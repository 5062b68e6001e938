"""The stand-in API's answers composed from a seeded CloudStack database (tests/services/cloudstack_site.py),
as CloudStack's API renders those rows — so the database and the API tests judge one scenario.

Where each answer comes from, in CloudStack at b0601e5478 (prashanthr2/cloudstack):

- ``listCapabilities`` — ``ManagementServerImpl.listCapabilities``: ``cloudstackversion`` (here the current
  ``version`` row, which the management server's own version equals outside an upgrade).
- ``listZones`` — ``DataCenterJoinDaoImpl.newDataCenterResponse`` (``ZoneResponse``: ``id`` = uuid, ``name``,
  ``allocationstate``, ``type``, ``networktype``).
- ``listImageStores`` — ``ImageStoreJoinDaoImpl.newImageStoreResponse`` (``ImageStoreResponse``: ``id``,
  ``name``, ``zoneid``, ``zonename``, ``url``, ``protocol``, ``providername``, ``scope``, ``readonly``).
- ``listSystemVms`` — ``ApiResponseHelper.createSystemVmResponse`` (``SystemVmResponse``: ``agentstate``,
  ``version`` and ``disconnected`` from the VM's agent host row, the IPs from its nics by traffic type).
- ``listHosts`` — ``HostJoinDaoImpl.newHostResponse`` (``HostResponse``: ``state`` = ``host.status``,
  ``resourcestate``, ``managementserverid`` = the uuid of the ``mshost`` holding it, omitted when none).
- ``listTemplates``/``listIsos`` — ``TemplateJoinDaoImpl.newTemplateResponse``/``newIsoResponse`` over
  ``template_view``: one response per template × zone (``temp_zone_pair``); ``status``
  (``getTemplateStatus``), ``size``/``physicalsize`` (omitted when 0) and ``isready`` of one
  ``template_store_ref`` row of that zone (here: the first by id); ``downloaddetails`` per store of the zone
  from ``TemplateDataStoreDao.listByTemplateNotBypassed``; ``checksum`` without its ``{ALG}`` prefix
  (``DigestHelper.getHashValueFromChecksumValue``).
- ``listClusters`` — ``ClusterResponse`` (``zoneid``, ``hypervisortype``).
- ``listSecondaryStorageSelectors`` (4.19+, ``zoneid`` required) — ``SecondaryStorageHeuristicsResponse``
  (``id``, ``name``, ``zoneid``, ``type``, ``heuristicrule``); absent on a schema without ``heuristics``.
- ``listTemplateDirectDownloadCertificates listhosts=true`` — ``ApiResponseHelper.createDirectDownloadCertificateResponse``
  (``validity`` = ``"From: [%s] - To: [%s]"`` of ``java.util.Date.toString()``, here in UTC; ``hostsmap`` of
  ``hostid``/``hostname``/``status`` UPLOADED or REVOKED).
- ``listConfigurations`` — ``ConfigurationResponse`` (``name``, ``value``, ``defaultvalue``, ``category``);
  the stand-in drops the Hidden category as ``searchForConfigurations`` does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from checks.templates_rules import ui_status
from tests.services.cloudstack_site import Site


def _rows(site: Site, sql: str) -> list[dict[str, Any]]:
    with site.server.connect(site.database) as conn, conn.cursor() as cur:
        cur.execute(sql)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) if isinstance(r, tuple) else dict(r) for r in cur.fetchall()]


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}  # gson leaves null fields out


def _version(site: Site) -> str | None:
    rows = _rows(site, "SELECT version FROM version WHERE step = 'Complete' ORDER BY id DESC LIMIT 1")
    return str(rows[0]["version"]) if rows else None


def _strip_prefix(checksum: str | None) -> str | None:
    if not checksum:
        return None
    return re.sub(r"^\{[^}]*\}", "", checksum)


def capabilities(site: Site) -> dict[str, Any]:
    return _drop_none({"cloudstackversion": _version(site)})


def zones(site: Site) -> list[dict[str, Any]]:
    return [
        _drop_none(
            {
                "id": z["uuid"],
                "name": z["name"],
                "allocationstate": z["allocation_state"],
                "type": z.get("type"),
                "networktype": z["networktype"],
            }
        )
        for z in _rows(site, "SELECT * FROM data_center WHERE removed IS NULL ORDER BY id")
    ]


def image_stores(site: Site) -> list[dict[str, Any]]:
    return [
        _drop_none(
            {
                "id": s["uuid"],
                "name": s["name"],
                "zoneid": s["zone_uuid"],
                "zonename": s["zone_name"],
                "url": s["url"],
                "protocol": s["protocol"],
                "providername": s["image_provider_name"],
                "scope": s["scope"],
                "readonly": bool(s.get("readonly")),
            }
        )
        for s in _rows(
            site,
            "SELECT s.*, z.uuid AS zone_uuid, z.name AS zone_name FROM image_store s "
            "LEFT JOIN data_center z ON z.id = s.data_center_id "
            "WHERE s.removed IS NULL AND s.role = 'Image' ORDER BY s.id",
        )
    ]


def _ms_uuids(site: Site) -> dict[Any, str]:
    return {m["msid"]: m["uuid"] for m in _rows(site, "SELECT msid, uuid FROM mshost")}


def kvm_hosts(site: Site) -> list[dict[str, Any]]:
    return [
        {"id": h["uuid"], "name": h["name"], "type": "Routing", "hypervisor": h["hypervisor_type"],
         "state": h["status"], "zoneid": h["zone_uuid"]}
        for h in _rows(
            site,
            "SELECT h.*, z.uuid AS zone_uuid FROM host h JOIN data_center z ON z.id = h.data_center_id "
            "WHERE h.type = 'Routing' AND h.removed IS NULL ORDER BY h.id",
        )
    ]  # fmt: skip


def _java_date(at: Any) -> str:
    return f"{at:%a %b %d %H:%M:%S} UTC {at:%Y}"


def certificates(site: Site) -> list[dict[str, Any]]:
    from cryptography import x509

    if not site.columns("direct_download_certificate"):
        return []
    hosts: dict[int, list[dict[str, Any]]] = {}
    for m in _rows(
        site,
        "SELECT m.certificate_id, m.revoked, h.uuid, h.name FROM direct_download_certificate_host_map m "
        "JOIN host h ON h.id = m.host_id",
    ):
        status = "REVOKED" if m["revoked"] else "UPLOADED"
        hosts.setdefault(m["certificate_id"], []).append({"hostid": m["uuid"], "hostname": m["name"], "status": status})
    out = []
    for c in _rows(
        site,
        "SELECT c.*, z.uuid AS zone_uuid, z.name AS zone_name FROM direct_download_certificate c "
        "JOIN data_center z ON z.id = c.zone_id ORDER BY c.id",
    ):
        pem = (
            c["certificate"]
            if "BEGIN" in c["certificate"]
            else f"-----BEGIN CERTIFICATE-----\n{c['certificate']}\n-----END CERTIFICATE-----\n"
        )
        cert = x509.load_pem_x509_certificate(pem.encode())
        out.append(
            {
                "id": c["uuid"],
                "alias": c["alias"],
                "zoneid": c["zone_uuid"],
                "zonename": c["zone_name"],
                "hypervisor": c["hypervisor_type"],
                "subject": cert.subject.rfc4514_string(),
                "validity": f"From: [{_java_date(cert.not_valid_before_utc)}] - To: [{_java_date(cert.not_valid_after_utc)}]",
                "hostsmap": hosts.get(c["id"], []),
            }
        )
    return out


def ssvm_hosts(site: Site) -> list[dict[str, Any]]:
    ms = _ms_uuids(site)
    return [
        _drop_none(
            {
                "id": h["uuid"],
                "name": h["name"],
                "type": h["type"],
                "state": h["status"],
                "resourcestate": h.get("resource_state"),
                "managementserverid": ms.get(h.get("mgmt_server_id")),
                "version": h["version"],
                "ipaddress": h["private_ip_address"],
                "disconnected": str(h["disconnected"]) if h.get("disconnected") else None,
                "zoneid": h["zone_uuid"],
            }
        )
        for h in _rows(
            site,
            "SELECT h.*, z.uuid AS zone_uuid FROM host h JOIN data_center z ON z.id = h.data_center_id "
            "WHERE h.type = 'SecondaryStorageVM' AND h.removed IS NULL ORDER BY h.id",
        )
    ]


_IP_FIELDS = {"Control": "linklocalip", "Management": "privateip", "Public": "publicip", "Storage": "storageip"}


def system_vms(site: Site) -> list[dict[str, Any]]:
    nics: dict[int, dict[str, str]] = {}
    for n in _rows(
        site,
        "SELECT n.instance_id, n.ip4_address, w.traffic_type FROM nics n JOIN networks w ON w.id = n.network_id "
        "WHERE n.removed IS NULL",
    ):
        if n["traffic_type"] in _IP_FIELDS and n["ip4_address"]:
            nics.setdefault(n["instance_id"], {})[_IP_FIELDS[n["traffic_type"]]] = n["ip4_address"]
    hosts = {h["name"]: h for h in ssvm_hosts(site)}
    out = []
    for v in _rows(
        site,
        "SELECT v.*, z.uuid AS zone_uuid, z.name AS zone_name, t.uuid AS template_uuid, t.name AS template_name "
        "FROM vm_instance v JOIN data_center z ON z.id = v.data_center_id "
        "LEFT JOIN vm_template t ON t.id = v.vm_template_id "
        "WHERE v.type = 'SecondaryStorageVm' AND v.removed IS NULL ORDER BY v.id",
    ):
        host = hosts.get(v["instance_name"], {})
        out.append(
            _drop_none(
                {
                    "id": v["uuid"],
                    "name": v["instance_name"],
                    "systemvmtype": "secondarystoragevm",
                    "zoneid": v["zone_uuid"],
                    "zonename": v["zone_name"],
                    "state": v["state"],
                    "agentstate": host.get("state"),
                    "version": host.get("version"),
                    "disconnected": host.get("disconnected"),
                    "templateid": v["template_uuid"],
                    "templatename": v["template_name"],
                    **nics.get(v["id"], {}),
                }
            )
        )
    return out


def _template_responses(site: Site, iso: bool) -> Iterator[dict[str, Any]]:
    version = _version(site)
    parsed = tuple(int(p) for p in re.findall(r"\d+", version or "")[:4]) or None
    refs: dict[int, list[dict[str, Any]]] = {}
    for r in _rows(
        site,
        "SELECT r.*, s.uuid AS store_uuid, s.name AS store_name, s.role AS store_role_, z.id AS zone_id, "
        "z.uuid AS zone_uuid, z.name AS zone_name FROM template_store_ref r "
        "JOIN image_store s ON s.id = r.store_id AND s.removed IS NULL "
        "LEFT JOIN data_center z ON z.id = s.data_center_id "
        "WHERE (r.destroyed = 0 OR r.destroyed IS NULL) AND (r.download_state IS NULL OR r.download_state <> 'BYPASSED') "
        "ORDER BY r.id",
    ):
        refs.setdefault(r["template_id"], []).append(r)
    fmt = "= 'ISO'" if iso else "<> 'ISO'"
    for t in _rows(site, f"SELECT * FROM vm_template WHERE removed IS NULL AND format {fmt} ORDER BY id"):
        by_zone: dict[Any, list[dict[str, Any]]] = {}
        for r in refs.get(t["id"], []):
            by_zone.setdefault(r["zone_id"], []).append(r)
        for copies in by_zone.values() or [[]]:
            first = copies[0] if copies else {}
            row = {**first, "format": t["format"], "template_state": t.get("state")}
            yield _drop_none(
                {
                    "id": t["uuid"],
                    "name": t["name"],
                    "templatetype": t["type"],
                    "format": t["format"],
                    "hypervisor": t["hypervisor_type"],
                    "ispublic": bool(t["public"]),
                    "isfeatured": bool(t["featured"]),
                    "crossZones": bool(t["cross_zones"]),
                    "directdownload": bool(t.get("direct_download")),
                    "checksum": _strip_prefix(t.get("checksum")),
                    "url": t.get("url"),
                    "isready": first.get("state") == "Ready",
                    "status": ui_status(row, parsed) if first else None,
                    "size": first["size"] if first and (first.get("size") or 0) > 0 else None,
                    "physicalsize": first["physical_size"] if first and (first.get("physical_size") or 0) > 0 else None,
                    "zoneid": first.get("zone_uuid"),
                    "zonename": first.get("zone_name"),
                    "downloaddetails": [
                        {
                            "datastore": r["store_name"],
                            "datastoreId": r["store_uuid"],
                            "datastoreRole": r["store_role_"],
                            "downloadPercent": str(r["download_pct"] or 0),
                            "downloadState": r["download_state"] or "",
                        }
                        for r in copies
                    ],
                }
            )


def configurations(site: Site) -> list[dict[str, Any]]:
    return [
        _drop_none(
            {"name": c["name"], "value": c["value"], "defaultvalue": c["default_value"], "category": c["category"]}
        )
        for c in _rows(site, "SELECT * FROM configuration ORDER BY name")
    ]


def clusters(site: Site) -> list[dict[str, Any]]:
    return [
        {"id": c["uuid"], "name": c["name"], "zoneid": c["zone_uuid"], "hypervisortype": c["hypervisor_type"]}
        for c in _rows(
            site,
            "SELECT c.*, z.uuid AS zone_uuid FROM cluster c JOIN data_center z ON z.id = c.data_center_id "
            "WHERE c.removed IS NULL ORDER BY c.id",
        )
    ]


def selectors(site: Site) -> list[dict[str, Any]] | None:
    """The storage selectors, or None when this version has none (no ``heuristics`` table)."""
    if not site.columns("heuristics"):
        return None
    return [
        {
            "id": h["uuid"],
            "name": h["name"],
            "zoneid": h["zone_uuid"],
            "type": h["type"],
            "heuristicrule": h["heuristic_rule"],
        }
        for h in _rows(
            site,
            "SELECT h.*, z.uuid AS zone_uuid FROM heuristics h JOIN data_center z ON z.id = h.zone_id "
            "WHERE h.removed IS NULL ORDER BY h.id",
        )
    ]


def answers(site: Site) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    """(listCapabilities' capability, the stand-in's lists) for the site as it is now; a version without
    storage selectors has no ``listSecondaryStorageSelectors`` list (:func:`absent`)."""
    heuristics = selectors(site)
    return capabilities(site), {
        "listClusters": clusters(site),
        **({"listSecondaryStorageSelectors": heuristics} if heuristics is not None else {}),
        "listZones": zones(site),
        "listImageStores": image_stores(site),
        "listSystemVms": system_vms(site),
        "listHosts": ssvm_hosts(site) + kvm_hosts(site),
        "listTemplateDirectDownloadCertificates": certificates(site),
        "listTemplates": list(_template_responses(site, iso=False)),
        "listIsos": list(_template_responses(site, iso=True)),
        "listConfigurations": configurations(site),
    }


def uuids(site: Site) -> dict[str, dict[int, str]]:
    """Numeric id → uuid per kind, to compare the database's targets with the API's."""
    tables = {"zone": "data_center", "store": "image_store", "template": "vm_template", "host": "host"}
    if site.columns("direct_download_certificate"):
        tables["certificate"] = "direct_download_certificate"
    if site.columns("heuristics"):
        tables["selector"] = "heuristics"
    return {kind: {r["id"]: r["uuid"] for r in _rows(site, f"SELECT id, uuid FROM {t}")} for kind, t in tables.items()}


def absent(site: Site) -> set[str]:
    """Commands the site's CloudStack version does not have."""
    return set() if site.columns("heuristics") else {"listSecondaryStorageSelectors"}
