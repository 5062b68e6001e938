"""The logs check reads a rotated SSVM log set over real SSH (OpenSSH sshd on loopback, key auth,
host-key checking), and refuses a changed or unknown host key."""

import gzip
import json

import pytest

from tests.conftest import ROOT, run_cli, write_config

pytestmark = pytest.mark.integration
LOGS = ROOT / "tests/data/logs"


@pytest.fixture
def rotated(tmp_path):
    d = tmp_path / "ssvm-var-log"
    d.mkdir()
    line = "{ts} ERROR [storage.template.DownloadManagerImpl] (pool-1-thread-4:[]) Unable to download due to No space left on device\n"
    with gzip.open(d / "cloud.2.log.gz", "wt") as g:
        g.write(line.format(ts="2025-03-11T18:00:00,000"))
    (d / "cloud.1.log").write_text(line.format(ts="2025-03-11T19:00:00,000"))
    (d / "cloud.log").write_text((LOGS / "cloud.log").read_text())
    (d / "agent.log").write_text("not an SSVM log\n")
    return d


def config(tmp_path, sshd, logdir, known_hosts=None, extra=""):
    return write_config(
        tmp_path / "c.toml",
        f"""
[logs]
management = []
ssvm = ["{logdir}/cloud*.log*"]
ssvm_hosts = ["127.0.0.1:{sshd.port}"]
since = "2020-01-01"

[ssh]
user = "root"
key_file = "{sshd.client_key}"
known_hosts = "{known_hosts or sshd.known_hosts}"
connect_timeout_s = 5
{extra}""",
    )


def run(cfg, tmp_path):
    r = run_cli("triage", "--config", str(cfg), "--only", "logs", "--format", "json", cwd=tmp_path)
    assert r.returncode in (0, 1, 2, 3), r.stderr
    return json.loads(r.stdout)["findings"]


def test_rotated_set_over_ssh(sshd, rotated, tmp_path):
    findings = run(config(tmp_path, sshd, rotated), tmp_path)
    full = next(f for f in findings if f["code"] == "STORAGE_FULL")
    assert full["count"] == 3  # .gz, .1 and the live file, oldest first
    assert full["first_seen"].startswith("2025-03-11T18:00") and full["last_seen"].startswith("2025-03-11T20:57")
    assert full["target"] == "ssvm at 127.0.0.1"
    sources = [e["source"] for e in full["evidence"]]
    assert sources[0] == f"127.0.0.1:{rotated}/cloud.2.log.gz:1"
    assert f"127.0.0.1:{rotated}/cloud.log:" in sources[-1]
    codes = {f["code"] for f in findings}
    assert {"CHECKSUM_MISMATCH", "NFS_MOUNT_FAILED", "AGENT_DISCONNECTED", "DOWNLOAD_FAILED"} <= codes
    scanned = next(f for f in findings if f["code"] == "LOGS_SCANNED")
    assert scanned["summary"].startswith("3 files")


def test_changed_host_key_is_refused(sshd, rotated, tmp_path):
    other = tmp_path / "other_key"
    import subprocess

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    wrong = tmp_path / "known_hosts"
    wrong.write_text(sshd.known_hosts_line(" ".join(other.with_suffix(".pub").read_text().split()[:2])))
    findings = run(config(tmp_path, sshd, rotated, known_hosts=wrong), tmp_path)
    bad = [f for f in findings if f["code"] == "LOG_SOURCE_UNAVAILABLE"]
    assert len(bad) == 1 and "host key changed" in bad[0]["summary"]
    assert not any(f["code"] == "STORAGE_FULL" for f in findings)


def test_unknown_host_key_needs_explicit_opt_in(sshd, rotated, tmp_path):
    empty = tmp_path / "empty_known_hosts"
    empty.write_text("")
    findings = run(config(tmp_path, sshd, rotated, known_hosts=empty), tmp_path)
    [bad] = [f for f in findings if f["code"] == "LOG_SOURCE_UNAVAILABLE"]
    assert "unknown host key" in bad["summary"]
    findings = run(
        config(tmp_path, sshd, rotated, known_hosts=empty, extra="accept_unknown_host_keys = true"), tmp_path
    )
    assert any(f["code"] == "STORAGE_FULL" for f in findings)


def test_refused_and_missing(sshd, rotated, tmp_path):
    from tests.services import free_port

    cfg = config(tmp_path, sshd, rotated)
    text = cfg.read_text().replace(f'"127.0.0.1:{sshd.port}"', f'"127.0.0.1:{sshd.port}", "127.0.0.1:{free_port()}"')
    text = text.replace(
        f'ssvm = ["{rotated}/cloud*.log*"]', f'ssvm = ["{rotated}/cloud*.log*", "/nonexistent/cloud.log"]'
    )
    cfg.write_text(text)
    findings = run(cfg, tmp_path)
    codes = [(f["code"], f["target"]) for f in findings if f["severity"] == "UNKNOWN"]
    assert ("LOG_FILE_MISSING", "127.0.0.1:/nonexistent/cloud.log") in codes
    assert any(c == "LOG_SOURCE_UNAVAILABLE" for c, _ in codes)
    assert any(f["code"] == "STORAGE_FULL" for f in findings)  # the reachable host is still read


def test_cursors_over_ssh(sshd, rotated, tmp_path):
    cfg = config(tmp_path, sshd, rotated, extra="")
    cfg.write_text(
        cfg.read_text().replace(
            'since = "2020-01-01"',
            f'since = "2020-01-01"\nincremental = true\ncursor_file = "{tmp_path / "cursors.sqlite"}"',
        )
        + f'\n[history]\nurl = "sqlite:///{tmp_path / "history.sqlite"}"\nrecord = true\n'
    )
    assert next(f for f in run(cfg, tmp_path) if f["code"] == "STORAGE_FULL")["count"] == 3
    assert not any(f["code"] == "STORAGE_FULL" for f in run(cfg, tmp_path))
    with (rotated / "cloud.log").open("a") as f:
        f.write(
            "2025-03-12T08:00:00,000 ERROR [storage.template.DownloadManagerImpl] (pool-1-thread-4:[]) "
            "Unable to download due to No space left on device\n"
        )
    [full] = [f for f in run(cfg, tmp_path) if f["code"] == "STORAGE_FULL"]
    assert full["count"] == 1 and full["evidence"][0]["source"].endswith("cloud.log:10")
