"""Trends and forecasts from known series; damping of flapping CRITs; the report across runs."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from diagnostics.history import Change, damp
from diagnostics.model import Finding, Metric, Run, Severity
from diagnostics.trends import fit, trend, trends
from tests.conftest import run_cli, write_config

pytestmark = pytest.mark.unit
GiB = 2**30
NOW = datetime.now(UTC).replace(microsecond=0)


def test_fit_recovers_a_line():
    pts = [(NOW + timedelta(days=d), 100.0 - 10 * d) for d in range(5)]
    slope, last = fit(pts)
    assert slope == pytest.approx(-10) and last == pytest.approx(60)
    assert fit(pts[:2]) is None  # too few points
    assert fit([(NOW, 1.0)] * 3) is None  # no time spread


def test_storage_forecast_crosses_four_then_three_times_the_largest_template():
    m = Metric(name="available_bytes", value=70 * GiB, unit="B", warn=40 * GiB, crit=30 * GiB, direction="lower")
    pts = [(NOW - timedelta(days=3 - d), (100 - 10 * d) * GiB) for d in range(4)]  # 10 GiB less per day
    t = trend("storage", "store 1", m, pts)
    assert t.slope_per_day == pytest.approx(-10 * GiB)
    assert t.crossings["warn"] == NOW + timedelta(days=3)
    assert t.crossings["crit"] == NOW + timedelta(days=4)


def test_rx_power_in_dbm_falls_towards_its_low_warning():
    m = Metric(name="rx_power", value=-9.0, unit="dBm", warn=-11.0, crit=-13.0, direction="lower")
    pts = [(NOW - timedelta(days=20 - 10 * i), -8.0 - 0.5 * i) for i in range(3)]  # -0.05 dB per day
    t = trend("optics", "leaf1:Ethernet49", m, pts)
    assert t.crossings["warn"] == NOW + timedelta(days=40)
    assert t.crossings["crit"] == NOW + timedelta(days=80)


def test_no_forecast_when_moving_away_or_already_beyond():
    m = Metric(name="used_ratio", value=0.5, unit="", crit=0.9, direction="upper")
    rising_away = trend("storage", "s", m, [(NOW - timedelta(days=2 - d), 0.6 - 0.05 * d) for d in range(3)])
    assert rising_away.crossings == {}
    beyond = Metric(name="available_bytes", value=1, unit="B", warn=10, crit=5, direction="lower")
    assert trend("storage", "s", beyond, [(NOW - timedelta(days=2 - d), 3 - d) for d in range(3)]).crossings == {}


def finding(code="NFS_CAPACITY_LOW", severity=Severity.CRIT, value=None):
    metrics = (
        [Metric(name="available_bytes", value=value, unit="B", warn=40 * GiB, crit=30 * GiB, direction="lower")]
        if value is not None
        else []
    )
    return Finding(check="storage", code=code, severity=severity, target="store 1", summary=code, metrics=metrics)


def a_run(day, *findings):
    t = NOW - timedelta(days=day)
    return Run(id=f"run-{day}", started=t, finished=t, tool_version="t", config={}, checks=(), findings=findings)


def test_trends_of_a_run_from_history_rows():
    history = [
        {
            "at": (NOW - timedelta(days=d)).isoformat(),
            "check": "storage",
            "target": "store 1",
            "name": "available_bytes",
            "value": (70 + 10 * d) * GiB,
        }
        for d in (3, 2, 1)
    ]
    [t] = trends(a_run(0, finding(value=70 * GiB)), history)
    assert t.crossings["crit"] == NOW + timedelta(days=4)


def test_damping_holds_a_new_crit_at_warn_until_it_persists():
    run = a_run(0, finding(), finding(code="NFS_READ_ONLY"))
    changes = [
        Change("new", NOW.isoformat(), "CRIT", "storage", "NFS_CAPACITY_LOW", "store 1", "x", streak=1),
        Change("open", NOW.isoformat(), "CRIT", "storage", "NFS_READ_ONLY", "store 1", "x", streak=2),
    ]
    damped = {f.code: f for f in damp(run, changes, crit_after_runs=2).findings}
    assert damped["NFS_CAPACITY_LOW"].severity is Severity.WARN
    assert "crit_after_runs = 2" in damped["NFS_CAPACITY_LOW"].details
    assert damped["NFS_READ_ONLY"].severity is Severity.CRIT
    assert damp(run, changes, crit_after_runs=1) is run


def test_report_across_runs_marks_changes_forecasts_and_damps(tmp_path):
    """Four `csdiag report --from` runs a day apart on one SQLite history file."""
    cfg = write_config(
        tmp_path / "c.toml",
        f'[history]\nurl = "sqlite:///{tmp_path}/h.sqlite"\n\n[report]\ncrit_after_runs = 2\n',
    )
    series = {3: 100, 2: 90, 1: 80, 0: 70}  # GiB available: 10 GiB less each day
    outputs = {}
    for day, gib in series.items():
        low = finding(code="NFS_CAPACITY_LOW", severity=Severity.WARN, value=gib * GiB)
        extra = [finding(code="NFS_READ_ONLY")] if day in (2, 1) else []  # appears, stays, is fixed
        doc = tmp_path / f"run{day}.json"
        doc.write_text(json.dumps(a_run(day, low, *extra).to_dict()))
        out = tmp_path / f"out{day}"
        r = run_cli("report", "--config", str(cfg), "--from", str(doc), "--output", str(out), cwd=tmp_path)
        outputs[day] = (r, out)
    r2, out2 = outputs[2]
    assert "1 new, 0 resolved" in r2.stderr
    doc2 = json.loads((out2 / "findings.json").read_text())
    [ro] = [f for f in doc2["findings"] if f["code"] == "NFS_READ_ONLY"]
    assert ro["severity"] == "WARN" and "damped" in ro["details"]  # first time seen: held at WARN
    assert r2.returncode == 1
    r1, out1 = outputs[1]
    assert r1.returncode == 2  # second run in a row: CRIT
    assert "open since" in (out1 / "report.html").read_text()
    r0, out0 = outputs[0]
    assert "0 new, 1 resolved" in r0.stderr
    page = (out0 / "report.html").read_text()
    crit_day = (NOW + timedelta(days=4)).strftime("%Y-%m-%d")
    assert f"crosses crit on {crit_day}" in page
    assert len(re.findall(r'<figure id="chart-', page)) >= 3  # by check, per run, the trend
    csv = (out0 / "findings.csv").read_text()
    assert ",resolved," in csv and "NFS_READ_ONLY" in csv


def test_error_counters_give_a_rate_per_day_since_their_last_reset():
    m = Metric(name="in_errors", value=130, unit="count")
    f = Finding(
        check="optics", code="OPTICS_OK", severity=Severity.INFO, target="leaf1:Ethernet49", summary="ok", metrics=[m]
    )
    history = [
        {
            "at": (NOW - timedelta(days=d)).isoformat(),
            "check": "optics",
            "target": "leaf1:Ethernet49",
            "name": "in_errors",
            "value": v,
        }
        for d, v in ((5, 900), (3, 10), (2, 50), (1, 90))  # cleared between day 5 and day 3
    ]
    [t] = trends(Run(id="r", started=NOW, finished=NOW, tool_version="t", config={}, checks=(), findings=(f,)), history)
    assert t.slope_per_day == pytest.approx(40.0)  # 40 new errors a day since the reset
    assert t.crossings == {}
