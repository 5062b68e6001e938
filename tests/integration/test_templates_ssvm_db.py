"""The templates and ssvm checks against a real MariaDB loaded with each scenario of issue 4."""

import json

import pytest

from tests.conftest import db_config, run_cli, write_config

pytestmark = pytest.mark.integration


def triage(site, tmp_path, env, only="templates,ssvm", extra_config=""):
    cfg = write_config(tmp_path / "c.toml", db_config(site.server, site.database, extra=extra_config))
    r = run_cli("triage", "--config", str(cfg), "--only", only, "--format", "json", env=env)
    assert r.returncode in (0, 1, 2, 3), r.stderr
    doc = json.loads(r.stdout)
    assert all(c["status"] == "completed" for c in doc["run"]["checks"]), doc["run"]["checks"]
    return r, doc["findings"]


def codes(findings):
    return sorted((f["code"], f["severity"], f["target"]) for f in findings)


def test_healthy_zone_has_no_findings(site, tmp_path, db_env):
    site.healthy_zone()
    r, findings = triage(site, tmp_path, db_env)
    assert findings == []
    assert r.returncode == 0


def test_stalled_and_stuck_downloads(site, tmp_path, db_env):
    ids = site.healthy_zone()
    store = ids["store"]
    t_slow = site.stalled(store, "ubuntu-24.04", pct=40, minutes_ago=180)
    t_warn = site.stalled(store, "rocky-9", pct=75, minutes_ago=20)
    site.stalled(store, "alma-9", pct=10, minutes_ago=0.1)
    t_stuck = site.stalled(store, "win-2022", pct=100, minutes_ago=90)
    _, findings = triage(site, tmp_path, db_env)
    assert codes(findings) == sorted(
        [
            ("TEMPLATE_DOWNLOAD_STALLED", "CRIT", f'template {t_slow} "ubuntu-24.04" @ store {store} "zone-ok-nfs"'),
            ("TEMPLATE_DOWNLOAD_STALLED", "WARN", f'template {t_warn} "rocky-9" @ store {store} "zone-ok-nfs"'),
            ("TEMPLATE_INSTALL_STUCK", "CRIT", f'template {t_stuck} "win-2022" @ store {store} "zone-ok-nfs"'),
        ]
    )
    slow = next(f for f in findings if "ubuntu" in f["target"])
    assert "stalled at 40 %" in slow["summary"] and "3.0 h" in slow["summary"]
    assert 'UI status: "40% Downloaded"' in slow["evidence"][0]["text"]
    assert slow["metrics"][0]["name"] == "since_update" and slow["metrics"][0]["crit"] == 60
    stuck = next(f for f in findings if f["code"] == "TEMPLATE_INSTALL_STUCK")
    assert 'UI status: "Installing Template"' in stuck["evidence"][0]["text"]


def test_thresholds_come_from_config(site, tmp_path, db_env):
    ids = site.healthy_zone()
    site.stalled(ids["store"], "slowpoke", pct=5, minutes_ago=20)
    _, findings = triage(
        site,
        tmp_path,
        db_env,
        extra_config="\n[thresholds.templates]\nstalled_warn_minutes = 5\nstalled_crit_minutes = 15\n",
    )
    assert [(f["code"], f["severity"]) for f in findings] == [("TEMPLATE_DOWNLOAD_STALLED", "CRIT")]


ERRORS = [
    ("Timeout waiting for response from storage host", "DOWNLOAD_TIMEOUT", "CRIT"),
    ("Storage agent or storage VM disconnected", "STORAGE_DISCONNECTED", "CRIT"),
    (
        'Failed post download script: checksum "{SHA-256}' + "a" * 64 + "\" didn't match the given value, "
        '"{SHA-256}' + "B" * 64 + '"',
        "CHECKSUM_MISMATCH",
        "CRIT",
    ),
    (" HTTP Server returned 404 (expected 200 OK) ", "DOWNLOAD_FAILED", "CRIT"),
    (
        "Failed post download script: The downloaded file is not a valid QCOW2. Image header magic mismatch",
        "INVALID_TEMPLATE_FORMAT",
        "CRIT",
    ),
    ("Unable to download due to No space left on device", "STORAGE_FULL", "CRIT"),
    ("Failed to install: java.io.IOException: Read-only file system", "STORAGE_READ_ONLY", "CRIT"),
    ("Stream closed", "DOWNLOAD_FAILED", "CRIT"),
    ("Download canceled", "DOWNLOAD_FAILED", "WARN"),
    (" ", "UNCLASSIFIED", "CRIT"),
]


def test_error_rows_are_classified(site, tmp_path, db_env):
    ids = site.healthy_zone()
    expected = {}
    for n, (text, kind, sev) in enumerate(ERRORS):
        t = site.template(f"broken-{n}")
        state = "ABANDONED" if n == 1 else "DOWNLOAD_ERROR"
        site.ref(
            t,
            ids["store"],
            download_state=state,
            state="Allocated",
            pct=0,
            size=0,
            physical_size=0,
            error_str=text,
            minutes_ago=30,
        )
        expected[f'template {t} "broken-{n}" @ store {ids["store"]} "zone-ok-nfs"'] = (kind, sev)
    _, findings = triage(site, tmp_path, db_env)
    got = {f["target"]: f for f in findings}
    assert set(got) == set(expected)
    for target, (kind, sev) in expected.items():
        f = got[target]
        assert f["code"] == "TEMPLATE_DOWNLOAD_ERROR" and f["severity"] == sev, f
        if kind == "UNCLASSIFIED":
            assert f["details"] == "error_str is empty."
        else:
            assert f"Classified as {kind}" in f["details"], f
        assert f["remediation"]
    checksum = next(f for f in findings if "Classified as CHECKSUM_MISMATCH" in f["details"])
    assert "expected digest is upper-case" in checksum["summary"]
    assert "HTTP 404" in next(f for f in findings if "broken-3" in f["target"])["summary"]


def test_size_zero_and_invalid_checksums(site, tmp_path, db_env):
    ids = site.healthy_zone()
    t0 = site.template("size-zero")
    site.ref(t0, ids["store"], size=0, physical_size=0)
    bad = {
        "upper": "{SHA-256}" + "AB" * 32,
        "unknown-alg": "{SHA256}" + "ab" * 32,
        "short": "{SHA-1}" + "ab" * 10,
        "bare-sha256": "ab" * 32,
        "not-hex": "{MD5}" + "zz" * 16,
    }
    good = {"md5-bare": "0123456789abcdef" * 2, "sha512": "{SHA-512}" + "0f" * 64}
    tids = {}
    for name, checksum in {**bad, **good}.items():
        tids[name] = site.template(name, checksum=checksum)
        site.ref(tids[name], ids["store"])
    _, findings = triage(site, tmp_path, db_env)
    assert codes(findings) == sorted(
        [("TEMPLATE_SIZE_ZERO", "CRIT", f'template {t0} "size-zero" @ store {ids["store"]} "zone-ok-nfs"')]
        + [("TEMPLATE_CHECKSUM_INVALID", "WARN", f'template {tids[n]} "{n}"') for n in bad]
    )
    by = {f["target"]: f["summary"] for f in findings}
    assert "upper-case hex" in by[f'template {tids["upper"]} "upper"']
    assert "looks like SHA-256" in by[f'template {tids["bare-sha256"]} "bare-sha256"']


def test_template_sync_incomplete_on_a_new_store(site, tmp_path, db_env):
    ids = site.healthy_zone()
    z = ids["zone"]
    new_store = site.store(z, "zone-ok-nfs2", url="nfs://10.0.0.6/export/sec2")
    site.store(z, "zone-ok-ro", url="nfs://10.0.0.7/export/ro", readonly=1)  # read-only stores take no new copies
    z2 = site.zone("zone-b")
    s2 = site.store(z2, "zone-b-nfs", url="nfs://10.0.1.5/export/secondary")
    site.cluster(z2, "XenServer")  # a XenServer-only zone: no KVM template belongs there
    site.ssvm(z2, "s-9-VM")
    cross = site.template("cross-zone-iso", cross_zones=1)
    site.ref(cross, ids["store"])
    private = site.template("private-one", public=0, cross_zones=1)
    site.ref(private, ids["store"])
    _, findings = triage(site, tmp_path, db_env)
    builtin = {t: site.value("SELECT name FROM vm_template WHERE id = %s", t) for t in site.builtin_ids("KVM")}
    xen = {t: site.value("SELECT name FROM vm_template WHERE id = %s", t) for t in site.builtin_ids("XenServer")}
    expected = [
        ("TEMPLATE_SYNC_INCOMPLETE", "WARN", f'template {t} "{n}" @ store {new_store} "zone-ok-nfs2"')
        for t, n in [*builtin.items(), (ids["template"], "zone-ok-debian"), (cross, "cross-zone-iso")]
    ] + [("TEMPLATE_SYNC_INCOMPLETE", "WARN", f'template {t} "{n}" @ store {s2} "zone-b-nfs"') for t, n in xen.items()]
    assert codes(findings) == sorted(expected)


def test_ssvm_states(site, tmp_path, db_env):
    z_alert = site.zone("zone-alert")
    site.store(z_alert, "a-nfs")
    site.ssvm(z_alert, "s-1-VM", agent_status="Alert")
    z_none = site.zone("zone-empty")
    z_stopped = site.zone("zone-stopped")
    site.ssvm(z_stopped, "s-2-VM", vm_state="Stopped", agent_status="Disconnected")
    z_stale = site.zone("zone-stale")  # connected 400 s ago: last_ping is the connect time, not a heartbeat
    site.ssvm(z_stale, "s-3-VM", ping_age_s=400)
    z_noagent = site.zone("zone-noagent")
    site.ssvm(z_noagent, "s-4-VM", agent_status=None)
    site.zone("zone-disabled", enabled=False)
    site.zone("zone-edge", type="Edge")
    site.setting("ping.interval", "60", "60")
    site.setting("ping.timeout", None, "2.5")
    _, findings = triage(site, tmp_path, db_env, only="ssvm")
    assert codes(findings) == sorted(
        [
            ("SSVM_AGENT_NOT_UP", "CRIT", f'ssvm s-1-VM (zone {z_alert} "zone-alert")'),
            ("SSVM_MISSING", "CRIT", f'zone {z_none} "zone-empty"'),
            ("SSVM_NOT_RUNNING", "CRIT", f'ssvm s-2-VM (zone {z_stopped} "zone-stopped")'),
            ("SSVM_AGENT_NOT_UP", "CRIT", f'ssvm s-4-VM (zone {z_noagent} "zone-noagent")'),
        ]
    )
    alert = next(f for f in findings if "s-1-VM" in f["target"])
    assert "Alert" in alert["summary"] and "8250" in alert["details"]
    assert "Control 169.254.3.4" in alert["evidence"][0]["text"]
    assert "ssh -p 3922 root@169.254.3.4" in alert["remediation"]


@pytest.mark.parametrize("schema", ["4.17", "4.18", "4.20", "4.22"])
def test_schema_versions(site, tmp_path, db_env, schema):
    """Columns come and go between versions: the checks read what is there."""
    if schema == "4.17":
        site.sql("ALTER TABLE data_center DROP COLUMN type")
        site.sql("ALTER TABLE nics DROP COLUMN mtu")
        site.sql("ALTER TABLE vm_template DROP COLUMN user_data_id")
    if schema in ("4.20", "4.22"):
        site.sql("ALTER TABLE vm_template ADD COLUMN arch VARCHAR(16) DEFAULT 'x86_64'")
    if schema == "4.22":
        site.sql(
            "ALTER TABLE vm_template ADD COLUMN for_cks TINYINT(1) NOT NULL DEFAULT 0, "
            "ADD COLUMN extension_id BIGINT UNSIGNED"
        )
        site.sql("ALTER TABLE configuration MODIFY scope BIGINT")
    ids = site.healthy_zone()
    site.stalled(ids["store"], "stalled", pct=40, minutes_ago=180)
    site.zone("no-ssvm")
    site.setting("secondary.storage.capacity.threshold", None, "0.90")
    _, findings = triage(site, tmp_path, db_env, only="templates,ssvm,platform")
    assert sorted(f["code"] for f in findings) == sorted(
        ["TEMPLATE_DOWNLOAD_STALLED", "SSVM_MISSING", "CLOUDSTACK_VERSION", "CLOUDSTACK_SETTINGS"]
    )


def test_not_cloudstack_database(mariadb, tmp_path, db_env):
    mariadb.execute("CREATE DATABASE IF NOT EXISTS wordpress")
    mariadb.execute("CREATE TABLE IF NOT EXISTS wp_posts (id INT)", database="wordpress")
    cfg = write_config(tmp_path / "c.toml", db_config(mariadb, "wordpress"))
    r = run_cli("triage", "--config", str(cfg), "--only", "templates,ssvm,platform", "--format", "json", env=db_env)
    findings = json.loads(r.stdout)["findings"]
    assert sorted((f["check"], f["code"]) for f in findings) == [
        ("platform", "DB_SCHEMA_MISMATCH"),
        ("ssvm", "DB_SCHEMA_MISMATCH"),
        ("templates", "DB_SCHEMA_MISMATCH"),
    ]
    tmpl = next(f for f in findings if f["check"] == "templates")
    assert "template_store_ref" in tmpl["summary"] and "vm_template" in tmpl["summary"]
    assert r.returncode == 3


def test_missing_column_is_named(site, tmp_path, db_env):
    site.sql("ALTER TABLE template_store_ref DROP COLUMN download_state")
    _, findings = triage(site, tmp_path, db_env, only="templates")
    [f] = findings
    assert f["code"] == "DB_SCHEMA_MISMATCH" and "template_store_ref.download_state" in f["summary"]


def test_nulls_and_absurd_values(site, tmp_path, db_env):
    ids = site.healthy_zone()
    store = ids["store"]
    t = site.template("absurd")
    site.ref(
        t,
        store,
        download_state="DOWNLOAD_IN_PROGRESS",
        state="Creating",
        pct=250,
        size=None,
        physical_size=None,
        error_str=None,
        minutes_ago=-600,
    )  # last_updated 10 h in the future
    t2 = site.template("all-null")
    site.ref(
        t2,
        None,
        download_state="DOWNLOAD_ERROR",
        state="Failed",
        pct=None,
        size=None,
        physical_size=None,
        error_str=None,
        minutes_ago=None,
    )
    site.sql("ALTER TABLE template_store_ref MODIFY size BIGINT")  # signed, to hold a negative size
    t3 = site.template("negative")
    site.ref(t3, store, size=-5)
    _, findings = triage(site, tmp_path, db_env, only="templates")
    assert codes(findings) == sorted(
        [
            ("TEMPLATE_ROW_INCONSISTENT", "UNKNOWN", f'template {t} "absurd" @ store {store} "zone-ok-nfs"'),
            ("TEMPLATE_DOWNLOAD_ERROR", "CRIT", f'template {t2} "all-null" @ no store (direct download)'),
            ("TEMPLATE_ROW_INCONSISTENT", "UNKNOWN", f'template {t3} "negative" @ store {store} "zone-ok-nfs"'),
            ("TEMPLATE_SIZE_ZERO", "CRIT", f'template {t3} "negative" @ store {store} "zone-ok-nfs"'),
        ]
    )
    absurd = next(f for f in findings if "absurd" in f["target"])
    assert "download_pct 250" in absurd["summary"] and "in the future" in absurd["summary"]


def test_triage_ranks_across_checks(site, tmp_path, db_env):
    ids = site.healthy_zone()
    site.stalled(ids["store"], "stalled", pct=40, minutes_ago=20)
    site.zone("no-ssvm")
    cfg = write_config(tmp_path / "c.toml", db_config(site.server, site.database))
    r = run_cli("triage", "--config", str(cfg), "--only", "templates,ssvm,platform", env=db_env)
    assert r.returncode == 2, r.stderr
    out = r.stdout
    assert out.index("SSVM_MISSING") < out.index("TEMPLATE_DOWNLOAD_STALLED")
    assert "CRITICAL — 1 critical, 1 warning" in out


def test_silent_database_gives_unknown_within_connect_timeout(tmp_path, db_env, mariadb):
    """A server that accepts TCP but never greets: UNKNOWN after connect_timeout_s, not a hang."""
    import socket
    import time

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        cfg = write_config(
            tmp_path / "c.toml",
            db_config(mariadb, "cloud", port=port).replace("connect_timeout_s = 3", "connect_timeout_s = 1"),
        )
        t0 = time.monotonic()
        r = run_cli("triage", "--config", str(cfg), "--only", "templates,ssvm", "--format", "json", env=db_env)
        elapsed = time.monotonic() - t0
    findings = json.loads(r.stdout)["findings"]
    assert sorted((f["check"], f["code"]) for f in findings) == [
        ("ssvm", "DB_UNREACHABLE"),
        ("templates", "DB_UNREACHABLE"),
    ]
    assert "timed out" in findings[0]["summary"] or "no answer" in findings[0]["summary"]
    assert elapsed < 6, elapsed


def test_bundle_replays_templates_and_ssvm(site, tmp_path, db_env):
    ids = site.healthy_zone()
    site.stalled(ids["store"], "stalled", pct=40, minutes_ago=180)
    site.zone("no-ssvm")
    _, live = triage(site, tmp_path, db_env)
    cfg = tmp_path / "c.toml"
    r = run_cli(
        "collect", "--config", str(cfg), "--only", "templates,ssvm", "--output", str(tmp_path / "b.tgz"), env=db_env
    )
    assert r.returncode == 0, r.stderr
    r = run_cli("triage", "--bundle", str(tmp_path / "b.tgz"), "--format", "json", cwd=tmp_path)

    # The live run and the collect are two runs seconds apart: ages in metrics may move by a rounding step.
    def same(findings):
        return [(f["check"], f["code"], f["severity"], f["target"], f["summary"]) for f in findings]

    assert same(json.loads(r.stdout)["findings"]) == same(live)


def test_ssvm_mtu_settings_against_the_required_size(site, tmp_path, db_env):
    """The mtu check's database cross-check; `local = false` so nothing is probed (the seeded stores'
    addresses are made up)."""
    z = site.zone("jumbo")
    site.store(z, "jumbo-nfs", url="nfs://10.0.0.5/export/secondary")
    site.ssvm(z, "s-3-VM", ips={"Storage": "10.9.0.3", "Management": "10.1.0.3"})
    site.sql("UPDATE nics SET mtu = 1500 WHERE ip4_address = '10.9.0.3'")
    site.setting("secstorage.vm.mtu.size", None, "1500")
    _, findings = triage(site, tmp_path, db_env, only="mtu", extra_config="\n[mtu]\nlocal = false\nrequired = 9000\n")
    assert sorted((f["code"], f["target"]) for f in findings) == [
        ("MTU_NOT_TESTED", "mtu"),
        ("SSVM_MTU_MISMATCH", "s-3-VM Storage NIC 10.9.0.3"),
        ("SSVM_MTU_MISMATCH", "secstorage.vm.mtu.size"),
    ]
