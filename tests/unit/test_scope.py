"""A run's scope is data: change marks compare like with like (diagnostics.scope), one test per rule,
and the issue-21 scenario through the CLI on the demo bundle."""

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from diagnostics.history import MIGRATIONS, SCHEMA_VERSION, History, damp
from diagnostics.model import CheckRun, CheckStatus, Finding, Run, Severity
from diagnostics.scope import DIGEST_KEY, scope_of, targets_digest
from tests.conftest import ROOT, run_cli, write_config

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def f(check, code, target, sev=Severity.CRIT):
    return Finding(check=check, code=code, severity=sev, target=target, summary=code)


def run(n, findings, checks=None, runner="zone-a", failed=(), digest="d1"):
    t = T0 + timedelta(hours=n)
    names = sorted(set(checks if checks is not None else {x.check for x in findings}) | set(failed))
    runs = [
        CheckRun(name=c, status=CheckStatus.FAILED if c in failed else CheckStatus.COMPLETED, duration_s=1.0)
        for c in names
    ]
    return Run(
        id=f"{runner}-{n}",
        started=t,
        finished=t,
        tool_version="t",
        config={DIGEST_KEY: digest} if digest else {},
        checks=tuple(runs),
        findings=tuple(findings),
        runner=runner,
        host=f"host-{runner}",
    )


def marks(h, r):
    h.record(r)
    return sorted((c.status, c.code, c.streak) for c in h.changes(r))


@pytest.fixture
def h(tmp_path):
    with History.open(f"sqlite:///{tmp_path}/h.sqlite") as store:
        yield store


def test_a_run_that_did_not_run_the_check_resolves_nothing(h):
    marks(h, run(0, [f("storage", "NFS_READ_ONLY", "store 1"), f("templates", "T_STUCK", "template 5")]))
    assert marks(h, run(1, [f("templates", "T_STUCK", "template 5")])) == [("open", "T_STUCK", 2)]


def test_a_failed_check_covers_nothing(h):
    marks(h, run(0, [f("storage", "NFS_READ_ONLY", "store 1")]))
    # storage failed: its failure finding is there, the old problem is neither resolved nor broken
    assert marks(h, run(1, [f("storage", "CHECK_FAILED", "storage", Severity.UNKNOWN)], failed=["storage"])) == [
        ("new", "CHECK_FAILED", 1)
    ]
    assert marks(h, run(2, [f("storage", "NFS_READ_ONLY", "store 1")])) == [
        ("open", "NFS_READ_ONLY", 2),
        ("resolved", "CHECK_FAILED", 0),  # the check completes again
    ]


def test_resolved_when_the_check_completed_with_the_same_configuration(h):
    marks(h, run(0, [f("storage", "NFS_READ_ONLY", "store 1")]))
    assert marks(h, run(1, [], checks=["storage"])) == [("resolved", "NFS_READ_ONLY", 0)]
    assert marks(h, run(2, [], checks=["storage"])) == []  # resolved once, not again


def test_resolved_when_an_ok_finding_names_the_target(h):
    marks(h, run(0, [f("storage", "NFS_READ_ONLY", "store 1")], digest="d1"))
    # configuration changed (another digest): only a finding naming store 1 proves it was looked at
    assert marks(h, run(1, [f("storage", "NFS_OK", "store 2", Severity.OK)], digest="d2")) == []
    assert marks(h, run(2, [f("storage", "NFS_OK", "store 1", Severity.OK)], digest="d2")) == [
        ("resolved", "NFS_READ_ONLY", 0)
    ]


def test_other_runners_runs_are_not_compared(h):
    marks(h, run(0, [f("storage", "NFS_READ_ONLY", "store 1")], runner="zone-a"))
    assert marks(h, run(1, [], checks=["storage"], runner="zone-b")) == []
    assert marks(h, run(2, [f("storage", "NFS_READ_ONLY", "store 1")], runner="zone-b")) == [
        ("new", "NFS_READ_ONLY", 1)
    ]
    assert marks(h, run(3, [f("storage", "NFS_READ_ONLY", "store 1")], runner="zone-a")) == [
        ("open", "NFS_READ_ONLY", 2)
    ]


def test_open_since_and_damping_count_only_covering_runs(h):
    crit = [f("storage", "NFS_READ_ONLY", "store 1")]
    marks(h, run(0, crit))
    marks(h, run(1, [f("templates", "T_STUCK", "template 5")]))  # storage not run: no break, no streak
    r = run(2, crit)
    h.record(r)
    changes = h.changes(r)
    (c,) = [c for c in changes if c.code == "NFS_READ_ONLY"]
    assert (c.status, c.streak, c.since[:13]) == ("open", 2, "2026-11-01T00")
    damped = damp(r, changes, crit_after_runs=3)
    assert damped.findings[0].severity is Severity.WARN  # 2 covering runs < 3
    assert damp(r, changes, crit_after_runs=2).findings[0].severity is Severity.CRIT


def test_empty_scope_and_older_documents():
    empty = run(0, [], checks=[])
    assert scope_of(empty).empty
    legacy = Run(id="x", started=T0, finished=T0, tool_version="t", config={}, checks=(), findings=(f("a", "B", "c"),))
    assert dict(scope_of(legacy).checks) == {"a": frozenset({"c"})}
    assert Run.from_dict({**legacy.to_dict()}).runner == ""


def test_digest_ignores_secrets_and_run_sections():
    a = targets_digest({"run": {"runner": "a"}, "cloudstack": {"database": {"host": "db", "password": "x"}}})
    b = targets_digest({"run": {"runner": "b"}, "cloudstack": {"database": {"host": "db", "password": "y"}}})
    c = targets_digest({"run": {"runner": "b"}, "cloudstack": {"database": {"host": "db2", "password": "y"}}})
    assert a == b != c


def test_migration_from_schema_3_keeps_history_and_a_held_lock_refuses(tmp_path):
    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    for version in range(1, 4):
        for statement in MIGRATIONS[version]:
            db.execute(statement)
    db.execute("INSERT INTO csdiag_meta VALUES ('schema_version', '3')")
    db.execute("INSERT INTO csdiag_runs (id, started, finished, worst) VALUES ('old', 'x', '2026-01-01', 'OK')")
    db.execute("INSERT INTO csdiag_meta VALUES ('migration_lock', 'other-host:42:2026-01-01')")
    db.commit()
    with pytest.raises(Exception, match="half-migrated"), History.open(f"sqlite:///{path}", timeout_s=0.3):
        pass
    db.execute("DELETE FROM csdiag_meta WHERE k = 'migration_lock'")
    db.commit()
    db.close()
    with History.open(f"sqlite:///{path}") as h:
        assert h.version() == SCHEMA_VERSION
        assert [r["id"] for r in h.runs()] == ["old"]


def test_the_only_scenario_gives_no_false_resolved(tmp_path):
    """Issue 21: a full run, then `--only ssvm,platform,templates`: nothing of the other checks resolved."""
    cfg = write_config(tmp_path / "c.toml", f'[history]\nurl = "sqlite:///{tmp_path}/h.sqlite"\n')
    demo = str(ROOT / "examples/demo-bundle")
    for name, only in (("full", []), ("some", ["--only", "ssvm,platform,templates"])):
        r = run_cli("triage", "--bundle", demo, *only, "--format", "json", cwd=tmp_path)
        (tmp_path / f"{name}.json").write_text(r.stdout)
        out = tmp_path / name
        r = run_cli("report", "--config", str(cfg), "--from", str(tmp_path / f"{name}.json"), "-o", str(out))
        assert r.returncode in (1, 2, 3), r.stderr
    assert ", 0 resolved since the previous run" in r.stderr
    rows = (tmp_path / "some/findings.csv").read_text()
    assert ",resolved," not in rows
    full = json.loads((tmp_path / "full.json").read_text())
    assert {x["check"] for x in full["findings"]} - {"ssvm", "platform", "templates"}  # others had findings
    assert full["run"]["runner"] and full["findings"][0]["runner"] == full["run"]["runner"]


def test_retention_keeps_the_run_that_holds_an_open_problems_since(h):
    problem = [f("storage", "NFS_READ_ONLY", "store 1")]
    for n, findings in enumerate((problem, [f("ssvm", "GONE", "s-1")], problem, problem)):
        h.record(run(n * 24, findings))  # one a day
    h.record(run(4 * 24, problem, runner="zone-b"))
    # 2-day retention at day 4: day 0 holds "open since" of the problem zone-a's latest run still has;
    # day 1 saw nothing that is still open
    assert h.prune(2, now=T0 + timedelta(days=4, hours=1)) == 1
    assert [r["id"] for r in h.runs()] == ["zone-a-0", "zone-a-48", "zone-a-72", "zone-b-96"]
    (c,) = h.changes(run(72, problem))
    assert c.since[:10] == "2026-11-01"


def test_a_target_the_check_could_not_judge_resolves_nothing(h):
    marks(h, run(0, [f("storage", "NFS_READ_ONLY", "store 1")]))
    unreachable = f("storage", "NFS_UNREACHABLE", "store 1", Severity.UNKNOWN)
    assert marks(h, run(1, [unreachable])) == [("new", "NFS_UNREACHABLE", 1)]  # not "resolved"
    assert marks(h, run(2, [unreachable])) == [("open", "NFS_UNREACHABLE", 2)]
    assert marks(h, run(3, [], checks=["storage"])) == [
        ("resolved", "NFS_READ_ONLY", 0),
        ("resolved", "NFS_UNREACHABLE", 0),
    ]
