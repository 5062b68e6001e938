import pytest

from checks.storage import ssvm_script
from checks.storage_rules import parse_ssvm
from diagnostics.sources.mountprobe import mount_of

pytestmark = pytest.mark.unit

MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
40 22 0:35 / /mnt/SecStorage/f2702c89-b250-31ef-8d57-b75482e224c2 rw,relatime shared:20 - nfs 10.0.0.5:/export/secondary rw,vers=3,soft,timeo=133,retrans=2147483647,proto=tcp
41 22 0:36 / /mnt/with\\040space ro,relatime - tmpfs tmpfs ro,size=1024k
"""


def test_mount_of_picks_the_longest_prefix_and_options():
    m = mount_of("/mnt/SecStorage/f2702c89-b250-31ef-8d57-b75482e224c2/template/tmpl", MOUNTINFO)
    assert m["mount_point"] == "/mnt/SecStorage/f2702c89-b250-31ef-8d57-b75482e224c2"
    assert m["fstype"] == "nfs" and m["source"] == "10.0.0.5:/export/secondary"
    assert {"soft", "vers=3", "rw"} <= set(m["options"])
    assert mount_of("/mnt/with space", MOUNTINFO)["fstype"] == "tmpfs"
    assert mount_of("/srv/x", MOUNTINFO)["mount_point"] == "/"


def test_parse_ssvm_output():
    out = parse_ssvm(
        "MOUNT /mnt/SecStorage/f27 nfs rw,vers=3,soft\n"
        "DF 10.0.0.5:/export/secondary 107374182400 96636764160 10737418240 91% /mnt/SecStorage/f27\n"
        "WRITE 1 sh: 1: cannot create /mnt/SecStorage/f27/.csdiag-probe-1: Permission denied\n"
    )
    assert out["mount"]["options"] == ["rw", "vers=3", "soft"]
    assert out["df"] == {"total_bytes": 107374182400, "used_bytes": 96636764160, "available_bytes": 10737418240}
    assert out["write"]["ok"] is False and "Permission denied" in out["write"]["message"]
    assert parse_ssvm("MOUNT \nDF df: /x: No such file or directory\n")["mount"] is None


def test_ssvm_script_quotes_paths():
    script = ssvm_script("/mnt/SecStorage/a b", "10.0.0.5:/export/x", True, 10)
    assert "mp='/mnt/SecStorage/a b'" in script and "rm -f" in script and ".csdiag-probe-" in script


def test_nfs_mounts_of_the_export():
    from diagnostics.sources.mountprobe import nfs_mounts_of

    assert nfs_mounts_of("10.0.0.5:/export/secondary", MOUNTINFO) == [
        "/mnt/SecStorage/f2702c89-b250-31ef-8d57-b75482e224c2"
    ]
    assert nfs_mounts_of("10.0.0.6:/export/secondary", MOUNTINFO) == []


def test_every_state_rule_names_a_fact_and_a_declared_code() -> None:
    """storage_rules.toml is data: a rule with a misspelt fact or an undeclared code fails here, not in a run."""
    from checks import storage, storage_rules
    from diagnostics.model import Severity

    facts = storage_rules._state_facts({"is_mount": True})
    declared = {c.code for c in storage.CODES}
    for rule in storage_rules.STATE_RULES:
        assert rule["when"] in facts and isinstance(facts[rule["when"]], bool), rule
        assert rule["code"] in declared and rule["severity"] in Severity.__members__, rule
        rule["summary"].format(path="p", where="w", url="u", stuck="s", error="e")


def test_a_healthy_mount_fires_no_state_rule() -> None:
    from checks import storage_rules

    healthy = {"is_mount": True, "options": ["rw"], "write": {"ok": True}}
    facts = storage_rules._state_facts(healthy)
    assert not any(facts[r["when"]] for r in storage_rules.STATE_RULES)
