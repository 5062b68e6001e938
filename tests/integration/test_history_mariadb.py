"""A history store shared through MariaDB (SQLAlchemy + pymysql), the password from the environment."""

import pytest

from diagnostics.config import parse_settings
from diagnostics.history import History
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
    with History.open(settings.history.full_url()) as h:
        h.record(run(0, "NFS_CAPACITY_LOW"))
        second = run(1, "NFS_READ_ONLY")
        h.record(second)
        assert statuses(h.changes(second)) == [
            ("new", "NFS_READ_ONLY", "2026-11-02"),
            ("resolved", "NFS_CAPACITY_LOW", None),
        ]
    assert "hist-pw-123" not in settings.history.url and "hist-pw-123" not in str(settings.summary())
