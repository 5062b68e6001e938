"""The ``templates`` check through CloudStack's API: the answers of :data:`CALLS` are translated into the
rows of the database queries (``checks/api_rows.py``) and judged by the same rules
(``templates.evaluate``); what the API cannot show is said in ``*_NOT_PROVABLE`` INFO findings.

**Stalled downloads.** ``template_store_ref.last_updated`` is not in any response, so one answer cannot
say a download stalled. csdiag judges it across runs: every copy in progress gets a finding carrying the
metric ``download_pct``, which the history store keeps per run and target (``csdiag_metrics``, like the
log cursors of ``checks/logs.py`` it moves only with a recorded run). The next run's ``collect`` reads
those points (``previous`` in the evidence: ``{target: [{"at", "value"}]}``, so a bundle replays the
verdict) and the copy counts as *unchanged since* the oldest of the unbroken trailing points with the
same percent — used as ``last_updated`` by the database rule (stalled_warn/crit_minutes). That time is a
lower bound of the real stall (the first observation, not the last update), and a download so slow that
its percent does not move for ``stalled_warn_minutes`` looks stalled too (the database would see its
``last_updated`` move). Until a second observation: TEMPLATE_STALL_NOT_PROVABLE; percent moved:
TEMPLATE_DOWNLOAD_OBSERVED. Only recorded runs leave points: ``csdiag report``, or ``triage`` with
``[history] record = true``.

Other gaps (stated in findings): the error text is the response's ``status`` (error_str trimmed, of one
copy per zone); size and physical size of one copy per zone; checksums lose their ``{ALG}`` prefix;
``vm_template.state`` is not shown (an inactive public template counts for template sync); a direct-download
certificate's expiry is read from its validity text (to the day), a store's age is unknown (no sync grace),
storage selectors before 4.19 cannot be listed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from checks import api_rows, cloudstack_api_source
from checks.api_rows import Ids
from diagnostics.check import CheckContext, Code, RawEvidence
from diagnostics.config import ConfigError
from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity
from diagnostics.sources.cloudstack_api import CloudStackApi
from diagnostics.sources.errors import NotPermitted, ProtocolError, SourceError

NAME = "templates"
CALLS: tuple[cloudstack_api_source.Call, ...] = (
    ("capabilities", "listCapabilities", {}, "call"),
    ("zones", "listZones", {}, "list"),
    ("imagestores", "listImageStores", {}, "list"),
    ("templates", "listTemplates", {"templatefilter": "all", "details": "all"}, "list"),
    ("isos", "listIsos", {"isofilter": "all"}, "list"),
    ("clusters", "listClusters", {}, "list"),
    ("certificates", "listTemplateDirectDownloadCertificates", {"listhosts": "true"}, "list"),
    ("kvm_hosts", "listHosts", {"type": "Routing", "hypervisor": "KVM"}, "list"),
)
CODES = (
    Code(
        code="TEMPLATE_STALL_NOT_PROVABLE",
        severity=Severity.INFO,
        meaning="API source: a download in progress seen for the first time (the API has no last_updated); "
        "stalled is judged on a later run from the history store",
    ),
    Code(
        code="TEMPLATE_DOWNLOAD_OBSERVED",
        severity=Severity.INFO,
        meaning="API source: a download in progress whose percent moved since the last run, or has not moved for "
        "less than stalled_warn_minutes",
    ),
    Code(
        code="TEMPLATE_CHECKSUM_NOT_PROVABLE",
        severity=Severity.INFO,
        meaning="API source: checksums are shown without their {ALG} prefix, so a digest whose length does not "
        "match its algorithm cannot be seen",
    ),
    Code(
        code="TEMPLATE_PLACEMENT_NOT_PROVABLE",
        severity=Severity.INFO,
        meaning="API source: certificates' expiry read from the validity text (to the day); stores' creation times "
        "are not shown (no sync grace); storage selectors could not be listed (before 4.19)",
    ),
)
METRIC = "download_pct"
# The templates check's own functions, passed in (this module is imported by it): its evaluate and target_of.
Evaluate = Callable[[RawEvidence, Any], Iterable[Finding]]
TargetOf = Callable[[Mapping[str, Any]], str]


def _now(data: Mapping[str, Any]) -> datetime:
    return datetime.fromisoformat(str(data["observed_utc"])).replace(tzinfo=UTC)


def _at(text: str) -> datetime:
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def translate(data: Mapping[str, Any], max_missing: int = 500) -> tuple[dict[str, Any], Ids, list[dict[str, Any]]]:
    """The database-shaped evidence the rules judge; the ids; the copies whose size is not attributable
    to one store (several copies in the zone, the response without size)."""
    ids = Ids()
    answers = data["answers"]
    stores, by_uuid = api_rows.stores_rows(answers, ids)
    problem_rows: list[dict[str, Any]] = []
    unattributed: list[dict[str, Any]] = []
    for t, d, store, n in api_rows.template_copies(answers, ids, by_uuid):
        row = api_rows.copy_row(t, d, store, ids, attributable=n == 1)
        if api_rows.is_problem(row):
            problem_rows.append(row)
        elif row["download_state"] == "DOWNLOADED" and n > 1 and not t.get("size"):
            unattributed.append(row)
    results: dict[str, Any] = {
        "version": api_rows.version_rows(answers),
        "stores": [s for s in stores if s["zone_id"] is not None],
        "all_stores": stores,
        "problem_rows": problem_rows,
        "checksums": api_rows.checksum_rows(answers, ids),
        "missing": api_rows.missing_rows(answers, ids, stores, max_missing),
        "heuristics": api_rows.heuristic_rows(answers, ids),
        "direct_templates": [{"n": api_rows.direct_templates(answers)}],
        **api_rows.certificate_rows(answers, ids),
    }
    translated = {
        "configured": True,
        "via": "api",
        "target": data["target"],
        "sql": dict(data.get("calls", {})) | {"problem_rows": data["calls"]["templates"]},
        "db_utc": data["observed_utc"],
        "results": results,
    }
    return translated, ids, unattributed


# The TemplateResponse fields the translation reads (api_rows); the rest (details, OS type, owner …) is dropped.
_TEMPLATE_FIELDS = frozenset(
    [
        "id",
        "name",
        "templatetype",
        "format",
        "hypervisor",
        "ispublic",
        "isfeatured",
        "crossZones",
        "directdownload",
        "checksum",
        "url",
        "isready",
        "status",
        "size",
        "physicalsize",
        "zoneid",
        "zonename",
        "downloaddetails",
    ]
)
KEEP = {"templates": _TEMPLATE_FIELDS, "isos": _TEMPLATE_FIELDS}


def collect(ctx: CheckContext[Any], db: Callable[[], RawEvidence], target_of: TargetOf) -> RawEvidence:
    return cloudstack_api_source.collect(
        ctx, db, CALLS, extra=lambda data: _previous(ctx, data, target_of), more=_selectors, keep=KEEP
    )


def _selectors(api: CloudStackApi, data: dict[str, Any]) -> None:
    """Storage selectors, per zone (``zoneid`` is required; the command exists from 4.19 — before, or for a
    key that may not call it, the refusal is kept and said in TEMPLATE_PLACEMENT_NOT_PROVABLE)."""
    data["calls"]["selectors"] = "listSecondaryStorageSelectors zoneid=<each zone>"
    for zone in api_rows.items(data["answers"], "zones"):
        try:
            data["answers"][f"selectors:{zone.get('id')}"] = api.list(
                "listSecondaryStorageSelectors", zoneid=zone["id"]
            )
        except (NotPermitted, ProtocolError) as exc:
            data["answers"]["selectors_error"] = str(exc)
            return


def _previous(ctx: CheckContext[Any], data: dict[str, Any], target_of: TargetOf) -> None:
    """The earlier ``download_pct`` points of each copy in progress, from the history store."""
    from diagnostics.history import History

    translated, ids, _ = translate(data)
    targets = [
        ids.relabel(target_of(r))
        for r in translated["results"]["problem_rows"]
        if r["download_state"] == "DOWNLOAD_IN_PROGRESS"
    ]
    if not targets:
        return
    try:
        with History.open(ctx.settings.history.full_url(), timeout_s=ctx.timeout(10)) as store:
            data["previous"] = {
                t: [
                    {"at": p["at"], "value": p["value"]}
                    for p in store.series(check=NAME, target=t)
                    if p["name"] == METRIC
                ][-50:]
                for t in targets
            }
    except (SourceError, ConfigError) as exc:
        data["previous_error"] = f"history store: {exc}"


def _unchanged_since(points: list[Mapping[str, Any]], pct: int | None) -> tuple[str | None, Mapping[str, Any] | None]:
    """(oldest ``at`` of the trailing points at ``pct``, the last point) — (None, last) when it moved."""
    if not points:
        return None, None
    last = points[-1]
    if pct is None or last.get("value") is None or int(last["value"]) != pct:
        return None, last
    since = last["at"]
    for p in reversed(points):
        if p.get("value") is None or int(p["value"]) != pct:
            break
        since = p["at"]
    return str(since), last


def evaluate(data: Mapping[str, Any], params: Any, evaluate: Evaluate, target_of: TargetOf) -> Iterator[Finding]:
    """The templates findings from API answers (``data`` as :func:`collect` stored it), judged by the
    templates check's ``evaluate`` on the translated rows."""
    translated, ids, unattributed = translate(data, params.max_missing)
    now = _now(data)
    previous = data.get("previous") or {}
    observations: dict[str, tuple[Mapping[str, Any], str | None, Mapping[str, Any] | None]] = {}
    for row in translated["results"]["problem_rows"]:
        if row["download_state"] != "DOWNLOAD_IN_PROGRESS":
            continue
        target = ids.relabel(target_of(row))
        since, last = _unchanged_since(list(previous.get(target, [])), row["download_pct"])
        if since is not None:
            row["last_updated"] = _at(since).replace(tzinfo=None).isoformat()
        observations[target] = (row, since, last)
    judged: set[str] = set()
    for f in evaluate(RawEvidence(data=translated), params):
        f = _relabel(f, ids)
        if f.target in observations:
            judged.add(f.target)
            f = dataclasses.replace(f, metrics=(*f.metrics, _pct(observations[f.target][0])))
        yield f
    for target, (row, since, last) in observations.items():
        if target not in judged:
            yield _observed(target, row, since, last, now, data, params)
    for row in unattributed:
        yield _size_unattributed(row, ids, data)
    yield from _gaps(data, translated)


def _relabel(f: Finding, ids: Ids) -> Finding:
    subjects = {
        k: (ids.uuid(k, int(v)) or v) if k in ("template", "store", "zone") else v for k, v in f.subjects.items()
    }
    return dataclasses.replace(f, target=ids.relabel(f.target), summary=ids.relabel(f.summary), subjects=subjects)


def _pct(row: Mapping[str, Any]) -> Metric:
    return Metric(name=METRIC, value=row["download_pct"], unit="%")


def _observed(
    target: str,
    row: Mapping[str, Any],
    since: str | None,
    last: Mapping[str, Any] | None,
    now: datetime,
    data: Mapping[str, Any],
    params: Any,
) -> Finding:
    pct = row["download_pct"]
    evidence = (
        Evidence(
            kind=EvidenceKind.ROW,
            source=f"{data['target']} API: {data['calls']['templates']}",
            text=f'downloadState DOWNLOAD_IN_PROGRESS, downloadPercent {pct}; status "{row.get("status")}"',
            data={k: row[k] for k in ("template_uuid", "store_name", "download_pct", "download_state", "status")},
        ),
    )
    if data.get("previous_error"):
        code, summary = (
            "TEMPLATE_STALL_NOT_PROVABLE",
            (f"download at {pct} %: cannot tell whether it stalled, no earlier observation ({data['previous_error']})"),
        )
    elif last is None:
        code, summary = (
            "TEMPLATE_STALL_NOT_PROVABLE",
            (
                f"download at {pct} %, first observation: the API has no last_updated, so whether it stalled is judged "
                "by a later recorded run (csdiag report, or triage with [history] record = true)"
            ),
        )
    elif since is None:
        code, summary = (
            "TEMPLATE_DOWNLOAD_OBSERVED",
            f"download moved from {last['value']:g} % ({last['at']}) to {pct} %",
        )
    else:
        minutes = (now - _at(since)).total_seconds() / 60
        code, summary = (
            "TEMPLATE_DOWNLOAD_OBSERVED",
            (
                f"download at {pct} %, unchanged since {since} ({minutes:.0f} min): stalled only after "
                f"{params.stalled_warn_minutes:g} min"
            ),
        )
    return Finding(
        check=NAME,
        code=code,
        severity=Severity.INFO,
        target=target,
        summary=summary,
        details="Through the API csdiag compares the percent with the one the history store kept from earlier runs "
        "(metric download_pct); a download counts as stalled once its percent has not moved for stalled_warn_minutes.",
        evidence=evidence,
        metrics=(_pct(row),),
    )


def _size_unattributed(row: Mapping[str, Any], ids: Ids, data: Mapping[str, Any]) -> Finding:
    zone = ids.uuid("zone", int(row["zone_id"])) if row.get("zone_id") is not None else "?"
    return Finding(
        check=NAME,
        code="TEMPLATE_SIZE_ZERO",
        severity=Severity.CRIT,
        target=f'template {row["template_uuid"]} "{row["template_name"]}" @ zone {zone}',
        summary="a downloaded copy in this zone has size 0 (the response omits it); the API does not say which of "
        "the zone's stores holds it",
        evidence=(
            Evidence(
                kind=EvidenceKind.ROW,
                source=f"{data['target']} API: {data['calls']['templates']}",
                text=f"no size in the response; downloaddetails include store {row['store_name']} DOWNLOADED",
                data={k: row[k] for k in ("template_uuid", "store_name", "download_state")},
            ),
        ),
        remediation="Check the stores of the zone (csdiag storage check); delete the empty copy and re-register, or "
        "restart the SSVM so template sync downloads it again.",
    )


def _gaps(data: Mapping[str, Any], translated: Mapping[str, Any]) -> Iterator[Finding]:
    target = str(data["target"])
    if translated["results"]["checksums"]:
        yield cloudstack_api_source.not_provable(
            NAME,
            "TEMPLATE_CHECKSUM_NOT_PROVABLE",
            target,
            "checksums are judged without their {ALG} prefix: a digest whose length does not match its algorithm "
            "(e.g. a SHA-512 digest registered without {SHA-512}) is not seen",
            "TemplateJoinDaoImpl.newTemplateResponse shows DigestHelper.getHashValueFromChecksumValue(checksum), "
            "which drops the prefix; digests that are not hexadecimal, of no known length or upper-case are judged.",
            data,
        )
    gaps = []
    answers = data["answers"]
    if api_rows.direct_templates(answers) and api_rows.items(answers, "certificates"):
        gaps.append(
            "direct-download certificates expire on the day their validity text names (read as UTC: the "
            "management server writes its own time zone's name)"
        )
    if translated["results"]["missing"]:
        gaps.append(
            "the stores' creation times are not shown: a missing copy is WARN even on a store added within "
            "sync_grace_minutes"
        )
    if answers.get("selectors_error"):
        gaps.append(f"storage selectors could not be listed ({answers['selectors_error']})")
    if gaps:
        yield cloudstack_api_source.not_provable(
            NAME,
            "TEMPLATE_PLACEMENT_NOT_PROVABLE",
            target,
            "through the API: " + "; ".join(gaps),
            "The database holds each certificate's PEM, image_store.created and the heuristics table; the API shows "
            "a certificate's validity as Date.toString() text, no store creation time, and selectors from 4.19.",
            data,
        )
