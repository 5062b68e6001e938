"""The history store shared through PostgreSQL (SQLAlchemy + psycopg), the password from the environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from diagnostics.config import parse_settings
from diagnostics.history import History
from diagnostics.sources.cursors import Cursor
from tests.services.postgres import Postgres, postgres_server
from tests.unit.test_history import run, statuses

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    with postgres_server() as server:
        yield server


def test_history_on_postgresql(postgres: Postgres, monkeypatch: pytest.MonkeyPatch) -> None:
    postgres.sql("CREATE ROLE hist LOGIN PASSWORD 'hist-pw-123'")
    postgres.sql("CREATE DATABASE csdiag_history OWNER hist")
    monkeypatch.setenv("CSDIAG_HISTORY_PW", "hist-pw-123")
    settings = parse_settings(
        {"history": {"url": postgres.url("csdiag_history", user="hist"), "password_env": "CSDIAG_HISTORY_PW"}}
    )
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
    # the schema is PostgreSQL's own, with csdiag's version recorded
    assert postgres.sql("SELECT v FROM csdiag_meta WHERE k = 'schema_version'", "csdiag_history").strip().isdigit()
    assert "hist-pw-123" not in settings.history.url and "hist-pw-123" not in str(settings.summary())
