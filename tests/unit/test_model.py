from datetime import UTC, datetime

import pytest

from diagnostics.model import (
    CheckRun,
    CheckStatus,
    Evidence,
    EvidenceKind,
    Finding,
    Metric,
    ModelError,
    Run,
    Severity,
)

pytestmark = pytest.mark.unit


def finding(**kw):
    base = {"check": "platform", "code": "X_Y", "severity": Severity.WARN, "target": "t", "summary": "one line"}
    return Finding(**(base | kw))


def test_severity_order_and_worst():
    order = [Severity.OK, Severity.INFO, Severity.WARN, Severity.UNKNOWN, Severity.CRIT]
    assert [s.rank for s in order] == sorted(s.rank for s in order)
    assert Severity.worst([Severity.WARN, Severity.UNKNOWN, Severity.INFO]) is Severity.UNKNOWN
    assert Severity.worst([Severity.UNKNOWN, Severity.CRIT]) is Severity.CRIT
    assert Severity.worst([]) is Severity.OK
    with pytest.raises(TypeError):
        _ = Severity.WARN < Severity.CRIT  # not comparable by accident


def test_nagios_codes():
    assert {s: s.nagios_code for s in Severity} == {
        Severity.OK: 0,
        Severity.INFO: 0,
        Severity.WARN: 1,
        Severity.CRIT: 2,
        Severity.UNKNOWN: 3,
    }


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"code": "lower"}, "UPPER_SNAKE_CASE"),
        ({"check": "Bad Name"}, "lower_snake_case"),
        ({"summary": "two\nlines"}, "one non-empty line"),
        ({"summary": " "}, "one non-empty line"),
        ({"target": ""}, "target"),
        ({"count": 0}, "count"),
        ({"first_seen": datetime(2024, 1, 1)}, "time zone"),
        ({"first_seen": datetime(2024, 1, 2, tzinfo=UTC), "last_seen": datetime(2024, 1, 1, tzinfo=UTC)}, "before"),
    ],
)
def test_finding_is_validated(kw, message):
    with pytest.raises(ModelError, match=message):
        finding(**kw)


def test_evidence_and_metric_validation():
    with pytest.raises(ModelError, match="neither text nor data"):
        Evidence(kind=EvidenceKind.LOG, source="f:1")
    with pytest.raises(ModelError, match="number"):
        Metric(name="rx_power", value=float("nan"))
    with pytest.raises(ModelError, match="lower_snake_case"):
        Metric(name="Rx Power", value=1.0)


def test_finding_is_frozen_and_round_trips():
    f = finding(
        evidence=[
            Evidence(
                kind=EvidenceKind.LOG,
                source="/var/log/x:12",
                text="line",
                at=datetime(2024, 5, 2, 10, 11, 12, tzinfo=UTC),
            )
        ],
        metrics=[Metric(name="free_bytes", value=10, unit="B", warn=20, crit=5, direction="lower")],
        first_seen=datetime(2024, 5, 2, tzinfo=UTC),
        last_seen=datetime(2024, 5, 3, tzinfo=UTC),
        count=4,
    )
    with pytest.raises(AttributeError):
        f.code = "OTHER"  # type: ignore[misc]
    assert isinstance(f.evidence, tuple)
    assert Finding.from_dict(f.to_dict()) == f


def test_run_sorts_worst_first_and_round_trips():
    t = datetime(2024, 1, 1, tzinfo=UTC)
    run = Run(
        id="abc",
        started=t,
        finished=t,
        tool_version="1",
        config={},
        checks=[CheckRun(name="platform", status=CheckStatus.COMPLETED, duration_s=0.5)],
        findings=[
            finding(severity=Severity.INFO, code="A"),
            finding(severity=Severity.CRIT, code="B"),
            finding(severity=Severity.UNKNOWN, code="C"),
        ],
    )
    assert [f.code for f in run.findings] == ["B", "C", "A"]
    assert run.worst is Severity.CRIT
    doc = run.to_dict()
    assert doc["schema"] == "csdiag.run/1"
    assert set(doc["run"]) >= {"id", "started", "finished", "tool_version", "config", "checks"}
    assert set(doc["run"]["checks"][0]) == {"name", "status", "duration_s", "error"}
    assert Run.from_dict(doc) == run
    with pytest.raises(ModelError, match="schema"):
        Run.from_dict({"schema": "other/1"})


def test_iec_bytes():
    from diagnostics.units import iec_bytes

    assert [iec_bytes(n) for n in (0, 1023, 1536, 64 * 2**20, 999 * 2**20, 2**62)] == [
        "0 B",
        "1023 B",
        "1.5 KiB",
        "64 MiB",
        "999 MiB",
        "4096 PiB",
    ]
