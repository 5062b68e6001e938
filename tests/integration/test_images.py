"""The images check on real images (ext4 made by mke2fs -d, QCOW2 by qemu-img, a GPT disk by sfdisk) and
template integrity on a "secondary storage" read over a real sshd and through a local mount."""

import hashlib
import json
import subprocess

import pytest

from tests.conftest import db_config, run_cli, write_config
from tests.services import images as im

pytestmark = pytest.mark.integration
HYGIENE_SEVERITY = {
    "IMAGE_PERSISTENT_NET_RULES": "CRIT",
    "IMAGE_IFCFG_HWADDR": "CRIT",
    "IMAGE_SSH_HOST_KEYS": "WARN",
    "IMAGE_LOGS_NOT_EMPTY": "WARN",
    "IMAGE_PACKAGE_CACHE": "WARN",
    "IMAGE_ROOT_PASSWORD": "CRIT",
    "IMAGE_PRIVATE_KEYS": "CRIT",
    "IMAGE_MACHINE_ID": "WARN",
}
HYGIENE = set(HYGIENE_SEVERITY)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    im.tools()
    d = tmp_path_factory.mktemp("images")
    clean_fs = im.ext4(im.root_tree(d / "clean"), d / "clean.raw")
    faulty_fs = im.ext4(im.root_tree(d / "faulty", set(im.FAULTS) - {"no_cloud_init"}), d / "faulty.raw")
    return {
        "dir": d,
        "clean_raw": clean_fs,
        "clean": im.qcow2(clean_fs, d / "clean.qcow2"),
        "clean_full": im.qcow2(clean_fs, d / "clean-full.qcow2", full=True),
        "faulty": im.qcow2(faulty_fs, d / "faulty.qcow2"),
        "partitioned": im.qcow2(im.partitioned(faulty_fs, d / "disk.raw"), d / "partitioned.qcow2"),
        "no_ci": im.qcow2(im.ext4(im.root_tree(d / "noci", {"no_cloud_init"}), d / "noci.raw"), d / "noci.qcow2"),
        "ci_off": im.qcow2(
            im.ext4(im.root_tree(d / "cioff", cloud_init_disabled=True), d / "cioff.raw"), d / "cioff.qcow2"
        ),
    }


def lint(*files, expect="qcow2"):
    r = run_cli("image", "lint", *map(str, files), "--expect", expect, "--format", "json")
    assert r.returncode in (0, 1, 2, 3), r.stderr
    return r.returncode, json.loads(r.stdout)["findings"]


def codes(findings):
    return {f["code"] for f in findings}


def test_every_hygiene_fault_is_found_and_no_secret_is_shown(built):
    rc, findings = lint(built["faulty"])
    assert rc == 2
    assert codes(findings) == HYGIENE
    text = json.dumps(findings)
    assert im.SHADOW_HASH not in text and "$6$Zq1salt" not in text  # only the kind of hash
    assert "PRIVATE KEY-----\n" not in text and "b3BlbnNzaC1rZXk" not in text  # paths and types, never keys
    keys = next(f for f in findings if f["code"] == "IMAGE_PRIVATE_KEYS")
    assert {k["path"] for k in keys["evidence"][0]["data"]["keys"]} == {
        "/root/deploy.pem",
        "/home/debian/.ssh/id_ed25519",
    }
    ifcfg = next(f for f in findings if f["code"] == "IMAGE_IFCFG_HWADDR")
    assert "HWADDR=52:54:00:12:34:56" in json.dumps(ifcfg["evidence"])


def test_the_clean_image_passes_and_gives_the_checksum_to_register(built):
    rc, findings = lint(built["clean"])
    assert rc == 0
    [clean] = findings
    assert clean["code"] == "IMAGE_CLEAN"
    digest = hashlib.sha256(built["clean"].read_bytes()).hexdigest()
    assert f"{{SHA-256}}{digest}" in clean["summary"]


def test_raw_and_fully_allocated_images_are_not_thin(built):
    _, raw = lint(built["clean_raw"])
    _, full = lint(built["clean_full"])
    assert codes(raw) == {"IMAGE_NOT_THIN"} and "raw image" in raw[0]["summary"]
    assert codes(full) == {"IMAGE_NOT_THIN"} and "fully allocated" in full[0]["summary"]
    rc, raw_ok = lint(built["clean_raw"], expect="raw")
    assert (rc, codes(raw_ok)) == (0, {"IMAGE_CLEAN"})


def test_a_partitioned_disk_is_read_through_its_partition_table(built):
    _, findings = lint(built["partitioned"])
    assert codes(findings) == HYGIENE
    assert findings[0]["evidence"][0]["source"].endswith("partitioned.qcow2")


def test_cloud_init_missing_or_disabled(built):
    _, missing = lint(built["no_ci"])
    _, disabled = lint(built["ci_off"])
    assert codes(missing) == codes(disabled) == {"IMAGE_NO_CLOUD_INIT"}
    assert "not installed" in missing[0]["summary"]
    assert "/etc/cloud/cloud-init.disabled" in disabled[0]["summary"]


def test_backing_file_garbage_and_truncated_images(built):
    d = built["dir"]
    overlay = im.overlay(built["clean"], d / "overlay.qcow2")
    garbage = d / "garbage.img"
    garbage.write_bytes(b"this is not a disk image\n" * 1000)
    truncated = d / "truncated.qcow2"
    truncated.write_bytes(built["clean"].read_bytes()[:70])
    rc, findings = lint(overlay, garbage, truncated)
    by_file = {}
    for f in findings:
        by_file.setdefault(f["target"].rsplit("/", 1)[1], set()).add((f["code"], f["severity"]))
    assert ("IMAGE_FORMAT_PROBLEM", "CRIT") in by_file["overlay.qcow2"]
    assert by_file["garbage.img"] >= {("IMAGE_UNREADABLE", "UNKNOWN")}
    assert by_file["truncated.qcow2"] == {("IMAGE_UNREADABLE", "UNKNOWN")}
    assert rc == 2


# --- integrity on secondary storage ------------------------------------------------------------------------


def _store_copy(root, account, template_id, data, *, size=None, virtualsize=1 << 30, uniquename=None, drop=False):
    folder = root / "template" / "tmpl" / str(account) / str(template_id)
    folder.mkdir(parents=True)
    name = f"{template_id}-image.qcow2"
    if not drop:
        (folder / name).write_bytes(data)
    (folder / "template.properties").write_text(
        "#\n#Wed Dec 02 08:00:00 UTC 2026\n"
        f"filename={name}\ndescription=test\nhvm=true\nsize={len(data) if size is None else size}\n"
        f"id={template_id}\npublic=true\nuniquename={uniquename}\nvirtualsize={virtualsize}\nqcow2=true\n"
        f"qcow2.filename={name}\n"
    )
    return f"template/tmpl/{account}/{template_id}/{name}"


@pytest.fixture
def store_site(site, tmp_path, built):
    """Templates in the database and their copies in a secondary-storage folder tree."""
    root = tmp_path / "secstorage"
    zone = site.zone("zone-images")
    store = site.store(zone, "images-nfs", url="nfs://198.18.210.1/export/secondary")  # never contacted
    good = built["clean"].read_bytes()
    digest = hashlib.sha256(good).hexdigest()
    cases = {
        "good": {"checksum": "{SHA-256}" + digest},
        "corrupted": {"checksum": "{SHA-256}" + digest, "data": good[:100] + b"X" + good[101:]},
        "missing": {"checksum": "{SHA-256}" + digest, "drop": True},
        "size-zero": {"checksum": "{SHA-256}" + digest, "size": 0},
        "upper": {"checksum": "{SHA-256}" + digest.upper()},
        "md5": {"checksum": hashlib.md5(good).hexdigest()},  # noqa: S324 - no prefix means MD5 to CloudStack
        "unsealed": {
            "checksum": "{SHA-256}" + hashlib.sha256(faulty := built["faulty"].read_bytes()).hexdigest(),
            "data": faulty,
        },
    }
    ids = {}
    for name, case in cases.items():
        tid = site.template(name, checksum=case["checksum"])
        unique = site.value("SELECT unique_name FROM vm_template WHERE id = %s", tid)
        path = _store_copy(
            root, 2, tid, case.get("data", good), size=case.get("size"), uniquename=unique, drop=case.get("drop", False)
        )
        site.ref(tid, store, install_path=path, physical_size=len(good))
        ids[name] = tid
    return root, ids


def _triage(tmp_path, mariadb, site, db_env, images_toml, extra=""):
    cfg = write_config(tmp_path / "c.toml", db_config(mariadb, site.database) + f"\n[images]\n{images_toml}\n{extra}")
    r = run_cli("triage", "--config", str(cfg), "--only", "images", "--format", "json", env=db_env)
    assert r.returncode in (0, 1, 2, 3), r.stderr
    got = {}
    for f in json.loads(r.stdout)["findings"]:
        got.setdefault(f["target"].split('"')[1], {})[(f["code"], f["severity"])] = f["summary"]
    return got


OK = ("TEMPLATE_CHECKSUM_OK", "INFO")
EXPECTED = {
    "good": {OK},
    "corrupted": {("TEMPLATE_CHECKSUM_MISMATCH", "CRIT")},
    "missing": {("TEMPLATE_FILE_MISSING", "CRIT")},
    "size-zero": {("TEMPLATE_PROPERTIES_INVALID", "CRIT"), OK},  # the file is fine, its properties are not
    "upper": {("TEMPLATE_CHECKSUM_CASE", "WARN")},
    "md5": {OK},
    "unsealed": {OK},  # over SSH only the checksum: linting reads the image, which needs a local mount
}


def test_integrity_over_ssh_on_the_ssvm(store_site, sshd, mariadb, site, db_env, tmp_path):
    root, _ = store_site
    ssh = f'\n[ssh]\nuser = "root"\nkey_file = "{sshd.client_key}"\nknown_hosts = "{sshd.known_hosts}"\n'
    got = _triage(
        tmp_path,
        mariadb,
        site,
        db_env,
        f'all = true\nssvm_hosts = ["127.0.0.1:{sshd.port}"]\nssvm_mount_path = "{root}"\n',
        ssh,
    )
    assert {k: set(v) for k, v in got.items()} == EXPECTED
    assert "MiB/s" in got["good"][OK] and "sha256" in got["good"][OK]
    assert "md5" in got["md5"][OK]
    assert "size is 0" in got["size-zero"][("TEMPLATE_PROPERTIES_INVALID", "CRIT")]


def test_integrity_through_a_local_mount_with_lint(store_site, mariadb, site, db_env, tmp_path):
    root, ids = store_site
    got = _triage(
        tmp_path,
        mariadb,
        site,
        db_env,
        f'templates = [{ids["good"]}, "corrupted", "unsealed"]\n'
        f'local_mounts = {{"nfs://198.18.210.1/export/secondary" = "{root}"}}\n',
    )
    assert {k: set(v) for k, v in got.items()} == {
        "good": EXPECTED["good"],
        "corrupted": EXPECTED["corrupted"],
        "unsealed": {OK} | set(HYGIENE_SEVERITY.items()),
    }


def test_gate_verify_checksum(store_site, mariadb, site, db_env, tmp_path):
    root, _ = store_site
    cfg = write_config(
        tmp_path / "g.toml",
        db_config(mariadb, site.database)
        + f'\n[images]\nlocal_mounts = {{"nfs://198.18.210.1/export/secondary" = "{root}"}}\n',
    )
    r = run_cli(
        "gate", "--config", str(cfg), "--template", "corrupted", "--verify-checksum", "--allow-unknown", env=db_env
    )
    assert r.returncode == 1, r.stderr
    assert "TEMPLATE_CHECKSUM_MISMATCH" in r.stdout + r.stderr


def test_hash_throughput_is_measured(tmp_path):
    """A small stand-in for bench/images.py: hashlib against sha256sum on the same file."""
    from diagnostics.sources.templatefiles import hash_file

    f = tmp_path / "blob"
    f.write_bytes(bytes(8 << 20))
    ours = hash_file(f, "sha256")
    theirs = subprocess.run(["sha256sum", str(f)], capture_output=True, text=True, check=True).stdout.split()[0]
    assert ours["digest"] == theirs and ours["bytes"] == 8 << 20 and ours["seconds"] >= 0


def test_nothing_selected_and_no_way_to_read(store_site, mariadb, site, db_env, tmp_path):
    from tests.services import free_port

    cfg = write_config(tmp_path / "n.toml", db_config(mariadb, site.database) + "\n[images]\n")
    r = run_cli("triage", "--config", str(cfg), "--only", "images", "--format", "json", env=db_env)
    assert [f["code"] for f in json.loads(r.stdout)["findings"]] == ["IMAGES_NOT_SELECTED"]
    unreachable = _triage(
        tmp_path,
        mariadb,
        site,
        db_env,
        f'templates = ["good"]\nssvm_hosts = ["127.0.0.1:{free_port()}"]\n',
        "\n[ssh]\nconnect_timeout_s = 2\n",
    )
    assert set(unreachable["good"]) == {("TEMPLATE_NOT_VERIFIED", "UNKNOWN")}


def test_a_hung_local_mount_is_not_verified_and_does_not_hang(store_site, mariadb, site, db_env, tmp_path):
    import time

    from tests.services.fusefs import fuse_mount

    with fuse_mount("hang", tmp_path / "dead") as dead:
        t0 = time.monotonic()
        got = _triage(
            tmp_path,
            mariadb,
            site,
            db_env,
            f'templates = ["good"]\nlocal_mounts = {{"nfs://198.18.210.1/export/secondary" = "{dead}"}}\n',
            "\n[thresholds.images]\nmount_probe_timeout_s = 2\n",
        )
        elapsed = time.monotonic() - t0
    assert set(got["good"]) == {("TEMPLATE_NOT_VERIFIED", "UNKNOWN")}
    assert "no answer from statvfs/open within 2 s" in got["good"][("TEMPLATE_NOT_VERIFIED", "UNKNOWN")]
    assert elapsed < 20, elapsed


def _corrupt(image, *paths):
    """Break the extent header of each path's inode with debugfs (e2fsprogs): the file or folder is still
    listed, but reading it fails — a corrupted inode/extent, as a damaged template would have."""
    import shutil

    if not shutil.which("debugfs"):
        from tests.services import unavailable

        unavailable("debugfs not installed (apt-get install e2fsprogs)")
    for p in paths:
        r = subprocess.run(
            ["debugfs", "-w", "-R", f"set_inode_field {p} block[0] 0", str(image)],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert r.returncode == 0, r.stderr
    return image


def _judge(path, expect="raw"):
    from checks import image_hygiene, images

    raw = image_hygiene.lint_paths([str(path)])
    return list(images.evaluate(raw, images.ImagesParams(expect_format=expect)))


def test_an_unreadable_shadow_or_root_is_unknown_never_clean(built, tmp_path):
    """Before: any read error inside the image counted as "file absent", so a clean image whose /etc/shadow
    and /root could not be read was IMAGE_CLEAN (root password and private keys never looked at)."""
    import shutil

    broken = _corrupt(shutil.copy(built["clean_raw"], tmp_path / "broken.raw"), "/etc/shadow", "/root")
    findings = _judge(broken)
    by_code = {f.code: f for f in findings}
    assert "IMAGE_CLEAN" not in by_code
    unreadable = by_code["IMAGE_UNREADABLE"]
    assert unreadable.severity.value == "UNKNOWN"
    assert "/etc/shadow" in unreadable.summary and "/root" in unreadable.summary
    assert "IMAGE_NO_CLOUD_INIT" not in by_code  # what could be read is still judged, without false alarms


def test_an_unreadable_part_does_not_hide_what_was_read(built, tmp_path):
    import shutil

    from tests.services import images as im

    faulty = im.ext4(im.root_tree(tmp_path / "f", {"private_keys", "root_password"}), tmp_path / "f.raw")
    broken = _corrupt(shutil.copy(faulty, tmp_path / "f2.raw"), "/root")
    codes_found = {f.code for f in _judge(broken)}
    assert {"IMAGE_ROOT_PASSWORD", "IMAGE_PRIVATE_KEYS", "IMAGE_UNREADABLE"} <= codes_found  # /home still read
    assert {f.code for f in _judge(built["clean_raw"])} == {"IMAGE_CLEAN"}  # the healthy case stays clean


def test_lint_hashing_stops_at_the_deadline_and_says_so(built):
    """The hash of `image lint` honours the check's deadline (a deadline already past: at the first block)."""
    import time

    from checks import image_hygiene, images

    raw = image_hygiene.lint_paths([str(built["clean"])], deadline=time.monotonic() - 1)
    [facts] = raw.data["images"]
    assert facts["error"]["kind"] == "Timeout" and "deadline" in facts["error"]["message"]
    [finding] = [f for f in images.evaluate(raw, images.ImagesParams()) if f.code == "IMAGE_UNREADABLE"]
    assert finding.severity.value == "UNKNOWN"
