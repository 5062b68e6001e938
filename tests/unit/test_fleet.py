"""report --fleet's merge (diagnostics.fleet) and `report --from` with several documents."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from diagnostics import fleet
from diagnostics.history import History
from tests.conftest import ROOT, run_cli, write_config

pytestmark = pytest.mark.unit
NOW = datetime(2026, 12, 2, 12, tzinfo=UTC)
DEMO = str(ROOT / "examples/demo-bundle")


def iso(hours_ago: float) -> str:
    return (NOW - timedelta(hours=hours_ago)).isoformat()


def codes(findings):
    return sorted((f.code, f.severity.value, f.subjects["runner"]) for f in findings)


def test_freshness_stale_fresh_clash_and_clock_ahead():
    runners = [
        ("west", "w1", iso(1), 4),
        ("east", "e1", iso(7), 4),
        ("lab", "lab1", iso(2), 3),
        ("lab", "lab2", iso(1), 3),  # the same name on another host, recently: a clash
        ("old", "o1", iso(3), 1),
        ("old", "o0", iso(30 * 24), 9),  # a host renamed a month ago: not a clash
        ("skew", "s1", iso(-2), 1),  # finished two hours from now
    ]
    found = fleet.freshness(runners, NOW, 6 * 3600, "6h")
    assert codes(found) == [
        ("RUNNER_CLOCK_AHEAD", "WARN", "skew"),
        ("RUNNER_NAME_CLASH", "WARN", "lab"),
        ("RUNNER_REPORTED", "OK", "lab"),
        ("RUNNER_REPORTED", "OK", "old"),
        ("RUNNER_REPORTED", "OK", "west"),
        ("RUNNER_STALE", "WARN", "east"),
    ]
    (stale,) = [f for f in found if f.code == "RUNNER_STALE"]
    assert stale.summary == "east last reported 7.0 h ago (runner_stale_after = 6h)"
    (clash,) = [f for f in found if f.code == "RUNNER_NAME_CLASH"]
    assert "lab1, lab2" in clash.summary


def test_merge_keeps_two_runners_findings_about_the_same_thing_apart():
    row = {"run": "r", "finished": iso(1), "check": "storage", "code": "NFS_CAPACITY_LOW", "severity": "CRIT"}
    row |= {"target": 'store 3 "nfs-1"', "summary": "full", "subjects": {"store": "3"}}
    merged = fleet.merge(
        [row | {"runner": "a"}, row | {"runner": "b"}],
        [("a", "h", iso(1), 1), ("b", "h2", iso(1), 1)],
        NOW,
        6 * 3600,
        "6h",
        "t",
    )
    targets = sorted(f.target for f in merged.findings if f.check == "storage")
    assert targets == ['a: store 3 "nfs-1"', 'b: store 3 "nfs-1"']
    assert merged.runner == "fleet" and merged.worst.value == "CRIT"


def test_report_from_several_documents_records_each_under_its_runner(tmp_path):
    store = tmp_path / "h.sqlite"
    docs = []
    for runner in ("zone-west", "zone-east"):
        cfg = write_config(tmp_path / f"{runner}.toml", f'[run]\nrunner = "{runner}"\n')
        r = run_cli("triage", "--config", str(cfg), "--bundle", DEMO, "--only", "storage,ssvm", "--format", "json")
        docs.append(tmp_path / f"{runner}.json")
        docs[-1].write_text(r.stdout)
    old = json.loads(docs[0].read_text())
    del old["run"]["runner"]  # a document of an older csdiag
    old["run"]["id"] = "older-version-run"
    docs.append(tmp_path / "older.json")
    docs[-1].write_text(json.dumps(old))
    cfg = write_config(tmp_path / "report.toml", f'[run]\nrunner = "site-a"\n\n[history]\nurl = "sqlite:///{store}"\n')
    args = [a for d in docs for a in ("--from", str(d))]
    r = run_cli("report", "--config", str(cfg), *args, "-o", str(tmp_path / "out"))
    assert r.returncode in (1, 2, 3), r.stderr
    assert "older.json: a run document without a runner (older csdiag): recorded as site-a" in r.stderr
    rows = list(csv.DictReader(io.StringIO((tmp_path / "out/findings.csv").read_text())))
    assert {row["runner"] for row in rows} == {"zone-west", "zone-east", "site-a"}
    with History.open(f"sqlite:///{store}") as h:
        assert sorted(r[0] for r in h.fleet_runners()) == ["site-a", "zone-east", "zone-west"]
        assert len(h.runs()) == 3
    # the fleet view of the same store
    r = run_cli("report", "--config", str(cfg), "--fleet", "-o", str(tmp_path / "fleet"))
    assert r.returncode in (1, 2, 3), r.stderr
    doc = json.loads((tmp_path / "fleet/findings.json").read_text())
    assert {f["runner"] for f in doc["findings"]} == {"zone-west", "zone-east", "site-a"}
    assert [f for f in doc["findings"] if f["code"] == "RUNNER_REPORTED"]


def test_report_fleet_on_an_empty_store_says_so(tmp_path):
    cfg = write_config(tmp_path / "c.toml", f'[history]\nurl = "sqlite:///{tmp_path}/h.sqlite"\n')
    r = run_cli("report", "--config", str(cfg), "--fleet", "-o", str(tmp_path / "out"))
    assert r.returncode == 3 and "no run with a runner yet" in r.stderr


def test_the_same_runner_name_on_two_hosts_is_said_when_recording(tmp_path):
    cfg = write_config(
        tmp_path / "lab.toml", f'[run]\nrunner = "lab"\n[history]\nurl = "sqlite:///{tmp_path}/h.sqlite"\n'
    )
    r = run_cli("triage", "--config", str(cfg), "--bundle", DEMO, "--only", "ssvm", "--format", "json")
    doc = json.loads(r.stdout)
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps(doc))
    doc["run"] |= {"id": doc["run"]["id"] + "-b", "host": "another-host"}
    second.write_text(json.dumps(doc))
    r = run_cli("report", "--config", str(cfg), "--from", str(first), "-o", str(tmp_path / "a"))
    assert "is used by" not in r.stderr
    r = run_cli("report", "--config", str(cfg), "--from", str(second), "-o", str(tmp_path / "b"))
    assert "runner name 'lab' is used by 2 hosts" in r.stderr and "another-host" in r.stderr
    r = run_cli("report", "--config", str(cfg), "--fleet", "-o", str(tmp_path / "f"))
    rows = list(csv.DictReader(io.StringIO((tmp_path / "f/findings.csv").read_text())))
    assert [row["code"] for row in rows if row["code"] == "RUNNER_NAME_CLASH"] == ["RUNNER_NAME_CLASH"]
