"""What a CloudStack installation has, as read from its database: zones, image stores, SSVMs and the
largest template per store and zone. Other checks take their targets from here (``storage`` its
exports, ``logs`` and ``storage`` the SSVMs to SSH into, ``mtu`` the paths to probe).

The queries are data (``REQUIRED``, :func:`queries`), run by a check's ``collect`` through the
read-only database source; :meth:`Inventory.from_results` builds the inventory from their rows, so it
works the same on a live database and on a bundle. Join paths and enums: cloudstack.md §2.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

REQUIRED: dict[str, tuple[str, ...]] = {
    "data_center": ("id", "name", "allocation_state", "removed"),
    "image_store": ("id", "name", "protocol", "url", "data_center_id", "role", "removed"),
    "vm_instance": ("id", "instance_name", "state", "data_center_id", "host_id", "type", "removed", "vm_template_id"),
    "vm_template": ("id", "name"),
    "host": ("id", "name", "status", "type", "private_ip_address", "data_center_id", "version", "last_ping", "removed"),
    "nics": ("instance_id", "ip4_address", "network_id", "removed"),
    "networks": ("id", "traffic_type"),
    "template_store_ref": ("store_id", "size", "destroyed"),
}
# Columns that newer versions added; used when present (cloudstack.md §2).
OPTIONAL = {
    "data_center": ("type",),
    "image_store": ("readonly", "image_provider_name", "uuid"),
    "nics": ("mtu",),
    "host": ("disconnected", "resource_state", "mgmt_server_id"),
}


def _cols(table: str, alias: str, columns: Mapping[str, set[str]]) -> str:
    have = columns.get(table, set())
    return ", ".join(f"{alias}.{c}" for c in OPTIONAL.get(table, ()) if c in have)


def queries(columns: Mapping[str, set[str]]) -> dict[str, str]:
    """The inventory's SELECTs, including the optional columns this schema has."""

    def extra(table: str, alias: str) -> str:
        cols = _cols(table, alias, columns)
        return f", {cols}" if cols else ""

    return {
        "zones": f"SELECT z.id, z.name, z.allocation_state{extra('data_center', 'z')} "
        "FROM data_center z WHERE z.removed IS NULL ORDER BY z.id",
        "stores": f"SELECT s.id, s.name, s.protocol, s.url, s.data_center_id, s.role{extra('image_store', 's')} "
        "FROM image_store s WHERE s.removed IS NULL ORDER BY s.id",
        "ssvms": "SELECT v.id, v.instance_name, v.state AS vm_state, v.data_center_id AS zone_id, v.host_id, "
        "h.id AS agent_id, h.status AS agent_status, h.private_ip_address AS agent_ip, h.version AS agent_version, "
        f"h.last_ping{extra('host', 'h')}, v.vm_template_id, t.name AS template_name "
        "FROM vm_instance v LEFT JOIN host h ON h.name = v.instance_name AND h.type = 'SecondaryStorageVM' "
        "AND h.data_center_id = v.data_center_id AND h.removed IS NULL "
        "LEFT JOIN vm_template t ON t.id = v.vm_template_id "
        "WHERE v.type = 'SecondaryStorageVm' AND v.removed IS NULL ORDER BY v.data_center_id, v.id",
        "ssvm_nics": f"SELECT n.instance_id, n.ip4_address, w.traffic_type{extra('nics', 'n')} "
        "FROM nics n JOIN networks w ON w.id = n.network_id JOIN vm_instance v ON v.id = n.instance_id "
        "WHERE v.type = 'SecondaryStorageVm' AND v.removed IS NULL AND n.removed IS NULL ORDER BY n.instance_id",
        "largest": "SELECT r.store_id, MAX(r.size) AS largest_bytes FROM template_store_ref r "
        "WHERE r.store_id IS NOT NULL AND (r.destroyed = 0 OR r.destroyed IS NULL) GROUP BY r.store_id",
    }


def parse_nfs_url(url: str | None) -> tuple[str, str] | None:
    """``nfs://10.0.0.5/export/secondary`` → ``("10.0.0.5", "/export/secondary")``; None if not NFS."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() != "nfs" or not parts.hostname:
        return None
    return parts.hostname, parts.path or "/"


def ssvm_mount_uuid(server: str, path: str) -> str:
    """The folder under /mnt/SecStorage where an SSVM mounts ``server:path``.

    CloudStack uses Java's ``UUID.nameUUIDFromBytes("<server>:<path>")``: MD5 of the bytes with the
    version nibble set to 3 and the RFC 4122 variant (cloudstack.md §1).
    """
    digest = hashlib.md5(f"{server}:{path}".encode(), usedforsecurity=False).digest()
    return str(uuid.UUID(bytes=digest, version=3))


@dataclass(frozen=True)
class Zone:
    id: int
    name: str
    enabled: bool
    core: bool

    @property
    def label(self) -> str:
        return f'zone {self.id} "{self.name}"'


@dataclass(frozen=True)
class ImageStore:
    id: int
    name: str
    zone_id: int | None
    url: str | None
    protocol: str | None
    role: str | None
    readonly: bool
    nfs: tuple[str, str] | None  # (server, export path)

    @property
    def label(self) -> str:
        return f'store {self.id} "{self.name}"'


@dataclass(frozen=True)
class Ssvm:
    id: int
    name: str
    zone_id: int
    vm_state: str
    agent_id: int | None
    agent_status: str | None
    agent_version: str | None
    last_ping: int | None
    ips: Mapping[str, str] = field(default_factory=dict)  # traffic type (Control, Management, Public, Storage) → IP
    row: Mapping[str, Any] = field(default_factory=dict)

    @property
    def link_local_ip(self) -> str | None:
        return self.ips.get("Control")

    @property
    def private_ip(self) -> str | None:
        return self.ips.get("Management") or self.row.get("agent_ip")


@dataclass(frozen=True)
class Inventory:
    zones: Sequence[Zone]
    stores: Sequence[ImageStore]
    ssvms: Sequence[Ssvm]
    largest_by_store: Mapping[int, int]

    @classmethod
    def from_results(cls, results: Mapping[str, Sequence[Mapping[str, Any]]]) -> Inventory:
        zones = [
            Zone(
                id=int(z["id"]),
                name=str(z["name"] or z["id"]),
                enabled=z.get("allocation_state") == "Enabled",
                core=(z.get("type") or "Core") == "Core",
            )
            for z in results.get("zones", ())
        ]
        stores = [
            ImageStore(
                id=int(s["id"]),
                name=str(s["name"]),
                zone_id=s.get("data_center_id"),
                url=s.get("url"),
                protocol=s.get("protocol"),
                role=s.get("role"),
                readonly=bool(s.get("readonly") or 0),
                nfs=parse_nfs_url(s.get("url")),
            )
            for s in results.get("stores", ())
        ]
        ips: dict[int, dict[str, str]] = {}
        for n in results.get("ssvm_nics", ()):
            if n.get("ip4_address") and n.get("traffic_type"):
                ips.setdefault(int(n["instance_id"]), {})[str(n["traffic_type"])] = str(n["ip4_address"])
        ssvms = [
            Ssvm(
                id=int(v["id"]),
                name=str(v["instance_name"]),
                zone_id=int(v["zone_id"]),
                vm_state=str(v["vm_state"]),
                agent_id=v.get("agent_id"),
                agent_status=v.get("agent_status"),
                agent_version=v.get("agent_version"),
                last_ping=v.get("last_ping"),
                ips=ips.get(int(v["id"]), {}),
                row=dict(v),
            )
            for v in results.get("ssvms", ())
        ]
        largest = {int(r["store_id"]): max(0, int(r["largest_bytes"] or 0)) for r in results.get("largest", ())}
        return cls(zones=zones, stores=stores, ssvms=ssvms, largest_by_store=largest)

    def zone(self, zone_id: int | None) -> Zone | None:
        return next((z for z in self.zones if z.id == zone_id), None)

    def ssvms_in(self, zone_id: int) -> list[Ssvm]:
        return [s for s in self.ssvms if s.zone_id == zone_id]

    def stores_in(self, zone_id: int) -> list[ImageStore]:
        return [s for s in self.stores if s.zone_id == zone_id]

    def largest_in_zone(self, zone_id: int) -> int:
        return max((self.largest_by_store.get(s.id, 0) for s in self.stores_in(zone_id)), default=0)
