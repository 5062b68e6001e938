"""The ``templates`` check: which template is stuck, broken or missing on which image store.

Reads ``template_store_ref`` (one row per template × store) with ``vm_template`` and ``image_store``
(cloudstack.md §2), read only. The big table is scanned once for the rows that matter (in progress,
failed, or "done" with size 0); healthy rows never leave the database, so memory follows the number of
findings, not the table. Ages are measured against the database's own UTC clock, recorded with the
evidence, so a bundle replays the same verdicts later.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from checks import api_templates, cloudstack_api_source, cloudstack_db, template_sync, templates_rules
from checks.templates_rules import TemplatesParams as TemplatesParams  # re-exported: the check's parameters
from checks.templates_rules import checksum_problem as checksum_problem
from checks.templates_rules import judge_checksum, judge_row, missing_findings, subjects_of, target_of
from diagnostics.check import Check, CheckContext, Code, RawEvidence
from diagnostics.model import Finding, Severity

NAME = templates_rules.CHECK_NAME

CODES = (
    Code(
        code="TEMPLATE_DOWNLOAD_STALLED",
        severity=Severity.CRIT,
        meaning="a download in progress has not been updated for too long: nothing tracks it any more",
    ),
    Code(
        code="TEMPLATE_INSTALL_STUCK",
        severity=Severity.CRIT,
        meaning="downloaded (100 %) but the install step (checksum, format checks) never finished",
    ),
    Code(
        code="TEMPLATE_DOWNLOAD_ERROR",
        severity=Severity.CRIT,
        meaning="the download failed; the error is classified (timeout, checksum, HTTP, format, space, …)",
    ),
    Code(code="TEMPLATE_SIZE_ZERO", severity=Severity.CRIT, meaning="a downloaded/Ready template with size 0"),
    Code(
        code="TEMPLATE_CHECKSUM_INVALID",
        severity=Severity.WARN,
        meaning="the registered checksum can never match (unknown algorithm, wrong length, upper-case hex)",
    ),
    Code(
        code="TEMPLATE_SYNC_INCOMPLETE",
        severity=Severity.WARN,
        meaning="template sync should have copied a public, featured or system template to an image store and has "
        "not (INFO while the store is younger than sync_grace_minutes)",
    ),
    Code(
        code="IMAGE_STORE_READ_ONLY_TARGET",
        severity=Severity.WARN,
        meaning="a read-only image store still holds downloads in progress, or a storage selector (heuristics) "
        "names a store that is removed, read-only or in another zone",
    ),
    Code(
        code="DIRECT_DOWNLOAD_CERT_EXPIRING",
        severity=Severity.CRIT,
        meaning="a direct-download certificate expires within cert_warn_days (WARN) or has expired (CRIT)",
    ),
    Code(
        code="DIRECT_DOWNLOAD_CERT_MISSING",
        severity=Severity.WARN,
        meaning="a KVM host of a zone with direct-download certificates does not have one of them",
    ),
    Code(
        code="TEMPLATE_ROW_INCONSISTENT",
        severity=Severity.UNKNOWN,
        meaning="the row holds impossible values (percent above 100, dates in the future, negative sizes)",
    ),
    *api_templates.CODES,
    *cloudstack_api_source.SOURCE_CODES,
)

_LIVE = "(r.destroyed = 0 OR r.destroyed IS NULL)"
_PROBLEM = (
    "(r.download_state IN ('DOWNLOAD_IN_PROGRESS', 'DOWNLOAD_ERROR', 'ABANDONED', 'UPLOAD_ERROR') "
    "OR ((r.download_state = 'DOWNLOADED' OR (r.state = 'Ready' AND r.download_state <> 'BYPASSED')) "
    "AND (COALESCE(r.size, 0) <= 0 OR COALESCE(r.physical_size, 0) <= 0)))"
)
# Coverage in two cheap passes instead of one grouped pass over all rows (which the optimiser runs through
# the template_id index with a row lookup per row: 1.8 s on a million rows, bench/templates.py):
# 1. rows per template, all of them — answered from the template_id index alone, whatever its name;
# 2. one filtered scan returning only the rows that do not count (destroyed, or not on a writable Image
#    store: direct downloads, read-only and removed stores) and the problem rows — few on a healthy cloud.
# Copies on writable stores = (1) − the uncounted rows of (2). No index names or optimiser hints: CloudStack
# names its indexes itself and they differ between versions.
COUNTS_SQL = "SELECT r.template_id, COUNT(*) AS n FROM template_store_ref r GROUP BY r.template_id"
EXCEPTIONS_SQL = (
    f"SELECT r.template_id, ({_LIVE} AND r.store_id IN ({{writable}})) AS counted, ({_LIVE} AND {_PROBLEM}) "
    f"AS problem FROM template_store_ref r WHERE NOT ({_LIVE} AND r.store_id IN ({{writable}})) OR {_PROBLEM}"
)
# Templates template sync places everywhere: with no row at all they are missing on every store.
EVERYWHERE_SQL = (
    "SELECT t.id AS template_id FROM vm_template t WHERE t.removed IS NULL "
    "AND (t.cross_zones = 1 OR t.type IN ('SYSTEM', 'BUILTIN'))"
)
# Where the templates that are not everywhere do have copies (through the template_id index).
PLACEMENT_SQL = (
    f"SELECT r.template_id, r.store_id FROM template_store_ref r WHERE r.template_id IN ({{ids}}) AND {_LIVE} "
    "AND r.store_id IS NOT NULL"
)
TEMPLATES_SQL = (
    "SELECT id AS template_id, name AS template_name, cross_zones, type AS template_type, public, featured, "
    "hypervisor_type{tcols} "
    "FROM vm_template WHERE removed IS NULL AND id IN ({ids})"
)
# The rows behind the problem counts, fetched by template id through the template_id index.
PROBLEM_ROWS_SQL = (
    "SELECT r.id AS ref_id, r.store_id, r.template_id, r.created, r.last_updated, r.job_id, r.download_pct, "
    "r.size, r.physical_size, r.download_state, r.error_str, r.install_path, r.url, r.state, r.store_role, "
    "t.name AS template_name, t.uuid AS template_uuid, t.type AS template_type, t.format, t.url AS template_url, "
    "t.state AS template_state, s.name AS store_name, s.url AS store_url, s.data_center_id AS zone_id{scols} "
    "FROM template_store_ref r "
    "JOIN vm_template t ON t.id = r.template_id "
    "LEFT JOIN image_store s ON s.id = r.store_id "
    f"WHERE r.template_id IN ({{ids}}) AND {_LIVE} AND {_PROBLEM} "
    "ORDER BY r.template_id, r.store_id"
)
STORES_SQL = (
    "SELECT s.id, s.name, s.data_center_id AS zone_id, z.name AS zone_name, s.created{readonly} FROM image_store s "
    "JOIN data_center z ON z.id = s.data_center_id AND z.removed IS NULL AND z.allocation_state = 'Enabled' "
    "WHERE s.role = 'Image' AND s.removed IS NULL ORDER BY s.id"
)
# The valid forms, as a regular expression (documentation and tests; the check applies checksum_problem()).
VALID_CHECKSUM = (
    r"^(\{MD5\})?[0-9a-f]{32}$|^\{SHA-1\}[0-9a-f]{40}$|^\{SHA-224\}[0-9a-f]{56}$|"
    r"^\{SHA-256\}[0-9a-f]{64}$|^\{SHA-384\}[0-9a-f]{96}$|^\{SHA-512\}[0-9a-f]{128}$"
)
# Every registered checksum is read (vm_template is small) and judged by checksum_problem(): a REGEXP over
# CAST(… AS BINARY) for case-sensitivity is rejected by MySQL 8.0.22+ (ER_CHARACTER_SET_MISMATCH).
CHECKSUM_SQL = (
    "SELECT id, checksum FROM vm_template WHERE removed IS NULL AND checksum IS NOT NULL AND checksum <> '' ORDER BY id"
)
CHECKSUM_ROWS_SQL = "SELECT id, name, uuid, checksum FROM vm_template WHERE id IN ({ids}) ORDER BY id"
_CHUNK = 500

REQUIRED = {
    "template_store_ref": (
        "id",
        "store_id",
        "template_id",
        "created",
        "last_updated",
        "job_id",
        "download_pct",
        "size",
        "physical_size",
        "download_state",
        "error_str",
        "install_path",
        "url",
        "state",
        "store_role",
        "destroyed",
    ),
    "vm_template": (
        "id",
        "name",
        "uuid",
        "type",
        "format",
        "removed",
        "checksum",
        "cross_zones",
        "url",
        "public",
        "featured",
        "hypervisor_type",
    ),
    "image_store": ("id", "name", "uuid", "url", "data_center_id", "role", "removed", "created"),
    "data_center": ("id", "name", "allocation_state", "removed"),
}

OPTIONAL_TABLES = (
    "version",
    "cluster",
    "host",
    "direct_download_certificate",
    "direct_download_certificate_host_map",
    "heuristics",
)
VERSION_SQL = "SELECT version FROM version WHERE step = 'Complete' ORDER BY id DESC LIMIT 1"


def _plan(db: Any, columns: Mapping[str, set[str]]) -> dict[str, str]:
    readonly = ", s.readonly" if "readonly" in columns["image_store"] else ""
    queries = {
        "stores": STORES_SQL.format(readonly=readonly),
        "all_stores": template_sync.ALL_STORES_SQL.format(readonly=readonly),
    }
    if "version" in columns:
        queries["version"] = VERSION_SQL
    if {"data_center_id", "hypervisor_type", "removed"} <= columns.get("cluster", set()):
        queries["hypervisors"] = template_sync.HYPERVISORS_SQL
    if "direct_download_certificate" in columns and "host" in columns:
        queries["certificates"] = template_sync.CERTIFICATES_SQL
        queries["kvm_hosts"] = template_sync.KVM_HOSTS_SQL
        if "direct_download_certificate_host_map" in columns:
            queries["cert_hosts"] = template_sync.CERT_HOSTS_SQL
        if "direct_download" in columns["vm_template"]:
            queries["direct_templates"] = template_sync.DIRECT_TEMPLATES_SQL
    if "heuristics" in columns:
        queries["heuristics"] = template_sync.HEURISTICS_SQL
    return queries


def collect(ctx: CheckContext[TemplatesParams]) -> RawEvidence:
    def gather(db: Any, columns: Mapping[str, set[str]], data: dict[str, Any]) -> None:
        _gather(db, columns, data, ctx.params)

    db = cloudstack_db.collect  # the database, or the API (checks/api_templates.py) per [cloudstack] source
    return api_templates.collect(
        ctx, lambda: db(ctx, required=REQUIRED, plan=_plan, optional_tables=OPTIONAL_TABLES, gather=gather), target_of
    )


def _chunked(db: Any, sql: str, ids: list[int]) -> list[dict[str, Any]]:
    """``sql`` with an ``{ids}`` placeholder, run over ``ids`` in chunks of bound parameters."""
    rows: list[dict[str, Any]] = []
    for i in range(0, len(ids), _CHUNK):
        part = ids[i : i + _CHUNK]
        rows += db.rows(sql.format(ids=", ".join(["%s"] * len(part))), part)
    return rows


def _gather(db: Any, columns: Mapping[str, set[str]], data: dict[str, Any], params: TemplatesParams) -> None:
    results = data["results"]
    stores = results["stores"]
    writable: dict[int, list[Mapping[str, Any]]] = {}
    for s in stores:
        if not s.get("readonly"):
            writable.setdefault(int(s["zone_id"]), []).append(s)
    writable_ids = [int(s["id"]) for group in writable.values() for s in group]
    zone_of = {int(s["id"]): int(s["zone_id"]) for s in stores}
    hypervisors = template_sync.zone_hypervisors(results.get("hypervisors", []), writable)
    marks = ", ".join(["%s"] * len(writable_ids)) or "NULL"
    exceptions_sql = EXCEPTIONS_SQL.format(writable=marks)
    # Streamed, so that memory follows the templates (and the uncounted rows), not the table.
    rows_of = {int(r["template_id"]): int(r["n"]) for r in db.stream(COUNTS_SQL)}
    uncounted: dict[int, int] = {}
    problems: dict[int, int] = {}
    for r in db.stream(exceptions_sql, writable_ids * 2):
        tid = int(r["template_id"])
        if not r["counted"]:
            uncounted[tid] = uncounted.get(tid, 0) + 1
        if r["problem"]:
            problems[tid] = problems.get(tid, 0) + 1
    aggregates: dict[int, dict[str, int]] = {}
    for tid, n in rows_of.items():
        on_writable = n - uncounted.get(tid, 0)
        if problems.get(tid) or on_writable < len(writable_ids):
            aggregates[tid] = {"problems": problems.get(tid, 0), "on_writable": on_writable}
    for r in db.stream(EVERYWHERE_SQL):
        if int(r["template_id"]) not in rows_of:
            aggregates[int(r["template_id"])] = {"problems": 0, "on_writable": 0}
    del rows_of, uncounted, problems
    placed: dict[int, set[int]] = {}
    partial = sorted(t for t, a in aggregates.items() if int(a["on_writable"] or 0) < len(writable_ids))
    for r in _chunked(db, PLACEMENT_SQL, partial):
        placed.setdefault(int(r["template_id"]), set()).add(int(r["store_id"]))
    optional = "".join(f", {c}" for c in ("direct_download", "state") if c in columns["vm_template"])
    templates_sql = TEMPLATES_SQL.format(tcols=optional, ids="{ids}")
    with_problems: list[int] = []
    missing: list[dict[str, Any]] = []
    for row in _chunked(db, templates_sql, sorted(aggregates)):
        tid = int(row["template_id"])
        agg = aggregates[tid]
        if agg["problems"]:
            with_problems.append(tid)
        if len(missing) > params.max_missing or int(agg["on_writable"] or 0) >= len(writable_ids):
            continue  # enough listed, or on every writable store
        missing += [
            {
                "template_id": tid,
                "template_name": row["template_name"],
                "template_type": row["template_type"],
                "public": row["public"],
                "featured": row["featured"],
                "hypervisor_type": row["hypervisor_type"],
                "cross_zones": row["cross_zones"],
                "store_id": s["id"],
                "store_name": s["name"],
                "store_created": s.get("created"),
                "zone_id": s["zone_id"],
                "zone_name": s["zone_name"],
            }
            for s in template_sync.expected_stores(row, placed.get(tid, set()), writable, zone_of, hypervisors)
        ]
    scols = ", s.readonly AS store_readonly" if "readonly" in columns["image_store"] else ""
    problem_sql = PROBLEM_ROWS_SQL.format(scols=scols, ids="{ids}")
    data["sql"].update(
        {
            "counts": COUNTS_SQL,
            "exceptions": exceptions_sql,
            "everywhere": EVERYWHERE_SQL,
            "placement": PLACEMENT_SQL.format(ids="<ids>"),
            "templates": templates_sql.format(ids="<ids>"),
            "problem_rows": problem_sql.format(ids="<ids>"),
        }
    )
    data["sql"]["checksums"] = CHECKSUM_ROWS_SQL.format(ids="<ids>")
    # Only the checksums that can never match are kept as evidence (with the template's name).
    bad = [int(r["id"]) for r in db.stream(CHECKSUM_SQL) if checksum_problem(str(r["checksum"])) is not None]
    checksums = _chunked(db, CHECKSUM_ROWS_SQL, bad)
    results.update(
        {
            "checksums": checksums,
            "problem_rows": _chunked(db, problem_sql, with_problems),
            "missing": missing[: params.max_missing + 1],
            "zone_hypervisors": {str(z): sorted(h) for z, h in hypervisors.items()},
        }
    )


# --- evaluation ------------------------------------------------------------------------------------------


def evaluate(raw: RawEvidence, params: TemplatesParams) -> Iterator[Finding]:
    data = raw.data
    if (problems := cloudstack_api_source.failures(NAME, data)) is not None or "answers" in data:
        yield from problems if problems is not None else api_templates.evaluate(data, params, evaluate, target_of)
        return
    now = cloudstack_db.parse_db_time(data["db_utc"])
    assert now is not None
    results = data["results"]
    for row in results["problem_rows"]:
        for f in judge_row(row, now, data, params):
            yield dataclasses.replace(f, subjects=subjects_of(row))
    for row in results["checksums"]:
        if (finding := judge_checksum(row, data)) is not None:
            yield finding
    yield from missing_findings(results["missing"], now, data, params)
    yield from template_sync.placement_findings(NAME, data, now, params.cert_warn_days)


CHECK = Check(
    name=NAME,
    title="Templates on image stores",
    description="Stalled, stuck, failed, size-0 and missing template copies, and checksums that can never match "
    "(database, read only).",
    codes=CODES,
    params=TemplatesParams,
    collect=collect,
    evaluate=evaluate,
)
