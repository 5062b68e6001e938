"""The rules of the ``templates`` check on one copy (a ``template_store_ref`` row, or its API rendering):
stalled and stuck downloads, errors, size 0, checksums that can never match, copies missing from stores;
the parameters they read, and how a copy is named in targets and shown as CloudStack's UI would."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from checks import cloudstack_db, signatures
from diagnostics.check import Params
from diagnostics.model import Evidence, Finding, Metric, Severity

CHECK_NAME = "templates"
ERROR_STATES = ("DOWNLOAD_ERROR", "ABANDONED", "UPLOAD_ERROR")


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


def judge_row(
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
            check=CHECK_NAME,
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
            check=CHECK_NAME,
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
            check=CHECK_NAME,
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
        check=CHECK_NAME,
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
        check=CHECK_NAME,
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


def judge_checksum(row: Mapping[str, Any], data: Mapping[str, Any]) -> Finding | None:
    checksum = str(row["checksum"])
    problem = checksum_problem(checksum)
    if problem is None:
        return None
    return Finding(
        check=CHECK_NAME,
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


def missing_findings(
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
            check=CHECK_NAME,
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
            check=CHECK_NAME,
            code="TEMPLATE_SYNC_INCOMPLETE",
            severity=Severity.WARN,
            target="templates @ image stores",
            summary=f"more than {params.max_missing} template copies are missing; only the first "
            f"{params.max_missing} are listed",
            remediation="Raise [thresholds.templates] max_missing to list them all; fix the cause (an SSVM not Up, "
            "a new store template sync never filled) first.",
        )
