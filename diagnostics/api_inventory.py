"""The installation's inventory (zones, image stores, SSVMs, largest template per store) from
CloudStack's API instead of its database, as the same :class:`~diagnostics.inventory.Inventory`.

``CALLS`` is what a check's ``collect`` asks through :mod:`diagnostics.sources.cloudstack_api`; the
answers are stored as evidence and :func:`inventory_from_api` builds the inventory from them, so a
bundle replays it. Field names are CloudStack's response classes at b0601e5478 (``ZoneResponse``,
``ImageStoreResponse``, ``SystemVmResponse``, ``TemplateResponse``); ``downloaddetails`` entries carry
``datastore``, ``datastoreId``/``datastoreRole`` (full view only) and ``downloadPercent``/
``downloadState`` (``TemplateJoinDaoImpl.newTemplateResponse``).

What the API cannot give and the database can: numeric ids (the API shows UUIDs — ids here are the
listing order, the UUID stays in ``row``), a store's largest template by ``template_store_ref.size``
(here: the largest ``size`` of a template downloaded to that store), the SSVM agent's ``last_ping``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from diagnostics.inventory import Inventory

# (evidence key, command, parameters); list items are read through the source's paging.
CALLS: tuple[tuple[str, str, Mapping[str, str]], ...] = (
    ("zones", "listZones", {}),
    ("imagestores", "listImageStores", {}),
    ("systemvms", "listSystemVms", {"systemvmtype": "secondarystoragevm"}),
    ("templates", "listTemplates", {"templatefilter": "all", "details": "all"}),
)
# SystemVmResponse IP fields → the traffic types the DB inventory uses (nics ⨝ networks.traffic_type).
_IP_FIELDS = {"linklocalip": "Control", "privateip": "Management", "publicip": "Public", "storageip": "Storage"}


def _index(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {str(r.get("id")): i + 1 for i, r in enumerate(rows) if r.get("id")}


def _largest_by_store(
    templates: Sequence[Mapping[str, Any]], stores: Mapping[str, int], names: Mapping[str, int]
) -> dict[int, int]:
    largest: dict[int, int] = {}
    for t in templates:
        size = t.get("size")
        if not isinstance(size, int | float) or size <= 0:
            continue
        for d in t.get("downloaddetails") or ():
            if d.get("datastoreRole", "Image") != "Image" or d.get("downloadState") != "DOWNLOADED":
                continue
            store = stores.get(str(d.get("datastoreId"))) or names.get(str(d.get("datastore")))
            if store is not None:
                largest[store] = max(largest.get(store, 0), int(size))
    return largest


def inventory_from_api(answers: Mapping[str, Sequence[Mapping[str, Any]]]) -> Inventory:
    """Build the inventory from the answers of :data:`CALLS` (keys as in ``CALLS``)."""
    return Inventory.from_results(rows_from_api(answers))


def rows_from_api(answers: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """The rows :meth:`Inventory.from_results` takes, from the answers of :data:`CALLS`: zones and stores
    numbered in listing order (the UUID in ``uuid``), SSVMs with their IPs."""
    zones = list(answers.get("zones", ()))
    stores = [s for s in answers.get("imagestores", ()) if s.get("scope", "ZONE") in ("ZONE", "REGION", None)]
    ssvms = [
        v for v in answers.get("systemvms", ()) if v.get("systemvmtype", "secondarystoragevm") == "secondarystoragevm"
    ]
    zone_ids, store_ids = _index(zones), _index(stores)
    store_names = {str(s.get("name")): store_ids[str(s["id"])] for s in stores if s.get("id")}
    rows: dict[str, list[dict[str, Any]]] = {
        "zones": [
            {
                "id": zone_ids[str(z["id"])],
                "name": z.get("name"),
                "allocation_state": z.get("allocationstate"),
                "type": z.get("type", "Core"),
                "uuid": z["id"],
            }
            for z in zones
            if z.get("id")
        ],
        "stores": [
            {
                "id": store_ids[str(s["id"])],
                "name": s.get("name"),
                "protocol": s.get("protocol"),
                "url": s.get("url"),
                "data_center_id": zone_ids.get(str(s.get("zoneid"))),
                "role": "Image",
                "readonly": bool(s.get("readonly")),
                "image_provider_name": s.get("providername"),
                "uuid": s["id"],
            }
            for s in stores
            if s.get("id")
        ],
        "ssvms": [
            {
                "id": i + 1,
                "instance_name": v.get("name"),
                "vm_state": v.get("state"),
                "zone_id": zone_ids.get(str(v.get("zoneid")), 0),
                "host_id": None,
                "agent_id": None,
                "agent_status": v.get("agentstate"),
                "agent_ip": v.get("privateip"),
                "agent_version": v.get("version"),
                "last_ping": None,
                "disconnected": v.get("disconnected"),
                "uuid": v.get("id"),
            }
            for i, v in enumerate(ssvms)
        ],
        "ssvm_nics": [
            {"instance_id": i + 1, "ip4_address": v[field], "traffic_type": traffic}
            for i, v in enumerate(ssvms)
            for field, traffic in _IP_FIELDS.items()
            if v.get(field)
        ],
        "largest": [
            {"store_id": store, "largest_bytes": size}
            for store, size in _largest_by_store(answers.get("templates", ()), store_ids, store_names).items()
        ],
    }
    return rows
