"""``csdiag triage --format prom`` read by a real node_exporter textfile collector and scraped by a real
Prometheus that evaluates the shipped alerting rules (contrib/prometheus/); promtool judges the
textfile and the rules."""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest

from tests.conftest import ROOT, run_cli
from tests.services import unavailable
from tests.services.prometheus import prometheus_stack

pytestmark = pytest.mark.integration
DEMO = ROOT / "examples/demo-bundle"
RULES = ROOT / "contrib/prometheus/csdiag-alerts.yml"
RULE_TESTS = ROOT / "contrib/prometheus/csdiag-alerts.test.yml"


def promtool(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    if shutil.which("promtool") is None:
        unavailable("promtool not installed (apt prometheus)")
    return subprocess.run(["promtool", *args], input=stdin, capture_output=True, text=True, timeout=60)


def test_textfile_passes_promtool_check_metrics(tmp_path):
    r = run_cli("triage", "--bundle", str(DEMO), "--format", "prom", cwd=tmp_path)
    assert r.returncode == 2
    check = promtool("check", "metrics", stdin=r.stdout)
    assert check.returncode == 0 and check.stdout.strip() == "" and check.stderr.strip() == "", check


def test_alerting_rules_check_and_unit_tests_pass():
    check = promtool("check", "rules", str(RULES))
    assert check.returncode == 0, check.stdout + check.stderr
    test = promtool("test", "rules", str(RULE_TESTS))
    assert test.returncode == 0 and "SUCCESS" in test.stdout, test.stdout + test.stderr


def test_node_exporter_and_prometheus_read_the_textfile(tmp_path):
    doc = json.loads(run_cli("triage", "--bundle", str(DEMO), "--format", "json", cwd=tmp_path).stdout)
    with prometheus_stack([RULES]) as stack:
        out = stack.textfile_dir / "csdiag.prom"
        r = run_cli("triage", "--bundle", str(DEMO), "--format", "prom", "--output", str(out), cwd=tmp_path)
        assert r.returncode == 2, r.stderr
        assert not list(stack.textfile_dir.glob("*.tmp*"))  # written atomically

        exported = stack.node_metrics()
        assert "node_textfile_scrape_error 0" in exported
        assert 'csdiag_check_status{check="ssvm",target="zone 3 \\"zone-lab\\""} 2' in exported

        [lab] = stack.wait('csdiag_check_status{check="ssvm",target="zone 3 \\"zone-lab\\""}')
        assert lab["value"][1] == "2" and lab["metric"]["job"] == "node"
        [count] = stack.wait("count(csdiag_finding)")
        assert int(count["value"][1]) == len({(f["check"], f["code"], f["target"]) for f in doc["findings"]})
        free = stack.wait("csdiag_storage_available_bytes")
        assert {s["metric"]["code"] for s in free} >= {"NFS_CAPACITY_LOW", "NFS_OK"}  # shared metric, code label
        [last] = stack.wait("csdiag_last_run_timestamp_seconds")
        assert float(last["value"][1]) > 1.6e9

        alerts: list[dict[str, object]] = []
        for _ in range(60):
            alerts = [a for a in stack.api("alerts")["alerts"] if a["labels"]["alertname"] == "CsdiagCritical"]
            if any(a["state"] == "firing" for a in alerts):
                break
            time.sleep(0.5)
        firing = {a["labels"]["check"] for a in alerts if a["state"] == "firing"}
        assert {"ssvm", "storage", "templates"} <= firing
