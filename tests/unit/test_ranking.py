"""The one ranking: incident root causes first with the findings they explain, then unexplained problems
(severity, then the lower layer), passes last; findings from several vantage points fold into one line."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from diagnostics.correlate import correlate
from diagnostics.model import Finding, Run, Severity
from diagnostics.ranking import fold, rank, split_vantage
from reports import csvfile, jsondoc, junit, nagios, table

pytestmark = pytest.mark.unit
T = datetime(2025, 3, 11, 21, 0, tzinfo=UTC)


def f(check, code, sev, target, **kw):
    return Finding(check=check, code=code, severity=Severity[sev], target=target, summary=f"{code} on {target}", **kw)


def sample() -> Run:
    findings = [
        f("templates", "TEMPLATE_DOWNLOAD_STALLED", "CRIT", 'template 7 "x" @ store 1 "s"', subjects={"zone": "2"}),
        f("ssvm", "SSVM_AGENT_NOT_UP", "CRIT", 'ssvm s-12-VM (zone 2 "west")'),
        f("images", "IMAGE_ROOT_PASSWORD", "CRIT", 'template 9 "y" @ store 1 "s"'),
        f("optics", "OPTICS_RX_LOW", "WARN", "leaf1:Ethernet49"),
        f("optics", "OPTICS_NO_LIGHT", "CRIT", "leaf1:Ethernet51"),
        f("storage", "NFS_ROOT_SQUASH", "CRIT", "nfs://10.0.0.5/export from this host"),
        f("storage", "NFS_ROOT_SQUASH", "CRIT", "nfs://10.0.0.5/export from this host (NFS protocol)"),
        f("platform", "DB_UNREACHABLE", "UNKNOWN", "mysql://db/cloud"),
        f("platform", "CLOUDSTACK_VERSION", "INFO", "mysql://db/cloud"),
    ]
    return Run(
        id="r",
        started=T,
        finished=T,
        tool_version="t",
        config={},
        checks=(),
        findings=tuple(findings),
        incidents=correlate(findings),
    )


def test_order_is_causal_role_then_severity_then_layer():
    ranked = rank(sample())
    codes = [x.code for x in ranked.findings]
    assert codes == [
        "SSVM_AGENT_NOT_UP",  # the incident's root cause
        "TEMPLATE_DOWNLOAD_STALLED",  # what it explains
        "OPTICS_NO_LIGHT",  # unexplained CRIT, lowest layer first
        "NFS_ROOT_SQUASH",
        "NFS_ROOT_SQUASH",
        "IMAGE_ROOT_PASSWORD",
        "DB_UNREACHABLE",  # UNKNOWN after CRIT
        "OPTICS_RX_LOW",  # WARN
        "CLOUDSTACK_VERSION",  # passes last
    ]
    assert [ranked.rank(x) for x in ranked.findings] == list(range(1, 10))
    assert ranked.is_cause(ranked.findings[0]) and not ranked.is_cause(ranked.findings[1])


def test_every_renderer_follows_the_ranking():
    run = sample()
    order = [x.code for x in rank(run).findings]
    doc = jsondoc.render(run)
    assert [doc.index(f'"code": "{c}"') for c in dict.fromkeys(order)] == sorted(
        doc.index(f'"code": "{c}"') for c in dict.fromkeys(order)
    )
    csv_codes = [line.split(",")[2] for line in csvfile.render(run).splitlines()[1:]]
    assert csv_codes == order
    lines = nagios.render(run).splitlines()
    assert "first SSVM agent down" in lines[0]
    assert [ln.split()[3] for ln in lines if ln.startswith("[") and " #" in ln] == order[:8]
    suites = [s.split('"')[1] for s in junit.render(run).split("<testsuite ")[1:]]
    assert suites[:3] == ["ssvm", "templates", "optics"]
    buf = io.StringIO()
    table.render(run, buf, color=False, width=80)
    text = buf.getvalue()
    assert text.index("SSVM agent down") < text.index("OPTICS_NO_LIGHT") < text.index("OPTICS_RX_LOW")


def test_vantage_points_fold_into_one_line():
    assert split_vantage("nfs://s/x from this host (NFS protocol)") == ("nfs://s/x", "this host (NFS protocol)")
    assert split_vantage("10.0.0.9 → http://u/x.qcow2") == ("http://u/x.qcow2", "10.0.0.9")
    assert split_vantage('template 1 "a" @ store 2 "b"') == ('template 1 "a" @ store 2 "b"', "")
    lines = fold(rank(sample()).unexplained)
    [squash] = [ln for ln in lines if ln.first.code == "NFS_ROOT_SQUASH"]
    assert squash.subject == "nfs://10.0.0.5/export"
    assert squash.vantages == ("this host", "this host (NFS protocol)")
    buf = io.StringIO()
    table.render(sample(), buf, color=False, width=120)
    [line] = [ln for ln in buf.getvalue().splitlines() if "NFS_ROOT_SQUASH" in ln]
    assert "nfs://10.0.0.5/export (from this host, this host (NFS protocol))" in line


def test_many_targets_of_one_code_share_a_line():
    findings = [f("templates", "TEMPLATE_SYNC_INCOMPLETE", "WARN", f'template {n} @ store 2 "b"') for n in range(6)]
    run = Run(id="r", started=T, finished=T, tool_version="t", config={}, checks=(), findings=tuple(findings))
    buf = io.StringIO()
    table.render(run, buf, color=False, width=80)
    [line] = [ln for ln in buf.getvalue().splitlines() if "TEMPLATE_SYNC_INCOMPLETE" in ln]
    assert "×6" in line
    explained = io.StringIO()
    table.render(run, explained, color=False, width=80, explain=True, pick=["TEMPLATE_SYNC_INCOMPLETE"])
    headers = [ln for ln in explained.getvalue().splitlines() if ln.startswith("#")]
    assert len(headers) == 6 and all("WARN TEMPLATE_SYNC_INCOMPLETE" in h for h in headers)
