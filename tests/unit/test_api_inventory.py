"""The inventory from API answers (field names of CloudStack's response classes at b0601e5478)."""

from __future__ import annotations

from typing import Any

import pytest

from diagnostics.api_inventory import inventory_from_api

pytestmark = pytest.mark.unit

ZONE = "8f2c4a7e-1111-4c1e-9d2a-000000000001"
STORE_A, STORE_B = "5d0b7c1e-2222-4a3b-8c4d-00000000000a", "5d0b7c1e-2222-4a3b-8c4d-00000000000b"
GIB = 2**30

ANSWERS: dict[str, list[dict[str, Any]]] = {
    "zones": [
        {"id": ZONE, "name": "zone-east", "allocationstate": "Enabled", "networktype": "Advanced", "type": "Core"}
    ],
    "imagestores": [
        {
            "id": STORE_A,
            "name": "east-nfs-1",
            "url": "nfs://10.20.0.5/export/secondary",
            "protocol": "nfs",
            "providername": "NFS",
            "scope": "ZONE",
            "zoneid": ZONE,
            "zonename": "zone-east",
            "readonly": False,
        },
        {
            "id": STORE_B,
            "name": "east-nfs-2",
            "url": "nfs://10.20.0.6/export/secondary",
            "protocol": "nfs",
            "providername": "NFS",
            "scope": "ZONE",
            "zoneid": ZONE,
            "zonename": "zone-east",
            "readonly": True,
        },
    ],
    "systemvms": [
        {
            "id": "a1",
            "name": "s-11-VM",
            "systemvmtype": "secondarystoragevm",
            "zoneid": ZONE,
            "state": "Running",
            "agentstate": "Up",
            "linklocalip": "169.254.2.11",
            "privateip": "10.20.1.11",
            "publicip": "192.0.2.11",
            "version": "4.22.0.0",
            "disconnected": "2026-11-30T10:00:00+0000",
        },
    ],
    "templates": [
        {
            "id": "t1",
            "name": "debian-12",
            "size": 8 * GIB,
            "status": "Download Complete",
            "downloaddetails": [
                {
                    "datastore": "east-nfs-1",
                    "datastoreId": STORE_A,
                    "datastoreRole": "Image",
                    "downloadPercent": "100",
                    "downloadState": "DOWNLOADED",
                },
                {
                    "datastore": "east-nfs-2",
                    "datastoreId": STORE_B,
                    "datastoreRole": "Image",
                    "downloadPercent": "40",
                    "downloadState": "DOWNLOAD_IN_PROGRESS",
                },
            ],
        },
        {
            "id": "t2",
            "name": "windows-2022",
            "size": 40 * GIB,
            "downloaddetails": [
                {"datastore": "east-nfs-1", "downloadPercent": "100", "downloadState": "DOWNLOADED"},  # restricted view
                {
                    "datastore": "ceph-primary",
                    "datastoreId": "p1",
                    "datastoreRole": "Primary",
                    "downloadPercent": "100",
                    "downloadState": "DOWNLOADED",
                },
            ],
        },
        {"id": "t3", "name": "direct", "size": 0, "directdownload": True},
    ],
}


def test_inventory_from_api_answers() -> None:
    inv = inventory_from_api(ANSWERS)
    (zone,) = inv.zones
    assert (zone.name, zone.enabled, zone.core) == ("zone-east", True, True)
    a, b = inv.stores
    assert a.nfs == ("10.20.0.5", "/export/secondary") and a.zone_id == zone.id and not a.readonly
    assert b.readonly
    (ssvm,) = inv.ssvms_in(zone.id)
    assert ssvm.link_local_ip == "169.254.2.11" and ssvm.private_ip == "10.20.1.11"
    assert ssvm.agent_status == "Up" and ssvm.last_ping is None and ssvm.row["uuid"] == "a1"
    # the largest template downloaded to a store: 40 GiB on A (found by name), none finished on B
    assert inv.largest_by_store == {a.id: 40 * GIB}
    assert inv.largest_in_zone(zone.id) == 40 * GIB


def test_empty_answers_give_an_empty_inventory() -> None:
    inv = inventory_from_api({})
    assert (inv.zones, inv.stores, inv.ssvms, dict(inv.largest_by_store)) == ([], [], [], {})
