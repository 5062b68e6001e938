import re

import pytest

from checks.template_sync import expected_stores, heuristic_problems, syncable, zone_hypervisors
from checks.templates import VALID_CHECKSUM
from checks.templates_rules import checksum_problem, target_of, ui_status
from diagnostics.inventory import parse_nfs_url, ssvm_mount_uuid

pytestmark = pytest.mark.unit

CHECKSUMS = [
    ("0123456789abcdef0123456789abcdef", None),
    ("{MD5}0123456789abcdef0123456789abcdef", None),
    ("{SHA-1}" + "a" * 40, None),
    ("{SHA-224}" + "a" * 56, None),
    ("{SHA-256}" + "a" * 64, None),
    ("{SHA-384}" + "a" * 96, None),
    ("{SHA-512}" + "a" * 128, None),
    ("{SHA-256}" + "A" * 64, "upper-case"),
    ("{sha-256}" + "a" * 64, "unknown algorithm"),
    ("{SHA256}" + "a" * 64, "unknown algorithm"),
    ("{SHA-256}" + "a" * 63, "63 hex digits"),
    ("a" * 64, "looks like SHA-256"),
    ("{MD5}" + "g" * 32, "not a hexadecimal digest"),
    ("{SHA-256}", "not a hexadecimal digest"),
    ("{SHA-256}" + "a" * 64 + " ", "not a hexadecimal digest"),
]


@pytest.mark.parametrize("checksum, why", CHECKSUMS)
def test_checksum_problem(checksum, why):
    problem = checksum_problem(checksum)
    if why is None:
        assert problem is None
    else:
        assert why in problem
    # The SQL pre-filter and this function agree on what is valid.
    assert (re.search(VALID_CHECKSUM, checksum) is not None) == (problem is None)


def test_ui_status_newest():
    """TemplateJoinDaoImpl.getTemplateStatus from 4.22.1 (apache/cloudstack af9d68630f)."""
    assert ui_status({"download_state": "DOWNLOADED"}) == "Download Complete"
    assert ui_status({"download_state": "DOWNLOADED", "format": "ISO"}) == "Successfully Installed"
    assert ui_status({"download_state": "DOWNLOAD_IN_PROGRESS", "download_pct": 100}) == "Installing Template"
    assert ui_status({"download_state": "DOWNLOAD_IN_PROGRESS", "download_pct": 42}) == "42% Downloaded"
    assert ui_status({"download_state": "BYPASSED"}) == "Bypassed Secondary Storage"
    assert ui_status({"download_state": "DOWNLOAD_ERROR", "error_str": " Stream closed "}) == "Stream closed"
    assert ui_status({"download_state": "DOWNLOAD_ERROR", "error_str": " ", "state": "Failed"}) == "Processing"


def test_ui_status_up_to_4_22_0():
    """Up to 4.22.0 an error-less row shows vm_template.state and error_str is shown as stored."""
    for v in ((4, 18, 1, 0), (4, 20, 0, 0), (4, 22, 0, 0)):
        assert ui_status({"download_state": "NOT_DOWNLOADED", "template_state": "Active"}, v) == "Active"
        assert ui_status({"download_state": "DOWNLOAD_ERROR", "error_str": " Stream closed "}, v) == " Stream closed "
        assert ui_status({"download_state": "DOWNLOADED", "format": "ISO"}, v) == "Download Complete"
    assert ui_status({"download_state": "NOT_DOWNLOADED", "template_state": "Active"}, (4, 22, 1, 0)) == "Processing"


def test_target_names_template_and_store():
    assert (
        target_of({"template_id": 5, "template_name": "deb", "store_id": 2, "store_name": "nfs"})
        == 'template 5 "deb" @ store 2 "nfs"'
    )
    assert (
        target_of({"template_id": 5, "template_name": "deb", "store_id": None})
        == 'template 5 "deb" @ no store (direct download)'
    )


def test_expected_stores_follow_template_sync():
    writable = {1: [{"id": 10}, {"id": 11}], 2: [{"id": 20}]}
    zone_of = {10: 1, 11: 1, 20: 2, 30: 3}
    kvm = zone_hypervisors([{"zone_id": 1, "hypervisor_type": "KVM"}], [1, 2])  # zone 2: no cluster yet → KVM
    assert kvm == {1: {"KVM", "None"}, 2: {"KVM", "None"}}
    public = {"public": 1, "cross_zones": 0, "hypervisor_type": "KVM", "template_type": "USER"}
    assert [s["id"] for s in expected_stores(public, {10}, writable, zone_of, kvm)] == [11]
    assert [s["id"] for s in expected_stores({**public, "cross_zones": 1}, {10}, writable, zone_of, kvm)] == [11, 20]
    assert expected_stores(public, set(), writable, zone_of, kvm) == []
    assert expected_stores(public, {30}, writable, zone_of, kvm) == []  # zone 3 has no writable store
    private = {**public, "public": 0}
    assert expected_stores(private, {10}, writable, zone_of, kvm) == []  # one store per zone by design
    xen = {"public": 1, "featured": 1, "cross_zones": 1, "hypervisor_type": "XenServer", "template_type": "BUILTIN"}
    assert expected_stores(xen, set(), writable, zone_of, kvm) == []  # no XenServer cluster anywhere
    system = {"public": 0, "cross_zones": 1, "hypervisor_type": "KVM", "template_type": "SYSTEM"}
    assert [s["id"] for s in expected_stores(system, {20}, writable, zone_of, kvm)] == [10, 11]
    assert not syncable({**public, "direct_download": 1})
    assert not syncable({**public, "state": "Inactive"})
    assert not syncable({**public, "template_type": "PERHOST"})
    assert syncable({**system, "state": "Inactive"})  # handleSysTemplateDownload: any state


def test_heuristic_rule_store_references():
    stores = [
        {"id": 1, "uuid": "11111111-2222-3333-4444-555555555555", "name": "nfs-a", "zone_id": 1, "removed": None},
        {
            "id": 2,
            "uuid": "22222222-2222-3333-4444-555555555555",
            "name": "nfs-ro",
            "zone_id": 1,
            "readonly": 1,
            "removed": None,
        },
        {"id": 3, "uuid": "33333333-2222-3333-4444-555555555555", "name": "nfs-b", "zone_id": 2, "removed": None},
        {
            "id": 4,
            "uuid": "44444444-2222-3333-4444-555555555555",
            "name": "old",
            "zone_id": 1,
            "removed": "2024-01-01T00:00:00",
        },
    ]
    rule = lambda r: {"zone_id": 1, "heuristic_rule": r}  # noqa: E731
    assert heuristic_problems(rule("secondaryStorages.filter(s => s.name == 'nfs-a')[0].id"), stores) == []
    assert "read-only" in heuristic_problems(rule("x.filter(s => s.name == 'nfs-ro')"), stores)[0][0]
    assert (
        "not of the rule's zone"
        in heuristic_problems(rule('s.id == "33333333-2222-3333-4444-555555555555"'), stores)[0][0]
    )
    assert "removed" in heuristic_problems(rule("s.name == 'old'"), stores)[0][0]
    assert "no image store has" in heuristic_problems(rule("'99999999-2222-3333-4444-555555555555'"), stores)[0][0]
    assert heuristic_problems(rule("template.hypervisorType == 'KVM'"), stores) == []


def test_nfs_url_and_ssvm_mount_point():
    assert parse_nfs_url("nfs://10.0.0.5/export/secondary") == ("10.0.0.5", "/export/secondary")
    assert parse_nfs_url("s3://bucket") is None and parse_nfs_url(None) is None
    # Value printed by Java 17: UUID.nameUUIDFromBytes("10.0.0.5:/export/secondary".getBytes())
    assert ssvm_mount_uuid("10.0.0.5", "/export/secondary") == "f2702c89-b250-31ef-8d57-b75482e224c2"


def test_inventory_from_rows():
    from diagnostics.inventory import Inventory

    inv = Inventory.from_results(
        {
            "zones": [
                {"id": 1, "name": "east", "allocation_state": "Enabled", "type": "Core"},
                {"id": 2, "name": "edge", "allocation_state": "Enabled", "type": "Edge"},
            ],
            "stores": [
                {
                    "id": 10,
                    "name": "a",
                    "data_center_id": 1,
                    "url": "nfs://10.0.0.5/export/a",
                    "protocol": "nfs",
                    "role": "Image",
                    "readonly": 0,
                },
                {
                    "id": 11,
                    "name": "b",
                    "data_center_id": 1,
                    "url": "nfs://10.0.0.6/export/b",
                    "protocol": "nfs",
                    "role": "Image",
                    "readonly": 1,
                },
            ],
            "ssvms": [
                {
                    "id": 5,
                    "instance_name": "s-5-VM",
                    "vm_state": "Running",
                    "zone_id": 1,
                    "agent_id": 3,
                    "agent_status": "Up",
                    "agent_version": "4.18",
                    "last_ping": 1,
                    "agent_ip": "10.1.0.5",
                }
            ],
            "ssvm_nics": [{"instance_id": 5, "ip4_address": "169.254.1.5", "traffic_type": "Control"}],
            "largest": [{"store_id": 10, "largest_bytes": 5 << 30}, {"store_id": 11, "largest_bytes": 7 << 30}],
        }
    )
    assert [(z.name, z.core) for z in inv.zones] == [("east", True), ("edge", False)]
    assert inv.stores[0].nfs == ("10.0.0.5", "/export/a") and inv.stores[1].readonly
    assert inv.largest_in_zone(1) == 7 << 30 and inv.largest_in_zone(2) == 0
    [s] = inv.ssvms_in(1)
    assert (s.link_local_ip, s.private_ip) == ("169.254.1.5", "10.1.0.5")
