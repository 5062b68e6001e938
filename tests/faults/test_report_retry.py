"""`csdiag report --from` of a run already recorded (the natural retry after a failed e-mail), and a report
whose history store cannot be reached: no traceback, the files written, the store consistent."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import run_cli, write_config

pytestmark = [pytest.mark.faults, pytest.mark.integration]


def test_report_from_a_recorded_run_is_idempotent(tmp_path):
    """Before: the second `report --from` crashed with an IntegrityError traceback, exit 1, no files."""
    store = tmp_path / "h.sqlite"
    cfg = write_config(tmp_path / "c.toml", f'[history]\nurl = "sqlite:///{store}"\n')
    first = run_cli("report", "--config", str(cfg), "--only", "images", "--output", str(tmp_path / "r1"))
    assert first.returncode == 0, first.stderr
    doc = tmp_path / "r1" / "findings.json"
    run_id = json.loads(doc.read_text())["run"]["id"]
    for attempt in ("r2", "r3"):
        again = run_cli("report", "--config", str(cfg), "--from", str(doc), "--output", str(tmp_path / attempt))
        assert again.returncode == first.returncode, again.stderr
        assert "Traceback" not in again.stderr and "IntegrityError" not in again.stderr
        assert (tmp_path / attempt / "report.html").exists() and (tmp_path / attempt / "findings.csv").exists()
    with sqlite3.connect(store) as conn:
        assert conn.execute("SELECT id FROM csdiag_runs").fetchall() == [(run_id,)]
        assert conn.execute("SELECT COUNT(*) FROM csdiag_findings").fetchone()[0] == 1


def test_a_history_store_that_cannot_be_reached_still_writes_the_report(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    cfg = write_config(tmp_path / "c.toml", f'[history]\nurl = "sqlite:///{blocker}/h.sqlite"\n')
    r = run_cli("report", "--config", str(cfg), "--only", "images", "--output", str(tmp_path / "r"))
    assert "Traceback" not in r.stderr
    assert "history store" in r.stderr and "not recorded" in r.stderr
    assert (tmp_path / "r" / "report.html").exists() and (tmp_path / "r" / "findings.json").exists()
