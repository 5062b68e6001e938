"""runDiagnostics output (recorded in the mtu topology) parsed and judged; the checks evaluate from their
evidence alone (a bundle replays)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from checks import mtu, mtu_api, reach, reach_api
from checks import ssvm_vantage as sv
from diagnostics.check import NoParams, RawEvidence
from diagnostics.model import Severity
from tests.conftest import ROOT

pytestmark = pytest.mark.unit
OUT: dict[str, Any] = json.loads((ROOT / "tests/data/run_diagnostics/namespace.json").read_text())


def job(name: str, kind: str, address: str, params: str, **extra: Any) -> dict[str, Any]:
    return {
        "ssvm": "s-1-VM",
        "ssvm_id": "uuid-1",
        "type": kind,
        "address": address,
        "params": params,
        "command": f"{kind} {address} {params}",
        "elapsed_s": 1.0,
        **({k: OUT[name][k] for k in ("exitcode", "stdout", "stderr")} if name else {}),
        **extra,
    }


def test_ping_summaries() -> None:
    ok = sv.parse_ping_summary(OUT["ping_ok"])
    assert (ok["transmitted"], ok["received"], ok["rtt_ms"] is not None) == (3, 3, True)
    assert sv.parse_ping_summary(OUT["ping_silent"])["received"] == 0
    assert sv.parse_ping_summary(OUT["ping_noroute"])["no_route"]
    assert sv.parse_ping_summary(OUT["ping_name"])["unresolved"]


def test_traceroutes() -> None:
    silent = sv.parse_traceroute(OUT["tr_silent"])
    assert silent["destination"] == "198.18.2.99" and not silent["reached"]
    assert silent["last_hop"] == {
        "ttl": 1,
        "address": "198.18.1.1",
        "rtt_ms": silent["last_hop"]["rtt_ms"],
        "annotation": None,
    }
    assert [h["address"] for h in silent["hops"]] == ["198.18.1.1", None, None, None]
    assert sv.parse_traceroute(OUT["tr_noroute"])["no_route"]
    assert sv.parse_traceroute(OUT["tr_name"])["unresolved"]
    frag = sv.traceroute_probe(OUT["tr_frag"], 9000)
    assert (frag["outcome"], frag["router"], frag["mtu"]) == ("frag_needed", "198.18.1.1", 1500)


def test_option_refused_is_gnu_pings_usage_error_only() -> None:
    inetutils = {"exitcode": 64, "stdout": "", "stderr": "ping: invalid option -- 'M'\nTry 'ping --help'"}
    assert sv.option_refused(inetutils)
    assert not any(sv.option_refused(OUT[k]) for k in ("ping_ok", "ping_frag", "ping_silent", "ping_noroute"))


def path(*jobs: dict[str, Any], host: str = "198.18.2.2", required: int = 9000) -> dict[str, Any]:
    return {
        "host": host,
        "vantage": "s-1-VM",
        "via": "runDiagnostics",
        "ssvm_id": "uuid-1",
        "role": "storage",
        "required": required,
        "jobs": list(jobs),
    }


SMALL = "-M do -s 1252 -c 3 -i 0.2 -W 1 -n"
BIG = "-M do -s 8972 -c 3 -i 0.2 -W 1 -n"


def test_mtu_judges_run_diagnostics_pings_with_the_same_rules() -> None:
    small_ok = job("ping_ok", "ping", "198.18.2.2", SMALL, size=1280)
    hop = mtu_api.judge(path(small_ok, job("ping_frag", "ping", "198.18.2.2", BIG, size=9000)))
    assert hop.code == "MTU_PATH_TOO_SMALL" and "hop 198.18.1.1 reports MTU 1500" in hop.summary
    assert "runDiagnostics" in hop.details and any("ping 198.18.2.2 -M do -s 8972" in e.source for e in hop.evidence)
    cached = mtu_api.judge(path(small_ok, job("ping_cached", "ping", "198.18.2.2", BIG, size=9000)))
    assert cached.code == "MTU_LOCAL_TOO_SMALL" and "runDiagnostics cannot show which" in cached.summary
    trace = job("tr_frag", "traceroute", "198.18.2.2", mtu_api.traceroute_params(9000), size=9000)
    refused = job(
        "", "ping", "198.18.2.2", BIG, size=9000, exitcode=64, stdout="", stderr="ping: invalid option -- 'M'"
    )
    small = job("tr_small_ok", "traceroute", "198.18.2.2", mtu_api.traceroute_params(1400), size=1400)
    via_trace = mtu_api.judge(path(refused, small, trace))
    assert via_trace.code == "MTU_PATH_TOO_SMALL" and "traceroute -F" in via_trace.evidence[0].source


@pytest.mark.parametrize(
    ("kind", "code"),
    [("Timeout", "VANTAGE_JOB_TIMEOUT"), ("NotPermitted", "VANTAGE_API_REFUSED"), ("AuthFailed", "VANTAGE_API_REFUSED"),
     ("ProtocolError", "VANTAGE_API_FAILED"), ("Unreachable", "VANTAGE_API_FAILED")],
)  # fmt: skip
def test_job_failures_are_bounded_unknowns(kind: str, code: str) -> None:
    failed = job("", "ping", "198.18.2.2", BIG, size=9000, error={"kind": kind, "message": "why"})
    for finding in (mtu_api.judge(path(failed)), next(reach_api.judge(path(failed), {"sites": []}))):
        assert (finding.code, finding.severity) == (code, Severity.UNKNOWN)
    agent = job("", "ping", "198.18.2.2", BIG, size=9000, exitcode=-1, stdout="", stderr="Unable to reach the VM")
    assert mtu_api.judge(path(agent)).code == "VANTAGE_API_FAILED"


def reach_path(*names: str, host: str) -> dict[str, Any]:
    jobs = [job(n, "ping" if n.startswith("ping") else "traceroute", host, "") for n in names]
    return {"vantage": "s-1-VM", "ssvm_id": "uuid-1", "host": host, "urls": [f"http://{host}/t.qcow2"], "jobs": jobs}


@pytest.mark.parametrize(
    ("names", "code"),
    [
        (("ping_ok",), "TEMPLATE_HOST_PATH_OK"),
        (("ping_silent", "tr_silent"), "TEMPLATE_HOST_PATH_SILENT"),
        (("ping_noroute", "tr_noroute"), "TEMPLATE_URL_UNREACHABLE"),
        (("ping_name", "tr_name"), "TEMPLATE_URL_UNRESOLVABLE"),
    ],
)
def test_reach_paths(names: tuple[str, ...], code: str) -> None:
    (finding,) = reach_api.judge(reach_path(*names, host="198.18.2.99"), {"sites": [], "sites_known": False})
    assert finding.code == code, finding
    if code == "TEMPLATE_HOST_PATH_SILENT":
        assert "hop 1 198.18.1.1" in finding.summary


def test_a_router_refusal_names_the_hop() -> None:
    refused = {"exitcode": 0, "stdout": "traceroute to 10.9.9.9 (10.9.9.9), 16 hops max, 60 byte packets\n"
               " 1  198.18.1.1  0.05 ms\n 2  198.18.2.1  3001.2 ms !H", "stderr": ""}  # fmt: skip
    p = reach_path("ping_silent", host="10.9.9.9")
    p["jobs"].append({**p["jobs"][0], "type": "traceroute", **refused})
    (finding,) = reach_api.judge(p, {"sites": [], "sites_known": False})
    assert (
        finding.code == "TEMPLATE_URL_UNREACHABLE" and "router 198.18.2.1 answers host unreachable" in finding.summary
    )


SITE = {
    "endpoint": "http://127.0.0.1/client/api",
    "ssvms": [{"id": "uuid-1", "name": "s-1-VM", "state": "Running"}],
    "stores": [],
    "templates": {"urls": 1},
    "settings": [{"name": "secstorage.vm.mtu.size", "value": "1500", "default_value": "1500"}],
}


def test_evaluate_replays_from_the_evidence_alone() -> None:
    small_ok = job("ping_ok", "ping", "198.18.2.2", SMALL, size=1280)
    data = {
        "configured": False,
        "required": 9000,
        "api": SITE,
        "paths": [path(small_ok, job("ping_frag", "ping", "198.18.2.2", BIG, size=9000))],
    }
    codes = {f.code for f in mtu.evaluate(RawEvidence(data=json.loads(json.dumps(data))), NoParams())}
    assert codes == {"MTU_PATH_TOO_SMALL", "SSVM_MTU_MISMATCH"}
    rdata = {"configured": False, "results": {}, "urls": [], "probes": [], "api": SITE,
             "api_paths": [reach_path("ping_ok", host="198.18.1.1")], "overrides": {}}  # fmt: skip
    found = {(f.code, f.severity) for f in reach.evaluate(RawEvidence(data=rdata), reach.ReachParams())}
    assert found == {("REACH_HTTP_NOT_PROVABLE", Severity.INFO), ("TEMPLATE_HOST_PATH_OK", Severity.INFO)}


def test_listing_failures_and_no_ssvm() -> None:
    failed = {**SITE, "error": {"kind": "ProtocolError", "message": "not a CloudStack answer (HTTP 200)"}}
    assert [f.code for f in sv.site_failures("mtu", failed)] == ["VANTAGE_API_FAILED"]
    down = {**SITE, "ssvms": [{"id": "uuid-1", "name": "s-1-VM", "state": "Stopped"}]}
    assert [f.code for f in sv.site_failures("reach", down)] == ["VANTAGE_NO_SSVM"]


def test_params_pass_cloudstacks_filter() -> None:
    import re

    for params in (mtu_api.ping_params("10.0.0.5", 9000), mtu_api.traceroute_params(1500), reach_api.PING_PARAMS,
                   reach_api.TRACEROUTE_PARAMS, mtu_api.ping_params("fd00::5", 9000)):  # fmt: skip
        assert re.fullmatch(r"[\w\-\s.]+", params), params
    assert mtu_api.ping_params("fd00::5", 9000) == "-M do -s 8952 -c 3 -i 0.2 -W 1 -n"
