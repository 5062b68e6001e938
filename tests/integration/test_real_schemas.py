"""platform, templates and ssvm on CloudStack's real schema of every supported version
(tests/services/cloudstack_schema/*.sql, built from CloudStack's own scripts), seeded as CloudStack writes rows:
a healthy install gives nothing above INFO; each fault gives exactly its finding."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import db_config, run_cli, write_config
from tests.services.cloudstack_site import Site
from tests.services.mariadb import VERSIONS

pytestmark = pytest.mark.integration

# What the version table of each recorded schema ends with (its management server's version).
CURRENT = {"4.18": "4.18.1.0", "4.19": "4.19.0.0", "4.20": "4.20.0.0", "4.22": "4.22.0.0", "main": "4.23.0.0"}
SYSVM = {"4.18": "4.18.1", "4.19": "4.19.0", "4.20": "4.20.0", "4.22": "4.22.0", "main": "4.23.0"}
# A real CloudStack checksum failure, as the SSVM reports it (DownloadManagerImpl.postLocalDownload).
CHECKSUM_ERROR = (
    'Failed post download script: checksum "{SHA-256}'
    + "5e" * 32
    + '" didn\'t match the given value, "{SHA-256}'
    + "c4" * 32
    + '"'
)
ABOVE_INFO = {"WARN", "UNKNOWN", "CRIT"}


def _site(mariadb, version: str) -> Site:
    site = Site(mariadb, mariadb.create_cloud_db(version=version))
    site.label = version  # type: ignore[attr-defined]
    return site


@pytest.fixture(params=VERSIONS)
def vsite(request, mariadb) -> Site:
    """Every recorded schema: for the healthy install, the classic faults and the read-only proofs."""
    return _site(mariadb, request.param)


@pytest.fixture(params=("4.18", "main"))
def esite(request, mariadb) -> Site:
    """The oldest and the newest schema (the suite stays fast): for the new codes' finer cases."""
    return _site(mariadb, request.param)


def healthy(site: Site) -> dict[str, int]:
    """A fresh install a few days on: a KVM-only zone (one KVM cluster and host, the SystemVM template of the
    release registered and on the store with the default KVM system/builtin templates), a private template,
    a direct-download template, an SSVM connected for three days."""
    label = site.label  # type: ignore[attr-defined]
    site.mshost(version=CURRENT[label])
    z = site.zone("kvm-zone")
    cluster = site.cluster(z, "KVM")
    site.kvm_host(z, "kvm-1", cluster_id=cluster)
    store = site.store(z, "kvm-zone-nfs", age_days=5)
    sysvm = site.system_template(SYSVM[label])
    for tid in [*site.builtin_ids("KVM")]:
        site.ref(tid, store, minutes_ago=4 * 1440)
    assert sysvm in site.builtin_ids("KVM")
    private = site.template("team-private", public=0, checksum="{SHA-512}" + "1f" * 64)
    site.ref(private, store, minutes_ago=600)
    public = site.template("debian-12", checksum="0123456789abcdef" * 2)  # no prefix: MD5
    site.ref(public, store, minutes_ago=900)
    direct = site.direct_download()
    site.ssvm(z, "s-1-VM", template_id=sysvm, connected_days=3, agent_version=CURRENT[label])
    site.setting("ping.interval", None, "60")
    site.setting("ping.timeout", None, "2.5")
    # configuration.scope: the ConfigKey.Scope name up to 4.20, a bitmask from 4.21 (Zone = 1 << 1)
    zone_scope: str | int = 2 if label in ("4.22", "main") else "Zone"
    site.setting("secondary.storage.capacity.threshold", None, "0.90", scope=zone_scope)
    site.setting("zone.secstorage.capacity.notificationthreshold", None, "0.75", scope=zone_scope)
    site.setting("secstorage.vm.mtu.size", None, "1500")
    site.setting("max.template.iso.size", None, "50")
    return {"zone": z, "store": store, "sysvm": sysvm, "private": private, "public": public, "direct": direct}


def triage(site: Site, tmp_path, env, only="platform,templates,ssvm", extra=""):
    cfg = write_config(tmp_path / "c.toml", db_config(site.server, site.database, extra=extra))
    r = run_cli("triage", "--config", str(cfg), "--only", only, "--format", "json", env=env)
    assert r.returncode in (0, 1, 2, 3), r.stderr
    doc = json.loads(r.stdout)
    assert all(c["status"] == "completed" for c in doc["run"]["checks"]), doc["run"]["checks"]
    return r, doc["findings"]


def loud(findings):
    return sorted((f["check"], f["code"], f["severity"], f["target"]) for f in findings if f["severity"] in ABOVE_INFO)


def test_healthy_install_is_quiet(vsite, tmp_path, db_env):
    healthy(vsite)
    r, findings = triage(vsite, tmp_path, db_env)
    assert loud(findings) == []
    assert r.returncode == 0
    version = next(f for f in findings if f["code"] == "CLOUDSTACK_VERSION")
    assert CURRENT[vsite.label] in version["summary"]  # type: ignore[attr-defined]
    settings = next(f for f in findings if f["code"] == "CLOUDSTACK_SETTINGS")
    assert "secondary.storage.capacity.threshold=0.90" in settings["summary"]


def test_each_fault_gives_its_finding(vsite, tmp_path, db_env):
    ids = healthy(vsite)
    store = ids["store"]
    stalled = vsite.stalled(store, "ubuntu-24.04", pct=40, minutes_ago=180)
    failed = vsite.template("rocky-9")
    vsite.ref(
        failed,
        store,
        download_state="DOWNLOAD_ERROR",
        state="Allocated",
        pct=100,
        size=0,
        physical_size=0,
        error_str=CHECKSUM_ERROR,
        minutes_ago=30,
    )
    zero = vsite.template("size-zero")
    vsite.ref(zero, store, size=0, physical_size=0)
    empty = vsite.zone("no-ssvm-zone")
    alert = vsite.zone("alert-zone")
    vsite.store(alert, "alert-nfs")
    vsite.ssvm(alert, "s-2-VM", agent_status="Alert", template_id=ids["sysvm"], agent_version=CURRENT[vsite.label])  # type: ignore[attr-defined]
    _, findings = triage(vsite, tmp_path, db_env)
    got = loud(findings)
    t = 'template {} "{}" @ store {} "kvm-zone-nfs"'
    expected = [
        ("ssvm", "SSVM_AGENT_NOT_UP", "CRIT", f'ssvm s-2-VM (zone {alert} "alert-zone")'),
        ("ssvm", "SSVM_MISSING", "CRIT", f'zone {empty} "no-ssvm-zone"'),
        ("templates", "TEMPLATE_DOWNLOAD_ERROR", "CRIT", t.format(failed, "rocky-9", store)),
        ("templates", "TEMPLATE_DOWNLOAD_STALLED", "CRIT", t.format(stalled, "ubuntu-24.04", store)),
        ("templates", "TEMPLATE_SIZE_ZERO", "CRIT", t.format(zero, "size-zero", store)),
    ]
    # The alert zone's new store lacks what template sync copies there: system/builtin KVM templates
    # (the zone has no cluster yet: CloudStack assumes KVM) — and nothing else.
    sync = [g for g in got if g[1] == "TEMPLATE_SYNC_INCOMPLETE"]
    assert {g[3].split(" @ ")[1] for g in sync} <= {f'store {store + 1} "alert-nfs"'}
    assert [g for g in got if g[1] != "TEMPLATE_SYNC_INCOMPLETE"] == sorted(expected)
    error = next(f for f in findings if f["code"] == "TEMPLATE_DOWNLOAD_ERROR")
    assert "Classified as CHECKSUM_MISMATCH" in error["details"]
    slow = next(f for f in findings if f["code"] == "TEMPLATE_DOWNLOAD_STALLED")
    assert "stalled at 40 %" in slow["summary"] and "3.0 h" in slow["summary"]
    assert 'UI status: "40% Downloaded"' in slow["evidence"][0]["text"]


def test_ssvm_on_an_old_systemvm_template(esite, tmp_path, db_env):
    ids = healthy(esite)
    old = esite.system_template("4.17.0")
    esite.setting("router.template.kvm", esite.value("SELECT name FROM vm_template WHERE id = %s", ids["sysvm"]), "")
    esite.setting("minreq.sysvmtemplate.version", SYSVM[esite.label], "4.10.0")  # type: ignore[attr-defined]
    esite.sql("UPDATE vm_instance SET vm_template_id = %s WHERE instance_name = 's-1-VM'", old)
    esite.sql("UPDATE host SET version = '4.17.2.0' WHERE name = 's-1-VM'")
    for tid in (old,):
        esite.ref(tid, ids["store"], minutes_ago=3000)
    _, findings = triage(esite, tmp_path, db_env, only="ssvm")
    [f] = [f for f in findings if f["severity"] in ABOVE_INFO]
    assert (f["code"], f["severity"]) == ("SYSTEMVM_TEMPLATE_MISMATCH", "CRIT")
    assert "4.17.0" in f["summary"] and "4.17.2.0" in f["summary"]


def test_upgrade_that_could_not_register_the_systemvm_template(esite, tmp_path, db_env):
    ids = healthy(esite)
    newer = SYSVM[esite.label].split(".")  # type: ignore[attr-defined]
    need = f"{newer[0]}.{int(newer[1]) + 1}.0"
    esite.setting("minreq.sysvmtemplate.version", need, "4.10.0")
    _, findings = triage(esite, tmp_path, db_env, only="ssvm")
    got = sorted((f["code"], f["target"]) for f in findings if f["severity"] in ABOVE_INFO)
    assert got == [
        ("SYSTEMVM_TEMPLATE_MISMATCH", "setting router.template.kvm"),
        ("SYSTEMVM_TEMPLATE_MISMATCH", f'ssvm s-1-VM (zone {ids["zone"]} "kvm-zone")'),
    ]


def test_agent_states(esite, tmp_path, db_env):
    healthy(esite)
    label = esite.label  # type: ignore[attr-defined]
    zones = {}
    for status in ("Connecting", "Disconnected", "Down"):
        z = esite.zone(f"z-{status}")
        esite.store(z, f"nfs-{status}")
        esite.ssvm(z, f"s-{status}-VM", agent_status=status, agent_version=CURRENT[label])
        zones[status] = z
    z = esite.zone("z-orphan")
    esite.ssvm(z, "s-orphan-VM", mgmt_server=False, agent_version=CURRENT[label])
    zones["orphan"] = z
    z = esite.zone("z-maint")
    esite.ssvm(z, "s-maint-VM", resource_state="Maintenance", agent_version=CURRENT[label])
    zones["maint"] = z
    _, findings = triage(esite, tmp_path, db_env, only="ssvm")
    got = {f["target"]: f["severity"] for f in findings if f["code"] == "SSVM_AGENT_NOT_UP"}
    assert got == {
        f'ssvm s-Connecting-VM (zone {zones["Connecting"]} "z-Connecting")': "WARN",
        f'ssvm s-Disconnected-VM (zone {zones["Disconnected"]} "z-Disconnected")': "CRIT",
        f'ssvm s-Down-VM (zone {zones["Down"]} "z-Down")': "CRIT",
        f'ssvm s-orphan-VM (zone {zones["orphan"]} "z-orphan")': "CRIT",
        f'ssvm s-maint-VM (zone {zones["maint"]} "z-maint")': "WARN",
    }


def _pem(days: float) -> str:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "templates.example.org")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_direct_download_certificates(esite, tmp_path, db_env):
    ids = healthy(esite)
    z = ids["zone"]
    host = esite.value("SELECT id FROM host WHERE name = 'kvm-1'")
    esite.certificate(z, "ok", _pem(300), [host])
    soon = esite.certificate(z, "soon", _pem(10), [host])
    gone = esite.certificate(z, "gone", _pem(-3), [host])
    esite.kvm_host(z, "kvm-2")
    _, findings = triage(esite, tmp_path, db_env, only="templates")
    got = sorted((f["code"], f["severity"], f["target"]) for f in findings if f["severity"] in ABOVE_INFO)
    missing = [g for g in got if g[0] == "DIRECT_DOWNLOAD_CERT_MISSING"]
    assert [g for g in got if g[0] == "DIRECT_DOWNLOAD_CERT_EXPIRING"] == [
        ("DIRECT_DOWNLOAD_CERT_EXPIRING", "CRIT", f'direct-download certificate {gone} "gone" (zone {z})'),
        ("DIRECT_DOWNLOAD_CERT_EXPIRING", "WARN", f'direct-download certificate {soon} "soon" (zone {z})'),
    ]
    assert len(missing) == 3 and all(g[2].endswith('"kvm-2"') for g in missing)
    assert "BEGIN CERTIFICATE" not in json.dumps(findings)


def test_read_only_store_and_selectors(esite, tmp_path, db_env):
    ids = healthy(esite)
    z = ids["zone"]
    ro = esite.store(z, "kvm-zone-ro", readonly=1)
    for tid in esite.builtin_ids("KVM"):
        esite.ref(tid, ro, minutes_ago=3000)
    t = esite.template("still-downloading")
    esite.ref(t, ids["store"], minutes_ago=2000)
    esite.ref(
        t,
        ro,
        download_state="DOWNLOAD_IN_PROGRESS",
        state="Creating",
        pct=70,
        size=0,
        physical_size=0,
        error_str="70% Downloaded",
        minutes_ago=1,
    )
    if "heuristics" in _tables(esite):
        ro_uuid = esite.value("SELECT uuid FROM image_store WHERE id = %s", ro)
        esite.heuristic(z, f"secondaryStorages.filter(s => s.id == '{ro_uuid}')[0].id")
    _, findings = triage(esite, tmp_path, db_env, only="templates")
    got = sorted(f["target"] for f in findings if f["code"] == "IMAGE_STORE_READ_ONLY_TARGET")
    expected = [f'store {ro} "kvm-zone-ro"']
    if "heuristics" in _tables(esite):
        expected.append(f'storage selector 1 "templates-rule" (zone {z}, TEMPLATE)')
    assert got == sorted(expected)
    assert loud([f for f in findings if f["code"] != "IMAGE_STORE_READ_ONLY_TARGET"]) == []


def _tables(site: Site) -> set[str]:
    return {t for t in ("heuristics", "direct_download_certificate") if site.columns(t)}


def test_new_store_without_public_templates(esite, tmp_path, db_env):
    ids = healthy(esite)
    new = esite.store(ids["zone"], "kvm-zone-nfs2", age_days=2)
    _, findings = triage(esite, tmp_path, db_env, only="templates")
    got = sorted((f["target"], f["severity"]) for f in findings if f["code"] == "TEMPLATE_SYNC_INCOMPLETE")
    names = {tid: esite.value("SELECT name FROM vm_template WHERE id = %s", tid) for tid in esite.builtin_ids("KVM")}
    names[ids["public"]] = "debian-12"
    assert got == sorted((f'template {t} "{n}" @ store {new} "kvm-zone-nfs2"', "WARN") for t, n in names.items())
    sample = next(f for f in findings if f["code"] == "TEMPLATE_SYNC_INCOMPLETE")
    assert "store added 2.0 days ago" in sample["summary"]
    # The private template (one store per zone by design) and the direct-download one are not expected there.
    assert not any(f"template {ids['private']} " in f["target"] for f in findings)
    assert not any(f"template {ids['direct']} " in f["target"] for f in findings)


def _checksums(site: Site) -> dict[str, int]:
    with site.server.connect(site.database) as conn, conn.cursor() as cur:
        cur.execute("SHOW TABLES")
        tables = [r[0] for r in cur.fetchall()]
        cur.execute("CHECKSUM TABLE " + ", ".join(f"`{t}`" for t in tables) + " EXTENDED")
        return {r[0]: r[1] for r in cur.fetchall()}


# pymysql always sends SET NAMES <charset> after the handshake (connections.py: "Send SET NAMES query on
# init"); it sets session variables only, like SET SESSION.
ALLOWED = ("SELECT", "SHOW", "SET SESSION", "SET NAMES", "START TRANSACTION READ ONLY", "ROLLBACK")


def test_a_run_only_reads(vsite, tmp_path, db_env):
    """Every table's CHECKSUM TABLE is the same after a run, and the server's general log holds only reads
    from csdiag's sessions."""
    ids = healthy(vsite)
    vsite.stalled(ids["store"], "stalled", pct=40, minutes_ago=180)
    before = _checksums(vsite)
    log = tmp_path / "general.log"
    vsite.server.execute([f"SET GLOBAL general_log_file = '{log}'", "SET GLOBAL log_output = 'FILE'"])
    vsite.server.execute("SET GLOBAL general_log = 1")
    try:
        triage(vsite, tmp_path, db_env)
    finally:
        vsite.server.execute("SET GLOBAL general_log = 0")
    assert _checksums(vsite) == before
    threads: set[str] = set()
    statements: list[str] = []
    for line in log.read_text(errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) < 3:
            continue
        head, command = parts[-2].strip(), parts[-1]
        thread, _, kind = head.rpartition(" ")
        thread = thread.split()[-1] if thread.split() else ""
        if kind == "Connect" and command.startswith("csdiag@"):
            threads.add(thread)
        elif kind == "Query" and thread in threads:
            statements.append(command.strip())
    assert len(threads) >= 3  # platform, templates, ssvm
    assert statements, "no csdiag statements in the general log"
    bad = [s for s in statements if not s.upper().startswith(ALLOWED)]
    assert bad == []
    assert any(s.startswith("START TRANSACTION READ ONLY") for s in statements)
    assert statements[-1] == "ROLLBACK" or any(s == "ROLLBACK" for s in statements)


# --- bad input ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "version, code, severity", [("4.24.0.0", "VERSION_UNTESTED", "WARN"), ("4.17.2.0", "VERSION_UNSUPPORTED", "CRIT")]
)
def test_unknown_versions_are_named(mariadb, tmp_path, db_env, version, code, severity):
    site = Site(mariadb, mariadb.create_cloud_db(version="main"))
    site.label = "main"  # type: ignore[attr-defined]
    healthy(site)
    site.version(version)
    _, findings = triage(site, tmp_path, db_env)
    [f] = [f for f in findings if f["severity"] in ABOVE_INFO and f["check"] == "platform"]
    assert (f["code"], f["severity"]) == (code, severity)
    assert version in f["summary"]
    # templates and ssvm still run; an SSVM agent older than the database is reported as such
    others = {(f["check"], f["code"]) for f in findings if f["severity"] in ABOVE_INFO and f["check"] != "platform"}
    assert others == ({("ssvm", "SYSTEMVM_TEMPLATE_MISMATCH")} if version > "4.23" else set())


def test_renamed_table_is_named_and_the_other_checks_run(mariadb, tmp_path, db_env):
    site = Site(mariadb, mariadb.create_cloud_db(version="4.22"))
    site.label = "4.22"  # type: ignore[attr-defined]
    healthy(site)
    site.sql("RENAME TABLE template_store_ref TO template_store_ref_old")
    _, findings = triage(site, tmp_path, db_env)
    assert loud(findings) == [
        ("templates", "DB_SCHEMA_MISMATCH", "UNKNOWN", f"mysql://127.0.0.1:{mariadb.port}/{site.database}")
    ]
    [f] = [f for f in findings if f["code"] == "DB_SCHEMA_MISMATCH"]
    assert "template_store_ref" in f["summary"]
    assert {f["check"] for f in findings} >= {"platform"}  # platform still reports the version


def test_select_denied_on_one_table(mariadb, tmp_path, db_env):
    """A reader with SELECT on every table but host: ssvm says which table and which grant; templates and
    platform run."""
    site = Site(mariadb, mariadb.create_cloud_db(version="4.20"))
    site.label = "4.20"  # type: ignore[attr-defined]
    healthy(site)
    user = f"partial_{site.database}"
    with mariadb.connect(site.database) as conn, conn.cursor() as cur:
        cur.execute("SHOW TABLES")
        tables = [r[0] for r in cur.fetchall() if r[0] != "host"]
        cur.execute(f"CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'pw-partial-1'")
        for t in tables:
            cur.execute(f"GRANT SELECT ON `{site.database}`.`{t}` TO '{user}'@'127.0.0.1'")
    cfg = write_config(
        tmp_path / "c.toml",
        db_config(mariadb, site.database).replace('user = "csdiag"', f'user = "{user}"'),
    )
    env = {**db_env, "CSDIAG_TEST_DB_PASSWORD": "pw-partial-1"}
    r = run_cli("triage", "--config", str(cfg), "--only", "platform,templates,ssvm", "--format", "json", env=env)
    findings = json.loads(r.stdout)["findings"]
    denied = [f for f in findings if f["code"] == "DB_PERMISSION_DENIED"]
    assert [f["check"] for f in denied] == ["ssvm"]
    assert "host" in denied[0]["summary"] and "GRANT SELECT" in denied[0]["remediation"]
    assert any(f["code"] == "CLOUDSTACK_VERSION" for f in findings)
    assert not [f for f in findings if f["check"] == "templates" and f["severity"] in ABOVE_INFO]


def test_only_full_group_by(mariadb, tmp_path, db_env):
    """MySQL 8's default sql_mode (ONLY_FULL_GROUP_BY, strict): the same healthy result. (Debian 12 packages
    no MySQL 8 server — default-mysql-server is MariaDB — so the mode is tested on MariaDB.)"""
    site = Site(mariadb, mariadb.create_cloud_db(version="main"))
    site.label = "main"  # type: ignore[attr-defined]
    ids = healthy(site)
    site.stalled(ids["store"], "stalled", pct=40, minutes_ago=180)
    with mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT @@GLOBAL.sql_mode")
        old = cur.fetchone()[0]
        cur.execute(
            "SET GLOBAL sql_mode = 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
            "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'"
        )
    try:
        _, findings = triage(site, tmp_path, db_env)
    finally:
        with mariadb.connect() as conn, conn.cursor() as cur:
            cur.execute("SET GLOBAL sql_mode = %s", (old,))
    assert [(f["code"], f["severity"]) for f in findings if f["severity"] in ABOVE_INFO] == [
        ("TEMPLATE_DOWNLOAD_STALLED", "CRIT")
    ]


def test_kvm_only_cloud_and_null_destroyed(esite, tmp_path, db_env):
    """No finding for the XenServer, VMware, Hyper-V, LXC or Ovm3 defaults in a KVM-only cloud; a copy whose
    ``destroyed`` is NULL (the column's default in CloudStack's schema) counts as live."""
    ids = healthy(esite)
    second = esite.store(ids["zone"], "kvm-zone-nfs2", age_days=3)
    for tid in [*esite.builtin_ids("KVM"), ids["public"]]:
        esite.ref(tid, second, destroyed=None, minutes_ago=2000)
    _, findings = triage(esite, tmp_path, db_env)
    assert loud(findings) == []
    others = {t for hv in ("XenServer", "VMware", "Hyperv", "LXC", "Ovm3") for t in esite.builtin_ids(hv)}
    assert others and not any(f"template {t} " in f["target"] for t in others for f in findings)


def test_systemvm_checksum_without_its_prefix(esite, tmp_path, db_env):
    """A SHA-512 digest registered without {SHA-512} reads as MD5 and can never match."""
    ids = healthy(esite)
    esite.sql("UPDATE vm_template SET checksum = %s WHERE id = %s", "9d" * 64, ids["sysvm"])
    _, findings = triage(esite, tmp_path, db_env, only="templates")
    [f] = [f for f in findings if f["severity"] in ABOVE_INFO]
    assert f["code"] == "TEMPLATE_CHECKSUM_INVALID" and "looks like SHA-512" in f["summary"]


def test_store_left_out_by_a_storage_selector_is_not_an_alarm(mariadb, tmp_path, db_env):
    """4.19+: a TEMPLATE selector directs new templates to one store; the other store of the zone lacking them
    is INFO (csdiag does not run the selector's JavaScript), and a rule naming a good store is no finding."""
    site = _site(mariadb, "main")
    ids = healthy(site)
    second = site.store(ids["zone"], "kvm-zone-nfs2", age_days=2)
    store_uuid = site.value("SELECT uuid FROM image_store WHERE id = %s", ids["store"])
    site.heuristic(ids["zone"], f"secondaryStorages.filter(s => s.id == '{store_uuid}')[0].id")
    _, findings = triage(site, tmp_path, db_env, only="templates")
    assert loud(findings) == []
    sync = [f for f in findings if f["code"] == "TEMPLATE_SYNC_INCOMPLETE"]
    assert sync and all(f["severity"] == "INFO" and f"store {second} " in f["target"] for f in sync)
    assert "storage selector" in sync[0]["details"]
