"""A history store shared through MariaDB (SQLAlchemy + pymysql), the password from the environment."""

from typing import Any

import pytest

from diagnostics.config import parse_settings
from diagnostics.history import History
from diagnostics.sources.cursors import Cursor
from tests.unit.test_history import run, statuses

pytestmark = pytest.mark.integration


def test_history_on_mariadb(mariadb, monkeypatch):
    mariadb.execute(
        [
            "CREATE DATABASE IF NOT EXISTS csdiag_history",
            "CREATE USER IF NOT EXISTS 'hist'@'127.0.0.1' IDENTIFIED BY 'hist-pw-123'",
            "GRANT ALL ON csdiag_history.* TO 'hist'@'127.0.0.1'",
        ]
    )
    monkeypatch.setenv("CSDIAG_HISTORY_PW", "hist-pw-123")
    settings = parse_settings(
        {
            "history": {
                "url": f"mysql+pymysql://hist@127.0.0.1:{mariadb.port}/csdiag_history",
                "password_env": "CSDIAG_HISTORY_PW",
            }
        }
    )
    exercise_shared_store(settings)
    assert "hist-pw-123" not in settings.history.url and "hist-pw-123" not in str(settings.summary())


def exercise_shared_store(settings: Any) -> None:
    """Runs, changes, the cursor upsert and a metric series on a store shared by runners (any server)."""
    with History.open(settings.history.full_url()) as h:
        h.record(run(0, "NFS_CAPACITY_LOW"))
        second = run(1, "NFS_READ_ONLY")
        h.record(second)
        assert statuses(h.changes(second)) == [
            ("new", "NFS_READ_ONLY", "2026-11-02"),
            ("resolved", "NFS_CAPACITY_LOW", None),
        ]
        h.set_cursor("ssvm 10.0.0.1", "ab" * 32, "/var/log/cloud.log", 4096, 12)
        h.set_cursor("ssvm 10.0.0.1", "ab" * 32, "/var/log/cloud.log", 8192, 30)  # the upsert
        assert h.cursor("ssvm 10.0.0.1", "ab" * 32) == Cursor(offset=8192, lines=30, path="/var/log/cloud.log")
        assert h.cursor("ssvm 10.0.0.1", "cd" * 32) is None
        points = [(s["at"][:10], s["value"]) for s in h.series("storage", "store 1")]
        assert points == [("2026-11-01", 100), ("2026-11-02", 99)]
