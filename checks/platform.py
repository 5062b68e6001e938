"""The ``platform`` check: which CloudStack version runs, and is it one csdiag supports (≥ 4.18)?

The current version is the ``Complete`` row with the highest id in the ``version`` table
(cloudstack.md §2). Read over a read-only session.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pydantic import Field, field_validator

from diagnostics.check import Check, CheckContext, Code, Params, RawEvidence
from diagnostics.model import Evidence, EvidenceKind, Finding, Severity
from diagnostics.sources import database
from diagnostics.sources.errors import SourceError

NAME = "platform"
VERSION_SQL = "SELECT id, version, updated, step FROM version WHERE step = 'Complete' ORDER BY id DESC LIMIT 1"

CODES = (
    Code(code="CLOUDSTACK_VERSION", severity=Severity.INFO, meaning="the CloudStack version found (supported)"),
    Code(code="VERSION_UNSUPPORTED", severity=Severity.CRIT, meaning="CloudStack is older than the supported minimum"),
    Code(code="VERSION_UNKNOWN", severity=Severity.UNKNOWN, meaning="the version table has no Complete row to read"),
    Code(code="DB_NOT_CONFIGURED", severity=Severity.UNKNOWN, meaning="no [cloudstack.database] in the config"),
    Code(
        code="DB_UNREACHABLE",
        severity=Severity.UNKNOWN,
        meaning="the database did not answer (refused, no route, timeout)",
    ),
    Code(code="DB_AUTH_FAILED", severity=Severity.UNKNOWN, meaning="the database refused csdiag's credentials"),
    Code(code="DB_QUERY_FAILED", severity=Severity.UNKNOWN, meaning="the database answered but the query failed"),
)


class PlatformParams(Params):
    min_version: str = Field("4.18", description="oldest supported CloudStack version")

    @field_validator("min_version")
    @classmethod
    def _parses(cls, v: str) -> str:
        if parse_version(v) is None:
            raise ValueError(f"not a version number: {v!r}")
        return v


def parse_version(text: str) -> tuple[int, ...] | None:
    """``"4.18.1.0"`` → ``(4, 18, 1, 0)``; tolerates suffixes such as ``-SNAPSHOT``."""
    m = re.match(r"^\s*(\d+(?:\.\d+)*)", text or "")
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


def _at_least(version: tuple[int, ...], minimum: tuple[int, ...]) -> bool:
    width = max(len(version), len(minimum))
    return version + (0,) * (width - len(version)) >= minimum + (0,) * (width - len(minimum))


def collect(ctx: CheckContext[PlatformParams]) -> RawEvidence:
    db = ctx.settings.cloudstack.database
    if db is None:
        return RawEvidence(data={"configured": False})
    data: dict[str, Any] = {"configured": True, "target": database.target_of(db), "sql": VERSION_SQL}
    try:
        with database.connect(db, timeout_s=ctx.timeout(db.connect_timeout_s + db.query_timeout_s)) as session:
            data["rows"] = session.rows(VERSION_SQL)
            data["server_version"] = session.server_version()
    except SourceError as exc:
        data["error"] = {"kind": exc.kind, "message": str(exc)}
    return RawEvidence(data=data)


_ERROR_CODES = {"AuthFailed": "DB_AUTH_FAILED", "Unreachable": "DB_UNREACHABLE", "Timeout": "DB_UNREACHABLE"}


def evaluate(raw: RawEvidence, params: PlatformParams) -> Iterator[Finding]:
    data = raw.data
    if not data.get("configured"):
        yield Finding(
            check=NAME,
            code="DB_NOT_CONFIGURED",
            severity=Severity.UNKNOWN,
            target="cloudstack database",
            summary="no [cloudstack.database] section in the configuration: the CloudStack version cannot be read",
            remediation="Add [cloudstack.database] (host, port, user, password_env, database) "
            "for a SELECT-only account.",
        )
        return
    target = data["target"]
    if err := data.get("error"):
        code = _ERROR_CODES.get(err["kind"], "DB_QUERY_FAILED")
        yield Finding(
            check=NAME,
            code=code,
            severity=Severity.UNKNOWN,
            target=target,
            summary=f"cannot read the CloudStack version: {err['message']}",
            evidence=(Evidence(kind=EvidenceKind.PROBE, source=target, data=err, text=err["message"]),),
            remediation=_DB_REMEDIATION[code],
        )
        return
    rows = data.get("rows") or []
    if not rows:
        yield Finding(
            check=NAME,
            code="VERSION_UNKNOWN",
            severity=Severity.UNKNOWN,
            target=target,
            summary="the version table has no 'Complete' row: an upgrade may be unfinished",
            evidence=(Evidence(kind=EvidenceKind.ROW, source=f"{target} SQL: {data['sql']}", text="no rows"),),
            remediation="Check management-server.log for a failed or running database upgrade.",
        )
        return
    row = rows[0]
    evidence = (
        Evidence(
            kind=EvidenceKind.ROW,
            source=f"{target} SQL: {data['sql']}",
            data=row,
            text=f"version {row['version']} (step {row['step']}, updated {row['updated']}, row id {row['id']}); "
            f"database server {data.get('server_version', 'unknown')}",
        ),
    )
    version = parse_version(str(row["version"]))
    minimum = parse_version(params.min_version)
    assert minimum is not None  # validated by PlatformParams
    if version is None:
        yield Finding(
            check=NAME,
            code="VERSION_UNKNOWN",
            severity=Severity.UNKNOWN,
            target=target,
            summary=f"cannot parse the CloudStack version {row['version']!r}",
            evidence=evidence,
        )
    elif not _at_least(version, minimum):
        yield Finding(
            check=NAME,
            code="VERSION_UNSUPPORTED",
            severity=Severity.CRIT,
            target=target,
            summary=f"CloudStack {row['version']} is older than {params.min_version}, "
            "the oldest version csdiag supports",
            details="Table names, log formats and states csdiag relies on were read from 4.18 and later; "
            "findings on this installation may be wrong or missing.",
            evidence=evidence,
            remediation=f"Upgrade CloudStack to {params.min_version} or later (the 4.18 LTS line at least).",
        )
    else:
        yield Finding(
            check=NAME,
            code="CLOUDSTACK_VERSION",
            severity=Severity.INFO,
            target=target,
            summary=f"CloudStack {row['version']} (supported: ≥ {params.min_version})",
            evidence=evidence,
        )


_DB_REMEDIATION = {
    "DB_AUTH_FAILED": "Check [cloudstack.database] user and the password source; grant the account SELECT on cloud.* "
    "(GRANT SELECT ON cloud.* TO 'csdiag'@'<this host>').",
    "DB_UNREACHABLE": "Check that MySQL/MariaDB listens on the configured host and port (bind-address), "
    "and that no firewall blocks it from here.",
    "DB_QUERY_FAILED": "Check that [cloudstack.database] database names the CloudStack database (usually 'cloud').",
}

CHECK = Check(
    name=NAME,
    title="CloudStack platform",
    description="Reads the CloudStack version from the database (read only) and checks it is supported (≥ 4.18).",
    codes=CODES,
    params=PlatformParams,
    collect=collect,
    evaluate=evaluate,
)
