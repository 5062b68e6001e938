"""The ``templates`` check: which template is stuck, broken or missing on which image store.

Reads ``template_store_ref`` (one row per template × store) with ``vm_template`` and ``image_store``
(cloudstack.md §2), read only. The big table is scanned once for the rows that matter (in progress,
failed, or "done" with size 0); healthy rows never leave the database, so memory follows the number of
findings, not the table. Ages are measured against the database's own UTC clock, recorded with the
evidence, so a bundle replays the same verdicts later.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from checks import api_templates, cloudstack_api_source, cloudstack_db, signatures, template_sync
from diagnostics.check import Check, CheckContext, Code, Params, RawEvidence
from diagnostics.model import Evidence, Finding, Metric, Severity

NAME = "templates"

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

ERROR_STATES = ("DOWNLOAD_ERROR", "ABANDONED", "UPLOAD_ERROR")
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

ALGORITHMS = {"MD5": 32, "SHA-1": 40, "SHA-224": 56, "SHA-256": 64, "SHA-384": 96, "SHA-512": 128}
_BY_LENGTH = {n: a for a, n in ALGORITHMS.items()}


class TemplatesParams(Params):
    stalled_warn_minutes: float = Field(10, gt=0, description="in progress without update for this long → WARN")
    stalled_crit_minutes: float = Field(60, gt=0, description="… for this long → CRIT")
    max_missing: int = Field(500, ge=1, le=100_000, description="at most this many TEMPLATE_SYNC_INCOMPLETE rows")
    sync_grace_minutes: float = Field(
        60, ge=0, description="a store younger than this is still being filled: missing copies are INFO"
    )
    cert_warn_days: float = Field(30, ge=0, description="a direct-download certificate expiring within this → WARN")

    @model_validator(mode="after")
    def _ordered(self) -> TemplatesParams:
        if self.stalled_crit_minutes < self.stalled_warn_minutes:
            raise ValueError("stalled_crit_minutes must not be below stalled_warn_minutes")
        return self


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


def target_of(row: Mapping[str, Any]) -> str:
    template = f'template {row["template_id"]} "{row.get("template_name") or "?"}"'
    if row.get("store_id") is None:
        return f"{template} @ no store (direct download)"
    return f'{template} @ store {row["store_id"]} "{row.get("store_name") or "?"}"'


def subjects_of(row: Mapping[str, Any]) -> dict[str, str]:
    """The template, store, zone and source URL of a template_store_ref row (for incidents)."""
    keys = {"template": "template_id", "store": "store_id", "zone": "zone_id", "url": "template_url"}
    out = {k: str(row[col]) for k, col in keys.items() if row.get(col) not in (None, "")}
    if row.get("url"):  # the URL this copy is downloaded from, when the row has its own
        out["url"] = str(row["url"])
    return out


# TemplateJoinDaoImpl.getTemplateStatus changed in 4.22.1 (apache/cloudstack af9d68630f, #11970).
_STATUS_REWRITE = (4, 22, 1)


def ui_status(row: Mapping[str, Any], version: tuple[int, ...] | None = None) -> str:
    """The status text CloudStack's UI/API shows for this row (``TemplateJoinDaoImpl.getTemplateStatus``):
    up to 4.22.0 an untouched row shows ``vm_template.state`` ("Active") and error_str verbatim; from 4.22.1
    error_str is trimmed and a row with neither shows "Processing". ``version`` None means the newest."""
    state, pct = row.get("download_state"), row.get("download_pct") or 0
    iso = row.get("format") == "ISO"
    newer = version is None or version >= _STATUS_REWRITE
    if state == "DOWNLOADED":
        return "Successfully Installed" if iso and newer else "Download Complete"
    if state == "DOWNLOAD_IN_PROGRESS":
        if pct >= 100:
            return "Installing ISO" if iso and newer else "Installing Template"
        return f"{pct}% Downloaded"
    if state == "BYPASSED":
        return "Bypassed Secondary Storage"
    error = row.get("error_str")
    if newer:
        return str(error).strip() if (error or "").strip() else "Processing"
    if error is None:
        return str(row.get("template_state") or "Active")
    return str(error)


def data_version(data: Mapping[str, Any]) -> tuple[int, ...] | None:
    """The CloudStack version recorded with the evidence (the version table's current row)."""
    rows = data.get("results", {}).get("version") or []
    if not rows:
        return None
    parts = re.match(r"^\s*(\d+(?:\.\d+)*)", str(rows[0].get("version") or ""))
    return tuple(int(x) for x in parts.group(1).split(".")) if parts else None


def _row_text(row: Mapping[str, Any], version: tuple[int, ...] | None = None) -> str:
    return (
        f"ref {row['ref_id']}: download_state {row.get('download_state')}, state {row.get('state')}, "
        f"pct {row.get('download_pct')}, size {row.get('size')}, physical_size {row.get('physical_size')}, "
        f"last_updated {row.get('last_updated')}, error_str {row.get('error_str')!r}, "
        f'install_path {row.get("install_path")}; UI status: "{ui_status(row, version)}"'
    )


def _minutes(a: datetime, b: datetime) -> float:
    return (a - b).total_seconds() / 60


def _fmt_age(minutes: float) -> str:
    if minutes < 120:
        return f"{minutes:.0f} min"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h"
    return f"{minutes / 1440:.1f} days"


def evaluate(raw: RawEvidence, params: TemplatesParams) -> Iterator[Finding]:
    data = raw.data
    if (problems := cloudstack_api_source.failures(NAME, data)) is not None or "answers" in data:
        yield from problems if problems is not None else api_templates.evaluate(data, params, evaluate, target_of)
        return
    now = cloudstack_db.parse_db_time(data["db_utc"])
    assert now is not None
    results = data["results"]
    for row in results["problem_rows"]:
        for f in _judge_row(row, now, data, params):
            yield dataclasses.replace(f, subjects=subjects_of(row))
    for row in results["checksums"]:
        if (finding := _judge_checksum(row, data)) is not None:
            yield finding
    yield from _missing(results["missing"], now, data, params)
    yield from template_sync.placement_findings(NAME, data, now, params.cert_warn_days)


def _judge_row(
    row: Mapping[str, Any], now: datetime, data: Mapping[str, Any], params: TemplatesParams
) -> Iterator[Finding]:
    target = target_of(row)
    version = data_version(data)
    evidence = (cloudstack_db.row_evidence(data["target"], "problem_rows", data, row, _row_text(row, version)),)
    impossible: list[str] = []
    pct = row.get("download_pct")
    if pct is not None and not 0 <= pct <= 100:
        impossible.append(f"download_pct {pct}")
        pct = max(0, min(100, pct))
    for col in ("size", "physical_size"):
        if (row.get(col) or 0) < 0:
            impossible.append(f"{col} {row[col]}")
    updated = cloudstack_db.parse_db_time(row.get("last_updated")) or cloudstack_db.parse_db_time(row.get("created"))
    if updated is not None and updated > now:
        impossible.append(f"last_updated {row.get('last_updated')} is in the future (database clock {data['db_utc']})")
        updated = None
    if impossible:
        yield Finding(
            check=NAME,
            code="TEMPLATE_ROW_INCONSISTENT",
            severity=Severity.UNKNOWN,
            target=target,
            summary="the row holds impossible values: " + "; ".join(impossible),
            evidence=evidence,
            remediation="Do not trust the UI status for this row; check the template on the store itself and "
            "compare clocks of the management servers and the database (NTP).",
        )
    state = row.get("download_state")
    if state == "DOWNLOAD_IN_PROGRESS":
        yield from _in_progress(row, pct or 0, updated, now, target, evidence, params)
    elif state in ERROR_STATES:
        yield _error(row, target, evidence)
    if (state == "DOWNLOADED" or (row.get("state") == "Ready" and state != "BYPASSED")) and (
        (row.get("size") or 0) <= 0 or (row.get("physical_size") or 0) <= 0
    ):
        yield Finding(
            check=NAME,
            code="TEMPLATE_SIZE_ZERO",
            severity=Severity.CRIT,
            target=target,
            summary=f"the template is {ui_status(row, version)!r} but size {row.get('size')} / physical size "
            f'{row.get("physical_size")}: the "Size 0" template',
            details="The API omits a size of 0, so users see no size; deployments from it fail or give empty disks. "
            "Usual cause: the image store was full or read-only when the SSVM finished the image, so the file or "
            "template.properties is empty or missing.",
            evidence=evidence,
            remediation="Check the store is writable with room (csdiag storage check); fix it, then delete this "
            "template copy and re-register it, or restart the SSVM so template sync downloads it again.",
        )


def _in_progress(
    row: Mapping[str, Any],
    pct: int,
    updated: datetime | None,
    now: datetime,
    target: str,
    evidence: tuple[Evidence, ...],
    params: TemplatesParams,
) -> Iterator[Finding]:
    if updated is None:
        return  # no usable timestamp: reported as inconsistent above, or nothing to measure
    age = _minutes(now, updated)
    if age < params.stalled_warn_minutes:
        return
    severity = Severity.CRIT if age >= params.stalled_crit_minutes else Severity.WARN
    metric = Metric(
        name="since_update",
        value=round(age, 1),
        unit="min",
        warn=params.stalled_warn_minutes,
        crit=params.stalled_crit_minutes,
        direction="upper",
    )
    if pct >= 100:
        yield Finding(
            check=NAME,
            code="TEMPLATE_INSTALL_STUCK",
            severity=severity,
            target=target,
            summary=f'downloaded but stuck in "Installing Template" for {_fmt_age(age)}',
            details="The post-download step (checksum verification, format validation, template.properties) "
            "is hanging or died; the row will not move on its own.",
            evidence=evidence,
            metrics=(metric,),
            remediation="Read the SSVM's /var/log/cloud.log for 'Failed post download script'; check the store is "
            "writable with room; restart the SSVM (rebootSystemVm) and re-register if it does not recover.",
        )
        return
    yield Finding(
        check=NAME,
        code="TEMPLATE_DOWNLOAD_STALLED",
        severity=severity,
        target=target,
        summary=f"download stalled at {pct} %: no update for {_fmt_age(age)} (a tracked download refreshes every 10 s)",
        details="Download tracking lives only in memory on the management server and the SSVM; after a restart "
        "of either, a row left in DOWNLOAD_IN_PROGRESS is not tracked by anyone and never finishes.",
        evidence=evidence,
        metrics=(metric,),
        remediation="Restart the cloud service on the SSVM or reboot the SSVM (rebootSystemVm); template sync then "
        "retries the download — or re-register the template. Check the SSVM can reach the URL "
        f"({row.get('url') or 'see vm_template.url'}).",
    )


def _error(row: Mapping[str, Any], target: str, evidence: tuple[Evidence, ...]) -> Finding:
    text = (row.get("error_str") or "").strip()
    cls = signatures.classify(text, "error_str")
    facts = dict(cls.facts)
    detail = ""
    if cls.signature and cls.signature.code == "CHECKSUM_MISMATCH" and facts.get("expected"):
        expected = facts["expected"]
        detail = f" ({facts.get('algorithm', '?')} computed {facts.get('computed', '?')}, expected {expected}"
        if expected != expected.lower():
            detail += "; the expected digest is upper-case and can never match: the SSVM compares lower-case hex"
        detail += ")"
    elif "http_status" in facts:
        detail = f" (HTTP {facts['http_status']})"
    severity = cls.signature.severity if cls.signature else Severity.CRIT
    return Finding(
        check=NAME,
        code="TEMPLATE_DOWNLOAD_ERROR",
        severity=severity,
        target=target,
        summary=f"{row.get('download_state')}: {cls.title}{detail}" + ("" if text else " (no error text recorded)"),
        details=f"Classified as {cls.code} from error_str {text!r}." if text else "error_str is empty.",
        evidence=evidence,
        remediation=cls.signature.remediation
        if cls.signature
        else "Read management-server.log and the SSVM's cloud.log around the row's last_updated time for the cause.",
    )


def checksum_problem(checksum: str) -> str | None:
    """Why a registered checksum can never match, or None when it can."""
    m = re.fullmatch(r"(?:\{(?P<alg>[^}]*)\})?(?P<hex>.*)", checksum, flags=re.DOTALL)
    assert m is not None  # the pattern matches any string
    alg, hexpart = m["alg"], m["hex"]
    if alg is not None and alg not in ALGORITHMS:
        return f"unknown algorithm {{{alg}}} (known: {', '.join('{' + a + '}' for a in ALGORITHMS)})"
    algorithm = alg or "MD5"
    if not hexpart or not re.fullmatch(r"[0-9a-fA-F]+", hexpart):
        return f"{hexpart!r} is not a hexadecimal digest"
    if len(hexpart) != ALGORITHMS[algorithm]:
        why = f"{len(hexpart)} hex digits, but {algorithm} has {ALGORITHMS[algorithm]}"
        if alg is None and len(hexpart) in _BY_LENGTH:
            likely = _BY_LENGTH[len(hexpart)]
            why += f" (no prefix means MD5; this looks like {likely}: write {{{likely}}})"
        return why
    if hexpart != hexpart.lower():
        return "upper-case hex digits: the SSVM compares case-sensitively against lower-case hex, so it never matches"
    return None


def _judge_checksum(row: Mapping[str, Any], data: Mapping[str, Any]) -> Finding | None:
    checksum = str(row["checksum"])
    problem = checksum_problem(checksum)
    if problem is None:
        return None
    return Finding(
        check=NAME,
        code="TEMPLATE_CHECKSUM_INVALID",
        severity=Severity.WARN,
        target=f'template {row["id"]} "{row["name"]}"',
        summary=f"registered checksum {checksum!r} can never match: {problem}",
        details="Every download and copy of this template to a new store or zone will fail with a checksum mismatch.",
        evidence=(
            cloudstack_db.row_evidence(data["target"], "checksums", data, row, f"vm_template.checksum = {checksum!r}"),
        ),
        remediation="Recompute the digest at the source (sha256sum FILE) and update the template with "
        "{SHA-256}<lower-case hex> (updateTemplate checksum=…).",
    )


def _missing(
    rows: list[Mapping[str, Any]], now: datetime, data: Mapping[str, Any], params: TemplatesParams
) -> Iterator[Finding]:
    # 4.19+: a storage selector (heuristics) may direct templates to one store of its zone; its JavaScript is
    # not evaluated here, so a copy missing in such a zone is reported as INFO only.
    selected = {
        int(h["zone_id"])
        for h in data["results"].get("heuristics", [])
        if str(h.get("type") or "").upper() in ("TEMPLATE", "ISO")
    }
    for row in rows[: params.max_missing]:
        kind = "system" if row.get("template_type") == "SYSTEM" else ("public" if row.get("public") else "featured")
        created = cloudstack_db.parse_db_time(row.get("store_created"))
        age = _minutes(now, created) if created else None
        young = age is not None and age < params.sync_grace_minutes
        directed = int(row["zone_id"]) in selected
        where = (
            f"every store of a zone with {row.get('hypervisor_type')} hosts"
            if row.get("cross_zones") or row.get("template_type") in ("SYSTEM", "BUILTIN")
            else f'the stores of zone {row["zone_id"]} "{row.get("zone_name")}", which already holds it'
        )
        yield Finding(
            check=NAME,
            code="TEMPLATE_SYNC_INCOMPLETE",
            severity=Severity.INFO if young or directed else Severity.WARN,
            target=target_of(row),
            summary=f"the {kind} template is not on this store although template sync copies it to {where}"
            + (f" (store added {_fmt_age(age)} ago)" if age is not None else ""),
            details="Template sync runs when the zone's SSVM agent connects and copies public, featured and system "
            "templates to each writable image store; a store that stays without them was added while no SSVM was "
            "Up, or its downloads failed."
            + (" The store is new: sync may still be running." if young else "")
            + (" A storage selector of this zone may direct the template to another store." if directed else ""),
            evidence=(
                cloudstack_db.row_evidence(
                    data["target"],
                    "missing",
                    data,
                    row,
                    f"no template_store_ref row for template {row['template_id']} on store {row['store_id']} "
                    f"(created {row.get('store_created')})",
                ),
            ),
            metrics=(Metric(name="store_age", value=round(age * 60), unit="s"),) if age is not None else (),
            remediation="Check the zone's SSVM is Up (csdiag triage --only ssvm) and restart it to trigger template "
            "sync; or copy the template explicitly (copyTemplate).",
        )
    if len(rows) > params.max_missing:
        yield Finding(
            check=NAME,
            code="TEMPLATE_SYNC_INCOMPLETE",
            severity=Severity.WARN,
            target="templates @ image stores",
            summary=f"more than {params.max_missing} template copies are missing; only the first "
            f"{params.max_missing} are listed",
            remediation="Raise [thresholds.templates] max_missing to list them all; fix the cause (an SSVM not Up, "
            "a new store template sync never filled) first.",
        )


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
