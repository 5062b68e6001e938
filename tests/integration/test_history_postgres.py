"""The history store shared through PostgreSQL (SQLAlchemy + psycopg), the password from the environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from diagnostics.config import parse_settings
from tests.integration.test_history_mariadb import exercise_shared_store
from tests.services.postgres import Postgres, postgres_server

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
    exercise_shared_store(settings)
    # the schema is PostgreSQL's own, with csdiag's version recorded
    assert postgres.sql("SELECT v FROM csdiag_meta WHERE k = 'schema_version'", "csdiag_history").strip().isdigit()
    assert "hist-pw-123" not in settings.history.url and "hist-pw-123" not in str(settings.summary())
