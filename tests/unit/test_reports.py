import csv
import io
import json
from datetime import UTC, datetime

import pytest

from diagnostics.model import CheckRun, CheckStatus, Evidence, EvidenceKind, Finding, Metric, Run, Severity
from reports import csvfile, html, jsondoc, table, verdict

pytestmark = pytest.mark.unit
T = datetime(2024, 5, 2, 10, 0, tzinfo=UTC)
XSS = "<script>alert(1)</script>"


def sample_run():
    findings = [
        Finding(
            check="platform",
            code="VERSION_UNSUPPORTED",
            severity=Severity.CRIT,
            target="mysql://db:3306/cloud",
            summary="CloudStack 4.17.2.0 is older than 4.18",
            evidence=[
                Evidence(kind=EvidenceKind.LOG, source="/var/log/x.log:7", text=f"=cmd|' /C calc'!A0 {XSS}", at=T)
            ],
            metrics=[Metric(name="rx_power", value=-14.2, unit="dBm", warn=-10.0, crit=-13.0, direction="lower")],
            remediation="-upgrade",
        ),
        Finding(
            check="platform", code="DB_UNREACHABLE", severity=Severity.UNKNOWN, target="@evil", summary="+cannot read"
        ),
        Finding(check="platform", code="CLOUDSTACK_VERSION", severity=Severity.INFO, target="t", summary="fine"),
    ]
    return Run(
        id="r1",
        started=T,
        finished=T,
        tool_version="0.1",
        config={},
        findings=findings,
        checks=[CheckRun(name="platform", status=CheckStatus.COMPLETED, duration_s=0.2)],
    )


def test_verdict_line():
    assert verdict(sample_run()) == "CRITICAL — 1 critical, 0 warnings, 1 could not check, 1 passed"


def test_csv_fixed_columns_and_formula_cells_neutralised():
    rows = list(csv.DictReader(io.StringIO(csvfile.render(sample_run()))))
    assert list(rows[0]) == csvfile.COLUMNS
    assert [r["severity"] for r in rows] == ["CRIT", "UNKNOWN", "INFO"]
    assert rows[0]["remediation"] == "'-upgrade"
    assert rows[0]["evidence"].startswith("[log] /var/log/x.log:7: =cmd")  # inside text, not a cell start
    assert rows[1]["target"] == "'@evil" and rows[1]["summary"] == "'+cannot read"
    assert "rx_power=-14.2dBm (warn -10.0, crit -13.0)" in rows[0]["metrics"]
    for r in rows:
        for v in r.values():
            assert not v.startswith(("=", "+", "-", "@"))


def test_json_is_the_run_document():
    doc = json.loads(jsondoc.render(sample_run()))
    assert doc["schema"] == "csdiag.run/1"
    assert Run.from_dict(doc) == sample_run()


def test_html_escapes_and_orders():
    page = html.render(sample_run())
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.index("VERSION_UNSUPPORTED") < page.index("DB_UNREACHABLE") < page.index("CLOUDSTACK_VERSION")
    assert 'id="group-unknown"' in page and "<details" in page
    assert "<link" not in page and 'src="http' not in page  # self-contained


def test_table_default_view_is_one_line_per_problem():
    buf = io.StringIO()
    table.render(sample_run(), buf, color=False, width=80)
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("CRITICAL")
    assert all(len(line) <= 80 for line in lines)
    [crit] = [line for line in lines if "VERSION_UNSUPPORTED" in line]
    assert crit.split()[:2] == ["1", "CRIT"] and "/var/log/x.log" not in buf.getvalue()
    assert "passed (1): platform 1" in lines


def test_table_explain_shows_evidence_units_and_fix():
    buf = io.StringIO()
    table.render(sample_run(), buf, color=False, width=80, explain=True)
    out = buf.getvalue()
    assert "/var/log/x.log:7" in out and "do       -upgrade" in out
    assert "rx_power = -14.2 dBm (warn below -10 dBm, crit below -13 dBm)" in out
    one = io.StringIO()
    table.render(sample_run(), one, color=False, width=80, pick=["DB_UNREACHABLE"], explain=True)
    assert "DB_UNREACHABLE" in one.getvalue() and "VERSION_UNSUPPORTED" not in one.getvalue()
