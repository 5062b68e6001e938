"""csdiag gate: exit codes for every combination of severities, --fail-on, --allow-unknown and waivers;
JUnit validated against the schema; Nagios and Prometheus output parsed back."""

import json
import re
import shutil
from datetime import date, timedelta

import pytest
import xmlschema

from tests.conftest import ROOT, run_cli, write_config

pytestmark = pytest.mark.unit
CASES = ROOT / "tests/data/cases/platform"
# platform evidence whose findings are: INFO only, INFO + WARN, CRIT, UNKNOWN
WORST = {"INFO": "supported_4_18_1", "WARN": "settings_risky", "CRIT": "unsupported_4_17_2", "UNKNOWN": "refused"}


def bundle(tmp_path, worst):
    d = tmp_path / f"bundle-{worst}"
    (d / "checks/platform").mkdir(parents=True)
    shutil.copy(CASES / WORST[worst] / "evidence.json", d / "checks/platform/evidence.json")
    (d / "manifest.json").write_text(
        json.dumps(
            {
                "schema": "csdiag.bundle/1",
                "tool_version": "test",
                "created": "2026-11-24T00:00:00+00:00",
                "host": "t",
                "config": {},
                "checks": [
                    {
                        "name": "platform",
                        "status": "completed",
                        "duration_s": 0.1,
                        "error": None,
                        "params": {"min_version": "4.18"},
                    }
                ],
            }
        )
    )
    return d


def waivers(tmp_path, code, expires):
    return write_config(
        tmp_path / "w.toml",
        f'[[waiver]]\ncode = "{code}"\ntarget = "mysql://*"\n'
        f'justification = "accepted risk CHG-1"\nexpires = "{expires}"\n',
    )


def gate(tmp_path, *args):
    return run_cli("--quiet", "gate", *args, cwd=tmp_path)


FUTURE = (date.today() + timedelta(days=30)).isoformat()
PAST = (date.today() - timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    "worst, options, waiver, code",
    [
        ("INFO", [], None, 0),
        ("WARN", [], None, 0),
        ("WARN", ["--fail-on", "warn"], None, 1),
        ("WARN", ["--fail-on", "warn"], ("SETTING_RISKY", FUTURE), 0),
        ("CRIT", [], None, 1),
        ("CRIT", ["--fail-on", "warn"], None, 1),
        ("CRIT", [], ("VERSION_*", FUTURE), 0),
        ("CRIT", [], ("VERSION_UNSUPPORTED", PAST), 1),
        ("CRIT", [], ("TEMPLATE_SIZE_ZERO", FUTURE), 1),  # a real code, but not the failing one
        ("UNKNOWN", [], None, 1),
        ("UNKNOWN", ["--allow-unknown"], None, 0),
        ("UNKNOWN", ["--fail-on", "warn", "--allow-unknown"], None, 0),
        ("UNKNOWN", [], ("DB_UNREACHABLE", FUTURE), 0),
    ],
)
def test_exit_codes(tmp_path, worst, options, waiver, code):
    args = ["--bundle", str(bundle(tmp_path, worst)), *options]
    if waiver:
        args += ["--waivers", str(waivers(tmp_path, *waiver))]
    r = gate(tmp_path, *args)
    assert r.returncode == code, r.stderr
    assert r.stderr.startswith("GATE PASSED" if code == 0 else "GATE FAILED")
    if waiver and waiver[1] == PAST:
        assert "expired waivers, no longer applied (1)" in r.stderr
    elif waiver and code == 0:
        assert "accepted risk CHG-1" in r.stderr


def test_waiver_of_an_unknown_code_fails_fast_naming_it(tmp_path):
    typo = waivers(tmp_path, "VERSION_UNSUPORTED", FUTURE)
    r = gate(tmp_path, "--bundle", str(bundle(tmp_path, "CRIT")), "--waivers", str(typo))
    assert r.returncode == 2
    assert r.stderr.strip() == (
        f"csdiag: error: {typo}: waiver[0].code: unknown code 'VERSION_UNSUPORTED': "
        "no installed check raises it (csdiag checks lists the codes)"
    )
    assert not r.stdout


def test_malformed_waivers_fail_fast(tmp_path):
    bad = write_config(tmp_path / "w.toml", '[[waiver]]\ncode = "X"\njustification = "ok ok"\n')
    r = gate(tmp_path, "--bundle", str(tmp_path / "does-not-exist"), "--waivers", str(bad))
    assert r.returncode == 2
    assert r.stderr.strip() == f"csdiag: error: {bad}: waiver[0].expires: Field required"
    r = gate(tmp_path, "--fail-on", "sometimes")
    assert r.returncode == 2
    r = gate(tmp_path, "--profile", "nope")
    assert r.returncode == 2 and "no [gate.profiles.nope]" in r.stderr


def test_profile_from_config(tmp_path):
    cfg = write_config(tmp_path / "c.toml", '[gate.profiles.predeploy]\nchecks = ["platform"]\nfail_on = "warn"\n')
    r = run_cli(
        "--quiet",
        "gate",
        "--config",
        str(cfg),
        "--profile",
        "predeploy",
        "--bundle",
        str(bundle(tmp_path, "WARN")),
        "--junit",
        str(tmp_path / "report.xml"),
        cwd=tmp_path,
    )
    assert r.returncode == 1 and "fails on WARN and above" in r.stderr
    schema = xmlschema.XMLSchema(str(ROOT / "tests/data/junit.xsd"))
    schema.validate(str(tmp_path / "report.xml"))
    doc = schema.to_dict(str(tmp_path / "report.xml"))
    assert doc["@tests"] == 4 and doc["@failures"] == 3  # the version target passes, three settings fail


def test_retry_reports_attempts(tmp_path):
    r = gate(tmp_path, "--bundle", str(bundle(tmp_path, "CRIT")), "--retry-for", "3s", "--interval", "1")
    assert r.returncode == 1
    assert "attempt 1 failed" in r.stderr
    assert int(re.search(r"(\d+) attempts\)", r.stderr)[1]) >= 2


def test_junit_from_triage_is_valid_and_escapes(tmp_path):
    r = run_cli(
        "triage",
        "--bundle",
        str(ROOT / "examples/demo-bundle"),
        "--format",
        "json",
        "--junit",
        str(tmp_path / "j.xml"),
        cwd=tmp_path,
    )
    assert r.returncode == 2
    schema = xmlschema.XMLSchema(str(ROOT / "tests/data/junit.xsd"))
    schema.validate(str(tmp_path / "j.xml"))
    doc = schema.to_dict(str(tmp_path / "j.xml"))
    assert {s["@name"] for s in doc["testsuite"]} == {
        "images",
        "logs",
        "mtu",
        "optics",
        "platform",
        "reach",
        "ssvm",
        "storage",
        "templates",
    }
    assert doc["@failures"] >= 5


PERF = re.compile(r"'((?:[^']|'')+)'=(-?[\d.]+|U)([a-zA-Z%]*);([^;]*);([^;]*);;")


def test_nagios_output_parses_back(tmp_path):
    r = run_cli(
        "triage",
        "--bundle",
        str(ROOT / "examples/demo-bundle"),
        "--only",
        "templates",
        "--format",
        "nagios",
        cwd=tmp_path,
    )
    assert r.returncode == 2
    first, *rest = r.stdout.splitlines()
    assert first.startswith("CSDIAG CRITICAL - ")
    assert len(r.stdout.encode()) <= 4096  # NRPE's buffer; Nagios 4 keeps 8 KiB
    perf = rest[-1].removeprefix("| ")
    items = PERF.findall(perf)
    assert items and len(items) == perf.count("'=")
    labels = [i[0] for i in items] + [i[0] for i in PERF.findall(first.partition(" | ")[2])]
    assert len(labels) == len(set(labels))  # unique perfdata labels
    stalled = next(i for i in items if "since_update" in i[0] and "ubuntu" in i[0])
    assert stalled[3] == "~:10" and stalled[4] == "~:60"  # upper levels: alert above
    assert len(rest) == 13  # 11 of the 15 problems in rank order, "… 4 more lines", then the perfdata line
    assert rest[-2].startswith("… 4 more lines")


def test_nagios_negative_lower_ranges():
    from datetime import UTC, datetime

    from diagnostics.model import Finding, Metric, Run, Severity
    from reports import nagios

    t = datetime(2024, 1, 1, tzinfo=UTC)
    f = Finding(
        check="optics",
        code="RX_LOW",
        severity=Severity.WARN,
        target="leaf1:Ethernet1",
        summary="low",
        metrics=[Metric(name="rx_power", value=-11.5, unit="dBm", warn=-10.0, crit=-13.0, direction="lower")],
    )
    out = nagios.render(Run(id="x", started=t, finished=t, tool_version="t", config={}, checks=(), findings=(f,)))
    [item] = PERF.findall(out.splitlines()[-1])
    assert item == ("optics leaf1:Ethernet1 rx_power_dBm", "-11.5", "", "-10:", "-13:")


def test_prometheus_output_parses(tmp_path):
    from prometheus_client.parser import text_string_to_metric_families

    out = tmp_path / "csdiag.prom"
    r = run_cli(
        "triage", "--bundle", str(ROOT / "examples/demo-bundle"), "--format", "prom", "--output", str(out), cwd=tmp_path
    )
    assert r.returncode == 2
    families = {f.name: f for f in text_string_to_metric_families(out.read_text())}
    assert {
        "csdiag_check_status",
        "csdiag_finding",
        "csdiag_last_run_timestamp_seconds",
        "csdiag_templates_since_update_seconds",
        "csdiag_storage_available_bytes",
        "csdiag_mtu_rtt_seconds",
    } <= set(families)
    for name in families:  # no doubled or abbreviated units (promtool's rules)
        assert not re.search(r"_(bytes_bytes|ms_seconds|ratio_ratio|ms|db)$", name), name
    status = {(s.labels["check"], s.labels["target"]): s.value for s in families["csdiag_check_status"].samples}
    assert status[("ssvm", 'zone 3 "zone-lab"')] == 2
    stalled = [s for s in families["csdiag_templates_since_update_seconds"].samples if "ubuntu" in s.labels["target"]]
    assert stalled and stalled[0].value > 60 * 60  # minutes converted to seconds
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically
