"""Remote ping output (iputils, LC_ALL=C, recorded) parsed and judged like local probes."""

import pytest

from checks.mtu import judge_path, parse_ping, ping_script
from tests.conftest import ROOT

pytestmark = pytest.mark.unit
TARGETS = ["10.0.0.5", "10.0.1.5", "10.0.2.5", "10.0.3.5", "10.0.4.5"]


def paths():
    probes = parse_ping((ROOT / "tests/data/ping/remote.txt").read_text())
    return [
        {
            "host": t,
            "vantage": "kvm1",
            "required": 9000,
            "probe_kind": "ping",
            "probes": [p for p in probes if p["target"] == i],
        }
        for i, t in enumerate(TARGETS)
    ]


def test_parse_ping():
    probes = parse_ping((ROOT / "tests/data/ping/remote.txt").read_text())
    assert [(p["target"], p["size"], p["outcome"], p["mtu"], p["router"]) for p in probes] == [
        (0, 1280, "reply", None, None),
        (0, 9000, "reply", None, None),
        (1, 1280, "reply", None, None),
        (1, 9000, "frag_needed", 1500, "10.0.0.1"),
        (2, 1280, "reply", None, None),
        (2, 9000, "timeout", None, None),
        (3, 1280, "reply", None, None),
        (3, 9000, "local_too_big", 1500, None),
        (4, 1280, "timeout", None, None),
        (4, 9000, "timeout", None, None),
    ]


def test_remote_paths_are_judged_like_local_ones():
    verdicts = [(f.code, f.target) for f in map(judge_path, paths())]
    assert verdicts == [
        ("MTU_PATH_OK", "kvm1 → 10.0.0.5"),
        ("MTU_PATH_TOO_SMALL", "kvm1 → 10.0.1.5"),
        ("MTU_BLACKHOLE", "kvm1 → 10.0.2.5"),
        ("MTU_LOCAL_TOO_SMALL", "kvm1 → 10.0.3.5"),
        ("MTU_UNREACHABLE", "kvm1 → 10.0.4.5"),
    ]
    assert "hop 10.0.0.1 reports MTU 1500" in judge_path(paths()[1]).summary


def test_ping_script_quotes_and_sizes():
    script = ping_script(["10.0.0.5", "evil; rm -rf /"], 9000, 1.0)
    assert "-M $M -s 8972" in script and "-s 1252" in script and "M=do; else M=probe" in script
    assert "'evil; rm -rf /'" in script


def test_cached_pmtu_is_not_a_small_local_interface():
    path = {
        "host": "10.0.1.5",
        "vantage": "kvm1",
        "required": 9000,
        "device": "bond0.20",
        "device_mtu": 9000,
        "probes": [
            {"size": 1280, "outcome": "reply", "mtu": None, "router": None, "rtt_ms": 0.2, "detail": ""},
            {"size": 9000, "outcome": "local_too_big", "mtu": 1500, "router": None, "rtt_ms": None, "detail": ""},
        ],
    }
    f = judge_path(path)
    assert f.code == "MTU_PATH_TOO_SMALL" and "cached on kvm1" in f.summary
    path["device_mtu"] = 1500
    f = judge_path(path)
    assert f.code == "MTU_LOCAL_TOO_SMALL" and "bond0.20 has MTU 1500" in f.summary
