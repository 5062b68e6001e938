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
    cards = re.findall(
        r'<section class="finding" id="f\d+" data-severity="[A-Z]+" data-code="[A-Z0-9_]+" data-rank="(\d+)"', dom
    )
    assert 0 < len(cards) <= len(run["findings"])  # vantage points of one fact share a card
    assert [int(r) for r in cards] == sorted(int(r) for r in cards)  # in rank order
    assert len(re.findall(r'<section class="incident', dom)) == len(run["incidents"]) >= 1
    assert re.search(r'<img src="data:image/png;base64,[A-Za-z0-9+/=]{100,}" alt="', dom)  # a chart, inline
    shot = ARTIFACTS / "demo-report.png"
    chromium(f"--screenshot={shot}", "--window-size=1280,2000", "--hide-scrollbars", url=page)
    assert shot.stat().st_size > 50_000 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    phone = ARTIFACTS / "demo-report-phone.png"
    chromium(f"--screenshot={phone}", "--window-size=390,1600", url=page)
    assert phone.exists()


RULER = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="r" src="report.html" style="width:{w}px;height:{h}px;border:0"></iframe>
<script>
document.getElementById("r").addEventListener("load", function () {{
  var d = this.contentDocument, w = this.contentWindow;
  function bottom(e) {{ return e.getBoundingClientRect().bottom; }}
  var out = {{width: w.innerWidth, height: w.innerHeight, scroll: d.documentElement.scrollWidth,
    verdict: bottom(d.getElementById("verdict")), counts: bottom(d.getElementById("counts")),
    fixes: Array.from(d.querySelectorAll("section.incident .fix")).map(bottom)}};
  var p = document.createElement("pre"); p.id = "layout"; p.textContent = JSON.stringify(out);
  document.body.appendChild(p);
}});
</script></body></html>"""


@pytest.mark.parametrize(
    "width, height, incidents_on_screen",
    [(1280, 720, 3), (390, 664, 1)],  # a laptop browser's and a phone's first screen (CSS pixels)
)
def test_the_first_screen_shows_verdict_incidents_and_first_actions(tmp_path, width, height, incidents_on_screen):
    # The bundle from a long path: the report shows where it came from, and no checkout's path may widen it
    deep = tmp_path / "demo_bundle_under_a_path_as_long_as_CI_runners_give_it"  # no break opportunity inside
    shutil.copytree(ROOT / "examples/demo-bundle", deep)
    r = run_cli("triage", "--bundle", str(deep), "--format", "html", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    (tmp_path / "report.html").write_text(r.stdout, encoding="utf-8")
    ruler = tmp_path / "ruler.html"  # the report in a frame of exactly that viewport (headless windows are ≥ 500 px)
    ruler.write_text(RULER.format(w=width, h=height), encoding="utf-8")
    dom = chromium(
        "--dump-dom",
        "--virtual-time-budget=3000",
        "--allow-file-access-from-files",
        "--window-size=1400,900",
        url=ruler.as_uri(),
    )
    layout = json.loads(html.unescape(re.search(r'<pre id="layout">(.*?)</pre>', dom).group(1)))
    assert layout["width"] == width and layout["height"] == height
    assert layout["verdict"] < layout["counts"] < height
    fixes = layout["fixes"]
    assert len(fixes) == 3  # the demo's three incidents, each with its first action
    assert all(b < height for b in fixes[:incidents_on_screen]), layout
    assert layout["scroll"] <= width  # nothing wider than the screen
    shot = ARTIFACTS / f"first-screen-{width}.png"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    chromium(
        f"--screenshot={shot}",
        f"--window-size={width},{height}",
        "--hide-scrollbars",
        url=(tmp_path / "report.html").as_uri(),
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
