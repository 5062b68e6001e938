"""The storage check's ONC RPC probe against a real NFS server (nfs-ganesha in a namespace), the three
vantage points agreeing on one export, and servers that misbehave; no probe file is ever left behind."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli, write_config
from tests.services.ganesha import Export, ganesha
from tests.services.netns import topology
from tests.services.sshd import sshd_server

pytestmark = pytest.mark.integration
MiB = 1024 * 1024


def _tmpfs(d: Path, size: str) -> Path:
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(d)], check=True, timeout=10)
    return d


def _fill(d: Path) -> None:
    """Write until the file system is full."""
    with (d / "template.qcow2").open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


@pytest.fixture(scope="module")
def nfs(tmp_path_factory):
    base = tmp_path_factory.mktemp("exports")
    dirs = {
        "rw": _tmpfs(base / "rw", "64m"),
        "full": _tmpfs(base / "full", "1m"),
        "nospace": _tmpfs(base / "nospace", "1m"),
        "acl": _tmpfs(base / "acl", "8m"),
    }
    (dirs["full"] / "template.qcow2").write_bytes(b"\0" * (960 * 1024))
    _fill(dirs["nospace"])
    for name in ("ro", "squash"):
        dirs[name] = base / name
        dirs[name].mkdir()
    exports = [
        Export(dirs["rw"]),
        Export(dirs["full"]),
        Export(dirs["nospace"]),
        Export(dirs["ro"], access="RO"),
        Export(dirs["squash"], squash="Root_Squash"),
        Export(dirs["acl"], access="None", clients="198.18.99.0/24"),
    ]
    try:
        with topology() as t, ganesha(t, exports) as server, sshd_server(netns=server.netns) as sshd:
            yield server, sshd, dirs
    finally:
        for d in ("rw", "full", "nospace", "acl"):
            subprocess.run(["umount", "-l", str(dirs[d])], capture_output=True, timeout=10, check=False)


def triage(tmp_path, netns, entries, extra=""):
    body = ""
    for e in entries:
        body += f"[[storage]]\nurl = {json.dumps(e['url'])}\nmodes = {json.dumps(e.get('modes', ['protocol']))}\n"
        body += f"largest_template_bytes = {e.get('largest', MiB)}\n"
        for key in ("mount_path", "ssvm_mount_path", "ssvm_hosts"):
            if key in e:
                body += f"{key} = {json.dumps(e[key])}\n"
    cfg = write_config(
        tmp_path / "c.toml",
        "[run]\ncheck_timeout_s = 60\n" + body + "[thresholds.storage]\nprobe_timeout_s = 3\n" + extra,
    )
    t0 = time.monotonic()
    r = run_cli("triage", "--config", str(cfg), "--only", "storage", "--format", "json", netns=netns, cwd=tmp_path)
    assert r.returncode in (0, 1, 2, 3), r.stderr
    return json.loads(r.stdout)["findings"], time.monotonic() - t0


def url(path):
    return f"nfs://127.0.0.1{path}"


def no_leftovers(dirs):
    for d in dirs.values():
        left = [p.name for p in Path(d).iterdir() if p.name.startswith(".csdiag-probe-")]
        assert not left, f"probe files left in {d}: {left}"


def test_three_vantage_points_agree_on_capacity(nfs, tmp_path):
    server, sshd, dirs = nfs
    rw = str(dirs["rw"])
    extra = f'\n[ssh]\nuser = "root"\nkey_file = "{sshd.client_key}"\nknown_hosts = "{sshd.known_hosts}"\n'
    entry = {
        "url": url(rw),
        "modes": ["protocol", "mounted", "ssvm"],
        "mount_path": rw,
        "ssvm_hosts": [f"127.0.0.1:{sshd.port}"],
        "ssvm_mount_path": rw,
    }
    findings, _ = triage(tmp_path, server.netns, [entry], extra)
    assert sorted(f["code"] for f in findings) == ["NFS_OK"] * 3, findings
    metrics = {f["target"].split(" from ")[1]: {m["name"]: m["value"] for m in f["metrics"]} for f in findings}
    assert set(metrics) == {"this host (NFS protocol)", "this host", "127.0.0.1"}
    totals = {m["total_bytes"] for m in metrics.values()}
    assert totals == {64 * MiB}, metrics  # FSSTAT tbytes, statvfs and df agree exactly on a tmpfs
    avail = [m["available_bytes"] for m in metrics.values()]
    assert max(avail) - min(avail) <= 256 * 1024, avail  # only the 64 KiB probe files may differ
    assert metrics["this host (NFS protocol)"]["rpc_null_ms"] > 0
    no_leftovers(dirs)


def test_every_export_fault_over_the_protocol(nfs, tmp_path):
    server, sshd, dirs = nfs
    ssh = f'\n[ssh]\nuser = "root"\nkey_file = "{sshd.client_key}"\nknown_hosts = "{sshd.known_hosts}"\n'
    ssvm = {"ssvm_hosts": [f"127.0.0.1:{sshd.port}"], "ssvm_mount_path": str(dirs["acl"])}
    (dirs["rw"] / ".csdiag-probe-1700000000-interrupted").write_bytes(b"x")  # a crashed earlier run
    entries = [
        {"url": url(dirs["rw"])},
        {"url": url(dirs["ro"])},
        {"url": url(dirs["squash"])},
        {"url": url(dirs["full"]), "largest": 100 * 1024},
        {"url": url(dirs["nospace"]), "largest": 1024},
        {"url": url(dirs["acl"]), "modes": ["protocol", "ssvm"], **ssvm},  # the SSVM may, this host may not
        {"url": url("/export/not-there")},
    ]
    findings, _ = triage(tmp_path, server.netns, entries, ssh)
    got = {}
    for f in findings:
        got.setdefault(f["target"].split(" from ")[0], []).append((f["code"], f["severity"]))
    assert got[url(dirs["rw"])] == [("NFS_OK", "INFO")]
    assert got[url(dirs["ro"])] == [("NFS_READ_ONLY", "CRIT")]
    assert got[url(dirs["squash"])] == [("NFS_ROOT_SQUASH", "CRIT")]
    assert sorted(got[url(dirs["full"])]) == [("NFS_ABOVE_THRESHOLD", "CRIT"), ("NFS_CAPACITY_LOW", "CRIT")]
    assert ("NFS_WRITE_FAILED", "CRIT") in got[url(dirs["nospace"])]
    assert got[url(dirs["acl"])] == [("NFS_NOT_ALLOWED_FROM_HERE", "INFO"), ("NFS_OK", "INFO")]
    # ganesha answers ACCES for a path it does not export and lists only what this client may mount:
    # without another vantage point that is "missing, or exported to others only"
    assert got[url("/export/not-there")] == [("NFS_EXPORT_MISSING", "WARN")]
    missing = next(f for f in findings if f["code"] == "NFS_EXPORT_MISSING")
    assert "only to other clients" in missing["summary"]
    assert str(dirs["rw"]) in missing["summary"]  # what the server does export
    ok = next(f for f in findings if f["code"] == "NFS_OK" and "NFS protocol" in f["target"])
    probe = ok["evidence"][0]["data"]
    assert probe["leftovers_removed"] == [".csdiag-probe-1700000000-interrupted"]
    assert probe["reserved_port"] is True  # root binds a source port below 1024
    assert [s["step"] for s in probe["steps"]][-4:] == ["CREATE", "WRITE (FILE_SYNC)", "READ back", "REMOVE"]
    squash = next(f for f in findings if f["code"] == "NFS_ROOT_SQUASH")
    assert "no_root_squash" in squash["remediation"]
    no_leftovers(dirs)


def test_without_the_write_probe_access_still_tells(nfs, tmp_path):
    server, _, dirs = nfs
    findings, _ = triage(
        tmp_path, server.netns, [{"url": url(dirs["rw"])}, {"url": url(dirs["ro"])}], "write_probe = false\n"
    )
    codes = sorted((f["target"].split(" from ")[0], f["code"]) for f in findings)
    assert codes == [(url(dirs["ro"]), "NFS_WRITE_FAILED"), (url(dirs["rw"]), "NFS_OK")]
    assert not any(s["step"] == "CREATE" for f in findings for s in f["evidence"][0]["data"]["steps"])


@pytest.fixture(scope="module")
def bad_servers():
    """A namespace where 127.0.0.1:111 accepts TCP and never answers, 127.0.0.2:111 answers garbage and
    127.0.0.3 refuses everything."""
    with topology() as t:
        ns = t.ns("bad")
        procs = []
        try:
            for mode, addr in (("silent", "127.0.0.1"), ("garbage", "127.0.0.2")):
                p = subprocess.Popen(
                    ["ip", "netns", "exec", ns, sys.executable, "-m", "tests.services.rpcstub", mode, addr, "111"],
                    stdout=subprocess.PIPE,
                    cwd=ROOT,
                )
                assert p.stdout and p.stdout.readline().strip() == b"ready"
                procs.append(p)
            yield ns
        finally:
            for p in procs:
                p.kill()
                p.wait(timeout=10)


def test_silent_garbage_and_refusing_servers(bad_servers, tmp_path):
    entries = [{"url": f"nfs://127.0.0.{i}/export/secondary"} for i in (1, 2, 3)]
    findings, elapsed = triage(tmp_path, bad_servers, entries)
    got = {f["target"].split(" from ")[0]: (f["code"], f["severity"], f["summary"]) for f in findings}
    assert got["nfs://127.0.0.1/export/secondary"][:2] == ("NFS_UNREACHABLE", "UNKNOWN")
    assert "RPC does not reply" in got["nfs://127.0.0.1/export/secondary"][2]
    assert got["nfs://127.0.0.2/export/secondary"][:2] == ("NFS_PROTOCOL_ERROR", "UNKNOWN")
    assert got["nfs://127.0.0.3/export/secondary"][:2] == ("NFS_UNREACHABLE", "UNKNOWN")
    assert "refused" in got["nfs://127.0.0.3/export/secondary"][2]
    assert elapsed < 15, elapsed  # the silent server costs one 3 s probe deadline, probes run in parallel
