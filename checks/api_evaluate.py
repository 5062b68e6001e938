"""``platform`` and ``ssvm`` through CloudStack's API: their calls, and evaluation of the stored answers
by the checks' own rules (translated by ``checks/api_rows.py``; targets name UUIDs).

Gaps, stated: the version is the management server's (``listCapabilities``), not the database schema's
``version`` row (they differ only during an upgrade); the database server's version is not visible; a
setting listConfigurations does not return (the Hidden category, or unknown to this version) is named in
a SETTING_NOT_PROVABLE INFO. ``HostResponse.lastpinged`` is shown (``HostJoinDaoImpl``) but, as in the
database, not judged: CloudStack writes it on connect only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from checks import api_rows, cloudstack_api_source
from checks.api_rows import Ids
from diagnostics.check import Code, RawEvidence
from diagnostics.model import Finding, Severity

Evaluate = Callable[[RawEvidence, Any], Iterable[Finding]]

PLATFORM_CODES = (
    Code(
        code="SETTING_NOT_PROVABLE",
        severity=Severity.INFO,
        meaning="API source: listConfigurations does not return a setting csdiag judges (Hidden category, or not "
        "defined on this version)",
    ),
)


def platform_calls(settings: Iterable[str]) -> tuple[cloudstack_api_source.Call, ...]:
    return (
        ("capabilities", "listCapabilities", {}, "call"),
        *((f"setting:{name}", "listConfigurations", {"name": name}, "list") for name in settings),
    )


SSVM_CALLS: tuple[cloudstack_api_source.Call, ...] = (
    ("capabilities", "listCapabilities", {}, "call"),
    ("zones", "listZones", {}, "list"),
    ("imagestores", "listImageStores", {}, "list"),
    ("systemvms", "listSystemVms", {"systemvmtype": "secondarystoragevm"}, "list"),
    ("ssvm_hosts", "listHosts", {"type": "SecondaryStorageVM"}, "list"),
    ("system_templates", "listTemplates", {"templatefilter": "all", "templatetype": "SYSTEM"}, "list"),
    ("setting:minreq", "listConfigurations", {"name": "minreq.sysvmtemplate.version"}, "list"),
    ("setting:router", "listConfigurations", {"name": "router.template."}, "list"),
)


def _translated(data: Mapping[str, Any], results: Mapping[str, Any], sql: Mapping[str, str]) -> RawEvidence:
    return RawEvidence(
        data={
            "configured": True,
            "via": "api",
            "target": data["target"],
            "sql": {**data.get("calls", {}), **sql},
            "db_utc": data.get("observed_utc"),
            "results": results,
        }
    )


def relabel(findings: Iterable[Finding], ids: Ids) -> Iterator[Finding]:
    for f in findings:
        yield dataclasses.replace(f, target=ids.relabel(f.target), summary=ids.relabel(f.summary))


def platform(data: Mapping[str, Any], params: Any, evaluate: Evaluate, settings: Iterable[str]) -> Iterator[Finding]:
    calls = data.get("calls", {})
    wanted = list(settings)
    results = api_rows.platform_results(data["answers"], wanted)
    sql = {"version": calls.get("capabilities", "listCapabilities"), "settings": "listConfigurations name=…"}
    yield from evaluate(_translated(data, results, sql), params)
    got = {r["name"] for r in results["settings"]}
    for name in wanted:
        if name not in got:
            yield cloudstack_api_source.not_provable(
                "platform",
                "SETTING_NOT_PROVABLE",
                f"{data['target']} setting {name}",
                f"listConfigurations does not return {name}: its value is not judged",
                "CloudStack never lists Hidden settings through the API "
                "(ManagementServerImpl.searchForConfigurations), "
                "and a version that lacks the setting returns nothing.",
                data,
            )


def ssvm(data: Mapping[str, Any], params: Any, evaluate: Evaluate) -> Iterator[Finding]:
    calls = data.get("calls", {})
    ids = Ids()
    results = api_rows.ssvm_results(data["answers"], ids)
    sql = {
        "ssvms": f"{calls.get('systemvms')}; {calls.get('ssvm_hosts')}",
        "settings": "listConfigurations name=minreq.sysvmtemplate.version / router.template.",
        "version": calls.get("capabilities", "listCapabilities"),
    }
    yield from relabel(evaluate(_translated(data, results, sql), params), ids)
