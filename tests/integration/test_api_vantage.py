"""The SSVM as a vantage point through CloudStack's runDiagnostics: the mtu and reach checks, run by their
real collect/evaluate with Settings, against the strict API stand-in whose runDiagnostics runs the real
ping/traceroute inside the "SSVM" namespace of the mtu topology (client —9000— router —1500— server).

Every address is in the test namespaces (198.18.0.0/15): nothing resolves or probes a real host.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import pytest

from checks import mtu, reach
from diagnostics.check import Check, CheckContext, RawEvidence
from diagnostics.config import parse_settings
from diagnostics.model import Finding, Severity
from tests.services.csapi import Key, Runner, StandIn, api_server
from tests.services.netns import Topology, storage_paths, topology

pytestmark = pytest.mark.integration

KEY, SECRET = "adminkey-vantage", "vantage-secret"
SSVM_ID = "5a3b0c1e-0000-4000-8000-000000000001"


def as_the_ssvm_runs_it(netns: str) -> Runner:
    """systemvm/debian/opt/cloud/bin/diagnostics.py at CloudStack b0601e5478: ``-c 4`` added to a ping
    without ``-c``, ``-m 20`` to a traceroute without ``-m``; shlex-split, no shell; output stripped."""

    def run(target: str, kind: str, ip: str, params: str) -> tuple[int, str, str]:
        assert target == SSVM_ID, target
        argv = [kind, ip, *shlex.split(params)]
        if kind == "ping" and "-c" not in argv:
            argv += ["-c", "4"]
        if kind == "traceroute" and "-m" not in argv:
            argv += ["-m", "20"]
        r = subprocess.run(
            ["ip", "netns", "exec", netns, *argv], capture_output=True, text=True, timeout=60, check=False
        )
        return r.returncode, r.stdout.strip(), r.stderr.strip()

    return run


def inetutils_ping(inner: Runner) -> Runner:
    """GNU inetutils ping (the systemvm template's) refuses -M: argp's message and EX_USAGE (64)."""

    def run(target: str, kind: str, ip: str, params: str) -> tuple[int, str, str]:
        if kind == "ping" and "-M" in params.split():
            return 64, "", "ping: invalid option -- 'M'\nTry 'ping --help' or 'ping --usage' for more information."
        return inner(target, kind, ip, params)

    return run


def scenario(net: dict[str, str], template_hosts: list[str], ssvm_mtu: str = "9000") -> StandIn:
    return StandIn(
        keys={
            KEY: Key(SECRET),
            "userkey": Key("usersecret", allowed={"listSystemVms", "listImageStores", "listTemplates"}),
        },
        job_delay_s=0.1,
        lists={
            "listSystemVms": [
                {
                    "id": SSVM_ID,
                    "name": "s-1-VM",
                    "systemvmtype": "secondarystoragevm",
                    "state": "Running",
                    "zoneid": "zone-1",
                    "privateip": "198.18.1.2",
                }
            ],
            "listImageStores": [
                {
                    "id": "store-1",
                    "name": "nfs-secondary",
                    "url": f"nfs://{net['server_ip']}/export/secondary",
                    "protocol": "nfs",
                    "providername": "NFS",
                    "scope": "ZONE",
                    "zoneid": "zone-1",
                }
            ],
            # ConfigurationResponse: name, value, defaultvalue, category (b0601e5478)
            "listConfigurations": [
                {"name": "secstorage.vm.mtu.size", "value": ssvm_mtu, "defaultvalue": "1500", "category": "Advanced"}
            ],
            "listTemplates": [
                {"id": f"t-{i}", "name": f"tpl-{i}", "url": f"http://{h}/t{i}.qcow2", "isready": True}
                for i, h in enumerate(template_hosts)
            ],
        },
    )


def settings(endpoint: str, monkeypatch: pytest.MonkeyPatch, key: str = KEY, secret: str = SECRET, **sections: Any):
    monkeypatch.setenv("CSDIAG_API_SECRET", secret)
    return parse_settings(
        {
            "cloudstack": {
                "source": "api",
                "api": {"endpoint": endpoint, "api_key": key, "secret_key_env": "CSDIAG_API_SECRET"},
            },
            **sections,
        }
    )


def run_check(check: Check[Any], cfg: Any, seconds: float = 40) -> tuple[RawEvidence, list[Finding]]:
    """The check's real entry: collect with a deadline, evaluate; and the same from the JSON evidence alone."""
    params = check.params()
    started = time.monotonic()
    raw = check.collect(CheckContext(settings=cfg, params=params, deadline=started + seconds))
    assert time.monotonic() - started < seconds + 1
    findings = list(check.evaluate(raw, params))
    replayed = list(check.evaluate(RawEvidence(data=json.loads(json.dumps(raw.data))), params))
    assert [(f.code, f.target, f.summary) for f in replayed] == [(f.code, f.target, f.summary) for f in findings]
    return raw, findings


def by_target(findings: list[Finding]) -> dict[str, Finding]:
    return {f.target: f for f in findings}


@pytest.fixture
def net() -> Iterator[tuple[Topology, dict[str, str]]]:
    """A fresh topology per test: no PMTU cached in the SSVM namespace from an earlier test."""
    with topology() as t:
        yield t, storage_paths(t, server_mtu=1500)


MTU = {"mtu": {"local": False, "timeout_s": 1}}


def test_mtu_through_run_diagnostics_finds_the_1500_hop(net, monkeypatch: pytest.MonkeyPatch) -> None:
    _, n = net
    standin = scenario(n, [n["router_ip"]], ssvm_mtu="1500")
    standin.runner = as_the_ssvm_runs_it(n["client"])
    with api_server(standin) as url:
        raw, findings = run_check(mtu.CHECK, settings(url, monkeypatch, **MTU))
    by = by_target(findings)
    assert by["secstorage.vm.mtu.size"].code == "SSVM_MTU_MISMATCH"  # CloudStack's own view, from the API
    hop = by[f"s-1-VM → {n['server_ip']}"]
    assert hop.code == "MTU_PATH_TOO_SMALL" and hop.severity is Severity.CRIT
    assert "hop 198.18.1.1 reports MTU 1500" in hop.summary
    assert "runDiagnostics" in hop.details
    commands = [e.source for e in hop.evidence if "runDiagnostics on s-1-VM" in e.source]
    assert f"runDiagnostics on s-1-VM ({SSVM_ID}): ping {n['server_ip']} -M do -s 8972 -c 3 -i 0.2 -W 1 -n" in commands
    # the template host is judged at 1500 bytes (a download's path), and passes
    assert by[f"s-1-VM → {n['router_ip']}"].code == "MTU_PATH_OK"
    jobs = [j for p in raw.data["paths"] for j in p["jobs"]]
    assert {j["type"] for j in jobs} == {"ping"} and all(j["exitcode"] is not None for j in jobs)
    assert {r.get("command") for r in standin.requests} >= {"listSystemVms", "runDiagnostics", "queryAsyncJobResult"}


def test_mtu_healthy_all_9000_gives_nothing_above_info(net, monkeypatch: pytest.MonkeyPatch) -> None:
    t, n = net
    t.set_mtu(n["router"], "198.18.2.1", 9000)
    t.set_mtu(n["server"], n["server_ip"], 9000)
    standin = scenario(n, [n["server_ip"]])
    standin.runner = as_the_ssvm_runs_it(n["client"])
    with api_server(standin) as url:
        _, findings = run_check(mtu.CHECK, settings(url, monkeypatch, **MTU))
    assert findings and all(f.severity is Severity.INFO for f in findings), [(f.code, f.summary) for f in findings]
    assert {f.code for f in findings} == {"MTU_PATH_OK"}


def test_mtu_falls_back_to_run_diagnostics_when_ssh_fails(net, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    _, n = net
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # nobody listens once closed: SSH is refused
    standin = scenario(n, [])
    standin.runner = as_the_ssvm_runs_it(n["client"])
    cfg = {"mtu": {**MTU["mtu"], "from_hosts": [f"127.0.0.1:{port}"]}, "ssh": {"connect_timeout_s": 2}}
    with api_server(standin) as url:
        _, findings = run_check(mtu.CHECK, settings(url, monkeypatch, **cfg))
    by = by_target(findings)
    assert by[f"127.0.0.1 → {n['server_ip']}"].code == "MTU_NOT_TESTED"
    assert by[f"s-1-VM → {n['server_ip']}"].code == "MTU_PATH_TOO_SMALL"


def test_mtu_with_the_ssvms_inetutils_ping_falls_back_to_traceroute_df(net, monkeypatch: pytest.MonkeyPatch) -> None:
    _, n = net
    standin = scenario(n, [])
    standin.runner = inetutils_ping(as_the_ssvm_runs_it(n["client"]))
    with api_server(standin) as url:
        _, findings = run_check(mtu.CHECK, settings(url, monkeypatch, **MTU))
    hop = by_target(findings)[f"s-1-VM → {n['server_ip']}"]
    assert hop.code == "MTU_PATH_TOO_SMALL" and "MTU 1500" in hop.summary, hop
    assert any("traceroute" in e.source and "-F" in e.source for e in hop.evidence)


NO_ROUTE_IP = "198.18.9.9"  # no route to it in the SSVM namespace


def test_reach_through_run_diagnostics_a_reachable_and_an_unreachable_host(
    net, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, n = net
    standin = scenario(n, [n["server_ip"], n["nobody_ip"], NO_ROUTE_IP])
    standin.runner = as_the_ssvm_runs_it(n["client"])
    with api_server(standin) as url:
        raw, findings = run_check(reach.CHECK, settings(url, monkeypatch))
    by = by_target(findings)
    ok = by[f"s-1-VM → {n['server_ip']}"]
    assert ok.code == "TEMPLATE_HOST_PATH_OK" and ok.severity is Severity.INFO and "HTTP" in ok.summary
    silent = by[f"s-1-VM → {n['nobody_ip']}"]
    assert silent.code == "TEMPLATE_HOST_PATH_SILENT" and silent.severity is Severity.WARN, silent
    assert "last answering hop: hop 1 198.18.1.1" in silent.summary
    assert any(f"traceroute {n['nobody_ip']} -n -q 1 -w 1 -m 16" in e.source for e in silent.evidence)
    gone = by[f"s-1-VM → {NO_ROUTE_IP}"]
    assert gone.code == "TEMPLATE_URL_UNREACHABLE" and "has no route" in gone.summary, gone
    honest = by["s-1-VM → HTTP"]
    assert honest.code == "REACH_HTTP_NOT_PROVABLE" and honest.severity is Severity.INFO
    assert raw.data["probes"] == []  # no SSH vantage: only the API's


def test_reach_with_a_key_that_may_not_run_diagnostics_is_a_bounded_unknown(
    net, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, n = net
    standin = scenario(n, [n["server_ip"]])
    standin.runner = as_the_ssvm_runs_it(n["client"])
    with api_server(standin) as url:
        _, findings = run_check(reach.CHECK, settings(url, monkeypatch, key="userkey", secret="usersecret"))
    refused = by_target(findings)[f"s-1-VM → {n['server_ip']}"]
    assert refused.code == "VANTAGE_API_REFUSED" and refused.severity is Severity.UNKNOWN
    assert "432" in refused.summary and "runDiagnostics" in refused.summary
    assert "usersecret" not in json.dumps([f.summary for f in findings])


def test_a_job_that_never_ends_is_unknown_at_the_checks_deadline(net, monkeypatch: pytest.MonkeyPatch) -> None:
    _, n = net
    standin = scenario(n, [])
    standin.job_never_ends = True
    started = time.monotonic()
    with api_server(standin) as url:
        _, findings = run_check(mtu.CHECK, settings(url, monkeypatch, **MTU), seconds=5)
    assert time.monotonic() - started < 8
    stuck = by_target(findings)[f"s-1-VM → {n['server_ip']}"]
    assert stuck.code == "VANTAGE_JOB_TIMEOUT" and stuck.severity is Severity.UNKNOWN
    assert "pending" in stuck.summary


def test_an_html_page_instead_of_the_api_is_unknown(net, monkeypatch: pytest.MonkeyPatch) -> None:
    _, n = net
    standin = scenario(n, [n["server_ip"]])
    standin.html_proxy = True
    with api_server(standin) as url:
        _, findings = run_check(reach.CHECK, settings(url, monkeypatch))
    assert [(f.code, f.severity) for f in findings] == [("VANTAGE_API_FAILED", Severity.UNKNOWN)], findings
    assert "not a CloudStack answer" in findings[0].summary


def test_collect_source_api_writes_a_bundle_that_replays(net, tmp_path) -> None:
    """csdiag collect --source api: the runDiagnostics evidence goes into the bundle, and triage --bundle
    judges it without the API."""
    import os

    from tests.conftest import run_cli, write_config

    _, n = net
    standin = scenario(n, [n["server_ip"], n["nobody_ip"]], ssvm_mtu="1500")
    standin.runner = as_the_ssvm_runs_it(n["client"])
    env = {**os.environ, "CSDIAG_API_SECRET": SECRET}
    with api_server(standin) as url:
        cfg = write_config(
            tmp_path / "c.toml",
            f'[run]\ncheck_timeout_s = 60\n[mtu]\nlocal = false\n[cloudstack.api]\nendpoint = "{url}"\n'
            f'api_key = "{KEY}"\nsecret_key_env = "CSDIAG_API_SECRET"\n',
        )
        bundle = tmp_path / "bundle"
        out = run_cli("collect", "--config", str(cfg), "--only", "mtu,reach", "--source", "api", "--output",
                      str(bundle), env=env, timeout=150)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert SECRET not in "".join(p.read_text(errors="replace") for p in bundle.rglob("*") if p.is_file())
    replay = run_cli("triage", "--bundle", str(bundle), "--format", "json", timeout=60)
    assert replay.returncode == 2, replay.stderr

    def codes(r) -> list[tuple[str, str]]:
        return sorted((f["code"], f["target"]) for f in json.loads(r.stdout)["findings"])

    # (a live run right after would differ: the SSVM's kernel has cached MTU 1500 → MTU_LOCAL_TOO_SMALL)
    assert codes(replay) == codes(run_cli("triage", "--bundle", str(bundle), "--format", "json", timeout=60))
    assert ("SSVM_MTU_MISMATCH", "secstorage.vm.mtu.size") in codes(replay)
    assert ("MTU_PATH_TOO_SMALL", f"s-1-VM → {n['server_ip']}") in codes(replay)
    assert ("TEMPLATE_HOST_PATH_SILENT", f"s-1-VM → {n['nobody_ip']}") in codes(replay)


def test_jobs_run_concurrently_within_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    """18 jobs (a store and 8 template hosts, two sizes each): several at once, never more than the bound."""
    import threading

    from checks import ssvm_vantage

    hosts = [f"198.18.7.{i}" for i in range(1, 9)]
    standin = scenario({"server_ip": "198.18.6.1"}, hosts)
    lock, running, peak = threading.Lock(), [0], [0]

    def slow_reply(target: str, kind: str, ip: str, params: str) -> tuple[int, str, str]:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.5)
        with lock:
            running[0] -= 1
        return 0, OK_PING.format(ip=ip), ""

    standin.runner, standin.job_delay_s = slow_reply, 0.0
    with api_server(standin) as url:
        raw, findings = run_check(mtu.CHECK, settings(url, monkeypatch, **MTU))
    assert len([j for p in raw.data["paths"] for j in p["jobs"]]) == 18
    assert 1 < peak[0] <= ssvm_vantage.MAX_CONCURRENT_JOBS
    assert {f.code for f in findings} == {"MTU_PATH_OK"}


# iputils' answer to a passing DF ping (the shape of tests/data/run_diagnostics/namespace.json ping_ok)
OK_PING = (
    "PING {ip} ({ip}) 8972(9000) bytes of data.\n"
    "8980 bytes from {ip}: icmp_seq=1 ttl=63 time=0.061 ms\n\n"
    "--- {ip} ping statistics ---\n1 packets transmitted, 1 received, 0% packet loss, time 0ms\n"
    "rtt min/avg/max/mdev = 0.061/0.061/0.061/0.000 ms"
)
