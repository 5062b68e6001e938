"""The mtu check on real namespace topologies: every classification, with the guilty hop or interface."""

import json
import subprocess
import sys

import pytest

from tests.conftest import run_cli, write_config
from tests.services.netns import storage_paths, topology

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def net():
    with topology() as t:
        names = storage_paths(t)
        t.link(names["client"], "198.18.4.1/24", 1500, t.ns("slow"), "198.18.4.2/24", 1500)  # local MTU 1500
        yield t, names


def cli_in(ns, *args):
    """csdiag run inside the namespace ``ns``."""
    r = run_cli(*args, netns=ns, timeout=180)
    assert r.returncode in (0, 1, 2, 3), r.stderr
    return r


def probe(ns, *args):
    r = cli_in(ns, "mtu", "probe", *args, "--timeout", "0.5", "--format", "json")
    return {f["target"].split(" → ")[1]: f for f in json.loads(r.stdout)["findings"]}


def triage_mtu(ns, cfg):
    r = cli_in(ns, "triage", "--config", str(cfg), "--only", "mtu", "--format", "json")
    return r, json.loads(r.stdout)["findings"]


@pytest.mark.parametrize("kind", ["icmp", "udp"])
def test_classifications(net, kind):
    _, n = net
    by = probe(n["client"], n["server_ip"], n["lan_ip"], n["nobody_ip"], "198.18.4.2", "--kind", kind)
    hop = by[n["server_ip"]]
    assert hop["code"] == "MTU_PATH_TOO_SMALL" and "hop 198.18.1.1 reports MTU 1500" in hop["summary"]
    assert {m["name"]: m["value"] for m in hop["metrics"]}["path_mtu_bytes"] == 1500
    hole = by[n["lan_ip"]]
    assert hole["code"] == "MTU_BLACKHOLE"
    largest = {m["name"]: m["value"] for m in hole["metrics"]}["largest_passing_bytes"]
    assert 1500 <= largest <= 1518  # receivers accept a few bytes over their MTU (probing.md §1)
    assert by[n["nobody_ip"]]["code"] == "MTU_UNREACHABLE" and by[n["nobody_ip"]]["severity"] == "UNKNOWN"
    local = by["198.18.4.2"]
    assert local["code"] == "MTU_LOCAL_TOO_SMALL" and "has MTU 1500" in local["summary"]
    assert "interface v" in local["summary"]  # the veth's name


def test_fix_between_runs_is_seen_despite_the_pmtu_cache(net):
    t, n = net
    assert probe(n["client"], n["server_ip"])[n["server_ip"]]["code"] == "MTU_PATH_TOO_SMALL"
    cached = subprocess.run(
        ["ip", "netns", "exec", n["client"], "ip", "route", "get", n["server_ip"]], capture_output=True, text=True
    ).stdout
    t.set_mtu(n["router"], "198.18.2.1", 9000)
    t.set_mtu(n["server"], n["server_ip"], 9000)
    try:
        ok = probe(n["client"], n["server_ip"])[n["server_ip"]]
        assert ok["code"] == "MTU_PATH_OK", (ok, cached)
        assert "mtu 1500" in cached  # the kernel still had the lower PMTU cached: PROBE mode ignored it
    finally:
        t.set_mtu(n["router"], "198.18.2.1", 1500)
        t.set_mtu(n["server"], n["server_ip"], 1500)


def test_triage_and_mtu_probe_agree(net, tmp_path):
    _, n = net
    cfg = write_config(
        tmp_path / "c.toml", f'[mtu]\ntargets = ["{n["server_ip"]}", "{n["lan_ip"]}"]\ntimeout_s = 0.5\n'
    )
    r, findings = triage_mtu(n["client"], cfg)
    triage = sorted((f["code"], f["target"]) for f in findings)
    probed = sorted((f["code"], f["target"]) for f in probe(n["client"], n["server_ip"], n["lan_ip"]).values())
    assert triage == probed
    assert r.returncode == 2


def test_bad_names(net):
    _, n = net
    by = probe(n["client"], "no-such-host.invalid")
    assert by["no-such-host.invalid"]["code"] == "MTU_NOT_TESTED"
    r = subprocess.run(
        [sys.executable, "-m", "diagnostics.cli", "mtu", "probe", "x", "--mtu", "100"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 64


def test_remote_vantage_through_sshd_in_the_topology(net, tmp_path):
    """sshd runs inside the client namespace; the check SSHes to it and runs ping -M probe there."""
    from tests.services.sshd import sshd_server

    _, n = net
    with sshd_server(netns=n["client"]) as sshd:
        cfg = write_config(
            tmp_path / "c.toml",
            f"""
[mtu]
targets = ["{n["server_ip"]}", "{n["lan_ip"]}", "{n["router_ip"]}", "{n["nobody_ip"]}"]
local = false
from_hosts = ["127.0.0.1:{sshd.port}"]
timeout_s = 1
[ssh]
user = "root"
key_file = "{sshd.client_key}"
known_hosts = "{sshd.known_hosts}"
""",
        )
        _, findings = triage_mtu(n["client"], cfg)
    by = {f["target"]: f for f in findings}
    assert by[f"127.0.0.1 → {n['server_ip']}"]["code"] == "MTU_PATH_TOO_SMALL"
    # first run: the router's frag-needed; after the local probes of this module the kernel may have the
    # PMTU cached, which ping -M do reports as a local error: both name MTU 1500 for this path
    assert "MTU 1500" in by[f"127.0.0.1 → {n['server_ip']}"]["summary"]
    assert by[f"127.0.0.1 → {n['lan_ip']}"]["code"] == "MTU_BLACKHOLE"
    assert by[f"127.0.0.1 → {n['router_ip']}"]["code"] == "MTU_PATH_OK"
    assert by[f"127.0.0.1 → {n['nobody_ip']}"]["code"] == "MTU_UNREACHABLE"


def test_router_that_filters_frag_needed_is_a_blackhole():
    """The router sends no ICMP 'fragmentation needed' (an nftables rule drops it): big packets vanish."""
    import shutil

    from tests.services import unavailable
    from tests.services.netns import sh

    if not shutil.which("nft"):
        unavailable("nft not installed (apt-get install nftables; `make test` does it as root)")
    with topology() as t:
        n = storage_paths(t)
        rules = (
            "add table inet csdiag; add chain inet csdiag out { type filter hook output priority 0; }; "
            "add rule inet csdiag out icmp type destination-unreachable icmp code frag-needed drop"
        )
        sh("ip", "netns", "exec", n["router"], "nft", rules)
        by = probe(n["client"], n["server_ip"])
    hole = by[n["server_ip"]]
    assert hole["code"] == "MTU_BLACKHOLE", hole
    assert 1500 <= {m["name"]: m["value"] for m in hole["metrics"]}["largest_passing_bytes"] <= 1518


def test_ipv6_packet_too_big_names_the_router():
    from tests.services.netns import sh

    with topology() as t:
        client, router, server = t.namespaces[0], t.ns("rt6"), t.ns("sv6")
        # forwarding on before the links exist: enabled afterwards, this kernel did not forward the echoes
        for key in ("all", "default"):
            sh("ip", "netns", "exec", router, "sysctl", "-qw", f"net.ipv6.conf.{key}.forwarding=1")
        t.link(client, "2001:db8:1::2/64", 9000, router, "2001:db8:1::1/64", 9000)
        t.link(router, "2001:db8:2::1/64", 1500, server, "2001:db8:2::2/64", 1500)
        t.route(client, "2001:db8:2::/64", "2001:db8:1::1")
        t.route(server, "2001:db8:1::/64", "2001:db8:2::1")
        # neighbour discovery takes about a second on first contact: settle it before probing
        subprocess.run(
            ["ip", "netns", "exec", client, "ping", "-6", "-c", "2", "-W", "2", "2001:db8:2::2"],
            capture_output=True,
            timeout=20,
        )
        by = probe(client, "2001:db8:2::2", "2001:db8:1::1")
    assert by["2001:db8:2::2"]["code"] == "MTU_PATH_TOO_SMALL", by
    assert "hop 2001:db8:1::1 reports MTU 1500" in by["2001:db8:2::2"]["summary"]
    assert by["2001:db8:1::1"]["code"] == "MTU_PATH_OK"
