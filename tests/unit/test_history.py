"""The history store on a real SQLite file: changes across runs, migrations, retention."""

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from diagnostics.config import ConfigError, parse_settings
from diagnostics.history import MIGRATIONS, SCHEMA_VERSION, History
from diagnostics.model import Finding, Metric, Run, Severity
from diagnostics.sources.errors import ProtocolError

pytestmark = pytest.mark.unit
T0 = datetime(2026, 11, 1, tzinfo=UTC)


def run(n, *codes):
    t = T0 + timedelta(days=n)
    findings = [
        Finding(
            check="storage",
            code=c,
            severity=Severity.CRIT,
            target="store 1",
            summary=c,
            metrics=[Metric(name="available_bytes", value=100 - n, unit="B")],
        )
        for c in codes
    ]
    findings.append(
        Finding(check="platform", code="CLOUDSTACK_VERSION", severity=Severity.INFO, target="db", summary="4.18")
    )
    return Run(id=f"run{n}", started=t, finished=t, tool_version="t", config={}, checks=(), findings=findings)


def statuses(changes):
    return sorted((c.status, c.code, c.since[:10] if c.since else None) for c in changes)


def test_new_open_resolved_across_runs(tmp_path):
    url = f"sqlite:///{tmp_path}/h.sqlite"
    with History.open(url) as h:
        for r in (run(0, "NFS_CAPACITY_LOW"), run(1, "NFS_CAPACITY_LOW", "NFS_READ_ONLY")):
            h.record(r)
        assert statuses(h.changes(run(1, "NFS_CAPACITY_LOW", "NFS_READ_ONLY"))) == [
            ("new", "NFS_READ_ONLY", "2026-11-02"),
            ("open", "NFS_CAPACITY_LOW", "2026-11-01"),
        ]
        third = run(2, "NFS_READ_ONLY")
        h.record(third)
        assert statuses(h.changes(third)) == [
            ("open", "NFS_READ_ONLY", "2026-11-02"),
            ("resolved", "NFS_CAPACITY_LOW", None),
        ]
        assert [r["id"] for r in h.runs()] == ["run0", "run1", "run2"]
        series = h.series(check="storage", target="store 1")
        assert [s["value"] for s in series if s["name"] == "available_bytes"] == [100, 99, 99, 98]
    with History.open(url) as h:  # reopened: the data is still there
        assert len(h.runs()) == 3


def test_old_store_is_migrated_and_newer_refused(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    for statement in MIGRATIONS[1]:
        conn.execute(statement)
    conn.execute("INSERT INTO csdiag_meta (k, v) VALUES ('schema_version', '1')")
    conn.execute(
        "INSERT INTO csdiag_runs (id, started, finished, tool_version, source, worst) "
        "VALUES ('old', '2026-01-01', '2026-01-01', '0.0.1', 'live', 'OK')"
    )
    conn.commit()
    conn.close()
    with History.open(f"sqlite:///{path}") as h:
        assert h.version() == SCHEMA_VERSION
        assert [r["id"] for r in h.runs()] == ["old"]
        h.record(run(0, "NFS_READ_ONLY"))
    conn = sqlite3.connect(path)
    conn.execute("UPDATE csdiag_meta SET v = '99' WHERE k = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(ProtocolError, match="newer than this csdiag"), History.open(f"sqlite:///{path}"):
        pass


def test_retention(tmp_path):
    with History.open(f"sqlite:///{tmp_path}/h.sqlite") as h:
        for n in range(5):
            # the problem is gone in the last run: no old run holds an open problem's "since" (test_scope)
            h.record(run(n, "NFS_READ_ONLY") if n < 4 else run(n))
        assert h.prune(2, now=T0 + timedelta(days=4)) == 2  # older than 2 days: run0, run1
        assert [r["id"] for r in h.runs()] == ["run2", "run3", "run4"]


def test_no_password_in_the_url():
    with pytest.raises(ConfigError, match="password_env"):
        parse_settings({"history": {"url": "mysql+pymysql://csdiag:hunter2@db/csdiag"}})


def test_recording_a_run_again_is_idempotent(tmp_path):
    """Before: `report --from` of a recorded run crashed with an IntegrityError traceback (exit 1, no files)."""
    url = f"sqlite:///{tmp_path}/h.sqlite"
    r = run(0, "NFS_CAPACITY_LOW")
    with History.open(url) as h:
        assert h.record(r) is True
        assert h.record(r) is False
        assert h.recorded(r.id)
        assert [x["id"] for x in h.runs()] == ["run0"]
        assert len(h.findings_of("run0")) == 2
        assert len(h.series(check="storage")) == 1


def test_cursors_move_only_with_the_run_that_evaluated_them(tmp_path):
    from diagnostics.history import CursorUpdate
    from diagnostics.sources.cursors import Cursor

    url = f"sqlite:///{tmp_path}/h.sqlite"
    head = "ab" * 32
    with History.open(url) as h:
        assert h.record(run(0), [CursorUpdate("local", head, "/var/log/x.log", 100, 3)])
        assert h.cursor("local", head) == Cursor(offset=100, lines=3, path="/var/log/x.log")
        # the same run again (a retry): recorded once, and its cursors do not move a second time
        assert not h.record(run(0), [CursorUpdate("local", head, "/var/log/x.log", 999, 9)])
        assert h.cursor("local", head).offset == 100
        assert h.record(run(1), [CursorUpdate("local", head, "/var/log/x.log", 200, 5)])
        assert h.cursor("local", head).offset == 200


def test_a_failing_record_moves_no_cursor_and_stores_nothing(tmp_path):
    from diagnostics.history import CursorUpdate
    from diagnostics.sources.errors import SourceError

    url = f"sqlite:///{tmp_path}/h.sqlite"
    head = "cd" * 32
    with History.open(url) as h:
        h._exec("CREATE TRIGGER no_metrics BEFORE INSERT ON csdiag_metrics BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        with pytest.raises(SourceError, match="disk full"):
            h.record(run(0, "NFS_CAPACITY_LOW"), [CursorUpdate("local", head, "/x", 100, 3)])
        assert h.runs() == [] and h.cursor("local", head) is None  # all or nothing


def test_a_locked_sqlite_store_waits_its_busy_timeout_then_says_so(tmp_path):
    import time

    from diagnostics.sources.errors import Timeout

    path = tmp_path / "h.sqlite"
    with History.open(f"sqlite:///{path}"):
        pass
    with History.open(f"sqlite:///{path}", timeout_s=1.0) as h:
        locker = sqlite3.connect(path, isolation_level=None)
        locker.execute("BEGIN EXCLUSIVE")
        try:
            t0 = time.monotonic()
            with pytest.raises(Timeout, match="locked"):
                h.record(run(0))
            assert 0.9 < time.monotonic() - t0 < 5  # waited its busy timeout, not forever
        finally:
            locker.close()
        assert h.record(run(0))  # once the lock is gone it works


def test_a_store_that_cannot_be_created_is_unreachable_not_a_traceback(tmp_path):
    from diagnostics.sources.errors import Unreachable

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(Unreachable, match="history store"), History.open(f"sqlite:///{blocker}/sub/h.sqlite"):
        pass


def test_only_evaluated_completed_checks_move_cursors(tmp_path):
    """A check that timed out, failed, or was only collected (a bundle not yet triaged) moves no cursor."""
    from diagnostics.check import Check, Code, NoParams, RawEvidence
    from diagnostics.config import Settings
    from diagnostics.history import CursorUpdate, cursor_updates
    from diagnostics.runner import Job, execute

    proposal = {"source": "local", "head": "ab" * 32, "path": "/var/log/x.log", "offset": 4096, "lines": 40}

    def collect(ctx):
        return RawEvidence(data={"cursor_advance": [proposal, {"source": "broken"}]})

    def slow(ctx):
        import time

        time.sleep(1)
        return collect(ctx)

    def make(name, fn):
        return Check(
            name=name,
            title=name,
            description=name,
            codes=(Code(code="X", severity=Severity.INFO, meaning="x"),),
            params=NoParams,
            collect=fn,
            evaluate=lambda raw, p: iter(()),  # healthy: no finding at all, yet evaluated
        )

    done = execute([Job(check=make("logs", collect), params=NoParams())], Settings())
    assert cursor_updates(done) == [CursorUpdate("local", "ab" * 32, "/var/log/x.log", 4096, 40)]
    collected = execute([Job(check=make("logs", collect), params=NoParams(), evaluate=False)], Settings())
    timed_out = execute([Job(check=make("logs", slow), params=NoParams())], Settings(), timeout_s=0.2)
    replayed = execute([Job(check=make("logs", collect), params=NoParams(), raw=done[0].raw)], Settings())
    assert cursor_updates(collected) == cursor_updates(timed_out) == cursor_updates(replayed) == []
