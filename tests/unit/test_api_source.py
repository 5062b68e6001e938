"""The API source of platform, ssvm and templates, from stored answers alone (what a bundle replays)."""

from __future__ import annotations

from typing import Any

import pytest

from checks import api_rows, api_templates, platform, ssvm, templates
from checks.api_rows import Ids
from diagnostics.check import RawEvidence

pytestmark = pytest.mark.unit

ZONE, STORE_A, STORE_B = "z-uuid-1", "s-uuid-a", "s-uuid-b"
CALLS = {name: api_templates.cloudstack_api_source.describe(cmd, p) for name, cmd, p, _ in api_templates.CALLS}


def evidence(templates_answer: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "configured": True,
        "via": "api",
        "target": "https://cloud.example/client/api",
        "observed_utc": "2026-12-01T12:00:00",
        "calls": CALLS,
        "answers": {
            "capabilities": {"capability": {"cloudstackversion": "4.22.0.0"}},
            "zones": [{"id": ZONE, "name": "zone-a", "allocationstate": "Enabled"}],
            "imagestores": [
                {"id": STORE_A, "name": "nfs-a", "zoneid": ZONE, "zonename": "zone-a"},
                {"id": STORE_B, "name": "nfs-b", "zoneid": ZONE, "zonename": "zone-a", "readonly": True},
            ],
            "templates": templates_answer,
            "isos": [],
        },
        **extra,
    }


def tmpl(uuid: str, name: str, details: list[tuple[str, str, int]], **fields: Any) -> dict[str, Any]:
    return {
        "id": uuid,
        "name": name,
        "templatetype": "USER",
        "format": "QCOW2",
        "hypervisor": "KVM",
        "zoneid": ZONE,
        "isready": True,
        "downloaddetails": [
            {"datastore": n, "datastoreId": s, "datastoreRole": "Image", "downloadPercent": str(p), "downloadState": st}
            for s, n, st, p in ((d[0], "nfs-a" if d[0] == STORE_A else "nfs-b", d[1], d[2]) for d in details)
        ],
        **fields,
    }


def judge(data: dict[str, Any]) -> list[Any]:
    return list(templates.evaluate(RawEvidence(data=data), templates.TemplatesParams()))


def test_ids_number_in_listing_order_and_relabel_back() -> None:
    ids = Ids()
    assert (ids.of("store", "u-1"), ids.of("store", "u-2"), ids.of("store", "u-1")) == (1, 2, 1)
    assert ids.relabel('template 7 "x" @ store 2 "b"') == 'template 7 "x" @ store u-2 "b"'


def test_progress_is_judged_across_observations() -> None:
    assert api_templates._unchanged_since([], 40) == (None, None)
    points = [{"at": "t1", "value": 30}, {"at": "t2", "value": 40}, {"at": "t3", "value": 40}]
    assert api_templates._unchanged_since(points, 40) == ("t2", points[-1])
    assert api_templates._unchanged_since(points, 55) == (None, points[-1])


def test_first_observation_is_not_provable_and_a_later_one_is_judged() -> None:
    answer = [tmpl("t-1", "ubuntu", [(STORE_A, "DOWNLOAD_IN_PROGRESS", 40)], status="40% Downloaded")]
    first = judge(evidence(answer))
    stall = next(f for f in first if f.code == "TEMPLATE_STALL_NOT_PROVABLE")
    assert stall.target == f'template t-1 "ubuntu" @ store {STORE_A} "nfs-a"'
    assert stall.metrics[0].name == "download_pct" and stall.metrics[0].value == 40
    previous = {stall.target: [{"at": "2026-12-01T09:00:00+00:00", "value": 40}]}
    later = judge(evidence(answer, previous=previous))
    stalled = next(f for f in later if f.code == "TEMPLATE_DOWNLOAD_STALLED")
    assert stalled.severity.value == "CRIT" and "3.0 h" in stalled.summary
    assert stalled.subjects["template"] == "t-1" and stalled.subjects["store"] == STORE_A


def test_history_unavailable_is_said() -> None:
    answer = [tmpl("t-1", "ubuntu", [(STORE_A, "DOWNLOAD_IN_PROGRESS", 40)])]
    f = next(f for f in judge(evidence(answer, previous_error="history store: locked")) if "STALL" in f.code)
    assert "history store: locked" in f.summary


def test_error_text_and_size_only_when_the_response_is_one_copys() -> None:
    answer = [
        tmpl("t-1", "failed", [(STORE_A, "DOWNLOAD_ERROR", 0)], status="HTTP Server returned 404 (expected 200 OK)"),
        tmpl("t-2", "two-copies", [(STORE_A, "DOWNLOADED", 100), (STORE_B, "DOWNLOADED", 100)]),  # no size
        tmpl("t-3", "ok", [(STORE_A, "DOWNLOADED", 100)], size=10, physicalsize=5),
    ]
    got = {(f.code, f.target) for f in judge(evidence(answer)) if f.severity.value != "INFO"}
    assert got == {
        ("TEMPLATE_DOWNLOAD_ERROR", f'template t-1 "failed" @ store {STORE_A} "nfs-a"'),
        ("TEMPLATE_SIZE_ZERO", f'template t-2 "two-copies" @ zone {ZONE}'),
    }


def test_checksums_without_their_prefix() -> None:
    answer = [
        tmpl("t-1", "sha256", [], checksum="ab" * 32),  # {SHA-256} stripped: fine
        tmpl("t-2", "upper", [], checksum="AB" * 32),
        tmpl("t-3", "odd", [], checksum="ab" * 33),
    ]
    findings = judge(evidence(answer))
    assert {f.target for f in findings if f.code == "TEMPLATE_CHECKSUM_INVALID"} == {
        'template t-2 "upper"',
        'template t-3 "odd"',
    }
    assert any(f.code == "TEMPLATE_CHECKSUM_NOT_PROVABLE" for f in findings)


def test_read_only_store_with_a_download_in_progress() -> None:
    answer = [tmpl("t-1", "late", [(STORE_B, "DOWNLOAD_IN_PROGRESS", 10)])]
    ro = [f for f in judge(evidence(answer)) if f.code == "IMAGE_STORE_READ_ONLY_TARGET"]
    assert [f.target for f in ro] == [f'store {STORE_B} "nfs-b"']


def test_platform_names_settings_the_api_does_not_return() -> None:
    data = {
        "configured": True,
        "via": "api",
        "target": "https://cloud.example/client/api",
        "observed_utc": "2026-12-01T12:00:00",
        "calls": {},
        "answers": {
            "capabilities": {"capability": {"cloudstackversion": "4.16.1.0"}},
            "setting:secstorage.vm.mtu.size": [
                {"name": "secstorage.vm.mtu.size", "value": "100", "category": "Advanced"},
                {"name": "secstorage.vm.mtu.size.extra", "value": "1", "category": "Advanced"},  # LIKE match
            ],
        },
    }
    findings = list(platform.evaluate(RawEvidence(data=data), platform.PlatformParams()))
    codes = {(f.code, f.target) for f in findings}
    assert ("VERSION_UNSUPPORTED", data["target"]) in codes
    assert ("SETTING_RISKY", f"{data['target']} setting secstorage.vm.mtu.size") in codes
    missing = {f.target for f in findings if f.code == "SETTING_NOT_PROVABLE"}
    assert missing == {f"{data['target']} setting {n}" for n in platform.SETTINGS if n != "secstorage.vm.mtu.size"}


def test_ssvm_agent_from_list_hosts() -> None:
    data = {
        "configured": True,
        "via": "api",
        "target": "https://cloud.example/client/api",
        "observed_utc": "2026-12-01T12:00:00",
        "calls": {},
        "answers": {
            "capabilities": {"capability": {"cloudstackversion": "4.22.0.0"}},
            "zones": [{"id": ZONE, "name": "zone-a", "allocationstate": "Enabled"}],
            "systemvms": [
                {
                    "id": "vm-1",
                    "name": "s-1-VM",
                    "systemvmtype": "secondarystoragevm",
                    "zoneid": ZONE,
                    "state": "Running",
                    "agentstate": "Up",
                    "templatename": "systemvm-kvm-4.22.0-x86_64",
                },
            ],
            "ssvm_hosts": [{"id": "h-1", "name": "s-1-VM", "state": "Up", "resourcestate": "Enabled"}],
        },
    }
    findings = list(ssvm.evaluate(RawEvidence(data=data), ssvm.NoParams()))
    # Up, but no managementserverid in HostResponse: no management server holds its connection
    assert [(f.code, f.target) for f in findings] == [("SSVM_AGENT_NOT_UP", f'ssvm s-1-VM (zone {ZONE} "zone-a")')]


def test_api_rows_copy_row_keeps_the_problem_columns() -> None:
    ids = Ids()
    stores, by_uuid = api_rows.stores_rows(evidence([])["answers"], ids)
    row = api_rows.copy_row(
        tmpl("t-1", "x", [], status="s"),
        {"downloadState": "DOWNLOAD_IN_PROGRESS", "downloadPercent": "7"},
        by_uuid[STORE_A],
        ids,
        attributable=True,
    )
    assert row["download_pct"] == 7 and row["store_readonly"] is False and api_rows.is_problem(row)
    assert [s["name"] for s in stores] == ["nfs-a", "nfs-b"]
