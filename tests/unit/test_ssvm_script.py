"""ssvm-check.sh as CloudStack ships it: the real script's transcripts (tests/data/ssvm_check, recorded by
record.py there) give exactly the expected findings; a healthy one gives none above INFO."""

from __future__ import annotations

import pytest

from checks import reach, ssvm_script
from checks.reach import ReachParams
from diagnostics.check import RawEvidence
from diagnostics.model import Severity
from tests.conftest import ROOT

pytestmark = pytest.mark.unit
DATA = ROOT / "tests/data/ssvm_check"
MOUNT = "/mnt/SecStorage/5dc2ba2c-1f2b-3e5b-9a41-6b7f44e8f2e1"


def transcript(name: str) -> list[str]:
    return (DATA / f"{name}.txt").read_text().splitlines()


def probe(name: str) -> dict[str, object]:
    """The reach probe's output on an SSVM whose ssvm-check.sh printed the transcript ``name``."""
    lines = transcript(name)
    rc = next(line.split()[1] for line in lines if line.startswith("EXIT "))
    body = [f"CHECK {line}" for line in lines if not line.startswith("EXIT ")]
    stdout = "\n".join(
        ["TOOLS curl getent timeout", "CMDLINE host=10.250.0.10 port=8250", *body, f"CHECK CHECKRC {rc}"]
    )
    return {"label": "s-1-VM", "host": "10.250.0.61", "port": 3922, "rc": 0, "stdout": stdout + "\n", "stderr": ""}


def findings(name: str):
    raw = RawEvidence(data={"configured": False, "results": {}, "urls": [], "probes": [probe(name)]})
    return [
        f for f in reach.evaluate(raw, ReachParams()) if f.code.startswith("SSVM_CHECK") or "ssvm-check" in f.target
    ]


EXPECTED = {
    "healthy": [("SSVM_CHECK_PASSED", Severity.INFO, None)],
    "dns": [
        ("SSVM_CHECK_WARNING", Severity.WARN, "DNS server does not answer ping"),
        ("SSVM_CHECK_FAILED", Severity.CRIT, "DNS"),
    ],
    "readonly_nfs": [("SSVM_CHECK_FAILED", Severity.CRIT, "root squash")],
    "not_mounted": [
        ("SSVM_CHECK_FAILED", Severity.CRIT, "NFS not mounted"),
        ("SSVM_CHECK_WARNING", Severity.WARN, "storage address does not answer ping"),
    ],
    "java_down": [("SSVM_CHECK_FAILED", Severity.CRIT, "Java process not running")],
    # the script cannot see a closed port 8250 (it tests tr's exit status): it reports success
    "mgmt_port_closed": [("SSVM_CHECK_PASSED", Severity.INFO, None)],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_transcript_gives_exactly_the_expected_findings(name):
    fs = findings(name)
    assert [(f.code, f.severity) for f in fs] == [(c, s) for c, s, _ in EXPECTED[name]]
    for f, (_, _, cause) in zip(fs, EXPECTED[name], strict=True):
        if cause:
            assert cause in f.summary
        assert "cannot fail" in (f.details or "")  # the note on the script's own 8250 test
        assert f.evidence and f.evidence[0].data and "note_8250" in f.evidence[0].data


def test_healthy_gives_nothing_above_info_and_the_closing_line_is_not_an_error():
    result = ssvm_script.parse(transcript("healthy"))
    assert result.completed and result.exit_code == 0 and not result.events
    assert len(result.good) == 5
    assert all(f.severity.rank <= Severity.INFO.rank for f in findings("healthy"))


def test_causes_carry_what_the_lines_before_named():
    [ro] = ssvm_script.parse(transcript("readonly_nfs")).events
    assert ro.facts["mount_point"] == MOUNT
    events = ssvm_script.parse(transcript("not_mounted")).events
    assert events[1].facts["storage_address"] == "10.250.1.5"
    dns = ssvm_script.parse(transcript("dns"))
    assert dns.exit_code == 2 and not dns.completed and dns.events[1].stops
    [crit] = [f for f in findings("dns") if f.severity is Severity.CRIT]
    assert "did not run" in (crit.details or "")


def test_the_4_18_storage_line_and_an_unknown_error_line():
    lines = [
        "Storage address is 10.1.1.5, trying to ping it",
        "WARNING: Cannot ping nfs storage address",
        "ERROR: something new in a later release",
        "Tests Complete. Look for ERROR or WARNING above.",
    ]
    result = ssvm_script.parse(lines)
    assert result.events[0].facts["storage_address"] == "10.1.1.5"
    assert result.events[1].severity is Severity.CRIT and result.events[1].cause == "unrecognised error"


def test_a_run_cut_short_is_unknown():
    lines = transcript("healthy")[:12]  # killed by the 120 s timeout mid-way: no closing line
    fs = list(ssvm_script.findings("reach", "s-1-VM", [*lines, "CHECKRC 124"]))
    assert [f.code for f in fs] == ["REACH_NOT_TESTED"] and fs[0].severity is Severity.UNKNOWN


def test_broken_rules_fail_at_load():
    text = (ROOT / "checks/ssvm_script.toml").read_text()
    with pytest.raises(ssvm_script.RulesError):
        ssvm_script.load(text.replace('kind = "warning"', 'kind = "warn"', 1))
    with pytest.raises(ssvm_script.RulesError):
        ssvm_script.load(text.replace("regex = '^ERROR: Java process not running'", "regex = '^ERROR: (Java'"))
    assert ssvm_script.load(text)[2] == ssvm_script.RULES


@pytest.mark.parametrize(
    "url, shown",
    [
        ("http://user:password@proxy.example:3128", "http://***@proxy.example:3128"),
        ("https://u:p%40ss@10.0.0.9:8443/", "https://***@10.0.0.9:8443"),
        ("http://proxy.example:3128", "http://***@proxy.example:3128"),
        ("proxy.example:3128", "http://***@proxy.example:3128"),
        ("", None),
        (None, None),
    ],
)
def test_secstorage_proxy_is_shown_masked(url, shown):
    assert reach.mask_proxy(url) == shown


def test_the_proxy_goes_into_the_probe_script_only():
    from diagnostics.config import ReachSettings

    script = reach.probe_script(["http://t.example/x.qcow2"], ReachSettings(), 3, "http://u:pw@p.example:3128")
    assert "-x http://u:pw@p.example:3128" in script
    assert "-I -x " not in reach.probe_script(["http://t.example/x.qcow2"], ReachSettings(), 3)
    assert "secstorage.proxy" not in reach.SETTINGS
