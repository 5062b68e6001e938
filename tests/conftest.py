"""Shared fixtures. Service fixtures live in tests/services and start real processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services.mariadb import READER_PASSWORD, READER_USER, MariaDB, mariadb_server

ROOT = Path(__file__).resolve().parent.parent
CSDIAG = [sys.executable, "-m", "diagnostics.cli"]


@pytest.fixture(scope="session")
def mariadb() -> Iterator[MariaDB]:
    with mariadb_server() as server:
        yield server


@pytest.fixture
def cloud_db(mariadb: MariaDB) -> str:
    """A fresh, empty CloudStack-shaped database on the session's MariaDB."""
    return mariadb.create_cloud_db()


@pytest.fixture
def site(mariadb: MariaDB, cloud_db: str):
    """A CloudStack 4.18.1 database to build scenarios in (tests/services/cloudstack_site.py)."""
    from tests.services.cloudstack_site import Site

    s = Site(mariadb, cloud_db)
    s.version("4.18.1.0")
    return s


def write_config(path: Path, body: str, *, private: bool = False) -> Path:
    path.write_text(body)
    path.chmod(0o600 if private else 0o644)
    return path


def db_config(server: MariaDB, database: str, *, port: int | None = None, extra: str = "") -> str:
    return f"""
[run]
check_timeout_s = 20

[cloudstack.database]
host = "127.0.0.1"
port = {port or server.port}
user = "{READER_USER}"
password_env = "CSDIAG_TEST_DB_PASSWORD"
database = "{database}"
connect_timeout_s = 3
{extra}"""


@pytest.fixture
def db_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("CSDIAG_TEST_DB_PASSWORD", READER_PASSWORD)
    return {**os.environ, "CSDIAG_TEST_DB_PASSWORD": READER_PASSWORD}


def run_cli(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
    netns: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """csdiag as a subprocess; inside the network namespace ``netns`` when given."""
    prefix = ["ip", "netns", "exec", netns] if netns else []
    return subprocess.run(
        [*prefix, *CSDIAG, *args], capture_output=True, text=True, env=env, cwd=cwd or ROOT, timeout=timeout
    )


@pytest.fixture(scope="session")
def sshd():
    from tests.services.sshd import sshd_server

    with sshd_server() as server:
        yield server
