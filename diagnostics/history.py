"""The history store: past runs, their findings and metrics, so reports can say what changed.

SQLite by default (``[history] url``, in the XDG state folder), or any SQLAlchemy URL — MySQL/MariaDB or
PostgreSQL — for a store shared by several runners. It also keeps the log cursors (where incremental
log scans stopped reading each file). The schema carries its version in ``csdiag_meta``;
opening an older store upgrades it in place (:data:`MIGRATIONS`), a newer one is refused.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from diagnostics.model import CheckStatus, Run, Severity, utcnow
from diagnostics.scope import Change as Change  # re-exported: reports and tests import it from here
from diagnostics.scope import PastRun, Scope, scope_of
from diagnostics.scope import damp as damp  # re-exported
from diagnostics.sources.cursors import Cursor
from diagnostics.sources.cursors import CursorUpdate as CursorUpdate  # re-exported
from diagnostics.sources.cursors import cursor_updates as cursor_updates
from diagnostics.sources.cursors import run_cursors as run_cursors
from diagnostics.sources.errors import ProtocolError, SourceError, Unreachable
from diagnostics.sources.historydb import connect_args, safe_url, translate, watchdog

SCHEMA_VERSION = 4
# version → statements that bring a store from the version before it
MIGRATIONS: dict[int, list[str]] = {
    1: [
        "CREATE TABLE csdiag_meta (k VARCHAR(64) PRIMARY KEY, v VARCHAR(255) NOT NULL)",
        "CREATE TABLE csdiag_runs (id VARCHAR(64) PRIMARY KEY, started VARCHAR(40) NOT NULL, "
        "finished VARCHAR(40) NOT NULL, tool_version VARCHAR(40), source VARCHAR(512), worst VARCHAR(16))",
        "CREATE TABLE csdiag_findings (run_id VARCHAR(64) NOT NULL, check_name VARCHAR(64) NOT NULL, "
        "code VARCHAR(64) NOT NULL, severity VARCHAR(16) NOT NULL, target VARCHAR(512) NOT NULL, summary TEXT)",
        "CREATE INDEX csdiag_findings_run ON csdiag_findings (run_id)",
        "CREATE TABLE csdiag_metrics (run_id VARCHAR(64) NOT NULL, at VARCHAR(40) NOT NULL, "
        "check_name VARCHAR(64) NOT NULL, target VARCHAR(512) NOT NULL, name VARCHAR(64) NOT NULL, "
        "value DOUBLE PRECISION, unit VARCHAR(16))",
        "CREATE INDEX csdiag_metrics_series ON csdiag_metrics (check_name, name)",
    ],
    2: ["ALTER TABLE csdiag_runs ADD COLUMN counts VARCHAR(255)"],
    3: [
        "CREATE TABLE csdiag_log_cursors (source VARCHAR(512) NOT NULL, head CHAR(64) NOT NULL, "
        "path VARCHAR(1024) NOT NULL, offset_bytes BIGINT NOT NULL, line_count BIGINT NOT NULL, "
        "updated VARCHAR(40) NOT NULL, PRIMARY KEY (source, head))"
    ],
    # a run's scope (diagnostics.scope): its runner and host, the digest of what its checks were configured
    # to look at, the checks that completed; the subjects of findings (incidents across runners)
    4: [
        "ALTER TABLE csdiag_runs ADD COLUMN runner VARCHAR(128)",
        "ALTER TABLE csdiag_runs ADD COLUMN host VARCHAR(255)",
        "ALTER TABLE csdiag_runs ADD COLUMN targets_digest VARCHAR(64)",
        "CREATE INDEX csdiag_runs_runner ON csdiag_runs (runner, finished)",
        "ALTER TABLE csdiag_findings ADD COLUMN subjects TEXT",
        "CREATE TABLE csdiag_scope (run_id VARCHAR(64) NOT NULL, check_name VARCHAR(64) NOT NULL, "
        "status VARCHAR(16) NOT NULL, PRIMARY KEY (run_id, check_name))",
    ],
}


DEFAULT_TIMEOUT_S = 10.0


class History:
    """Use :meth:`open` (a context manager). Every failure of the store is a :class:`SourceError`
    (``Unreachable``, ``Timeout``, ``ProtocolError``), raised within ``timeout_s`` of a store that stopped
    answering; never a driver traceback."""

    def __init__(self, engine: Any, url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self._engine = engine
        self.url = url
        self.timeout_s = timeout_s

    @classmethod
    @contextmanager
    def open(cls, url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> Iterator[History]:
        import sqlalchemy as sa

        if url.startswith("sqlite:///"):
            path = Path(url[len("sqlite:///") :]).expanduser()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise Unreachable(f"history store {path}: {exc.strerror or exc}") from None
            url = f"sqlite:///{path}"
        engine = None
        try:
            if url.startswith("postgresql"):
                # a fresh connection per transaction (bounded by connect_timeout) under the watchdog: a pooled
                # one's pre-ping would wait, unbounded, on a server that stopped answering
                engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args(url, timeout_s))
            else:
                engine = sa.create_engine(
                    url, pool_pre_ping=True, pool_timeout=timeout_s, connect_args=connect_args(url, timeout_s)
                )
            store = cls(engine, url, timeout_s)
            store._migrate()
        except sa.exc.SQLAlchemyError as exc:
            if engine is not None:
                engine.dispose()
            raise translate(url, exc) from exc
        except SourceError:
            if engine is not None:
                engine.dispose()
            raise
        try:
            yield store
        finally:
            engine.dispose()

    def _exec(self, sql: str, params: dict[str, Any] | None = None) -> list[Any]:
        import sqlalchemy as sa

        try:
            with self._engine.begin() as conn, watchdog(conn, self.timeout_s):
                result = conn.execute(sa.text(sql), params or {})
                return list(result) if result.returns_rows else []
        except sa.exc.SQLAlchemyError as exc:
            raise translate(self.url, exc) from exc

    def version(self) -> int:
        import sqlalchemy as sa

        try:
            with self._engine.connect() as conn, watchdog(conn, self.timeout_s):
                has_meta = sa.inspect(conn).has_table("csdiag_meta")
        except sa.exc.SQLAlchemyError as exc:
            raise translate(self.url, exc) from exc
        if not has_meta:
            return 0
        rows = self._exec("SELECT v FROM csdiag_meta WHERE k = 'schema_version'")
        return int(rows[0][0]) if rows else 0

    def _migrate(self) -> None:
        """Bring the store to :data:`SCHEMA_VERSION`. Safe when several runners upgrade at once: the one
        whose insert of the ``migration_lock`` row succeeds migrates (each version in one transaction where
        the database has transactional DDL: SQLite, PostgreSQL); the others wait for it, up to three times
        the store timeout, then refuse clearly. A lock left by a runner that died mid-migration is a
        half-migrated store: refused with the version it reached, never migrated over blindly."""
        import time

        current = self.version()
        if current > SCHEMA_VERSION:
            raise ProtocolError(
                f"history store {safe_url(self.url)} has schema {current}, newer than this csdiag "
                f"({SCHEMA_VERSION}): upgrade csdiag"
            )
        if current == SCHEMA_VERSION:
            return
        if current == 0:
            self._create_meta()
        holder = f"{socket.gethostname()}:{os.getpid()}:{utcnow().isoformat()}"
        if not self._take_lock(holder):
            deadline = time.monotonic() + 3 * self.timeout_s
            while time.monotonic() < deadline:
                time.sleep(0.2)
                if self.version() >= SCHEMA_VERSION:
                    return
            rows = self._exec("SELECT v FROM csdiag_meta WHERE k = 'migration_lock'")
            raise ProtocolError(
                f"history store {safe_url(self.url)}: schema {self.version()}, being migrated to {SCHEMA_VERSION} by "
                f"{rows[0][0] if rows else 'another runner'} and not finished within {3 * self.timeout_s:g} s; "
                "if that runner died, the store is half-migrated: check it, then delete the row "
                "k = 'migration_lock' from csdiag_meta"
            )
        import sqlalchemy as sa

        for version in range(self.version() + 1, SCHEMA_VERSION + 1):
            try:
                with self._engine.begin() as conn, watchdog(conn, 60 * self.timeout_s):
                    for statement in MIGRATIONS[version]:
                        if not statement.startswith("CREATE TABLE csdiag_meta "):
                            conn.execute(sa.text(statement))
                    conn.execute(sa.text("DELETE FROM csdiag_meta WHERE k = 'schema_version'"))
                    conn.execute(
                        sa.text("INSERT INTO csdiag_meta (k, v) VALUES ('schema_version', :v)"), {"v": str(version)}
                    )
            except sa.exc.SQLAlchemyError as exc:
                raise translate(self.url, exc) from exc
        # on failure (raised above) the lock stays: the store may be half-migrated (MySQL commits each DDL)
        self._exec("DELETE FROM csdiag_meta WHERE k = 'migration_lock'")

    def _create_meta(self) -> None:
        try:
            self._exec(MIGRATIONS[1][0])
        except SourceError:
            if self.version() == 0 and not self._has_meta():
                raise  # not "another runner created it first"

    def _has_meta(self) -> bool:
        import sqlalchemy as sa

        try:
            with self._engine.connect() as conn, watchdog(conn, self.timeout_s):
                return bool(sa.inspect(conn).has_table("csdiag_meta"))
        except sa.exc.SQLAlchemyError as exc:
            raise translate(self.url, exc) from exc

    def _take_lock(self, holder: str) -> bool:
        """Insert the ``migration_lock`` row; False when another runner holds it (the primary key)."""
        import sqlalchemy as sa

        try:
            with self._engine.begin() as conn, watchdog(conn, self.timeout_s):
                conn.execute(sa.text("INSERT INTO csdiag_meta (k, v) VALUES ('migration_lock', :v)"), {"v": holder})
            return True
        except sa.exc.IntegrityError:
            return False
        except sa.exc.SQLAlchemyError as exc:
            raise translate(self.url, exc) from exc

    def record(self, run: Run, cursors: Sequence[CursorUpdate] | None = None) -> bool:
        """Store ``run`` — and the log cursors its evaluation reached (``cursors``, by default the run's own
        ``log_cursors``) — in one transaction: all or nothing.

        Idempotent: a run already stored (``report --from`` of a recorded run, the retry after a failed
        e-mail) is neither stored twice nor an error; returns False then (and moves no cursor), True when
        stored now."""
        import sqlalchemy as sa

        try:
            with self._engine.begin() as conn, watchdog(conn, self.timeout_s):

                def ex(sql: str, params: dict[str, Any] | list[dict[str, Any]]) -> Any:
                    return conn.execute(sa.text(sql), params)

                if ex("SELECT 1 FROM csdiag_runs WHERE id = :id", {"id": run.id}).first() is not None:
                    return False
                self._insert(ex, run)
                for c in run_cursors(run) if cursors is None else cursors:
                    self._put_cursor(ex, c)
                return True
        except sa.exc.IntegrityError as exc:
            # another runner stored the same run between our SELECT and INSERT: then it is recorded once;
            # any other constraint failure is an error (nothing was stored: the transaction rolled back)
            if self.recorded(run.id):
                return False
            raise translate(self.url, exc) from exc
        except sa.exc.SQLAlchemyError as exc:
            raise translate(self.url, exc) from exc

    def recorded(self, run_id: str) -> bool:
        return bool(self._exec("SELECT 1 FROM csdiag_runs WHERE id = :id", {"id": run_id}))

    @staticmethod
    def _insert(ex: Any, run: Run) -> None:
        scope = scope_of(run)
        ex(
            "INSERT INTO csdiag_runs (id, started, finished, tool_version, source, worst, counts, runner, host, "
            "targets_digest) VALUES (:id, :s, :f, :v, :src, :w, :c, :runner, :host, :digest)",
            {
                "id": run.id,
                "s": run.started.isoformat(),
                "f": run.finished.isoformat(),
                "v": run.tool_version,
                "src": run.source[:500],
                "w": run.worst.value,
                "c": json.dumps(run.counts()),
                "runner": run.runner[:128],
                "host": run.host[:255],
                "digest": scope.digest,
            },
        )
        statuses = {c.name: c.status.value for c in run.checks}
        for check in sorted(set(statuses) | set(scope.checks)):
            status = CheckStatus.COMPLETED.value if check in scope.checks else statuses[check]
            ex(
                "INSERT INTO csdiag_scope (run_id, check_name, status) VALUES (:r, :ch, :st)",
                {"r": run.id, "ch": check, "st": status},
            )
        # one batched statement per table (executemany: psycopg pipelines it): a run of 200 findings and
        # 2,000 metric points is three round trips, not 2,200
        findings = [
            {
                "r": run.id,
                "ch": f.check,
                "co": f.code,
                "sev": f.severity.value,
                "t": f.target[:500],
                "su": f.summary,
                "sj": json.dumps(dict(f.subjects)) if f.subjects else None,
            }
            for f in run.findings
        ]
        points = [
            {
                "r": run.id,
                "at": run.finished.isoformat(),
                "ch": f.check,
                "t": f.target[:500],
                "n": m.name,
                "v": m.value,
                "u": m.unit,
            }
            for f in run.findings
            for m in f.metrics
            if m.value is not None
        ]
        if findings:
            ex(
                "INSERT INTO csdiag_findings (run_id, check_name, code, severity, target, summary, subjects) "
                "VALUES (:r, :ch, :co, :sev, :t, :su, :sj)",
                findings,
            )
        if points:
            ex(
                "INSERT INTO csdiag_metrics (run_id, at, check_name, target, name, value, unit) "
                "VALUES (:r, :at, :ch, :t, :n, :v, :u)",
                points,
            )

    @staticmethod
    def _put_cursor(ex: Any, c: CursorUpdate) -> None:
        key = {"s": c.source[:512], "h": c.head}
        ex("DELETE FROM csdiag_log_cursors WHERE source = :s AND head = :h", key)  # portable upsert
        ex(
            "INSERT INTO csdiag_log_cursors (source, head, path, offset_bytes, line_count, updated) "
            "VALUES (:s, :h, :p, :o, :l, :u)",
            key | {"p": c.path[:1024], "o": c.offset, "l": c.lines, "u": utcnow().isoformat()},
        )

    def cursor(self, source: str, head: str) -> Cursor | None:
        """Where the last run stopped reading the log file ``head`` (its first-line fingerprint) of ``source``."""
        rows = self._exec(
            "SELECT offset_bytes, line_count, path FROM csdiag_log_cursors WHERE source = :s AND head = :h",
            {"s": source[:512], "h": head},
        )
        return Cursor(offset=int(rows[0][0]), lines=int(rows[0][1]), path=str(rows[0][2])) if rows else None

    def set_cursor(self, source: str, head: str, path: str, offset: int, lines: int) -> None:
        """Move one cursor now, in its own transaction. Prefer ``record(run, cursors=…)``: a cursor moved
        before its lines were evaluated and recorded loses them if the run then fails."""
        import sqlalchemy as sa

        try:
            with self._engine.begin() as conn, watchdog(conn, self.timeout_s):
                self._put_cursor(
                    lambda sql, params: conn.execute(sa.text(sql), params),
                    CursorUpdate(source, head, path, offset, lines),
                )
        except sa.exc.SQLAlchemyError as exc:
            raise translate(self.url, exc) from exc

    def prune(self, retention_days: int, now: datetime | None = None) -> int:
        """Delete runs older than ``retention_days`` — except a run that saw a problem its runner's latest
        run still has: it holds that problem's "open since"."""
        cutoff = ((now or utcnow()) - timedelta(days=retention_days)).isoformat()
        old = [r[0] for r in self._exec("SELECT id FROM csdiag_runs WHERE finished < :c", {"c": cutoff})]
        if old:
            still = {
                (r[0], r[1], r[2], r[3])
                for r in self._exec(
                    "SELECT r.runner, f.check_name, f.code, f.target FROM csdiag_findings f "
                    "JOIN csdiag_runs r ON r.id = f.run_id JOIN (SELECT runner, MAX(finished) AS last "
                    "FROM csdiag_runs GROUP BY runner) m ON m.runner = r.runner AND m.last = r.finished "
                    "WHERE f.severity IN ('WARN', 'CRIT', 'UNKNOWN')"
                )
            }
            holding = {
                r[0]
                for r in self._exec(
                    "SELECT f.run_id, r.runner, f.check_name, f.code, f.target FROM csdiag_findings f "
                    "JOIN csdiag_runs r ON r.id = f.run_id WHERE r.finished < :c "
                    "AND f.severity IN ('WARN', 'CRIT', 'UNKNOWN')",
                    {"c": cutoff},
                )
                if (r[1], r[2], r[3], r[4]) in still
            }
            old = [run_id for run_id in old if run_id not in holding]
        for run_id in old:
            for table in ("csdiag_findings", "csdiag_metrics", "csdiag_scope", "csdiag_runs"):
                column = "id" if table == "csdiag_runs" else "run_id"
                self._exec(f"DELETE FROM {table} WHERE {column} = :r", {"r": run_id})
        return len(old)

    def runs(self, days: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT id, started, finished, tool_version, worst, counts, source FROM csdiag_runs"
        params: dict[str, Any] = {}
        if days is not None:
            sql += " WHERE finished >= :c"
            params["c"] = (utcnow() - timedelta(days=days)).isoformat()
        rows = self._exec(sql + " ORDER BY finished", params)
        return [
            {
                "id": r[0],
                "started": r[1],
                "finished": r[2],
                "tool_version": r[3],
                "worst": r[4],
                "counts": json.loads(r[5]) if r[5] else {},
                "source": r[6],
            }
            for r in rows
        ]

    def findings_of(self, run_id: str) -> list[dict[str, Any]]:
        rows = self._exec(
            "SELECT check_name, code, severity, target, summary FROM csdiag_findings WHERE run_id = :r", {"r": run_id}
        )
        return [{"check": r[0], "code": r[1], "severity": r[2], "target": r[3], "summary": r[4]} for r in rows]

    def series(
        self, check: str | None = None, target: str | None = None, days: int | None = None
    ) -> list[dict[str, Any]]:
        sql = "SELECT at, check_name, target, name, value, unit FROM csdiag_metrics WHERE 1 = 1"
        params: dict[str, Any] = {}
        for col, value in (("check_name", check), ("target", target)):
            if value is not None:
                sql += f" AND {col} = :{col}"
                params[col] = value
        if days is not None:
            sql += " AND at >= :c"
            params["c"] = (utcnow() - timedelta(days=days)).isoformat()
        rows = self._exec(sql + " ORDER BY at", params)
        return [{"at": r[0], "check": r[1], "target": r[2], "name": r[3], "value": r[4], "unit": r[5]} for r in rows]

    def changes(self, run: Run) -> list[Change]:
        """Each problem of ``run`` as new or still open (since when), plus what earlier runs had that this
        one covered and no longer sees (resolved): compared only with earlier runs of the same runner, over
        what each run covered (diagnostics.scope). Only WARN/CRIT/UNKNOWN count as problems."""
        from diagnostics import scope

        return scope.changes(run, self.past_runs(run.runner, run.finished.isoformat(), exclude=run.id))

    def hosts_of(self, runner: str, since: str) -> list[str]:
        """The hosts that recorded runs under ``runner`` since ``since``: more than one is a name clash."""
        rows = self._exec(
            "SELECT DISTINCT host FROM csdiag_runs WHERE runner = :r AND finished >= :s", {"r": runner, "s": since}
        )
        return sorted(str(r[0] or "") for r in rows)

    def fleet_runners(self) -> list[tuple[str, str, str, int]]:
        """(runner, host, its latest finish, runs) for every runner and host that recorded a run."""
        rows = self._exec(
            "SELECT runner, host, MAX(finished), COUNT(*) FROM csdiag_runs WHERE runner IS NOT NULL "
            "GROUP BY runner, host"
        )
        return [(str(r[0]), str(r[1] or ""), str(r[2]), int(r[3])) for r in rows]

    def fleet_findings(self) -> list[dict[str, Any]]:
        """The findings of the latest run per (runner, check) in which that check completed, each with its
        runner and run: what `report --fleet` merges."""
        latest = (
            "SELECT r.runner AS runner, s.check_name AS check_name, MAX(r.finished) AS finished "
            "FROM csdiag_scope s JOIN csdiag_runs r ON r.id = s.run_id "
            "WHERE s.status = 'completed' AND r.runner IS NOT NULL GROUP BY r.runner, s.check_name"
        )
        rows = self._exec(
            "SELECT r.runner, r.id, r.finished, f.check_name, f.code, f.severity, f.target, f.summary, f.subjects "
            f"FROM ({latest}) m JOIN csdiag_runs r ON r.runner = m.runner AND r.finished = m.finished "
            "JOIN csdiag_scope s ON s.run_id = r.id AND s.check_name = m.check_name AND s.status = 'completed' "
            "JOIN csdiag_findings f ON f.run_id = r.id AND f.check_name = m.check_name"
        )
        return [
            {
                "runner": r[0],
                "run": r[1],
                "finished": r[2],
                "check": r[3],
                "code": r[4],
                "severity": r[5],
                "target": r[6],
                "summary": r[7],
                "subjects": json.loads(r[8]) if r[8] else {},
            }
            for r in rows
        ]

    def past_runs(self, runner: str, until: str, exclude: str = "") -> list[PastRun]:
        """The runs of ``runner`` finished at or before ``until``, oldest first, with their scope and
        problems. A run recorded before scopes were (schema < 4) covers the checks its findings name."""
        who = "(r.runner = :runner OR r.runner IS NULL)" if not runner else "r.runner = :runner"
        p = {"runner": runner, "until": until, "x": exclude}
        where = f"{who} AND r.finished <= :until AND r.id <> :x"
        runs = self._exec(
            f"SELECT r.id, r.finished, r.targets_digest FROM csdiag_runs r WHERE {where} ORDER BY r.finished", p
        )
        done: dict[str, set[str]] = {}
        for run_id, check, status in self._exec(
            f"SELECT s.run_id, s.check_name, s.status FROM csdiag_scope s JOIN csdiag_runs r ON r.id = s.run_id "
            f"WHERE {where}",
            p,
        ):
            checks = done.setdefault(run_id, set())
            if status == CheckStatus.COMPLETED.value:
                checks.add(check)
        targets: dict[str, dict[str, set[str]]] = {}
        blind: dict[str, dict[str, set[str]]] = {}
        problems: dict[str, dict[str, dict[str, Any]]] = {}
        for run_id, check, code, severity, target, summary in self._exec(
            "SELECT f.run_id, f.check_name, f.code, f.severity, f.target, f.summary FROM csdiag_findings f "
            f"JOIN csdiag_runs r ON r.id = f.run_id WHERE {where}",
            p,
        ):
            targets.setdefault(run_id, {}).setdefault(check, set()).add(target)
            if severity == Severity.UNKNOWN.value:
                blind.setdefault(run_id, {}).setdefault(check, set()).add(target)
            if severity in _PROBLEMS:
                f = {"check": check, "code": code, "severity": severity, "target": target, "summary": summary}
                problems.setdefault(run_id, {})[key_of(f)] = f
        out = []
        for run_id, finished, digest in runs:
            named = targets.get(run_id, {})
            checks = done.get(run_id, set(named))  # no scope rows: an older store's run
            unjudged = {c: frozenset(t) for c, t in blind.get(run_id, {}).items()}
            scope = Scope(runner, digest, {c: frozenset(named.get(c, ())) for c in checks}, unjudged)
            out.append(PastRun(run_id, finished, scope, problems.get(run_id, {})))
        return out


_PROBLEMS = ("WARN", "CRIT", "UNKNOWN")


def key_of(f: dict[str, Any]) -> str:
    return f"{f['check']}|{f['code']}|{f['target']}"
