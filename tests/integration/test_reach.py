"""The reach check from a real SSH "SSVM" (sshd on loopback) against real HTTP servers on loopback."""

import json
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import ROOT, db_config, run_cli, write_config
from tests.services import free_port, unavailable
from tests.services.web import DELAY, web_server

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def web():
    with web_server() as w:
        yield {"base": w.base, "silent": w.silent}


@pytest.fixture
def ssvm_files(tmp_path):
    mgmt = socket.socket()
    mgmt.bind(("127.0.0.1", 0))
    mgmt.listen(8)
    port = mgmt.getsockname()[1]
    cmdline = tmp_path / "cmdline"
    cmdline.write_text(f"template=domP type=secstorage host=127.0.0.1,127.0.0.2 port={port} name=s-7-VM mtu=1500\n")
    # The real script's output on an SSVM whose store is mounted read-only (tests/data/ssvm_check/SOURCE.md).
    transcript = ROOT / "tests/data/ssvm_check/readonly_nfs.txt"
    check = tmp_path / "ssvm-check.sh"
    check.write_text(f"#!/bin/bash\ngrep -v '^EXIT ' {transcript}\nexit 0\n")
    check.chmod(0o755)
    yield cmdline, check
    mgmt.close()


def config(tmp_path, sshd, cmdline, check, urls, hosts=None, extra=""):
    hosts = hosts or [f"127.0.0.1:{sshd.port}"]
    return write_config(
        tmp_path / "c.toml",
        f"""
[run]
check_timeout_s = 40
[reach]
from_hosts = {json.dumps(hosts)}
urls = {json.dumps(urls)}
cmdline_path = "{cmdline}"
ssvm_check_path = "{check}"
allowed_internal_sites = ["127.0.0.0/8"]
max_template_size_gb = 50
sample = 0  # the seeded default templates' URLs name internet hosts: the tests probe loopback only
[thresholds.reach]
latency_warn_ms = 300
probe_timeout_s = 3
[ssh]
user = "root"
key_file = "{sshd.client_key}"
known_hosts = "{sshd.known_hosts}"
{extra}""",
    )


def findings(cfg, tmp_path):
    r = run_cli("triage", "--config", str(cfg), "--only", "reach", "--format", "json", cwd=tmp_path)
    assert r.returncode in (0, 1, 2, 3), r.stderr
    return json.loads(r.stdout)["findings"]


def test_every_code_from_an_ssvm(sshd, web, ssvm_files, tmp_path):
    base = web["base"]
    urls = [
        f"{base}/ok",
        f"{base}/missing",
        f"{base}/moved",
        f"{base}/huge",
        f"{base}/slow",
        f"http://127.0.0.1:{web['silent']}/hang.qcow2",
        f"http://127.0.0.1:{free_port()}/closed.qcow2",
    ]
    fs = findings(config(tmp_path, sshd, *ssvm_files, urls), tmp_path)
    by = {(f["code"], f["target"].split(" → ", 1)[1]): f for f in fs}
    assert ("TEMPLATE_URL_OK", f"{base}/ok") in by
    assert "Accept-Ranges bytes" in by[("TEMPLATE_URL_OK", f"{base}/ok")]["summary"]
    assert "HTTP 404" in by[("TEMPLATE_URL_HTTP_ERROR", f"{base}/missing")]["summary"]
    assert ("TEMPLATE_URL_REDIRECT", f"{base}/moved") in by
    assert ("TEMPLATE_URL_TOO_LARGE", f"{base}/huge") in by
    slow = by[("TEMPLATE_URL_SLOW", f"{base}/slow")]
    first_byte = next(m["value"] for m in slow["metrics"] if m["name"] == "first_byte_ms")
    assert abs(first_byte - DELAY * 1000) <= 0.2 * DELAY * 1000, first_byte
    assert "timed out" in by[("TEMPLATE_URL_UNREACHABLE", f"http://127.0.0.1:{web['silent']}/hang.qcow2")]["summary"]
    closed = [k for k in by if k[0] == "TEMPLATE_URL_UNREACHABLE" and "closed" in k[1]]
    assert closed and "refused" in by[closed[0]]["summary"]
    assert not any(k[0] == "TEMPLATE_URL_INTERNAL_NOT_ALLOWED" for k in by)  # 127.0.0.0/8 is allowed here
    mgmt = [f for f in fs if f["code"] == "SSVM_MGMT_UNREACHABLE"]
    assert [f["target"].split(" → ")[1].split(":")[0] for f in mgmt] == ["127.0.0.2"]
    [check] = [f for f in fs if f["code"].startswith("SSVM_CHECK")]
    assert check["code"] == "SSVM_CHECK_FAILED" and "root squash" in check["summary"]
    assert "/mnt/SecStorage/5dc2ba2c-1f2b-3e5b-9a41-6b7f44e8f2e1" in check["summary"]
    assert "cannot fail" in check["details"]  # the script's own 8250 test
    assert all(f["target"].startswith("127.0.0.1 → ") for f in fs)


def test_internal_address_outside_allowed_sites(sshd, web, ssvm_files, tmp_path):
    cfg = config(tmp_path, sshd, *ssvm_files, [f"{web['base']}/ok"])
    cfg.write_text(
        cfg.read_text().replace('allowed_internal_sites = ["127.0.0.0/8"]', 'allowed_internal_sites = ["192.0.2.0/24"]')
    )
    fs = findings(cfg, tmp_path)
    [f] = [f for f in fs if f["code"] == "TEMPLATE_URL_INTERNAL_NOT_ALLOWED"]
    assert "192.0.2.0/24" in f["summary"]


def test_all_ssvms_in_parallel_within_the_deadline(sshd, web, ssvm_files, tmp_path):
    """Two vantage points, each with a URL that hangs: both finish, in about one probe timeout, not two."""
    (sshd.known_hosts).write_text(sshd.known_hosts_line() + f"[localhost]:{sshd.port} {sshd.host_pub}\n")
    hang = f"http://127.0.0.1:{web['silent']}/hang.qcow2"
    cfg = config(tmp_path, sshd, *ssvm_files, [hang], hosts=[f"127.0.0.1:{sshd.port}", f"localhost:{sshd.port}"])
    t0 = time.monotonic()
    fs = findings(cfg, tmp_path)
    elapsed = time.monotonic() - t0
    hung = sorted(f["target"].split(" → ")[0] for f in fs if f["code"] == "TEMPLATE_URL_UNREACHABLE")
    assert hung == ["127.0.0.1", "localhost"]
    assert elapsed < 3 * 2 + 4, elapsed  # one 3 s curl timeout (plus SSH and start-up), not two in a row


def test_unreachable_ssvm_is_unknown(sshd, web, ssvm_files, tmp_path):
    cfg = config(tmp_path, sshd, *ssvm_files, [f"{web['base']}/ok"], hosts=[f"127.0.0.1:{free_port()}"])
    [f] = findings(cfg, tmp_path)
    assert f["code"] == "REACH_NOT_TESTED" and "cannot probe" in f["summary"]


@pytest.fixture
def isolated_netns():
    """A network namespace with only loopback and a resolver that answers nothing: DNS fails fast, and no
    query leaves the namespace."""
    name = f"csdiag-{uuid.uuid4().hex[:8]}"
    try:
        subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True, timeout=10)
    except (OSError, subprocess.CalledProcessError) as exc:
        unavailable(f"cannot create a network namespace: {exc}")
    etc = Path("/etc/netns") / name
    etc.mkdir(parents=True, exist_ok=True)
    (etc / "resolv.conf").write_text("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
    subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"], check=True, timeout=10)
    yield name
    subprocess.run(["ip", "netns", "delete", name], check=False, timeout=10)
    for f in etc.iterdir():
        f.unlink()
    etc.rmdir()


def test_unresolvable_name_from_here(isolated_netns, tmp_path):
    import sys

    r = subprocess.run(
        [
            "ip",
            "netns",
            "exec",
            isolated_netns,
            sys.executable,
            "-m",
            "diagnostics.cli",
            "reach",
            "http://templates.no-such-domain.invalid/debian-12.qcow2",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    doc = json.loads(r.stdout)
    codes = [f["code"] for f in doc["findings"]]
    assert codes == ["TEMPLATE_URL_UNRESOLVABLE"], r.stderr
    assert r.returncode == 2


def test_secstorage_proxy_is_used_and_never_shown(sshd, web, ssvm_files, tmp_path, site, db_env):
    """secstorage.proxy (http://user:password@proxy:port) is what the SSVM downloads through: the probe uses
    it, and every output shows it as scheme://***@host:port."""
    port = free_port()  # nothing listens: the probe through the proxy must fail, and say it went through it
    site.setting("secstorage.proxy", f"http://csproxyuser:s3cr3t-Pw0rd@127.0.0.1:{port}", None)
    db = db_config(site.server, site.database).replace("[run]\ncheck_timeout_s = 20\n", "")
    cfg = config(tmp_path, sshd, *ssvm_files, [f"{web['base']}/ok"], extra=db)
    r = run_cli("triage", "--config", str(cfg), "--only", "reach", "--format", "json", cwd=tmp_path, env=db_env)
    assert "s3cr3t-Pw0rd" not in r.stdout + r.stderr and "csproxyuser" not in r.stdout + r.stderr
    assert r.stdout.startswith("{"), r.stderr[-2000:]
    fs = json.loads(r.stdout)["findings"]
    [f] = [f for f in fs if f["code"] == "TEMPLATE_URL_UNREACHABLE"]
    assert f"http://***@127.0.0.1:{port}" in f["summary"]
    bundle = tmp_path / "bundle"
    r = run_cli("collect", "--config", str(cfg), "--only", "reach", "--output", str(bundle), cwd=tmp_path, env=db_env)
    files = [p for p in bundle.rglob("*") if p.is_file()]
    assert files, r.stderr
    for path in files:
        data = path.read_bytes()
        assert b"s3cr3t-Pw0rd" not in data and b"csproxyuser" not in data, path
    assert any(f"http://***@127.0.0.1:{port}".encode() in p.read_bytes() for p in files)
