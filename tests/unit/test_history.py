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
            h.record(run(n, "NFS_READ_ONLY"))
        assert h.prune(2, now=T0 + timedelta(days=4)) == 2  # older than 2 days: run0, run1
        assert [r["id"] for r in h.runs()] == ["run2", "run3", "run4"]


def test_no_password_in_the_url():
    with pytest.raises(ConfigError, match="password_env"):
        parse_settings({"history": {"url": "mysql+pymysql://csdiag:hunter2@db/csdiag"}})
