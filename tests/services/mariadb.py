"""A throwaway MariaDB server (own datadir, socket and port on 127.0.0.1), per test-services.md,
and fresh CloudStack-shaped databases in it."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pymysql

from tests.services import free_port, stop, unavailable

SCHEMAS = Path(__file__).with_name("cloudstack_schema")
# The CloudStack versions whose real schema the tests can build (tests/services/cloudstack_schema/*.sql).
VERSIONS = ("4.18", "4.19", "4.20", "4.22", "main")
DEFAULT_VERSION = "4.18"
READER_USER = "csdiag"
READER_PASSWORD = "s3cret-reader-pw"
_db_numbers = itertools.count(1)


@dataclass
class MariaDB:
    root: Path
    port: int
    socket: Path
    process: subprocess.Popen[bytes]

    def connect(self, database: str | None = None) -> pymysql.connections.Connection[Any]:
        return pymysql.connect(
            host="127.0.0.1",
            port=self.port,
            user="root",
            password="",
            database=database,
            autocommit=True,
            connect_timeout=5,
        )

    def execute(self, sql: str | Iterable[str], database: str | None = None) -> None:
        statements = [sql] if isinstance(sql, str) else list(sql)
        with self.connect(database) as conn, conn.cursor() as cur:
            for st in statements:
                if st.strip():
                    cur.execute(st)

    def create_cloud_db(self, name: str | None = None, version: str = DEFAULT_VERSION) -> str:
        """A new database with CloudStack ``version``'s real schema (the tables csdiag reads) and the rows
        CloudStack's own scripts leave (default templates, version history); returns its name."""
        if version not in VERSIONS:
            raise ValueError(f"no recorded CloudStack schema {version!r} (have {', '.join(VERSIONS)})")
        name = name or f"cloud_{next(_db_numbers)}"
        self.execute(f"CREATE DATABASE {name}")
        self.execute((SCHEMAS / f"{version}.sql").read_text().split(";\n"), database=name)
        return name

    def set_version(self, database: str, *versions: str) -> None:
        """Append ``versions`` to the upgrade history, the last one current (a version already in the
        history moves to the end: the column is UNIQUE in CloudStack's schema)."""
        with self.connect(database) as conn, conn.cursor() as cur:
            for v in versions:
                cur.execute("DELETE FROM version WHERE version = %s", (v,))
                cur.execute("INSERT INTO version (version, updated, step) VALUES (%s, NOW(), 'Complete')", (v,))


def _wait(cmd: list[str], seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if subprocess.run(cmd, capture_output=True, timeout=10).returncode == 0:
            return True
        time.sleep(0.1)
    return False


@contextmanager
def mariadb_server(buffer_pool: str = "32M", port: int | None = None) -> Iterator[MariaDB]:
    """Start a throwaway server; tests keep its memory small, benchmarks give it a production-like pool."""
    for tool in ("mariadbd", "mariadb-install-db", "mariadb-admin"):
        if not shutil.which(tool) and not Path("/usr/sbin", tool).exists():
            unavailable(
                f"{tool} not found (apt-get install mariadb-server mariadb-client; `make test` does it as root)"
            )
    mariadbd = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
    root = Path(tempfile.mkdtemp(prefix="csdiag-mdb-"))  # short path: unix socket names are limited to 108 bytes
    datadir, sock, port = root / "data", root / "mysqld.sock", port or free_port()
    init = subprocess.run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={datadir}",
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        capture_output=True,
        timeout=120,
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        unavailable(f"mariadb-install-db failed: {init.stderr.decode(errors='replace')[-500:]}")
    log = (root / "mariadbd.log").open("wb")
    proc = subprocess.Popen(
        [
            mariadbd,
            "--no-defaults",
            f"--datadir={datadir}",
            f"--socket={sock}",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            "--user=root",
            "--skip-log-bin",
            f"--innodb-buffer-pool-size={buffer_pool}",
            f"--pid-file={root / 'mariadbd.pid'}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = MariaDB(root=root, port=port, socket=sock, process=proc)
    try:
        if not _wait(["mariadb-admin", "--no-defaults", f"--socket={sock}", "ping"], 30):
            unavailable(f"mariadbd did not answer: {(root / 'mariadbd.log').read_text(errors='replace')[-800:]}")
        server.execute(
            [
                f"CREATE USER '{READER_USER}'@'127.0.0.1' IDENTIFIED BY '{READER_PASSWORD}'",
                f"GRANT SELECT ON *.* TO '{READER_USER}'@'127.0.0.1'",
            ]
        )
        yield server
    finally:
        stop(proc, 20)
        log.close()
        shutil.rmtree(root, ignore_errors=True)
