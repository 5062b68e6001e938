"""CloudStack's HTTP API as the source of the database-backed checks (``platform``, ``ssvm``, ``templates``).

A check's ``collect`` calls :func:`collect` with its database collector and the API calls it needs; which
source runs follows ``[cloudstack] source`` (:meth:`CloudStackSettings.chosen_source`). Through the API,
the answers are stored verbatim, and the check's evaluate translates them (``checks/api_rows.py``) into
the same ``results`` rows the database gives, so the same rules judge them and a bundle replays them.

Evidence layout (``RawEvidence.data``) when the API is the source::

    {"configured": bool, "via": "api", "target": "https://cloud.example/client/api",
     "observed_utc": "2026-...",          # csdiag's clock when the answers came (the API gives no server clock)
     "calls": {name: "listTemplates templatefilter=all details=all"},
     "answers": {name: [items] | {object}},
     "error": {"kind", "message", "call"},  # the API failed us (→ API_* finding)
     "previous": {...}}                   # check-specific: earlier observations from the history store

``configured`` False means ``source = "api"`` without ``[cloudstack.api]``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from checks import cloudstack_db
from diagnostics.check import CheckContext, Code, RawEvidence
from diagnostics.model import Evidence, EvidenceKind, Finding, Severity
from diagnostics.sources import cloudstack_api
from diagnostics.sources.errors import SourceError

API_CODES: tuple[Code, ...] = (
    Code(
        code="API_NOT_CONFIGURED",
        severity=Severity.UNKNOWN,
        meaning="[cloudstack] source is api but there is no [cloudstack.api] in the config",
    ),
    Code(
        code="API_UNREACHABLE",
        severity=Severity.UNKNOWN,
        meaning="CloudStack's API did not answer (refused, no route, TLS, timeout)",
    ),
    Code(
        code="API_AUTH_FAILED",
        severity=Severity.UNKNOWN,
        meaning="the API refused the key or the signature (401: wrong key, wrong secret, clock skew past expires)",
    ),
    Code(
        code="API_PERMISSION_DENIED",
        severity=Severity.UNKNOWN,
        meaning="the key's role may not make a call the check needs (432): a root-admin key is needed",
    ),
    Code(
        code="API_QUERY_FAILED",
        severity=Severity.UNKNOWN,
        meaning="the API answered with an error or with something that is not CloudStack JSON (a proxy's page)",
    ),
)
SOURCE_CODES: tuple[Code, ...] = (*cloudstack_db.DB_CODES, *API_CODES)

_ERROR_CODES = {
    "AuthFailed": "API_AUTH_FAILED",
    "Unreachable": "API_UNREACHABLE",
    "Timeout": "API_UNREACHABLE",
    "NotPermitted": "API_PERMISSION_DENIED",
}
_REMEDIATION = {
    "API_NOT_CONFIGURED": "Add [cloudstack.api] (endpoint, api_key, secret_key_env or secret_key_file) for a "
    "root-admin key, or set [cloudstack] source to db or auto.",
    "API_UNREACHABLE": "Check [cloudstack.api] endpoint (…/client/api), that the management server listens there, "
    "the TLS settings (verify_tls, ca_file) and that no firewall blocks it from here.",
    "API_AUTH_FAILED": "Check [cloudstack.api] api_key and the secret's source; check this host's clock (NTP): a "
    "signature expires after [cloudstack.api] expires_s.",
    "API_PERMISSION_DENIED": "Use a key of a root-admin account in [cloudstack.api] (csdiag api ping lists the calls "
    "the key may make); csdiag only reads.",
    "API_QUERY_FAILED": "Check [cloudstack.api] endpoint names CloudStack's API itself (not a login page of a proxy); "
    "read management-server.log for the error.",
}

# (answer name, command, parameters, kind): kind "list" pages through a list*, "call" is one request.
Call = tuple[str, str, Mapping[str, str], str]


def use_api(ctx: CheckContext[Any]) -> bool:
    """Does this check read the API (chosen, or chosen and missing)?"""
    cs = ctx.settings.cloudstack
    return cs.chosen_source() == "api" or (cs.source == "api" and cs.api is None)


def describe(command: str, params: Mapping[str, str]) -> str:
    return " ".join([command, *(f"{k}={v}" for k, v in params.items())])


def collect(
    ctx: CheckContext[Any],
    db: Callable[[], RawEvidence],
    calls: tuple[Call, ...],
    extra: Callable[[dict[str, Any]], None] | None = None,
    more: Callable[[cloudstack_api.CloudStackApi, dict[str, Any]], None] | None = None,
    keep: Mapping[str, frozenset[str]] | None = None,
) -> RawEvidence:
    """The database collector ``db`` or, when the API is the source, the answers of ``calls``.

    ``more(api, data)`` may make calls that depend on earlier answers (per zone); ``extra(data)`` may add
    check-specific evidence after the answers (e.g. earlier observations). ``keep`` names, per answer, the
    fields of its items worth storing (memory and bundle size follow what the rules read, not the cloud's
    details).
    """
    if not use_api(ctx):
        return db()
    settings = ctx.settings.cloudstack.api
    if settings is None:
        return RawEvidence(data={"configured": False, "via": "api"})
    data: dict[str, Any] = {
        "configured": True,
        "via": "api",
        "target": cloudstack_api.target_of(settings),
        "calls": {name: describe(cmd, params) for name, cmd, params, _ in calls},
        "answers": {},
    }
    name = ""
    try:
        api = cloudstack_api.CloudStackApi(settings, time.monotonic() + ctx.remaining())
        for name, command, params, kind in calls:
            answer: Any = api.list(command, **params) if kind == "list" else api.call(command, **params)
            if keep and name in keep and isinstance(answer, list):
                answer = [{k: v for k, v in item.items() if k in keep[name]} for item in answer]
            data["answers"][name] = answer
        if more is not None:
            name = "more"
            more(api, data)
        data["observed_utc"] = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="seconds")
        data["page_size"] = api.page_size
    except SourceError as exc:
        data["error"] = {"kind": exc.kind, "message": str(exc), "call": name}
    if extra is not None and "error" not in data:
        extra(data)
    return RawEvidence(data=data)


def failures(check: str, data: Mapping[str, Any]) -> list[Finding] | None:
    """Findings for a source that could not be read (database or API); None when there is data to judge."""
    if data.get("via") != "api":
        return cloudstack_db.failures(check, data)
    if not data.get("configured"):
        return [
            Finding(
                check=check,
                code="API_NOT_CONFIGURED",
                severity=Severity.UNKNOWN,
                target="cloudstack api",
                summary=f"[cloudstack] source is api but there is no [cloudstack.api] section: check {check} cannot "
                "read CloudStack",
                remediation=_REMEDIATION["API_NOT_CONFIGURED"],
            )
        ]
    if err := data.get("error"):
        code = _ERROR_CODES.get(err["kind"], "API_QUERY_FAILED")
        call = data.get("calls", {}).get(err.get("call"), err.get("call") or "")
        return [
            Finding(
                check=check,
                code=code,
                severity=Severity.UNKNOWN,
                target=data["target"],
                summary=f"cannot read CloudStack through its API ({call}): {err['message']}",
                evidence=(Evidence(kind=EvidenceKind.PROBE, source=data["target"], text=err["message"], data=err),),
                remediation=_REMEDIATION[code],
            )
        ]
    return None


def not_provable(check: str, code: str, target: str, summary: str, details: str, data: Mapping[str, Any]) -> Finding:
    """An INFO saying what the API cannot show and why (never a silent pass)."""
    return Finding(
        check=check,
        code=code,
        severity=Severity.INFO,
        target=target,
        summary=summary,
        details=details,
        evidence=(
            Evidence(
                kind=EvidenceKind.PROBE,
                source=f"{data['target']} API",
                text="; ".join(data.get("calls", {}).values()),
            ),
        ),
        remediation="Give read-only database access ([cloudstack.database], source = auto or db) to judge this.",
    )
