"""The ``storage`` check with CloudStack's API as its source: the image stores, their zones and SSVMs, the
largest template per store, the capacity threshold — and the management server's own view of each store's
capacity, a vantage point that needs neither a mount here nor SSH to an SSVM.

Facts, CloudStack at b0601e5478 (prashanthr2/cloudstack):

* ``ImageStoreResponse`` ``disksizetotal``/``disksizeused`` (``ImageStoreJoinDaoImpl.newImageStoreResponse``)
  are ``StatsCollector``'s last ``GetStorageStatsAnswer`` for the store, which the SSVM computes on its
  mount (``NfsSecondaryStorageResource.execute(GetStorageStatsCommand)``: ``JavaStorageLayer`` total =
  ``File.getTotalSpace``, used = total − ``File.getFreeSpace``): what is left is free space as root sees it,
  the SSVM's own view. Both fields are omitted while no statistics exist (no SSVM has reported yet).
* ``secondary.storage.capacity.threshold`` from ``listConfigurations`` (``ConfigurationResponse``).
* the largest template per store: the largest ``size`` of a template whose ``downloaddetails`` say
  DOWNLOADED on that store (``TemplateJoinDaoImpl``; diagnostics.api_inventory).

What the API cannot prove about a store: that it is mounted on the SSVM now, writable, writable by root
(root squash), or answering at all — the statistics are the last ones reported. Each store says so in an
``NFS_WRITE_NOT_PROVABLE`` INFO; the mounted, ssvm and protocol vantage points still run where configured.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from checks import api_rows, cloudstack_api_source
from checks.storage_rules import CHECK_NAME, judge_vantage
from diagnostics import api_inventory
from diagnostics.check import Code
from diagnostics.model import Evidence, EvidenceKind, Finding, Severity

THRESHOLD = "secondary.storage.capacity.threshold"
CALLS: tuple[cloudstack_api_source.Call, ...] = (
    ("zones", "listZones", {}, "list"),
    ("imagestores", "listImageStores", {}, "list"),
    ("systemvms", "listSystemVms", {"systemvmtype": "secondarystoragevm"}, "list"),
    ("templates", "listTemplates", {"templatefilter": "all", "details": "all"}, "list"),
    (f"setting:{THRESHOLD}", "listConfigurations", {"name": THRESHOLD}, "list"),
)
CODES = (
    Code(
        code="NFS_WRITE_NOT_PROVABLE",
        severity=Severity.INFO,
        meaning="API source: mounted on the SSVM, writable and writable by root cannot be shown through the API",
    ),
    Code(
        code="NFS_CAPACITY_NOT_REPORTED",
        severity=Severity.UNKNOWN,
        meaning="API source: CloudStack holds no capacity statistics for the store (no SSVM has reported them)",
    ),
)
_DETAIL_FIELDS = ("datastore", "datastoreId", "datastoreRole", "downloadState")


def trim(data: dict[str, Any]) -> None:
    """Keep of each template only what the largest-template rule reads (``details=all`` answers are large)."""
    answers = data.get("answers") or {}
    answers["templates"] = [
        {
            "id": t.get("id"),
            "name": t.get("name"),
            "size": t.get("size"),
            "downloaddetails": [{k: d.get(k) for k in _DETAIL_FIELDS} for d in t.get("downloaddetails") or ()],
        }
        for t in api_rows.items(answers, "templates")
    ]


def results(answers: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The rows the database path gives (inventory, largest template per store, the threshold)."""
    rows = api_inventory.rows_from_api(answers)
    store_ids = {str(s["uuid"]): s["id"] for s in rows["stores"]}
    names = {str(s["name"]): s["id"] for s in rows["stores"]}
    largest: dict[int, dict[str, Any]] = {}
    for t in api_rows.items(answers, "templates"):
        size = t.get("size")
        if not isinstance(size, int | float) or size <= 0:
            continue
        for d in t.get("downloaddetails") or ():
            if d.get("datastoreRole", "Image") != "Image" or d.get("downloadState") != "DOWNLOADED":
                continue
            store = store_ids.get(str(d.get("datastoreId"))) or names.get(str(d.get("datastore")))
            if store is not None and size > largest.get(store, {}).get("size", 0):
                largest[store] = {
                    "store_id": store,
                    "template_id": t.get("id"),
                    "name": t.get("name"),
                    "unique_name": None,
                    "size": int(size),
                }
    rows["largest_template"] = list(largest.values())
    rows["threshold"] = api_rows.setting_rows(answers, (THRESHOLD,))
    return rows


def relabel(targets: Sequence[dict[str, Any]], answers: Mapping[str, Any]) -> None:
    """Targets name the store's and zone's UUID, as the templates check does through the API."""
    rows = api_inventory.rows_from_api(answers)
    stores = {f'store {s["id"]} "{s["name"]}"': s for s in rows["stores"]}
    zones = {z["id"]: z["uuid"] for z in rows["zones"]}
    stats = {str(s.get("id")): s for s in api_rows.items(answers, "imagestores")}
    for t in targets:
        store = stores.get(t["store"])
        if store is None:
            continue
        t["store"] = f'store {store["uuid"]} "{store["name"]}"'
        t["zone_uuid"] = zones.get(t.get("zone_id"))
        if not t.get("skipped"):
            s = stats.get(str(store["uuid"]), {})
            t["api_stats"] = {k: s[k] for k in ("disksizetotal", "disksizeused") if s.get(k) is not None}


def with_api_view(found: Iterable[Finding], t: Mapping[str, Any], threshold: float, endpoint: str) -> Iterator[Finding]:
    """The other vantage points' findings of a store, then the API's. A store the API reports capacity for
    was judged: "no vantage point could probe it" (NFS_UNREACHABLE) becomes the reason, in the INFO saying
    what the API cannot prove, that nothing else could."""
    found = list(found)
    reported = isinstance((t.get("api_stats") or {}).get("disksizetotal"), int)
    unreached = [f for f in found if f.code == "NFS_UNREACHABLE"] if reported else []
    yield from (f for f in found if f not in unreached)
    yield from judge(t, threshold, endpoint, "; ".join(f.summary for f in unreached))


def judge(t: Mapping[str, Any], threshold: float, endpoint: str, unreached: str = "") -> Iterator[Finding]:
    """The management server's view of one store: capacity as the SSVM last reported it, and what is not
    provable through the API."""
    stats = t.get("api_stats")
    if stats is None or t.get("skipped"):
        return
    where = "the management server (listImageStores)"
    source = f"{endpoint} listImageStores id={t['store'].split()[1]}"
    ev = (Evidence(kind=EvidenceKind.PROBE, source=source, text=None, data=dict(stats)),)
    total, used = stats.get("disksizetotal"), stats.get("disksizeused")
    if not isinstance(total, int) or not isinstance(used, int) or total <= 0:
        yield Finding(
            check=CHECK_NAME,
            code="NFS_CAPACITY_NOT_REPORTED",
            severity=Severity.UNKNOWN,
            target=f"{t['store']} from {where}",
            summary=f"CloudStack holds no capacity statistics for {t['url']}: no SSVM has reported them "
            "(GetStorageStatsCommand), so its free space is unknown here",
            evidence=ev,
            remediation="Check the zone's SSVM runs and its agent is Up (csdiag ssvm findings); statistics "
            "arrive every storage.stats.interval once it is.",
        )
    else:
        space = {"total_bytes": total, "used_bytes": used, "available_bytes": total - used}
        yield from judge_vantage(t, where, t["url"], {"is_mount": True, "space": space, "api": True}, threshold, ev=ev)
    yield Finding(
        check=CHECK_NAME,
        code="NFS_WRITE_NOT_PROVABLE",
        severity=Severity.INFO,
        target=t["store"],
        summary="through the API: capacity is the SSVM's last report; whether the export is mounted on the "
        "SSVM now, writable, and writable by root (no root squash) cannot be shown"
        + (f" (and {unreached})" if unreached else ""),
        evidence=ev,
        remediation="Give SSH to the SSVMs ([ssh], port 3922) or mount the export here ([[storage]] "
        "mount_path) to probe it, or run the protocol mode from a host the export allows.",
    )
