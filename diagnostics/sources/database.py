"""Read-only access to the CloudStack database (MySQL/MariaDB) over pymysql.

Three locks keep it read only, whatever the account may do:
1. only ``SELECT``/``SHOW``/``WITH`` statements are sent (:class:`NotPermitted` otherwise);
2. the session is ``READ ONLY`` and everything runs inside ``START TRANSACTION READ ONLY``, so the
   server itself refuses a write (error 1792) even for an account that has write grants;
3. the transaction is rolled back, never committed.
The documentation still recommends a SELECT-only account.

Rows come back as JSON-friendly dicts (datetimes as ISO strings, decimals as numbers, bytes decoded),
ready to be stored as evidence.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import re
import socket
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from diagnostics.config import DatabaseSettings
from diagnostics.sources import deadline
from diagnostics.sources.errors import (
    AuthFailed,
    NotFound,
    NotPermitted,
    ProtocolError,
    SourceError,
    Timeout,
    Unreachable,
)

_READ_RE = re.compile(r"^\s*(SELECT|SHOW|WITH)\b", re.IGNORECASE)

# MySQL/MariaDB error numbers (mysqld_error.h, errmsg.h) we translate.
_AUTH = {1044, 1045, 1698}
_NOT_FOUND = {1049, 1146, 1054}
_UNREACHABLE = {2002, 2003, 2005, 2006}
_LOST = {2013}
_READ_ONLY = {1792}
_DENIED = {1142, 1143}  # SELECT/column command denied to user


def target_of(settings: DatabaseSettings) -> str:
    """How a database is named in findings (no user, no password)."""
    return f"mysql://{settings.host}:{settings.port}/{settings.database}"


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return value


def translate(exc: BaseException, where: str) -> SourceError:
    """Map a pymysql/socket exception to the source error tree (message free of secrets)."""
    import pymysql

    if isinstance(exc, socket.timeout | TimeoutError):
        return Timeout(f"{where}: no answer in time")
    if isinstance(exc, pymysql.err.MySQLError) and exc.args and isinstance(exc.args[0], int):
        code, msg = exc.args[0], str(exc.args[1]) if len(exc.args) > 1 else ""
        if code in _AUTH:
            return AuthFailed(f"{where}: access denied ({code}: {msg})")
        if code in _NOT_FOUND:
            return NotFound(f"{where}: {msg} ({code})")
        if code in _DENIED:
            return NotPermitted(f"{where}: {msg} ({code})")
        if code in _READ_ONLY:
            return NotPermitted(f"{where}: the session is read only ({code}: {msg})")
        if code in _UNREACHABLE | _LOST:
            if "timed out" in msg.lower():
                return Timeout(f"{where}: {msg} ({code})")
            return Unreachable(f"{where}: {msg} ({code})")
        return ProtocolError(f"{where}: {msg} ({code})")
    if isinstance(exc, OSError):
        return Unreachable(f"{where}: {exc.strerror or exc}")
    return ProtocolError(f"{where}: {type(exc).__name__}: {exc}")


class ReadOnlyDatabase:
    """One read-only session. Use :func:`connect`."""

    def __init__(self, conn: Any, where: str) -> None:
        self._conn = conn
        self.where = where

    def rows(self, sql: str, args: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
        self._only_reads(sql)
        return self._execute(sql, args)

    def stream(self, sql: str, args: Sequence[Any] | Mapping[str, Any] = ()) -> Iterator[dict[str, Any]]:
        """Rows one at a time from an unbuffered cursor: memory stays flat however many rows come.
        Consume the iterator fully before sending the next statement."""
        self._only_reads(sql)
        yield from self._iterate(sql, args, buffered=False)

    def _only_reads(self, sql: str) -> None:
        if not _READ_RE.match(sql):
            first = sql.split()[0] if sql.split() else repr(sql)
            raise NotPermitted(f"{self.where}: csdiag only reads; refused to send: {first}")

    def _execute(self, sql: str, args: Sequence[Any] | Mapping[str, Any] = ()) -> list[dict[str, Any]]:
        """Any statement, unguarded: only for setting up the read-only session itself."""
        return list(self._iterate(sql, args, buffered=True))

    def _iterate(
        self, sql: str, args: Sequence[Any] | Mapping[str, Any], *, buffered: bool
    ) -> Iterator[dict[str, Any]]:
        import pymysql

        cursor_class = pymysql.cursors.DictCursor if buffered else pymysql.cursors.SSDictCursor
        try:
            with self._conn.cursor(cursor_class) as cur:
                cur.execute(sql, args or None)
                for row in cur:
                    yield {k: jsonable(v) for k, v in row.items()}
        except (pymysql.err.MySQLError, OSError) as exc:
            raise translate(exc, self.where) from exc


@contextmanager
def connect(settings: DatabaseSettings, *, timeout_s: float) -> Iterator[ReadOnlyDatabase]:
    """Open a read-only session; every wait is bounded by ``timeout_s`` (and the configured limits)."""
    import pymysql

    where = target_of(settings)
    secret = settings.password_secret()
    password = secret.reveal() if secret else ""
    connect_timeout = max(1, min(settings.connect_timeout_s, timeout_s))
    io_timeout = max(1, min(settings.query_timeout_s, timeout_s))
    # pymysql resolves the name with the resolver's own (unbounded) wait: resolve it here, bounded.
    try:
        address = deadline.getaddrinfo(settings.host, settings.port, connect_timeout)[0][4][0]
    except NotFound as exc:
        raise Unreachable(f"{where}: {exc}") from None
    try:
        conn = pymysql.connect(
            host=address,
            port=settings.port,
            user=settings.user,
            password=password,
            database=settings.database,
            connect_timeout=connect_timeout,
            # pymysql reads the server's greeting with read_timeout: a server that accepts TCP and never
            # greets must fail within the connect timeout, so queries get their longer limit only below.
            read_timeout=connect_timeout,
            write_timeout=connect_timeout,
            charset="utf8mb4",
            cursorclass=pymysql.cursors.DictCursor,
            # None: pymysql sends no SET AUTOCOMMIT; the explicit START TRANSACTION READ ONLY below holds
            # every statement in one read-only transaction whatever the server's default.
            autocommit=None,
        )
    except (pymysql.err.MySQLError, OSError) as exc:
        raise translate(exc, where) from exc
    # No public setter exists; both attributes are read before every socket operation (pymysql ≥ 1.0).
    setattr(conn, "_read_timeout", io_timeout)  # noqa: B010 - private to pymysql, see above
    setattr(conn, "_write_timeout", io_timeout)  # noqa: B010
    db = ReadOnlyDatabase(conn, where)
    try:
        db._execute("SET SESSION TRANSACTION READ ONLY")
        _limit_statement_time(db, io_timeout)
        db._execute("START TRANSACTION READ ONLY")
        yield db
    finally:
        with contextlib.suppress(Exception):  # closing a broken connection must not hide the original error
            conn.rollback()
            conn.close()


def _limit_statement_time(db: ReadOnlyDatabase, seconds: float) -> None:
    """Let the server stop a runaway query too: MariaDB counts seconds, MySQL milliseconds."""
    for sql in (
        f"SET SESSION max_statement_time = {seconds:.0f}",
        f"SET SESSION max_execution_time = {seconds * 1000:.0f}",
    ):
        try:
            db._execute(sql)
            return
        except SourceError:
            continue
