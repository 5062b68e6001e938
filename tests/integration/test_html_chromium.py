"""The HTML report in a real browser (headless Chromium): what it renders, and that evidence carrying
markup is shown as text and never runs. The screenshot is kept in out/test-artifacts/."""

import html
import json
import re
import shutil
import subprocess
from datetime import UTC, datetime

import pytest

from diagnostics.correlate import correlate
from diagnostics.model import CheckRun, CheckStatus, Evidence, EvidenceKind, Finding, Run, Severity
from reports import html as html_report
from tests.conftest import ROOT, run_cli
from tests.services import unavailable

pytestmark = pytest.mark.integration
ARTIFACTS = ROOT / "out" / "test-artifacts"
PAYLOAD = "<script>document.title='pwned';window.pwned=1</script><img src=x onerror=\"document.title='pwned'\">"


def chromium(*args, url):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        unavailable("chromium not installed (apt-get install chromium; `make test` does it as root)")
    r = subprocess.run(
        [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={ARTIFACTS / 'chromium-profile'}",
            *args,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def hostile_run():
    now = datetime.now(UTC)
    findings = [
        Finding(
            check="logs",
            code="DOWNLOAD_FAILED",
            severity=Severity.CRIT,
            target='template 7 "evil<b>name</b>"',
            summary=f"summary with {PAYLOAD}",
            evidence=(Evidence(kind=EvidenceKind.LOG, source="ms.log:1", text=f"2025-01-01 ERROR {PAYLOAD}"),),
            remediation=f"fix {PAYLOAD}",
        ),
        Finding(
            check="ssvm",
            code="SSVM_AGENT_NOT_UP",
            severity=Severity.CRIT,
            target='ssvm s-1-VM (zone 1 "z")',
            summary="agent Alert",
        ),
        Finding(
            check="templates",
            code="TEMPLATE_DOWNLOAD_STALLED",
            severity=Severity.CRIT,
            target='template 7 "x" @ store 1 "s"',
            summary="stalled",
            subjects={"zone": "1"},
        ),
        Finding(
            check="platform",
            code="CLOUDSTACK_VERSION",
            severity=Severity.INFO,
            target="db",
            summary="CloudStack 4.19.1.0",
        ),
    ]
    return Run(
        id="xss-test",
        started=now,
        finished=now,
        tool_version="test",
        config={"file": PAYLOAD},
        checks=(CheckRun(name="logs", status=CheckStatus.COMPLETED, duration_s=0.1),),
        findings=tuple(findings),
        incidents=correlate(findings),
    )


def test_markup_in_evidence_is_shown_as_text_and_never_runs(tmp_path):
    page = tmp_path / "report.html"
    page.write_text(html_report.render(hostile_run()), encoding="utf-8")
    dom = chromium("--dump-dom", "--virtual-time-budget=2000", url=page.as_uri())
    assert "<title>csdiag report — CRITICAL</title>" in dom  # no payload changed the title
    assert 'class="js"' in dom  # our own script ran (the count filters), so scripts were enabled
    assert html.escape("<script>document.title='pwned'", quote=False) in dom  # shown as text
    assert dom.count("<script") == 1 and '<img src="x"' not in dom  # no element came from the payload
    assert len(re.findall(r'<section class="finding[^"]*" id=', dom)) == 4
    assert 'data-rule="ssvm-agent-down"' in dom  # the incident is there, cause first


def test_the_demo_report_renders_with_verdict_counts_findings_and_charts(tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    r = run_cli("triage", "--bundle", str(ROOT / "examples/demo-bundle"), "--output", str(tmp_path / "demo"))
    assert r.returncode == 2, r.stderr
    run = json.loads((tmp_path / "demo" / "findings.json").read_text())
    page = (tmp_path / "demo" / "report.html").as_uri()
    dom = chromium("--dump-dom", "--virtual-time-budget=2000", url=page)
    counts = {s: sum(1 for f in run["findings"] if f["severity"] == s) for s in ("CRIT", "WARN", "UNKNOWN")}
    assert re.search(r'<h1 id="verdict">CRITICAL</h1>', dom)
    for sev, n in counts.items():
        assert re.search(rf'data-severity="{sev}" title="show only these"><b>{n}</b>', dom), sev
    assert len(re.findall(r'<section class="finding" id=', dom)) == len(run["findings"])
    assert len(re.findall(r'<section class="incident', dom)) == len(run["incidents"]) >= 1
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{100,}" alt="', dom)  # a chart, inline
    shot = ARTIFACTS / "demo-report.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars", url=page)
    assert shot.stat().st_size > 50_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    phone = ARTIFACTS / "demo-report-phone.png"
    chromium(f"--screenshot={phone}", "--window-size=390,1600", url=page)
    assert phone.exists()
