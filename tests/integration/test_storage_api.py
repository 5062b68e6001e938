"""The storage check with CloudStack's API as its source, against the strict API stand-in: the stores and
the largest template per store from the API, and the management server's own view of each store's capacity
(ImageStoreResponse disksizetotal/disksizeused, StatsCollector's last GetStorageStatsAnswer — see
checks/storage_api.py for the CloudStack facts).

The stores' URLs name 127.0.0.1: the protocol vantage point, which runs from here by default, only ever
talks to loopback (where no NFS server answers), never to a made-up address.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from checks import storage
from diagnostics.check import CheckContext, RawEvidence
from diagnostics.config import parse_settings
from diagnostics.model import Finding, Severity
from tests.services.csapi import Key, StandIn, api_server

pytestmark = pytest.mark.integration

KEY, SECRET = "adminkey-storage", "storage-secret"
GiB = 1 << 30
ZONE = "8c5a3f4e-0000-4000-8000-00000000000a"
STORES = {
    "healthy": "1f0e6d2c-0000-4000-8000-000000000001",
    "tight": "1f0e6d2c-0000-4000-8000-000000000002",
    "full": "1f0e6d2c-0000-4000-8000-000000000003",
    "silent": "1f0e6d2c-0000-4000-8000-000000000004",
}


def store(name: str, total: int | None, used: int | None) -> dict[str, Any]:
    s: dict[str, Any] = {
        "id": STORES[name],
        "name": name,
        "zoneid": ZONE,
        "zonename": "zone-a",
        "url": f"nfs://127.0.0.1/export/{name}",
        "protocol": "nfs",
        "providername": "NFS",
        "scope": "ZONE",
        "readonly": False,
    }
    if total is not None:  # gson leaves the fields out while no statistics exist
        s |= {"disksizetotal": total, "disksizeused": used}
    return s


def template(tid: str, size: int, stores: list[str]) -> dict[str, Any]:
    return {
        "id": tid,
        "name": f"tmpl-{tid}",
        "size": size,
        "zoneid": ZONE,
        "status": "Download Complete",
        "isready": True,
        "downloaddetails": [
            {
                "datastore": s,
                "datastoreId": STORES[s],
                "datastoreRole": "Image",
                "downloadPercent": "100",
                "downloadState": "DOWNLOADED",
            }
            for s in stores
        ],
    }


@pytest.fixture
def endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CSDIAG_API_SECRET", SECRET)
    standin = StandIn(
        keys={KEY: Key(SECRET)},
        default_page_size=100,
        lists={
            "listZones": [{"id": ZONE, "name": "zone-a", "allocationstate": "Enabled", "type": "Core"}],
            "listImageStores": [
                store("healthy", 1000 * GiB, 100 * GiB),  # 900 GiB free for a 20 GiB template
                store("tight", 100 * GiB, 50 * GiB),  # 50 GiB free: < 3 × 20 GiB
                store("full", 100 * GiB, 95 * GiB),  # 95 % used ≥ the threshold 90 %
                store("silent", None, None),
            ],
            "listSystemVms": [],
            "listTemplates": [template("t-big", 20 * GiB, ["healthy", "tight"]), template("t-small", GiB, ["full"])],
            "listConfigurations": [
                {
                    "name": "secondary.storage.capacity.threshold",
                    "value": "0.90",
                    "defaultvalue": "0.90",
                    "category": "Alert",
                }
            ],
        },
    )
    with api_server(standin) as url:
        yield url


def run(endpoint: str) -> tuple[RawEvidence, list[Finding]]:
    cfg = parse_settings(
        {
            "cloudstack": {
                "source": "api",
                "api": {"endpoint": endpoint, "api_key": KEY, "secret_key_env": "CSDIAG_API_SECRET"},
            },
            "thresholds": {"storage": {"probe_timeout_s": 2}},
        }
    )
    params = storage.StorageParams(probe_timeout_s=2)
    started = time.monotonic()
    raw = storage.CHECK.collect(CheckContext(settings=cfg, params=params, deadline=started + 30))
    assert time.monotonic() - started < 31
    findings = list(storage.CHECK.evaluate(raw, params))
    replayed = list(storage.CHECK.evaluate(RawEvidence(data=json.loads(json.dumps(raw.data))), params))
    assert [(f.code, f.target, f.summary) for f in replayed] == [(f.code, f.target, f.summary) for f in findings]
    return raw, findings


def test_capacity_from_the_management_servers_view(endpoint: str) -> None:
    raw, findings = run(endpoint)
    assert raw.data["via"] == "api" and raw.data["page_size"] == 100
    api = {(f.code, f.target.split(" from ")[0]) for f in findings if "management server" in f.target}
    label = {name: f'store {uuid} "{name}"' for name, uuid in STORES.items()}
    assert api == {
        ("NFS_OK", label["healthy"]),
        ("NFS_CAPACITY_LOW", label["tight"]),
        ("NFS_ABOVE_THRESHOLD", label["full"]),
        ("NFS_CAPACITY_NOT_REPORTED", label["silent"]),
    }, findings
    low = next(f for f in findings if f.code == "NFS_CAPACITY_LOW")
    assert low.severity is Severity.CRIT and "tmpl-t-big" in low.summary and "= 60 GiB" in low.summary
    assert low.subjects["store"] == STORES["tight"] and low.subjects["zone"] == ZONE
    ok = next(f for f in findings if f.code == "NFS_OK")
    assert "as the SSVM last reported it" in ok.summary and "writable" not in ok.summary
    # what the API cannot prove, said once per store it judged — never a silent pass
    gaps = [f for f in findings if f.code == "NFS_WRITE_NOT_PROVABLE"]
    assert {f.target for f in gaps} == set(label.values())
    assert all(f.severity is Severity.INFO for f in gaps)
    # the protocol probe from here found nothing on loopback: that is the reason given, not an UNKNOWN per store
    healthy_gap = next(f for f in gaps if f.target == label["healthy"])
    assert "no vantage point could probe" in healthy_gap.summary
    [silent] = [f for f in findings if f.code == "NFS_CAPACITY_NOT_REPORTED"]
    assert silent.severity is Severity.UNKNOWN and STORES["silent"] in silent.target
    assert {f.code for f in findings if f.target.startswith(label["silent"])} <= {
        "NFS_CAPACITY_NOT_REPORTED",
        "NFS_UNREACHABLE",
        "NFS_WRITE_NOT_PROVABLE",
    }


def test_a_refused_key_is_one_clear_finding(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSDIAG_API_SECRET", "not-the-secret")
    _, findings = run(endpoint)
    assert [(f.code, f.severity) for f in findings] == [("API_AUTH_FAILED", Severity.UNKNOWN)]
    assert "not-the-secret" not in json.dumps([f.summary for f in findings])
