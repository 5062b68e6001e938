"""What every check that reads the CloudStack database shares: opening the read-only session,
checking the schema has what the check needs, recording results and failures as evidence, and turning
those failures into findings.

Evidence layout (``RawEvidence.data``)::

    {"configured": bool, "target": "mysql://host:port/db",
     "error": {"kind", "message"}                  # the database failed us (→ DB_* finding)
     "schema_missing": ["table", "table.column"]   # not CloudStack's schema, or too old (→ DB_SCHEMA_MISMATCH)
     "columns": {"table": ["col", ...]},           # what the schema has, for optional columns
     "db_utc": "2024-...",                         # the database's clock, UTC: ages are computed against it
     "db_epoch_ms": 1700000000000,
     "sql": {"name": "SELECT ..."}, "results": {"name": [rows]}}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from diagnostics.check import CheckContext, Code, RawEvidence
from diagnostics.model import Evidence, EvidenceKind, Finding, Severity
from diagnostics.sources import database
from diagnostics.sources.errors import NotPermitted, SourceError

DB_CODES: tuple[Code, ...] = (
    Code(code="DB_NOT_CONFIGURED", severity=Severity.UNKNOWN, meaning="no [cloudstack.database] in the config"),
    Code(
        code="DB_UNREACHABLE",
        severity=Severity.UNKNOWN,
        meaning="the database did not answer (refused, no route, timeout)",
    ),
    Code(code="DB_AUTH_FAILED", severity=Severity.UNKNOWN, meaning="the database refused csdiag's credentials"),
    Code(code="DB_QUERY_FAILED", severity=Severity.UNKNOWN, meaning="the database answered but a query failed"),
    Code(
        code="DB_PERMISSION_DENIED",
        severity=Severity.UNKNOWN,
        meaning="csdiag's database account may not SELECT a table the check reads",
    ),
    Code(
        code="DB_SCHEMA_MISMATCH",
        severity=Severity.UNKNOWN,
        meaning="a table or column the check needs is missing (not CloudStack's database, or an unsupported version)",
    ),
)

_ERROR_CODES = {
    "AuthFailed": "DB_AUTH_FAILED",
    "Unreachable": "DB_UNREACHABLE",
    "Timeout": "DB_UNREACHABLE",
    "NotPermitted": "DB_PERMISSION_DENIED",
}
_REMEDIATION = {
    "DB_NOT_CONFIGURED": "Add [cloudstack.database] (host, port, user, password_env, database) for a SELECT-only "
    "account.",
    "DB_AUTH_FAILED": "Check [cloudstack.database] user and the password source; grant the account SELECT on "
    "cloud.* (GRANT SELECT ON cloud.* TO 'csdiag'@'<this host>').",
    "DB_UNREACHABLE": "Check that MySQL/MariaDB listens on the configured host and port (bind-address), and that "
    "no firewall blocks it from here.",
    "DB_QUERY_FAILED": "Check that [cloudstack.database] database names the CloudStack database (usually 'cloud').",
    "DB_PERMISSION_DENIED": "Grant the account SELECT on the whole CloudStack database (GRANT SELECT ON cloud.* TO "
    "'csdiag'@'<this host>'); csdiag never writes.",
    "DB_SCHEMA_MISMATCH": "Point [cloudstack.database] database at CloudStack's database (usually 'cloud'); csdiag "
    "supports CloudStack 4.18 and later.",
}

Planner = Callable[[database.ReadOnlyDatabase, Mapping[str, set[str]]], Mapping[str, str]]
# A gatherer runs queries a plain {name: sql} plan cannot express (streamed aggregates, follow-up lookups)
# and adds to data["sql"] and data["results"] itself.
Gatherer = Callable[[database.ReadOnlyDatabase, Mapping[str, set[str]], dict[str, Any]], None]


def collect(
    ctx: CheckContext[Any],
    required: Mapping[str, Iterable[str]],
    plan: Planner,
    args: Mapping[str, tuple[Any, ...]] | None = None,
    optional_tables: Iterable[str] = (),
    gather: Gatherer | None = None,
) -> RawEvidence:
    """Open a read-only session, verify ``required`` tables/columns, run the queries ``plan`` returns.

    ``plan(db, columns)`` gets the columns each required (and present optional) table really has, to
    include version-dependent columns, and returns ``{name: sql}``; ``args`` holds their parameters.
    """
    settings = ctx.settings.cloudstack.database
    if settings is None:
        return RawEvidence(data={"configured": False})
    data: dict[str, Any] = {"configured": True, "target": database.target_of(settings)}
    try:
        with database.connect(
            settings, timeout_s=ctx.timeout(settings.connect_timeout_s + settings.query_timeout_s)
        ) as db:
            columns = table_columns(db, [*required, *optional_tables])
            missing: list[str] = []
            for table, cols in required.items():
                if table not in columns:
                    missing.append(table)
                else:
                    missing.extend(f"{table}.{c}" for c in sorted(set(cols) - columns[table]))
            data["columns"] = {t: sorted(c) for t, c in columns.items()}
            if missing:
                # information_schema hides tables the account may not read: tell "denied" from "absent".
                denied = [t for t in missing if "." not in t and _denied(db, t)]
                if denied:
                    data["error"] = {
                        "kind": "NotPermitted",
                        "message": f"SELECT denied on {', '.join(denied)} to csdiag's account",
                        "tables": denied,
                    }
                    return RawEvidence(data=data)
                data["schema_missing"] = missing
                return RawEvidence(data=data)
            clock = db.rows("SELECT UTC_TIMESTAMP() AS utc, FLOOR(UNIX_TIMESTAMP(NOW(3)) * 1000) AS epoch_ms")[0]
            data["db_utc"], data["db_epoch_ms"] = clock["utc"], int(clock["epoch_ms"])
            queries = dict(plan(db, columns))
            data["sql"] = queries
            data["results"] = {name: db.rows(sql, (args or {}).get(name, ())) for name, sql in queries.items()}
            if gather is not None:
                gather(db, columns, data)
    except SourceError as exc:
        data["error"] = {"kind": exc.kind, "message": str(exc)}
    return RawEvidence(data=data)


def _denied(db: database.ReadOnlyDatabase, table: str) -> bool:
    """Does the table exist but refuse this account? (A SELECT of no rows: 1142 denied, 1146 absent.)"""
    try:
        db.rows(f"SELECT 1 FROM `{table}` LIMIT 0")
    except NotPermitted:
        return True
    except SourceError:
        return False
    return False


def table_columns(db: database.ReadOnlyDatabase, tables: Iterable[str]) -> dict[str, set[str]]:
    names = sorted(set(tables))
    marks = ", ".join(["%s"] * len(names))
    rows = db.rows(
        "SELECT TABLE_NAME AS t, COLUMN_NAME AS c FROM information_schema.COLUMNS "
        f"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN ({marks})",
        names,
    )
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(str(r["t"]), set()).add(str(r["c"]))
    return out


def failures(check: str, data: Mapping[str, Any]) -> list[Finding] | None:
    """Findings for a database that could not be read; None when the results are there to evaluate."""
    if not data.get("configured"):
        code = "DB_NOT_CONFIGURED"
        return [
            Finding(
                check=check,
                code=code,
                severity=Severity.UNKNOWN,
                target="cloudstack database",
                summary=f"no [cloudstack.database] section in the configuration: check {check} cannot read CloudStack",
                remediation=_REMEDIATION[code],
            )
        ]
    target = data["target"]
    if err := data.get("error"):
        code = _ERROR_CODES.get(err["kind"], "DB_QUERY_FAILED")
        return [
            Finding(
                check=check,
                code=code,
                severity=Severity.UNKNOWN,
                target=target,
                summary=f"cannot read the CloudStack database: {err['message']}",
                evidence=(Evidence(kind=EvidenceKind.PROBE, source=target, text=err["message"], data=err),),
                remediation=_REMEDIATION[code],
            )
        ]
    if missing := data.get("schema_missing"):
        return [
            Finding(
                check=check,
                code="DB_SCHEMA_MISMATCH",
                severity=Severity.UNKNOWN,
                target=target,
                summary=f"the database lacks what check {check} reads: {', '.join(missing)}",
                evidence=(
                    Evidence(
                        kind=EvidenceKind.ROW,
                        source=f"{target} information_schema.COLUMNS",
                        text="missing: " + ", ".join(missing),
                        data={"missing": list(missing)},
                    ),
                ),
                remediation=_REMEDIATION["DB_SCHEMA_MISMATCH"],
            )
        ]
    return None


def parse_db_time(value: Any) -> datetime | None:
    """A DATETIME from the database (CloudStack stores GMT) as an aware UTC datetime."""
    if value in (None, "", "0000-00-00T00:00:00"):
        return None
    try:
        return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)
    except ValueError:
        return None


def row_evidence(target: str, sql_name: str, data: Mapping[str, Any], row: Mapping[str, Any], text: str) -> Evidence:
    """A row as proof: where it came from (query name and SQL), a readable line, and the fields."""
    sql = data.get("sql", {}).get(sql_name, sql_name)
    via = "API" if data.get("via") == "api" else "SQL"  # rows translated from API answers name the call
    return Evidence(kind=EvidenceKind.ROW, source=f"{target} {via}: {' '.join(sql.split())}", text=text, data=dict(row))
