"""A throwaway PostgreSQL server (Debian's ``postgresql`` package) on 127.0.0.1, for the history store
shared by several runners. PostgreSQL refuses to run as root, so the server runs as the ``postgres``
user the package creates; its data folder is a fresh temp folder, removed at teardown."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.services import free_port, stop, unavailable

PASSWORD = "pg-hist-pw-7"


@dataclass
class Postgres:
    port: int
    root: Path

    def url(self, database: str = "postgres", user: str = "csdiag") -> str:
        """An SQLAlchemy URL without the password (the store takes it from ``password_env``)."""
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def sql(self, statement: str, database: str = "postgres") -> str:
        out = subprocess.run(
            [_bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
             "-v", "ON_ERROR_STOP=1", "-qAtc", statement],
            capture_output=True, text=True, timeout=30, check=False, env=dict(os.environ, PGPASSWORD=PASSWORD),
        )  # fmt: skip
        if out.returncode != 0:
            raise RuntimeError(f"psql: {out.stderr.strip()}")
        return out.stdout


def _bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    return str(found[-1]) if found else (shutil.which(name) or name)


def _as_postgres() -> tuple[int, int] | None:
    if os.geteuid() != 0:
        return None  # not root: run as ourselves
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        unavailable("no 'postgres' user (apt-get install postgresql; `make test` does it as root)")
    return pw.pw_uid, pw.pw_gid


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    if not Path(_bin("initdb")).exists():
        unavailable("initdb not found (apt-get install postgresql; `make test` does it as root)")
    ids = _as_postgres()
    root = Path(tempfile.mkdtemp(prefix="csdiag-pg-"))
    data, port = root / "data", free_port()
    if ids:
        os.chown(root, *ids)
    user = {"user": ids[0], "group": ids[1]} if ids else {}
    pwfile = root / "pw"
    pwfile.write_text(PASSWORD)
    if ids:
        os.chown(pwfile, *ids)
    init = subprocess.run(
        [_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8"],
        capture_output=True, timeout=120, check=False, **user,  # type: ignore[arg-type]
    )  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        unavailable(f"initdb failed: {init.stderr.decode(errors='replace')[-500:]}")
    log = root / "server.log"
    proc = subprocess.Popen(
        [_bin("postgres"), "-D", str(data), "-p", str(port), "-c", "listen_addresses=127.0.0.1",
         "-c", f"unix_socket_directories={root}", "-c", "fsync=off", "-c", "max_connections=60"],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, **user,  # type: ignore[arg-type]
    )  # fmt: skip
    env = dict(os.environ, PGPASSWORD=PASSWORD)
    try:
        end = time.monotonic() + 30
        while subprocess.run(
            [_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port)], capture_output=True, timeout=10, env=env
        ).returncode:
            if time.monotonic() > end or proc.poll() is not None:
                unavailable(f"postgres did not answer: {log.read_text(errors='replace')[-800:]}")
            time.sleep(0.2)
        yield Postgres(port=port, root=root)
    finally:
        stop(proc, 20)
        shutil.rmtree(root, ignore_errors=True)
