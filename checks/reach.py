"""The ``reach`` check: from each SSVM, could a template download work right now?

For every vantage point (SSVMs over SSH on port 3922 — from config or the database inventory — or this
machine) one bash script runs on the remote side with the tools a system VM has (``getent``, ``curl``,
bash ``/dev/tcp``, ``timeout``), every step bounded: DNS for each URL host, an HTTP HEAD (status, size,
redirect, Accept-Ranges, connect and first-byte times), TCP to each management server of the SSVM's
``/var/cache/cloud/cmdline`` (``host=``, ``port=``), and ``ssvm-check.sh`` when present. collect keeps
the script's raw output; evaluate parses and judges it against CloudStack's settings
(``store.download.follow.redirects``, ``max.template.iso.size``, ``secstorage.allowed.internal.sites``).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field

from checks import cloudstack_db, reach_api, reach_http, ssvm_vantage
from diagnostics.check import Check, CheckContext, Code, Params, RawEvidence
from diagnostics.config import ReachSettings, Settings
from diagnostics.model import Finding, Severity
from diagnostics.sources import shell, ssh
from diagnostics.sources.errors import SourceError

NAME = "reach"
CODES = (
    Code(
        code="TEMPLATE_URL_UNRESOLVABLE", severity=Severity.CRIT, meaning="the URL's host name does not resolve there"
    ),
    Code(
        code="TEMPLATE_URL_UNREACHABLE",
        severity=Severity.CRIT,
        meaning="no connection: refused or timed out (egress firewall, proxy)",
    ),
    Code(code="TEMPLATE_URL_HTTP_ERROR", severity=Severity.CRIT, meaning="the server answered 4xx/5xx"),
    Code(
        code="TEMPLATE_URL_REDIRECT",
        severity=Severity.CRIT,
        meaning="a redirect CloudStack will not follow (store.download.follow.redirects is off)",
    ),
    Code(code="TEMPLATE_URL_TOO_LARGE", severity=Severity.CRIT, meaning="Content-Length above max.template.iso.size"),
    Code(code="TEMPLATE_URL_SLOW", severity=Severity.WARN, meaning="connect or first byte slower than latency_warn_ms"),
    Code(
        code="TEMPLATE_URL_INTERNAL_NOT_ALLOWED",
        severity=Severity.CRIT,
        meaning="an internal address outside secstorage.allowed.internal.sites: CloudStack refuses it",
    ),
    Code(code="TEMPLATE_URL_OK", severity=Severity.INFO, meaning="the URL answered 2xx in time"),
    Code(
        code="SSVM_MGMT_UNREACHABLE",
        severity=Severity.CRIT,
        meaning="the SSVM cannot open TCP to a management server (port 8250)",
    ),
    Code(
        code="SSVM_CHECK_FAILED",
        severity=Severity.CRIT,
        meaning="ssvm-check.sh printed an ERROR line (DNS, NFS not mounted, cannot write / root squash, Java down)",
    ),
    Code(
        code="SSVM_CHECK_WARNING",
        severity=Severity.WARN,
        meaning="ssvm-check.sh printed a WARNING line (DNS server, storage address or gateway does not answer ping)",
    ),
    Code(
        code="SSVM_CHECK_PASSED", severity=Severity.INFO, meaning="ssvm-check.sh ran to its end without ERROR/WARNING"
    ),
    Code(
        code="REACH_NOT_TESTED",
        severity=Severity.UNKNOWN,
        meaning="a vantage point or a probe could not run (SSH failed, a tool or the cmdline file is missing)",
    ),
    *reach_api.CODES,
    *cloudstack_db.DB_CODES,
    *ssvm_vantage.API_CODES,
)
SETTINGS = (
    "store.download.follow.redirects",
    "max.template.iso.size",
    "secstorage.allowed.internal.sites",
)
# secstorage.proxy is http://user:password@proxy:port: read on its own, used only to probe through it, and
# kept in the evidence only as scheme://***@host:port (mask_proxy).
PROXY_SQL = "SELECT value FROM configuration WHERE name = 'secstorage.proxy' AND category <> 'Hidden'"


class ReachParams(Params):
    latency_warn_ms: float = Field(300, gt=0, description="connect or first byte slower than this → WARN")
    probe_timeout_s: float = Field(10, gt=0, le=300, description="bound of each DNS, TCP and HTTP step")


# --- the remote script -----------------------------------------------------------------------------------


def mask_proxy(url: str | None) -> str | None:
    """``scheme://***@host:port`` for a proxy URL: never its user or password (and *** even without them)."""
    if not url or not url.strip():
        return None
    parts = urlsplit(url.strip() if "://" in url else f"http://{url.strip()}")
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme or 'http'}://***@{parts.hostname or '?'}{port}"


def probe_script(urls: Sequence[str], cfg: ReachSettings, timeout_s: float, proxy: str | None = None) -> str:
    """One bash script: every step has a timeout; every result is a tagged line. ``proxy`` (secstorage.proxy)
    is used for the HTTP probes as the SSVM uses it for downloads; it is in the script only, never in its
    output."""
    t = f"{timeout_s:g}"
    q = shlex.quote
    lines = [
        "set +e",
        'echo "TOOLS $(for c in curl wget getent timeout; do command -v $c >/dev/null 2>&1 && printf "%s " $c; done)"',
        f"if [ -r {q(cfg.cmdline_path)} ]; then echo \"CMDLINE $(tr '\\n' ' ' < {q(cfg.cmdline_path)})\"; "
        "else echo CMDLINE-MISSING; fi",
        f'hosts=; port=8250; for kv in $(cat {q(cfg.cmdline_path)} 2>/dev/null); do case "$kv" in '
        'host=*) hosts="${kv#host=}";; port=*) port="${kv#port=}";; esac; done',
        "for h in $(echo \"$hosts\" | tr ',' ' '); do t0=$(date +%s%N); "
        f'timeout {t} bash -c "exec 3<>/dev/tcp/$h/$port" 2>/dev/null; r=$?; t1=$(date +%s%N); '
        'echo "MGMT $h $port $r $(( (t1 - t0) / 1000000 ))"; done',
    ]
    for i, url in enumerate(urls):
        host = urlsplit(url).hostname or ""
        if host and not reach_http.is_ip(host):
            lines.append(
                f"out=$(timeout {t} getent ahosts {q(host)}); r=$?; "
                f"echo \"DNS {i} $r $(echo \"$out\" | awk '{{print $1}}' | sort -u | tr '\\n' ' ')\""
            )
        write_out = q(f"CSDIAG-W {i} %{{http_code}} %{{time_connect}} %{{time_starttransfer}}") + "'\\n'"
        via = f"-x {q(proxy)} " if proxy else ""
        lines.append(
            f"curl -sS -I {via}--max-time {t} --connect-timeout {t} -w {write_out} {q(url)} 2>&1 "
            f"| sed 's/^/H{i} /'; echo \"RC {i} ${{PIPESTATUS[0]}}\""
        )
    lines.append(
        f"if [ -x {q(cfg.ssvm_check_path)} ]; then timeout 120 {q(cfg.ssvm_check_path)} 2>&1 | sed 's/^/CHECK /'; "
        'echo "CHECK CHECKRC ${PIPESTATUS[0]}"; fi'
    )
    return "\n".join(lines) + "\n"


# --- collect ---------------------------------------------------------------------------------------------

URLS_SQL = (
    "SELECT DISTINCT t.url FROM vm_template t JOIN template_store_ref r ON r.template_id = t.id "
    "WHERE t.removed IS NULL AND t.url LIKE 'http%%' AND (r.destroyed = 0 OR r.destroyed IS NULL) "
    "AND r.download_state IN ('DOWNLOAD_IN_PROGRESS', 'DOWNLOAD_ERROR', 'ABANDONED', 'NOT_DOWNLOADED')"
)
SAMPLE_SQL = "SELECT DISTINCT url FROM vm_template WHERE removed IS NULL AND url LIKE 'http%%' ORDER BY url LIMIT %s"
SETTINGS_SQL = (
    "SELECT name, value, default_value FROM configuration "
    f"WHERE name IN ({', '.join(['%s'] * len(SETTINGS))}) AND category <> 'Hidden'"
)


def _vantages(settings: Settings, results: Mapping[str, Any]) -> list[dict[str, Any]]:
    cfg = settings.reach
    out = []
    for spec in cfg.from_hosts:
        host, port = ssh.split_host(spec, settings.ssh.ssvm_port)
        out.append({"label": host, "host": host, "port": port})
    if cfg.ssvm_from_inventory:
        from diagnostics.inventory import Inventory

        inv = Inventory.from_results(results)
        for s in inv.ssvms:
            if s.vm_state == "Running" and s.private_ip and s.private_ip not in {v["host"] for v in out}:
                out.append({"label": s.name, "host": s.private_ip, "port": settings.ssh.ssvm_port})
    if cfg.local:
        out.append({"label": "this machine", "host": None, "port": None})
    return out


def _probe(vantage: Mapping[str, Any], script: str, settings: Settings, timeout_s: float) -> dict[str, Any]:
    record: dict[str, Any] = dict(vantage)
    try:
        if vantage["host"] is None:
            rc, out, err = shell.run_local(script, timeout_s)
        else:
            rc, out, err = ssh.run_script(vantage["host"], vantage["port"], settings.ssh, script, timeout_s)
        record.update(rc=rc, stdout=out, stderr=err[-2000:])
    except SourceError as exc:
        record["error"] = {"kind": exc.kind, "message": str(exc)}
    return record


def collect(ctx: CheckContext[ReachParams]) -> RawEvidence:
    settings, cfg, params = ctx.settings, ctx.settings.reach, ctx.params
    data: dict[str, Any] = {"configured": False, "results": {}}
    chosen = settings.cloudstack.chosen_source()
    if settings.cloudstack.database is not None and chosen != "api":

        def plan(db: Any, columns: Mapping[str, set[str]]) -> dict[str, str]:
            from diagnostics import inventory

            q = {"urls": URLS_SQL, "sample": SAMPLE_SQL}
            if "configuration" in columns:
                q["settings"] = SETTINGS_SQL
                q["proxy"] = PROXY_SQL
            if cfg.ssvm_from_inventory:
                q.update({k: v for k, v in inventory.queries(columns).items() if k in ("ssvms", "ssvm_nics")})
            return q

        data = dict(
            cloudstack_db.collect(
                ctx,
                required={"vm_template": ("id", "url", "removed"), "template_store_ref": ("template_id",)},
                optional_tables=("configuration", "nics", "host", "data_center", "image_store"),
                plan=plan,
                args={"sample": (cfg.sample,), "settings": SETTINGS},
            ).data
        )
    results = data.get("results") or {}
    proxy_rows = results.pop("proxy", None) or []
    proxy = next((str(r["value"]) for r in proxy_rows if r.get("value")), None)
    data["proxy"] = mask_proxy(proxy)
    urls = list(
        dict.fromkeys(
            [*cfg.urls, *(r["url"] for r in results.get("urls", [])), *(r["url"] for r in results.get("sample", []))]
        )
    )
    vantages = _vantages(settings, results)
    # the whole script must end before the check's deadline: each step has probe_timeout_s
    budget = ctx.timeout(params.probe_timeout_s * (3 * len(urls) + 4) + 30)
    script = probe_script(urls, cfg, min(params.probe_timeout_s, max(1.0, budget / 4)), proxy)
    with ThreadPoolExecutor(max_workers=min(16, max(1, len(vantages)))) as pool:
        probes = list(pool.map(lambda v: _probe(v, script, settings, budget), vantages))
    if proxy:  # whatever a tool echoed of the proxy's credentials never reaches the evidence
        secrets = [x for x in {proxy, urlsplit(proxy).password, urlsplit(proxy).username} if x]
        for p in probes:
            for key in ("stdout", "stderr"):
                for secret in sorted(secrets, key=len, reverse=True):
                    p[key] = str(p.get(key) or "").replace(secret, "***")
    # no SSVM answered over SSH: the SSVMs ping/traceroute the URL hosts through runDiagnostics (reach_api)
    if ssvm_vantage.wanted(settings, any(p.get("host") is not None and "error" not in p for p in probes)):
        via_api = reach_api.collect(ctx, urls, with_templates=chosen == "api")
        if not results.get("settings") and via_api["api_settings"]:
            data["results"] = {**results, "settings": via_api["api_settings"]}
        data.update(api=via_api["api"], api_paths=via_api["api_paths"])
    overrides = {
        "follow_redirects": cfg.follow_redirects,
        "max_template_size_gb": cfg.max_template_size_gb,
        "allowed_internal_sites": cfg.allowed_internal_sites,
    }
    return RawEvidence(data={**data, "urls": urls, "probes": probes, "overrides": overrides})


# --- evaluate --------------------------------------------------------------------------------------------


def _settings(data: Mapping[str, Any]) -> dict[str, Any]:
    rows = (data.get("results") or {}).get("settings") or []
    s = {r["name"]: (r["value"] if r["value"] is not None else r["default_value"]) for r in rows}
    o = data.get("overrides") or {}
    follow = o.get("follow_redirects")
    if follow is None:
        follow = str(s.get("store.download.follow.redirects", "false")).lower() == "true"
    max_gb = o.get("max_template_size_gb")
    if max_gb is None:
        try:
            max_gb = float(s.get("max.template.iso.size") or 50)
        except ValueError:
            max_gb = 50.0
    sites = o.get("allowed_internal_sites")
    if sites is None:
        sites = [x.strip() for x in str(s.get("secstorage.allowed.internal.sites") or "").split(",") if x.strip()]
    return {
        "follow": bool(follow),
        "max_bytes": max_gb * 2**30,
        "sites": sites,
        "sites_known": o.get("allowed_internal_sites") is not None or "secstorage.allowed.internal.sites" in s,
        "proxy": mask_proxy(data.get("proxy")),
    }


def evaluate(raw: RawEvidence, params: ReachParams) -> Iterator[Finding]:
    data = raw.data
    if data.get("configured") and (problems := cloudstack_db.failures(NAME, data)) is not None:
        yield from problems  # no URLs from the database; configured URLs are still probed below
    settings = _settings(data)
    urls: list[str] = data.get("urls", [])
    if not data.get("probes") and data.get("api") is None:
        yield Finding(
            check=NAME,
            code="REACH_NOT_TESTED",
            severity=Severity.UNKNOWN,
            target="reach",
            summary="no vantage point: set [reach] from_hosts, ssvm_from_inventory or local",
            remediation="Name the SSVMs to probe from in [reach] from_hosts (their IPs, SSH port 3922).",
        )
        return
    for probe in data.get("probes", []):
        yield from reach_http.judge_vantage(probe, urls, settings, params.latency_warn_ms)
    yield from reach_api.evaluate(data, settings)


CHECK = Check(
    name=NAME,
    title="Reachability from the SSVMs",
    description="From each SSVM: template URLs (DNS, connect, HTTP, redirects, size, latency), the management "
    "servers on 8250, ssvm-check.sh.",
    codes=CODES,
    params=ReachParams,
    collect=collect,
    evaluate=evaluate,
)
