"""The storage check against real mounts (tmpfs, FUSE) and a real SSH "SSVM"; never leaves a probe file."""

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import run_cli, write_config
from tests.services.fusefs import fuse_mount

pytestmark = pytest.mark.integration
URL = "nfs://198.18.200.1/export/secondary"  # made up: nothing is sent to it, every probe is on a mount path


@pytest.fixture
def tmpfs(tmp_path):
    mounted = []

    def make(name, size="64m", fill_bytes=0, read_only=False):
        d = tmp_path / name
        d.mkdir()
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(d)], check=True, timeout=10)
        mounted.append(d)
        if fill_bytes:
            (d / "template.qcow2").write_bytes(b"\0" * fill_bytes)
        if read_only:
            subprocess.run(["mount", "-o", "remount,ro", str(d)], check=True, timeout=10)
        return d

    yield make
    for d in mounted:
        subprocess.run(["umount", "-l", str(d)], capture_output=True, timeout=10)


def entry_toml(e):
    lines = [
        "[[storage]]",
        # one store per entry: entries with the same URL would be one store
        f"url = {json.dumps(e.get('url') or URL + '/' + Path(e.get('mount_path', 'x')).name)}",
        f"modes = {json.dumps(e.get('modes', ['mounted']))}",
        f"largest_template_bytes = {e.get('largest', 1048576)}",
    ]
    for key in ("mount_path", "ssvm_mount_path", "ssvm_hosts"):
        if key in e:
            lines.append(f"{key} = {json.dumps(e[key])}")
    return "\n".join(lines) + "\n"


def storage(tmp_path, entries, extra=""):
    body = "".join(entry_toml(e) for e in entries)
    cfg = write_config(
        tmp_path / "c.toml",
        "[run]\ncheck_timeout_s = 30\n" + body + "\n[thresholds.storage]\nprobe_timeout_s = 2\n" + extra,
    )
    t0 = time.monotonic()
    r = run_cli("triage", "--config", str(cfg), "--only", "storage", "--format", "json", cwd=tmp_path)
    elapsed = time.monotonic() - t0
    assert r.returncode in (0, 1, 2, 3), r.stderr
    return json.loads(r.stdout)["findings"], elapsed


def no_leftovers(*dirs):
    for d in dirs:
        assert not list(Path(d).glob(".csdiag-probe-*")), f"probe file left in {d}"


def test_mounted_scenarios(tmpfs, tmp_path):
    ok = tmpfs("ok")
    full = tmpfs("full", size="1m", fill_bytes=960 * 1024)
    ro = tmpfs("ro", read_only=True)
    plain = tmp_path / "plain"
    plain.mkdir()
    findings, _ = storage(
        tmp_path,
        [
            {"mount_path": str(ok)},
            {"mount_path": str(full), "largest": 100 * 1024},
            {"mount_path": str(ro)},
            {"mount_path": str(plain)},
        ],
    )
    by_path = {}
    for f in findings:
        by_path.setdefault(f["evidence"][0]["source"].split(": ", 1)[1] if f["evidence"] else f["target"], []).append(
            (f["code"], f["severity"])
        )
    assert by_path[str(ok)] == [("NFS_OK", "INFO")]
    assert sorted(by_path[str(full)]) == [("NFS_ABOVE_THRESHOLD", "CRIT"), ("NFS_CAPACITY_LOW", "CRIT")]
    assert by_path[str(ro)] == [("NFS_READ_ONLY", "CRIT")]
    assert by_path[str(plain)] == [("NFS_PATH_NOT_MOUNTED", "UNKNOWN")]
    low = next(f for f in findings if f["code"] == "NFS_CAPACITY_LOW")
    assert "3 × the largest template" in low["summary"]
    no_leftovers(ok, full, plain)


def test_capacity_warn_between_three_and_four_times(tmpfs, tmp_path):
    d = tmpfs("warn", size="4m", fill_bytes=256 * 1024)  # 3.75 MiB free: between 3 and 4 × 1 MiB
    findings, _ = storage(tmp_path, [{"mount_path": str(d), "largest": 1024 * 1024}])  # 4 MiB free < 4 × 1 MiB
    assert [(f["code"], f["severity"]) for f in findings] == [("NFS_CAPACITY_LOW", "WARN")]


def test_root_squash_like_refusal(tmp_path):
    with fuse_mount("squash", tmp_path / "squashed") as m:
        findings, _ = storage(tmp_path, [{"mount_path": str(m)}])
    assert [f["code"] for f in findings] == ["NFS_ROOT_SQUASH"]
    assert "no_root_squash" in findings[0]["remediation"]


def test_stale_handle(tmp_path):
    with fuse_mount("stale", tmp_path / "stale") as m:
        findings, _ = storage(tmp_path, [{"mount_path": str(m)}])
    assert [(f["code"], f["severity"]) for f in findings] == [("NFS_STALE_HANDLE", "CRIT")]


def test_hung_mount_is_reported_within_the_deadline(tmpfs, tmp_path):
    ok = tmpfs("alive")
    with fuse_mount("hang", tmp_path / "dead") as m:
        findings, elapsed = storage(tmp_path, [{"mount_path": str(m)}, {"mount_path": str(ok)}])
        codes = sorted(f["code"] for f in findings)
    assert codes == ["NFS_MOUNT_HUNG", "NFS_OK"]  # the live store is still judged
    assert elapsed < 15, elapsed  # one 2 s probe deadline, not the 30 s check deadline, and no hang at exit
    no_leftovers(ok)


def test_from_the_ssvm(sshd, tmpfs, tmp_path):
    mp = tmpfs("secstorage")
    notmounted = tmp_path / "not-mounted"
    notmounted.mkdir()
    extra = f'\n[ssh]\nuser = "root"\nkey_file = "{sshd.client_key}"\nknown_hosts = "{sshd.known_hosts}"\n'
    findings, _ = storage(
        tmp_path,
        [
            {"modes": ["ssvm"], "ssvm_hosts": [f"127.0.0.1:{sshd.port}"], "ssvm_mount_path": str(mp)},
            {
                "url": "nfs://198.18.200.2/export/other",
                "modes": ["ssvm"],
                "ssvm_hosts": [f"127.0.0.1:{sshd.port}"],
                "ssvm_mount_path": str(notmounted),
            },
        ],
        extra,
    )
    codes = sorted((f["code"], f["target"]) for f in findings)
    assert codes == [
        ("NFS_NOT_MOUNTED_ON_SSVM", "nfs://198.18.200.2/export/other from 127.0.0.1"),
        ("NFS_OK", f"{URL}/x from 127.0.0.1"),
    ]
    no_leftovers(mp)


def test_unreachable_ssvm_and_no_vantage(tmp_path):
    from tests.services import free_port

    findings, _ = storage(
        tmp_path, [{"modes": ["ssvm"], "ssvm_hosts": [f"127.0.0.1:{free_port()}"]}], "\n[ssh]\nconnect_timeout_s = 2\n"
    )
    assert [f["code"] for f in findings] == ["NFS_UNREACHABLE"]


def test_stores_from_the_database(site, mariadb, tmp_path, db_env):
    """Stores come from image_store: S3 is skipped with the reason, the largest template is named, and an
    NFS server that is not there (loopback, nothing listening) is unreachable — no SSVM in this zone."""
    from tests.conftest import db_config

    z = site.zone("zone-storage")
    nfs = site.store(z, "nfs-store", url="nfs://127.0.0.1/export/secondary")
    site.store(z, "s3-store", url="s3://templates-bucket/csdiag", provider="S3")
    small, big = site.template("small"), site.template("centos-9-big")
    site.ref(small, nfs, size=2 * 2**30)
    site.ref(big, nfs, size=40 * 2**30)
    cfg = write_config(
        tmp_path / "c.toml", db_config(mariadb, site.database) + "\n[thresholds.storage]\nprobe_timeout_s = 2\n"
    )
    r = run_cli("collect", "--config", str(cfg), "--only", "storage", "--output", str(tmp_path / "b"), env=db_env)
    assert r.returncode == 0, r.stderr
    evidence = json.loads(next((tmp_path / "b" / "checks" / "storage").glob("*.json")).read_text())
    [target] = [t for t in evidence["targets"] if not t.get("skipped")]
    assert target["largest_template"] == {
        "id": big,
        "name": "centos-9-big",
        "unique_name": target["largest_template"]["unique_name"],
        "bytes": 40 * 2**30,
    }
    r = run_cli("triage", "--bundle", str(tmp_path / "b"), "--only", "storage", "--format", "json", cwd=tmp_path)
    findings = {f["code"]: f for f in json.loads(r.stdout)["findings"]}
    assert set(findings) == {"NFS_STORE_SKIPPED", "NFS_UNREACHABLE"}
    assert "s3" in findings["NFS_STORE_SKIPPED"]["summary"]
    assert "refused" in findings["NFS_UNREACHABLE"]["summary"]
