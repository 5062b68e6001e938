"""Template readiness for ``csdiag gate --template T [--zone Z]``: is the template usable in each zone?

Per zone (the ones named, else every zone that should hold the template): the template is ``Ready`` with a
size on every writable image store of the zone, its checksum can match, and an SSVM is up. Two parts of
readiness are not proven by this version — the stores' writability and capacity (the ``storage`` check)
and the storage paths' MTU (the ``mtu`` check) — and each zone says so with an UNKNOWN finding, so a gate
does not pass on them unless ``--allow-unknown`` is given.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from checks import cloudstack_db
from checks.templates import STORES_SQL
from checks.templates_rules import checksum_problem, ui_status
from diagnostics import inventory
from diagnostics.check import Check, CheckContext, Code, NoParams, RawEvidence
from diagnostics.inventory import Inventory
from diagnostics.model import Finding, Severity

NAME = "readiness"
CODES = (
    Code(
        code="TEMPLATE_NOT_FOUND",
        severity=Severity.CRIT,
        meaning="no active template (or more than one) has that id, uuid or name: it cannot be ready",
    ),
    Code(
        code="TEMPLATE_NOT_READY",
        severity=Severity.CRIT,
        meaning="not Ready with a size on a writable image store of the zone",
    ),
    Code(code="TEMPLATE_CHECKSUM_INVALID", severity=Severity.CRIT, meaning="the registered checksum can never match"),
    Code(code="ZONE_WITHOUT_SSVM", severity=Severity.CRIT, meaning="no SSVM is running with its agent Up in the zone"),
    Code(
        code="READINESS_UNPROVEN",
        severity=Severity.UNKNOWN,
        meaning="parts of readiness this version cannot check (store writability and capacity, path MTU)",
    ),
    Code(code="ZONE_READY", severity=Severity.INFO, meaning="everything this version checks is ready in the zone"),
    *cloudstack_db.DB_CODES,
)
TEMPLATE_SQL = (
    "SELECT id, name, uuid, checksum, cross_zones FROM vm_template "
    "WHERE removed IS NULL AND (CAST(id AS CHAR) = %s OR uuid = %s OR name = %s) ORDER BY id"
)
REFS_SQL = (
    "SELECT r.store_id, r.state, r.download_state, r.download_pct, r.size, r.physical_size, r.error_str "
    "FROM template_store_ref r WHERE r.template_id = %s AND (r.destroyed = 0 OR r.destroyed IS NULL) "
    "AND r.store_id IS NOT NULL"
)
REQUIRED = {
    **{t: c for t, c in inventory.REQUIRED.items() if t != "template_store_ref"},
    "vm_template": ("id", "name", "uuid", "checksum", "cross_zones", "removed"),
    "template_store_ref": ("store_id", "template_id", "state", "download_state", "size", "physical_size", "destroyed"),
}


def make_check(template: str, zones: Sequence[str] = ()) -> Check[NoParams]:
    """The readiness check for one template (id, uuid or name), optionally limited to zones (id or name)."""

    def plan(db: Any, columns: Mapping[str, set[str]]) -> dict[str, str]:
        q = {k: v for k, v in inventory.queries(columns).items() if k != "largest"}
        q["stores"] = STORES_SQL.format(readonly=", s.readonly" if "readonly" in columns["image_store"] else "")
        q["template"] = TEMPLATE_SQL
        return q

    def gather(db: Any, columns: Mapping[str, set[str]], data: dict[str, Any]) -> None:
        found = data["results"]["template"]
        data["sql"]["refs"] = REFS_SQL
        data["results"]["refs"] = db.rows(REFS_SQL, (found[0]["id"],)) if len(found) == 1 else []
        data["request"] = {"template": template, "zones": list(zones)}

    def collect(ctx: CheckContext[NoParams]) -> RawEvidence:
        return cloudstack_db.collect(
            ctx, required=REQUIRED, plan=plan, args={"template": (template,) * 3}, gather=gather
        )

    return Check(
        name=NAME,
        title="Template readiness",
        description=f"Is template {template!r} usable in each zone?",
        codes=CODES,
        params=NoParams,
        collect=collect,
        evaluate=evaluate,
    )


def evaluate(raw: RawEvidence, params: NoParams) -> Iterator[Finding]:
    data = raw.data
    if (problems := cloudstack_db.failures(NAME, data)) is not None:
        yield from problems
        return
    results, db = data["results"], data["target"]
    asked = data["request"]["template"]
    found = results["template"]
    if len(found) != 1:
        yield Finding(
            check=NAME,
            code="TEMPLATE_NOT_FOUND",
            severity=Severity.CRIT,
            target=f"template {asked}",
            summary=f"no active template has id, uuid or name {asked!r}"
            if not found
            else f"{len(found)} active templates match {asked!r} (ids {', '.join(str(t['id']) for t in found)}): "
            "name one by id or uuid",
            remediation="Give the template's id or uuid (listTemplates templatefilter=all).",
        )
        return
    t = found[0]
    label = f'template {t["id"]} "{t["name"]}"'
    inv = Inventory.from_results(results)
    refs = {int(r["store_id"]): r for r in results["refs"]}
    stores = [s for s in results["stores"] if not s.get("readonly")]
    zone_ids = _zones(data["request"]["zones"], inv, stores, refs, bool(t["cross_zones"]))
    bad_checksum = checksum_problem(str(t["checksum"])) if t.get("checksum") else None
    for zid in zone_ids:
        zone = inv.zone(zid)
        zlabel = zone.label if zone else f"zone {zid}"
        blocking = 0
        for s in (s for s in stores if int(s["zone_id"]) == zid):
            row = refs.get(int(s["id"]))
            ok = (
                row is not None
                and row.get("state") == "Ready"
                and (row.get("size") or 0) > 0
                and (row.get("physical_size") or 0) > 0
            )
            if not ok:
                blocking += 1
                what = (
                    "has no copy there"
                    if row is None
                    else f"is {ui_status(row)!r} (state {row.get('state')}, "
                    f"size {row.get('size')}, physical size {row.get('physical_size')})"
                )
                yield Finding(
                    check=NAME,
                    code="TEMPLATE_NOT_READY",
                    severity=Severity.CRIT,
                    target=f'{label} @ store {s["id"]} "{s["name"]}"',
                    summary=f"not ready in {zlabel}: the template {what}",
                    evidence=(
                        cloudstack_db.row_evidence(
                            db,
                            "refs",
                            data,
                            row or {"store_id": s["id"]},
                            f"store {s['id']}: {row or 'no template_store_ref row'}",
                        ),
                    ),
                    remediation="Wait for the download, or fix it: csdiag triage --only templates,ssvm shows why "
                    "it is not ready; copyTemplate to the zone if it was never sent there.",
                )
        if bad_checksum:
            blocking += 1
            yield Finding(
                check=NAME,
                code="TEMPLATE_CHECKSUM_INVALID",
                severity=Severity.CRIT,
                target=label,
                summary=f"the registered checksum can never match: {bad_checksum}",
                remediation="Update the template with {SHA-256}<lower-case hex> of the image.",
            )
        if not any(v.vm_state == "Running" and v.agent_status == "Up" for v in inv.ssvms_in(zid)):
            blocking += 1
            yield Finding(
                check=NAME,
                code="ZONE_WITHOUT_SSVM",
                severity=Severity.CRIT,
                target=zlabel,
                summary=f"no SSVM runs with its agent Up in {zlabel}: no copy, download or sync can happen",
                remediation="csdiag triage --only ssvm says which SSVM is down and why.",
            )
        yield Finding(
            check=NAME,
            code="READINESS_UNPROVEN",
            severity=Severity.UNKNOWN,
            target=zlabel,
            summary=f"{zlabel}: the image stores' writability and free space and the storage paths' MTU are not "
            "checked by gate --template",
            remediation="Prove them with `csdiag gate --only storage,mtu` (or a profile holding them), then run "
            "this gate with --allow-unknown.",
        )
        if not blocking:
            yield Finding(
                check=NAME,
                code="ZONE_READY",
                severity=Severity.INFO,
                target=zlabel,
                summary=f"{label} is Ready on every writable image store of {zlabel}, with a usable "
                "checksum and an SSVM up",
            )


def _zones(
    asked: Sequence[str], inv: Inventory, stores: list[Mapping[str, Any]], refs: Mapping[int, Any], cross_zone: bool
) -> list[int]:
    if asked:
        return [z.id for z in inv.zones if str(z.id) in asked or z.name in asked]
    if cross_zone:
        return sorted({int(s["zone_id"]) for s in stores})
    return sorted({int(s["zone_id"]) for s in stores if int(s["id"]) in refs})
