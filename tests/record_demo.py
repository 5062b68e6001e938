"""Record the demo bundle with `csdiag collect` against the integration-test services.

    python -m tests.record_demo examples/demo-bundle

The demo site is seeded with the same fixtures the integration tests use (tests/services), then one
`csdiag collect` gathers the evidence of every check. Each new check adds its part here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.conftest import ROOT, db_config
from tests.services.cloudstack_site import Site
from tests.services.mariadb import READER_PASSWORD, MariaDB, mariadb_server
from tests.services.sshd import Sshd, sshd_server
from tests.services.web import Web, web_server

# Where the demo site's files live while it is recorded (removed afterwards): the bundle shows these paths,
# laid out as on a real installation, instead of temp folders or the test tree.
DEMO = Path("/srv/csdiag-demo")


def seed_site(site: Site, repo: str = "http://templates.example.org") -> None:
    """A three-zone installation with the classic template troubles; templates come from ``repo``."""
    site.version("4.17.2.0", "4.18.1.0")
    site.sql("INSERT INTO version (version, updated, step) VALUES ('4.19.0.0', NOW(), 'Upgrade')")
    for name, value, default in (
        ("secondary.storage.capacity.threshold", None, "0.90"),
        ("zone.secstorage.capacity.notificationthreshold", "0.95", "0.75"),
        ("secstorage.vm.mtu.size", "9000", "1500"),
        ("max.template.iso.size", None, "50"),
        ("ping.interval", None, "60"),
        ("ping.timeout", None, "2.5"),
    ):
        site.setting(name, value, default)
    site.setting("secstorage.ssl.cert.domain", "hidden-value-never-read", "", category="Hidden")

    site.mshost(version="4.18.1.0")
    east = site.zone("zone-east")
    site.cluster(east, "KVM")
    east1 = site.store(east, "east-nfs-1", url="nfs://10.20.0.5/export/secondary")
    # added last week, never filled
    east2 = site.store(east, "east-nfs-2", url="nfs://10.20.0.6/export/secondary", age_days=7)
    for builtin in site.builtin_ids("KVM"):  # template sync's system/builtin KVM templates
        site.ref(builtin, east1, minutes_ago=30 * 1440)
    site.ssvm(
        east,
        "s-11-VM",
        ips={"Control": "169.254.2.11", "Management": "10.20.1.11", "Public": "192.0.2.11"},
        agent_version="4.18.1.0",
    )
    debian = site.template("debian-12-generic", checksum="{SHA-256}" + "3f" * 32, url=f"{repo}/debian-12-generic.qcow2")
    site.ref(debian, east1)
    ubuntu = site.template(
        "ubuntu-24.04-server", checksum="{SHA-256}" + "7a" * 32, url=f"{repo}/ubuntu-24.04-server.qcow2"
    )
    site.ref(
        ubuntu,
        east1,
        download_state="DOWNLOAD_IN_PROGRESS",
        state="Creating",
        pct=40,
        size=0,
        physical_size=0,
        error_str="40% Downloaded",
        minutes_ago=185,
    )
    windows = site.template("windows-2022-std", url=f"{repo}/windows-2022-std.qcow2")
    site.ref(
        windows,
        east1,
        download_state="DOWNLOAD_IN_PROGRESS",
        state="Creating",
        pct=100,
        size=0,
        physical_size=0,
        error_str="Download success, starting install ",
        minutes_ago=95,
    )
    rocky = site.template("rocky-9.4", checksum="{SHA-256}" + "C0FFEE" * 10 + "ABCD", url=f"{repo}/rocky-9.4.qcow2")
    site.ref(
        rocky,
        east1,
        download_state="DOWNLOAD_ERROR",
        state="Allocated",
        pct=100,
        size=0,
        physical_size=0,
        error_str='Failed post download script: checksum "{SHA-256}' + "c0ffee" * 10 + "abcd\" didn't match "
        'the given value, "{SHA-256}' + "C0FFEE" * 10 + 'ABCD"',
        minutes_ago=300,
    )
    alma = site.template("alma-9", url=f"{repo}/alma-9.img")  # gone from the mirror: 404
    site.ref(
        alma,
        east1,
        download_state="DOWNLOAD_ERROR",
        state="Allocated",
        pct=0,
        size=0,
        physical_size=0,
        error_str=" HTTP Server returned 404 (expected 200 OK) ",
        minutes_ago=600,
    )
    fedora = site.template("fedora-40-cloud", url=f"{repo}/fedora-40-cloud.qcow2")
    site.ref(fedora, east1, size=0, physical_size=0, error_str="Install completed successfully")

    west = site.zone("zone-west")
    site.cluster(west, "KVM")
    west1 = site.store(west, "west-nfs-1", url="nfs://10.30.0.5/export/secondary")
    for builtin in site.builtin_ids("KVM"):
        site.ref(builtin, west1, minutes_ago=30 * 1440)
    site.ssvm(
        west,
        "s-12-VM",
        agent_status="Alert",
        ips={"Control": "169.254.3.12", "Management": "10.30.1.12", "Public": "192.0.2.12"},
        agent_version="4.18.1.0",
    )
    site.ref(debian, west1)
    # stuck behind the SSVM whose agent is in Alert; its DownloadListener timeout is in ms-4.20.log
    rocky9 = site.template("rocky-9", url=f"{repo}/rocky-9.qcow2", id=999)
    site.ref(
        rocky9,
        west1,
        download_state="DOWNLOAD_IN_PROGRESS",
        state="Creating",
        pct=12,
        size=0,
        physical_size=0,
        error_str="12% Downloaded",
        minutes_ago=240,
    )
    site.zone("zone-lab")  # enabled, no store, no SSVM
    del east2


def logs_config(sshd: Sshd, now: datetime) -> str:
    """The management server's log (rotated once, across the site's upgrade from 4.18 to 4.20) read here;
    the SSVM's cloud.log over SSH, as in tests/integration/test_logs_ssh.py. The recorded lines keep
    their order and spacing; only their dates move, so the newest is minutes before the recording."""
    mgmt = DEMO / "var/log/cloudstack/management"
    ssvm_dir = DEMO / "ssvm/var/log"
    for folder in (mgmt, ssvm_dir):
        folder.mkdir(parents=True, exist_ok=True)
    logs = ROOT / "tests/data/logs"
    write_shifted(logs / "ms-4.18.log", mgmt / "management-server.log.1", now - timedelta(hours=26))
    write_shifted(logs / "ms-4.20.log", mgmt / "management-server.log", now - timedelta(minutes=20))
    write_shifted(logs / "cloud.log", ssvm_dir / "cloud.log", now - timedelta(minutes=12))
    keys = DEMO / "etc/csdiag/ssh"
    keys.mkdir(parents=True, exist_ok=True)
    shutil.copy(sshd.client_key, keys / "id_ed25519")
    shutil.copy(sshd.known_hosts, keys / "known_hosts")
    return f"""
[logs]
management = ["{mgmt}/management-server.log*"]
ssvm = ["{ssvm_dir}/cloud*.log*"]
ssvm_hosts = ["127.0.0.1:{sshd.port}"]
since = "48h"

[ssh]
user = "root"
key_file = "{keys / "id_ed25519"}"
known_hosts = "{keys / "known_hosts"}"
"""


_ISO = re.compile(r"(\d{4}-\d{2}-\d{2})([ T])(\d{2}:\d{2}:\d{2})")
_CTIME = re.compile(r"\b[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{2}:\d{2}:\d{2}) UTC (\d{4})\b")


def write_shifted(src: Path, dst: Path, newest: datetime) -> None:
    """Copy a recorded log with every date moved by one offset, so that its newest line is at ``newest``
    (both layouts CloudStack writes: ``2024-05-02 10:00:01`` and ``Thu May  2 09:58:01 UTC 2024``)."""
    text = src.read_text(encoding="utf-8", errors="surrogateescape")

    def iso(m: re.Match[str]) -> datetime:
        return datetime.strptime(f"{m[1]} {m[3]}", "%Y-%m-%d %H:%M:%S")

    def ctime(m: re.Match[str]) -> datetime:
        return datetime.strptime(f"{m[1]} {m[2]} {m[3]} {m[4]}", "%b %d %H:%M:%S %Y")

    stamps = [iso(m) for m in _ISO.finditer(text)] + [ctime(m) for m in _CTIME.finditer(text)]
    shift = newest.replace(tzinfo=None, microsecond=0) - max(stamps) if stamps else timedelta(0)
    text = _ISO.sub(lambda m: (iso(m) + shift).strftime(f"%Y-%m-%d{m[2]}%H:%M:%S"), text)
    text = _CTIME.sub(lambda m: (ctime(m) + shift).strftime("%a %b %e %H:%M:%S UTC %Y"), text)
    dst.write_text(text, encoding="utf-8", errors="surrogateescape")


def reach_config(sshd: Sshd, web: Web) -> str:
    """The SSVM (sshd on loopback) probes the template repository (HTTP on loopback), as in
    tests/integration/test_reach.py; one management server answers, one does not."""
    mgmt = socket.socket()
    mgmt.bind(("127.0.0.1", 0))
    mgmt.listen(8)
    _KEEP.append(mgmt)
    cmdline = DEMO / "ssvm/var/cache/cloud/cmdline"
    cmdline.parent.mkdir(parents=True, exist_ok=True)
    cmdline.write_text(f"type=secstorage host=127.0.0.1,127.0.0.2 port={mgmt.getsockname()[1]} name=s-11-VM\n")
    return f"""
[reach]
from_hosts = ["127.0.0.1:{sshd.port}"]
urls = ["{web.base}/slow-debian-12.qcow2", "{web.base}/moved-rocky"]
cmdline_path = "{cmdline}"
allowed_internal_sites = ["127.0.0.0/8"]
sample = 0  # the seeded default templates' URLs are real internet hosts: the demo probes loopback only
"""


_KEEP: list[socket.socket] = []


def _port(wanted: int) -> int | None:
    """``wanted`` when it is free on 127.0.0.1 (the demo shows the usual ports), else None (any port)."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", wanted))
        except OSError:
            return None
    return wanted


def main(out: Path) -> None:
    shutil.rmtree(DEMO, ignore_errors=True)
    now = datetime.now(UTC)
    try:
        with (
            mariadb_server(port=_port(3306)) as server,
            sshd_server() as sshd,
            web_server(_port(8080) or 0) as web,
            tempfile.TemporaryDirectory() as tmp,
        ):
            site = Site(server, server.create_cloud_db("cloud"))
            seed_site(site, web.base)
            cfg = DEMO / "etc/csdiag/csdiag.toml"
            cfg.parent.mkdir(parents=True, exist_ok=True)
            cfg.write_text(db_config(server, site.database) + logs_config(sshd, now) + reach_config(sshd, web))
            if out.exists():
                shutil.rmtree(out)
            # An allowlist: the checks that probe the network (mtu, storage) are collected in add_* parts,
            # inside their own test topologies, never against the seeded inventory's made-up addresses.
            env = {**os.environ, "CSDIAG_TEST_DB_PASSWORD": READER_PASSWORD}
            collect(cfg, "logs,platform,reach,ssvm,templates", out, env=env)
            add_mtu(out, Path(tmp))
            add_storage(out, Path(tmp))
            add_images(out, Path(tmp), server, site, env)
            add_optics(out, Path(tmp))
            add_api(out.with_name(out.name + "-api"), site, Path(tmp))
    finally:
        shutil.rmtree(DEMO, ignore_errors=True)
    print(f"demo bundle recorded in {out}")


def add_api(out: Path, site: Site, tmp: Path) -> None:
    """The API-sourced part: the same seeded site, as CloudStack's API renders it (tests/services/
    csapi_scenario.py), collected with ``--source api`` into its own bundle. Only the checks that read
    CloudStack itself: mtu and reach through runDiagnostics would probe the seeded (made-up and real)
    template hosts, and storage would probe the seeded stores' NFS servers from here."""
    from tests.services.csapi import Key, StandIn, api_server
    from tests.services.csapi_scenario import answers

    capabilities, lists = answers(site)
    standin = StandIn(keys={"demo-admin-key": Key(DEMO_API_SECRET)}, lists=lists, capabilities=capabilities)
    with api_server(standin) as endpoint:
        cfg = DEMO / "etc/csdiag/api.toml"
        cfg.parent.mkdir(parents=True, exist_ok=True)
        cfg.write_text(
            f'[cloudstack]\nsource = "api"\n\n[cloudstack.api]\nendpoint = "{endpoint}"\n'
            'api_key = "demo-admin-key"\nsecret_key_env = "CSDIAG_DEMO_API_SECRET"\n'
        )
        if out.exists():
            shutil.rmtree(out)
        # the templates check reads earlier download observations from the history store: a fresh one
        env = {**os.environ, "CSDIAG_DEMO_API_SECRET": DEMO_API_SECRET, "XDG_STATE_HOME": str(tmp / "state")}
        collect(cfg, "platform,ssvm,templates", out, env=env)


DEMO_API_SECRET = "demo-api-secret-not-used-anywhere-else"


def collect(cfg: Path, checks: str, output: Path, netns: str | None = None, env: dict[str, str] | None = None) -> None:
    """`csdiag collect` of ``checks`` into ``output``, inside the namespace ``netns`` if given."""
    prefix = ["ip", "netns", "exec", netns] if netns else []
    subprocess.run(
        [
            *prefix,
            sys.executable,
            "-m",
            "diagnostics.cli",
            "collect",
            "--config",
            str(cfg),
            "--only",
            checks,
            "--output",
            str(output),
        ],
        check=True,
        env=env,
        timeout=300,
    )


def add_part(
    out: Path, tmp: Path, check: str, config: str, netns: str | None = None, env: dict[str, str] | None = None
) -> None:
    """Collect one check on its own (its own config, maybe inside a namespace) and add its evidence."""
    cfg = DEMO / f"etc/csdiag/{check}.toml"
    cfg.parent.mkdir(parents=True, exist_ok=True)
    cfg.write_text(config)
    part = tmp / f"{check}-bundle"
    collect(cfg, check, part, netns, env)
    shutil.copytree(part / "checks" / check, out / "checks" / check)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["checks"] += json.loads((part / "manifest.json").read_text())["checks"]
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True))


def add_mtu(out: Path, tmp: Path) -> None:
    """The mtu check probes from inside a namespace topology (tests/integration/test_mtu.py)."""
    from tests.services.netns import storage_paths, topology

    with topology() as t:
        n = storage_paths(t)
        targets = json.dumps([n["server_ip"], n["lan_ip"], n["router_ip"]])
        add_part(out, tmp, "mtu", f"[mtu]\ntargets = {targets}\ntimeout_s = 0.5\n", netns=n["client"])


def add_storage(out: Path, tmp: Path) -> None:
    """Stores exported by nfs-ganesha in a namespace, as in tests/integration/test_storage_nfs.py: a
    healthy one seen from all three vantage points (RPC, the local directory, the SSVM over sshd), a
    nearly full one and a root-squashed one."""
    from tests.services.ganesha import Export, ganesha
    from tests.services.netns import topology

    base = DEMO  # a fixed place, so the demo report shows stable export paths
    ok, full, squash = base / "export/secondary", base / "export/archive", base / "export/squashed"
    for d, size in ((ok, "64m"), (full, "1m")):
        d.mkdir(parents=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(d)], check=True, timeout=10)
    (full / "template.qcow2").write_bytes(bytes(960 * 1024))
    squash.mkdir()
    exports = [Export(ok), Export(full), Export(squash, squash="Root_Squash")]
    try:
        with topology() as t, ganesha(t, exports) as nfs, sshd_server(netns=nfs.netns) as sshd:
            add_part(
                out,
                tmp,
                "storage",
                f"""
[[storage]]
url = "nfs://127.0.0.1{ok}"
mount_path = "{ok}"
largest_template_bytes = 1048576
ssvm_hosts = ["127.0.0.1:{sshd.port}"]
ssvm_mount_path = "{ok}"

[[storage]]
url = "nfs://127.0.0.1{full}"
mount_path = "{full}"
modes = ["protocol", "mounted"]
largest_template_bytes = 102400

[[storage]]
url = "nfs://127.0.0.1{squash}"
modes = ["protocol"]
largest_template_bytes = 1048576

[ssh]
user = "root"
key_file = "{sshd.client_key}"
known_hosts = "{sshd.known_hosts}"
""",
                netns=nfs.netns,
            )
    finally:
        for d in (ok, full):
            subprocess.run(["umount", "-l", str(d)], capture_output=True, timeout=10, check=False)


def add_images(out: Path, tmp: Path, server: MariaDB, site: Site, env: dict[str, str]) -> None:
    """Template copies on a store read through a local mount, as in tests/integration/test_images.py: the
    debian template's file does not match its registered checksum, and an image registered with the
    right checksum was never sealed (keys, root password, udev rules…)."""
    import hashlib

    from tests.services import images as im

    mnt = DEMO / "mnt/secondary"
    store = mnt / "east-nfs-1"
    clean = im.qcow2(im.ext4(im.root_tree(tmp / "img-clean"), tmp / "clean.raw"), tmp / "clean.qcow2")
    faults = set(im.FAULTS) - {"no_cloud_init"}
    unsealed = im.qcow2(im.ext4(im.root_tree(tmp / "img-unsealed", faults), tmp / "unsealed.raw"), tmp / "u.qcow2")
    debian = site.value("SELECT id FROM vm_template WHERE name = 'debian-12-generic'")
    east1 = site.value("SELECT id FROM image_store WHERE name = 'east-nfs-1'")
    centos = site.template(
        "centos-stream-9-unsealed", checksum="{SHA-256}" + hashlib.sha256(unsealed.read_bytes()).hexdigest()
    )
    site.ref(centos, east1, install_path=f"template/tmpl/2/{centos}/centos-stream-9.qcow2")
    for tid, image in ((debian, clean), (centos, unsealed)):
        install = Path(site.value("SELECT install_path FROM template_store_ref WHERE template_id = %s", tid))
        folder = store / install.parent
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(image, folder / install.name)
        unique = site.value("SELECT unique_name FROM vm_template WHERE id = %s", tid)
        size = image.stat().st_size
        (folder / "template.properties").write_text(
            f"#\nfilename={install.name}\nsize={size}\nvirtualsize={50331648}\nuniquename={unique}\n"
            f"id={tid}\nqcow2=true\nqcow2.filename={install.name}\nqcow2.size={size}\n"
        )
    # Every store of these templates gets a local folder: the demo must never SSH to the seeded SSVMs'
    # made-up addresses. west-nfs-1's folder is empty: its copy of debian shows as missing.
    (mnt / "west-nfs-1").mkdir(parents=True)
    mounts = {
        site.value("SELECT url FROM image_store WHERE name = %s", n): mnt / n for n in ("east-nfs-1", "west-nfs-1")
    }
    config = db_config(server, site.database) + (
        '\n[images]\ntemplates = ["debian-12-generic", "centos-stream-9-unsealed"]\nlocal_mounts = { '
        + ", ".join(f'"{url}" = "{path}"' for url, path in mounts.items())
        + " }\n"
    )
    add_part(out, tmp, "images", config, env=env)


def add_optics(out: Path, tmp: Path) -> None:
    """Four switches simulated by snmpsim (tests/integration/test_optics.py): the storage leaf's uplink
    loses far more light one way than the other, a QSFP has a dim lane, a port is dark."""
    from tests.services.snmpsim import Port, Switch, simulators

    leaf = Switch(
        "leaf-storage-1",
        "arista",
        [
            Port("Ethernet49", rx_dbm=-11.8, tx_dbm=-2.1, neighbour=("spine-1", "TenGigabitEthernet1/1/1")),
            Port("Ethernet50", rx_dbm=-2.4, tx_dbm=-2.0),
            Port("Ethernet51", rx_dbm=None, admin_up=True, oper_up=False),
            Port("Ethernet52", rx_dbm=None, admin_up=False, oper_up=False),
        ],
    )
    spine = Switch(
        "spine-1",
        "cisco",
        [
            Port("TenGigabitEthernet1/1/1", rx_dbm=-3.3, tx_dbm=-1.4, neighbour=("leaf-storage-1", "Ethernet49")),
            Port("TenGigabitEthernet1/1/2", rx_dbm=-2.9, tx_dbm=-1.6),
        ],
    )
    core = Switch("core-1", "juniper", [Port("et-0/0/48", rx_dbm=-2.0, lanes=[-1.1, -1.4, -13.2, -1.3])])
    border = Switch("border-1", "huawei", [Port("10GE1/0/1", rx_dbm=-4.1, tx_dbm=-2.2)])
    fleet = [leaf, spine, core, border]
    platform = {"arista": "arista_eos", "cisco": "cisco_ios", "juniper": "juniper_junos", "huawei": "huawei_vrp"}
    env = {**os.environ, "CSDIAG_DEMO_COMMUNITY": "unused"}
    # communities differ from the switch names: a bundle redacts every secret's value wherever it appears
    community = {sw.name: f"demo-community-{i}" for i, sw in enumerate(fleet)}
    secrets = DEMO / "etc/csdiag/snmp"
    secrets.mkdir(parents=True, exist_ok=True)
    with simulators([[(community[sw.name], sw) for sw in fleet]]) as [sim]:
        body = "".join(
            f'[[switches]]\nname = "{sw.name}"\nhost = "127.0.0.1"\nplatform = "{platform[sw.vendor]}"\n'
            f'snmp = {{ community_file = "{secrets / (sw.name + ".community")}", port = {sim.port}, timeout_s = 2 }}\n\n'
            for sw in fleet
        )
        for sw in fleet:
            (secrets / f"{sw.name}.community").write_text(community[sw.name])
        config = (
            f'[history]\nurl = "sqlite:///{DEMO}/var/lib/csdiag/history.sqlite"\n\n{body}'
            '[[links]]\na = "leaf-storage-1:Ethernet49"\nb = "spine-1:TenGigabitEthernet1/1/1"\nlength_km = 0.3\n'
            'type = "10GBASE-LR"\n'
        )
        add_part(out, tmp, "optics", config, env=env)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "examples/demo-bundle"))
