"""The ``platform`` check: which CloudStack version runs, and is it one csdiag supports (≥ 4.18)?

The current version is the ``Complete`` row with the highest id in the ``version`` table
(cloudstack.md §2). Read over a read-only session.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pydantic import Field, field_validator

from checks import api_evaluate, cloudstack_api_source, cloudstack_db
from diagnostics.check import Check, CheckContext, Code, Params, RawEvidence
from diagnostics.model import Finding, Severity

NAME = "platform"
VERSION_SQL = "SELECT id, version, updated, step FROM version WHERE step = 'Complete' ORDER BY id DESC LIMIT 1"

CODES = (
    Code(code="CLOUDSTACK_VERSION", severity=Severity.INFO, meaning="the CloudStack version found (supported)"),
    Code(code="CLOUDSTACK_SETTINGS", severity=Severity.INFO, meaning="settings that shape template handling"),
    Code(code="SETTING_RISKY", severity=Severity.WARN, meaning="a setting that predicts template trouble"),
    Code(code="VERSION_UNSUPPORTED", severity=Severity.CRIT, meaning="CloudStack is older than the supported minimum"),
    Code(
        code="VERSION_UNTESTED",
        severity=Severity.WARN,
        meaning="CloudStack is newer than the newest schema csdiag was tested on (CloudStack main, 4.23.0.0)",
    ),
    Code(code="VERSION_UNKNOWN", severity=Severity.UNKNOWN, meaning="the version table has no Complete row to read"),
    *api_evaluate.PLATFORM_CODES,
    *cloudstack_api_source.SOURCE_CODES,
)


class PlatformParams(Params):
    min_version: str = Field("4.18", description="oldest supported CloudStack version")

    @field_validator("min_version")
    @classmethod
    def _parses(cls, v: str) -> str:
        if parse_version(v) is None:
            raise ValueError(f"not a version number: {v!r}")
        return v


# The schemas csdiag is tested on (tests/services/cloudstack_schema): 4.18.1.0, 4.19.0.0, 4.20.0.0, 4.22.0.0
# and CloudStack main at b0601e5478 (4.23.0.0).
NEWEST_TESTED = (4, 23, 0, 0)


def parse_version(text: str) -> tuple[int, ...] | None:
    """``"4.18.1.0"`` → ``(4, 18, 1, 0)``; tolerates suffixes such as ``-SNAPSHOT``."""
    m = re.match(r"^\s*(\d+(?:\.\d+)*)", text or "")
    return tuple(int(p) for p in m.group(1).split(".")) if m else None


def _at_least(version: tuple[int, ...], minimum: tuple[int, ...]) -> bool:
    width = max(len(version), len(minimum))
    return version + (0,) * (width - len(version)) >= minimum + (0,) * (width - len(minimum))


SETTINGS = (
    "secondary.storage.capacity.threshold",
    "zone.secstorage.capacity.notificationthreshold",
    "secstorage.vm.mtu.size",
    "max.template.iso.size",
)
# Hidden-category rows hold secrets: they are excluded in SQL, never fetched.
SETTINGS_SQL = (
    "SELECT name, value, default_value, category FROM configuration "
    f"WHERE name IN ({', '.join(['%s'] * len(SETTINGS))}) AND category <> 'Hidden' ORDER BY name"
)


def _plan(db: Any, columns: Any) -> dict[str, str]:
    queries = {"version": VERSION_SQL, "server": "SELECT VERSION() AS server_version"}
    if {"name", "value", "default_value", "category"} <= columns.get("configuration", set()):
        queries["settings"] = SETTINGS_SQL
    return queries


def collect(ctx: CheckContext[PlatformParams]) -> RawEvidence:
    def db() -> RawEvidence:
        return cloudstack_db.collect(
            ctx,
            required={"version": ("id", "version", "updated", "step")},
            optional_tables=("configuration",),
            plan=_plan,
            args={"settings": SETTINGS},
        )

    return cloudstack_api_source.collect(ctx, db, api_evaluate.platform_calls(SETTINGS))


def evaluate(raw: RawEvidence, params: PlatformParams) -> Iterator[Finding]:
    data = raw.data
    if (problems := cloudstack_api_source.failures(NAME, data)) is not None:
        yield from problems
        return
    if "answers" in data:  # the API's answers: the same rules on the rows they translate into
        yield from api_evaluate.platform(data, params, evaluate, SETTINGS)
        return
    yield from _version(data, params)
    yield from _settings(data)


def _version(data: Mapping[str, Any], params: PlatformParams) -> Iterator[Finding]:
    target = data["target"]
    rows = data["results"]["version"]
    if not rows:
        yield Finding(
            check=NAME,
            code="VERSION_UNKNOWN",
            severity=Severity.UNKNOWN,
            target=target,
            summary="the version table has no 'Complete' row: an upgrade may be unfinished",
            evidence=(cloudstack_db.row_evidence(target, "version", data, {}, "no rows"),),
            remediation="Check management-server.log for a failed or running database upgrade.",
        )
        return
    row = rows[0]
    server = (data["results"].get("server") or [{}])[0].get("server_version", "unknown")
    evidence = (
        cloudstack_db.row_evidence(
            target,
            "version",
            data,
            row,
            f"version {row['version']} (step {row['step']}, updated {row['updated']}, row id {row['id']}); "
            f"database server {server}",
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
        if not _at_least(NEWEST_TESTED, version):
            yield Finding(
                check=NAME,
                code="VERSION_UNTESTED",
                severity=Severity.WARN,
                target=target,
                summary=f"CloudStack {row['version']} is newer than {'.'.join(map(str, NEWEST_TESTED))}, the newest "
                "schema csdiag was tested on: tables or states it reads may have changed",
                evidence=evidence,
                remediation="Upgrade csdiag; until then, treat missing or odd findings with care (a DB_SCHEMA_MISMATCH "
                "finding names what is gone).",
            )
        yield Finding(
            check=NAME,
            code="CLOUDSTACK_VERSION",
            severity=Severity.INFO,
            target=target,
            summary=f"CloudStack {row['version']} (supported: ≥ {params.min_version})",
            evidence=evidence,
        )


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _settings(data: Mapping[str, Any]) -> Iterator[Finding]:
    rows = data["results"].get("settings") or []
    if not rows:
        return
    target = data["target"]
    # CloudStack uses default_value while value is NULL.
    effective = {r["name"]: (r["value"] if r["value"] is not None else r["default_value"]) for r in rows}
    evidence = tuple(
        cloudstack_db.row_evidence(
            target,
            "settings",
            data,
            r,
            f"{r['name']} = {effective[r['name']]}" + (" (default)" if r["value"] is None else ""),
        )
        for r in rows
    )
    yield Finding(
        check=NAME,
        code="CLOUDSTACK_SETTINGS",
        severity=Severity.INFO,
        target=target,
        summary="settings that shape template handling: " + ", ".join(f"{k}={v}" for k, v in sorted(effective.items())),
        evidence=evidence,
    )
    risks: list[tuple[str, str]] = []
    cap = _number(effective.get("secondary.storage.capacity.threshold"))
    note = _number(effective.get("zone.secstorage.capacity.notificationthreshold"))
    mtu = _number(effective.get("secstorage.vm.mtu.size"))
    size = _number(effective.get("max.template.iso.size"))
    if "secondary.storage.capacity.threshold" in effective and (cap is None or not 0 < cap <= 0.95):
        risks.append(
            (
                "secondary.storage.capacity.threshold",
                f"is {effective['secondary.storage.capacity.threshold']}: outside (0, 0.95], stores either "
                "never take downloads or fill to the brim before CloudStack stops using them",
            )
        )
    if cap is not None and note is not None and note >= cap:
        risks.append(
            (
                "zone.secstorage.capacity.notificationthreshold",
                f"is {note:g}, not below secondary.storage.capacity.threshold {cap:g}: the low-space alert "
                "comes only after downloads already stopped",
            )
        )
    if "secstorage.vm.mtu.size" in effective and (mtu is None or not 576 <= mtu <= 9216):
        risks.append(("secstorage.vm.mtu.size", f"is {effective['secstorage.vm.mtu.size']}: not a usable MTU"))
    if "max.template.iso.size" in effective and (size is None or size <= 0):
        risks.append(
            (
                "max.template.iso.size",
                f"is {effective['max.template.iso.size']}: every template download will be refused",
            )
        )
    for name, why in risks:
        yield Finding(
            check=NAME,
            code="SETTING_RISKY",
            severity=Severity.WARN,
            target=f"{target} setting {name}",
            summary=f"{name} {why}",
            evidence=tuple(e for e in evidence if e.data and e.data.get("name") == name),
            remediation=f"Review {name} (Global Settings, or updateConfiguration name={name}).",
        )


CHECK = Check(
    name=NAME,
    title="CloudStack platform",
    description="Reads the CloudStack version from the database (read only) or the API and checks it is supported "
    "(≥ 4.18).",
    codes=CODES,
    params=PlatformParams,
    collect=collect,
    evaluate=evaluate,
)
