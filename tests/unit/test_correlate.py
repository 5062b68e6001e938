"""Correlation rules (diagnostics/incidents.toml), one by one, on findings shaped as the checks write them."""

import pytest

from diagnostics.correlate import correlate, rules, subjects
from diagnostics.model import Finding, Severity
from diagnostics.registry import Registry

CRIT, WARN = Severity.CRIT, Severity.WARN


def f(check, code, target, severity=CRIT, **subj):
    return Finding(check=check, code=code, severity=severity, target=target, summary=f"{code} {target}", subjects=subj)


def by_rule(findings):
    return {i.rule: i for i in correlate(findings)}


def test_every_rule_names_codes_that_exist():
    known = {f"{c.name}:{code.code}" for c in Registry.from_entry_points() for code in c.codes}
    for rule in rules():
        unknown = (rule.cause | rule.effects) - known
        assert not unknown, f"rule {rule.id}: {sorted(unknown)}"
        assert rule.join, rule.id


def test_subjects_read_off_the_targets_the_checks_write():
    assert subjects(f("templates", "TEMPLATE_DOWNLOAD_STALLED", 'template 12 "deb" @ store 3 "nfs-1"')) == {
        "template": "12",
        "store": "3",
        "store_name": 'store 3 "nfs-1"',
    }
    assert subjects(f("ssvm", "SSVM_AGENT_NOT_UP", 'ssvm s-12-VM (zone 2 "west")')) == {"ssvm": "s-12-VM", "zone": "2"}
    assert subjects(f("mtu", "MTU_BLACKHOLE", "this host → 10.0.0.5")) == {"server": "10.0.0.5"}
    assert subjects(f("reach", "TEMPLATE_URL_HTTP_ERROR", "10.1.1.1 → http://repo/x.qcow2")) == {
        "url": "http://repo/x.qcow2"
    }
    assert subjects(f("logs", "DOWNLOAD_TIMEOUT", "template 999", zone="4"))["zone"] == "4"  # own subjects win


def test_ssvm_agent_down_explains_stalled_templates_and_their_log_lines():
    cause = f("ssvm", "SSVM_AGENT_NOT_UP", 'ssvm s-12-VM (zone 2 "west")')
    stalled = f("templates", "TEMPLATE_DOWNLOAD_STALLED", 'template 9 "rocky" @ store 3 "w"', zone="2")
    log = f("logs", "DOWNLOAD_TIMEOUT", 'template 9 "rocky"')  # joins through the template row
    other_zone = f("templates", "TEMPLATE_DOWNLOAD_STALLED", 'template 8 "x" @ store 1 "e"', zone="1")
    unrelated_log = f("logs", "DOWNLOAD_TIMEOUT", "template 555")
    [incident] = correlate([stalled, log, other_zone, unrelated_log, cause])
    assert incident.rule == "ssvm-agent-down"
    assert incident.cause == cause.key  # the root cause first
    assert set(incident.members) == {stalled.key, log.key}
    assert "s-12-VM" in incident.summary


def test_ssvm_missing():
    cause = f("ssvm", "SSVM_MISSING", 'zone 3 "lab"')
    log = f("logs", "NO_SSVM", "management server x", zone="3")
    assert by_rule([cause, log])["ssvm-missing"].members == (log.key,)


@pytest.mark.parametrize(
    ("rule", "cause_code"),
    [
        ("store-read-only", "NFS_READ_ONLY"),
        ("store-root-squash", "NFS_ROOT_SQUASH"),
        ("store-full", "NFS_ABOVE_THRESHOLD"),
        ("store-not-mounted", "NFS_NOT_MOUNTED_ON_SSVM"),
    ],
)
def test_store_rules_explain_the_templates_of_that_store(rule, cause_code):
    cause = f("storage", cause_code, 'store 1 "nfs-1" from 10.0.0.9', store="1", store_name='store 1 "nfs-1"')
    size0 = f("templates", "TEMPLATE_SIZE_ZERO", 'template 6 "fedora" @ store 1 "nfs-1"')
    stalled = f("templates", "TEMPLATE_DOWNLOAD_STALLED", 'template 7 "deb" @ store 1 "nfs-1"')
    elsewhere = f("templates", "TEMPLATE_SIZE_ZERO", 'template 6 "fedora" @ store 2 "nfs-2"')
    incidents = by_rule([cause, size0, stalled, elsewhere])
    # the same template on another store is another problem; size 0 is no sign of a missing mount
    expected = {stalled.key} if rule == "store-not-mounted" else {size0.key, stalled.key}
    assert set(incidents[rule].members) == expected
    assert 'store 1 "nfs-1"' in incidents[rule].summary


def test_read_only_store_with_a_size_zero_template():
    """The issue's example: a size-0 template + NFS_READ_ONLY on its store → root cause "read-only store"."""
    ro = f("storage", "NFS_READ_ONLY", 'store 1 "nfs-1" from 10.0.0.9', store="1", store_name='store 1 "nfs-1"')
    size0 = f("templates", "TEMPLATE_SIZE_ZERO", 'template 6 "fedora" @ store 1 "nfs-1"')
    [incident] = correlate([size0, ro])
    assert (incident.rule, incident.title, incident.cause) == ("store-read-only", "Read-only image store", ro.key)


def test_jumbo_path_broken_explains_storage_trouble_on_that_server():
    cause = f("mtu", "MTU_BLACKHOLE", "this host → 10.0.0.5")
    hung = f("storage", "NFS_MOUNT_HUNG", "nfs://10.0.0.5/export from this host", server="10.0.0.5")
    other = f("storage", "NFS_MOUNT_HUNG", "nfs://10.0.0.6/export from this host", server="10.0.0.6")
    assert by_rule([cause, hung, other])["jumbo-path-broken"].members == (hung.key,)


def test_template_source_broken_by_url():
    cause = f("reach", "TEMPLATE_URL_HTTP_ERROR", "10.1.1.1 → http://repo/alma.img")
    err = f("templates", "TEMPLATE_DOWNLOAD_ERROR", 'template 5 "alma" @ store 1 "e"', url="http://repo/alma.img")
    other = f("templates", "TEMPLATE_DOWNLOAD_ERROR", 'template 4 "x" @ store 1 "e"', url="http://repo/x.img")
    assert by_rule([cause, err, other])["template-source-broken"].members == (err.key,)


def test_a_cause_alone_is_no_incident_and_a_finding_joins_one_incident_only():
    ro = f("storage", "NFS_READ_ONLY", 'store 1 "a" from h', store="1")
    assert correlate([ro]) == ()
    full = f("storage", "NFS_ABOVE_THRESHOLD", 'store 1 "a" from h', store="1")
    size0 = f("templates", "TEMPLATE_SIZE_ZERO", 'template 6 "f" @ store 1 "a"')
    incidents = correlate([ro, full, size0])
    assert [i.rule for i in incidents] == ["store-read-only"]  # the first rule claims the template row
    ok = f("storage", "NFS_READ_ONLY", 'store 1 "a" from h', severity=Severity.INFO, store="1")
    assert correlate([ok, size0]) == ()  # passing findings are no cause


def test_dirty_connector_low_rx_and_rising_errors_on_one_port():
    low = f("optics", "OPTICS_RX_LOW", "leaf1:Ethernet49", port="leaf1:Ethernet49", switch="leaf1")
    errors = f("optics", "IF_ERRORS_RISING", "leaf1:Ethernet49", port="leaf1:Ethernet49", switch="leaf1")
    other = f("optics", "IF_ERRORS_RISING", "leaf2:Ethernet49", port="leaf2:Ethernet49", switch="leaf2")
    [incident] = correlate([low, errors, other])
    assert (incident.rule, incident.members) == ("dirty-connector", (errors.key,))
