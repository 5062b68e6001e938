"""``csdiag triage --format nagios`` as a plugin of a real Nagios 4 (Debian nagios4-core): the state, the
plugin output and the perfdata are read back from the daemon's status file."""

from __future__ import annotations

import json
import re
import shlex
import sys

import pytest

from tests.conftest import ROOT, run_cli
from tests.services.nagios import nagios_daemon

pytestmark = pytest.mark.integration
DEMO = ROOT / "examples/demo-bundle"
CSDIAG = f"{shlex.quote(sys.executable)} -m diagnostics.cli"
PERF = re.compile(r"'((?:[^']|'')+)'=(-?[\d.]+|U)([a-zA-Z%]*);([^; ]*);([^; ]*);([^; ]*);([^; ]*)")
NAGIOS_UOM = {"", "s", "ms", "us", "%", "B", "KB", "MB", "TB", "c"}


def test_nagios_runs_triage_as_a_plugin(tmp_path):
    services = {
        "csdiag demo site": f"{CSDIAG} triage --bundle {shlex.quote(str(DEMO))} --format nagios",
        "csdiag no database": f"cd {shlex.quote(str(tmp_path))} && {CSDIAG} triage --only platform --format nagios",
    }
    direct = json.loads(run_cli("triage", "--bundle", str(DEMO), "--format", "json", cwd=tmp_path).stdout)
    counts = {s: sum(1 for f in direct["findings"] if f["severity"] == s) for s in ("CRIT", "WARN", "UNKNOWN")}
    with nagios_daemon(services) as nagios:
        for name in services:
            nagios.force_check(name)
        site = nagios.wait_for_check("csdiag demo site")
        lonely = nagios.wait_for_check("csdiag no database")

    assert site.state == 2, site.raw  # CRITICAL, as the exit code says
    assert site.output.startswith("CSDIAG CRITICAL - 3 incidents, first SSVM agent down: ")
    assert "do: Bring the SSVM agent back first" in site.output  # the first action is on the pager line
    assert len(site.output) < 500
    problem_lines = [ln for ln in site.long_output.splitlines() if ln.startswith("[")]
    assert problem_lines[0].startswith("[CRIT] incident SSVM agent down")
    assert problem_lines[3].startswith("[CRIT] #1 ssvm SSVM_AGENT_NOT_UP")  # rank order: the root cause
    total = len(site.output) + len(site.long_output) + len(site.perfdata)
    assert total < 4096  # inside NRPE's buffer and Nagios 4's 8 KiB

    items = PERF.findall(site.perfdata)
    assert len(items) == site.perfdata.count("'=") > 10
    labels = [i[0] for i in items]
    assert len(labels) == len(set(labels))  # unique labels
    assert all(i[2] in NAGIOS_UOM for i in items)  # units Nagios knows
    values = {i[0]: float(i[1]) for i in items}
    assert values["critical"] == counts["CRIT"] and values["warning"] == counts["WARN"]
    assert values["incidents"] == 3

    assert lonely.state == 3, lonely.raw  # no database configured: UNKNOWN
    assert lonely.output.startswith("CSDIAG UNKNOWN - DB_NOT_CONFIGURED")
