"""The history store's connection, bounded: driver options that bound every wait (connect, read, write,
statement, a locked SQLite), a watchdog for drivers without a read timeout (psycopg), and driver errors
as source errors whose text never holds the store's password."""

from __future__ import annotations

import os
import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from diagnostics.sources.errors import SourceError, Timeout, Unreachable


def connect_args(url: str, timeout_s: float) -> dict[str, Any]:
    """Driver options that bound every wait on the store: connecting, reading and writing (MySQL/MariaDB:
    pymysql/mysqlclient), connecting and each statement (PostgreSQL), a locked database (SQLite busy
    timeout). Without them a hung shared store hangs the cron job forever."""
    t = max(1, round(timeout_s))
    if url.startswith("sqlite"):
        return {"timeout": timeout_s}
    if url.startswith(("mysql", "mariadb")):
        return {"connect_timeout": t, "read_timeout": t, "write_timeout": t}
    if url.startswith("postgresql"):
        # statement_timeout bounds a slow query; tcp_user_timeout a dead host or a partition (data left
        # unacknowledged); a server process that is alive but silent is cut by History's watchdog
        return {
            "connect_timeout": t,
            "options": f"-c statement_timeout={t * 1000}",
            "keepalives": 1,
            "keepalives_idle": t,
            "keepalives_interval": 1,
            "keepalives_count": 3,
            "tcp_user_timeout": t * 1000,
        }
    return {}


def _socket_of(conn: Any) -> int | None:
    """The TCP socket under a SQLAlchemy connection, where the driver has no read timeout (psycopg)."""
    dbapi = getattr(getattr(conn, "connection", None), "dbapi_connection", None)
    if dbapi is None or type(dbapi).__module__.split(".")[0] != "psycopg":
        return None  # pymysql has read/write timeouts; sqlite3 a busy timeout
    try:
        return int(dbapi.fileno())
    except Exception:
        return None


@contextmanager
def watchdog(conn: Any, timeout_s: float) -> Iterator[None]:
    """Bound a transaction on a driver without a read timeout: at ``timeout_s`` the connection's socket is
    shut down, so the blocked read returns (an error SQLAlchemy reports, and the pool discards)."""
    fd = _socket_of(conn)
    if fd is None:
        yield
        return

    def cut() -> None:
        try:
            with socket.socket(fileno=os.dup(fd)) as s:
                s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    timer = threading.Timer(timeout_s, cut)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


def translate(url: str, exc: Exception) -> SourceError:
    """A SQLAlchemy/driver error as a source error whose message is safe to show."""
    reason = getattr(exc, "orig", None) or exc
    text = f"{type(reason).__name__}: {reason}"
    lowered = text.lower()
    if any(w in lowered for w in ("timed out", "timeout", "lost connection", "database is locked")):
        return Timeout(f"history store {safe_url(url)}: {safe_url(text)}")
    return Unreachable(f"history store {safe_url(url)}: {safe_url(text)}")


def safe_url(url: str) -> str:
    """A store URL (or a driver message holding one) without its password."""
    return re.sub(r"//([^:/@\s]+):[^@\s]*@", r"//\1:***@", url)
