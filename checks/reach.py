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

import ipaddress
import shlex
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field

from checks import cloudstack_db, ssvm_script
from diagnostics.check import Check, CheckContext, Code, Params, RawEvidence
from diagnostics.config import ReachSettings, Settings
from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity
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
    *cloudstack_db.DB_CODES,
)
_PRIVATE = [
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
    )
]
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
        if host and not _is_ip(host):
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


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


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
    if settings.cloudstack.database is not None:

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
    return {"follow": bool(follow), "max_bytes": max_gb * 2**30, "sites": sites, "proxy": mask_proxy(data.get("proxy"))}


def parse_output(stdout: str) -> dict[str, Any]:
    """The tagged lines of the probe script, grouped."""
    out: dict[str, Any] = {"tools": [], "cmdline": None, "mgmt": [], "dns": {}, "http": {}, "rc": {}, "check": []}
    for line in stdout.splitlines():
        tag, _, rest = line.partition(" ")
        if tag == "TOOLS":
            out["tools"] = rest.split()
        elif tag == "CMDLINE":
            out["cmdline"] = rest
        elif tag == "MGMT":
            host, port, rc, ms = ([*rest.split(), "", "", "", ""])[:4]
            out["mgmt"].append({"host": host, "port": port, "rc": int(rc or 1), "ms": int(ms or 0)})
        elif tag == "DNS":
            i, rc, *addrs = rest.split()
            out["dns"][int(i)] = {"rc": int(rc), "addresses": addrs}
        elif tag == "RC":
            i, rc = rest.split()
            out["rc"][int(i)] = int(rc)
        elif tag.startswith("H") and tag[1:].isdigit():
            out["http"].setdefault(int(tag[1:]), []).append(rest)
        elif tag == "CHECK":
            out["check"].append(rest)
    return out


def _http_facts(lines: list[str]) -> dict[str, Any]:
    facts: dict[str, Any] = {"headers": {}, "status_lines": [], "curl_error": None}
    for line in lines:
        if line.startswith("CSDIAG-W "):
            _, _i, code, connect, first = (line.split() + ["0"] * 5)[:5]
            facts.update(code=int(code), connect_ms=float(connect) * 1000, first_byte_ms=float(first) * 1000)
        elif line.startswith("HTTP/"):
            facts["status_lines"].append(line.strip())
        elif ":" in line and not line.startswith("curl:"):
            k, _, v = line.partition(":")
            facts["headers"][k.strip().lower()] = v.strip()
        elif line.startswith("curl:"):
            facts["curl_error"] = line.strip()
    return facts


def _internal(host: str, sites: Sequence[str]) -> bool | None:
    """True when ``host`` is an internal IP outside the allowed sites; None when unknown (a name)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if not any(ip in n for n in _PRIVATE):
        return False
    for site in sites:
        try:
            if ip in ipaddress.ip_network(site, strict=False):
                return False
        except ValueError:
            continue
    return True


def evaluate(raw: RawEvidence, params: ReachParams) -> Iterator[Finding]:
    data = raw.data
    if data.get("configured") and (problems := cloudstack_db.failures(NAME, data)) is not None:
        yield from problems  # no URLs from the database; configured URLs are still probed below
    settings = _settings(data)
    urls: list[str] = data.get("urls", [])
    if not data.get("probes"):
        yield Finding(
            check=NAME,
            code="REACH_NOT_TESTED",
            severity=Severity.UNKNOWN,
            target="reach",
            summary="no vantage point: set [reach] from_hosts, ssvm_from_inventory or local",
            remediation="Name the SSVMs to probe from in [reach] from_hosts (their IPs, SSH port 3922).",
        )
        return
    for probe in data["probes"]:
        yield from _judge_vantage(probe, urls, settings, params)


def _judge_vantage(
    probe: Mapping[str, Any], urls: list[str], settings: Mapping[str, Any], params: ReachParams
) -> Iterator[Finding]:
    label = probe["label"]
    if err := probe.get("error"):
        yield Finding(
            check=NAME,
            code="REACH_NOT_TESTED",
            severity=Severity.UNKNOWN,
            target=label,
            summary=f"cannot probe from {label}: {err['message']}",
            remediation="Check SSH to the SSVM (port 3922, the management server's key, known_hosts).",
        )
        return
    out = parse_output(probe.get("stdout") or "")
    source = f"{label}: probe script"
    missing = [t for t in ("curl", "getent", "timeout") if t not in out["tools"]]
    if missing:
        yield Finding(
            check=NAME,
            code="REACH_NOT_TESTED",
            severity=Severity.UNKNOWN,
            target=label,
            summary=f"{label} lacks {', '.join(missing)}: the steps that need them were not tested",
        )
    if out["cmdline"] is None and probe.get("host") is not None:  # from here, there is no SSVM cmdline to read
        yield Finding(
            check=NAME,
            code="REACH_NOT_TESTED",
            severity=Severity.UNKNOWN,
            target=f"{label} → management",
            summary=f"{label} has no readable SSVM cmdline: the management servers were not tested",
            remediation="Probe from the SSVM itself (/var/cache/cloud/cmdline holds host= and port=).",
        )
    for m in out["mgmt"]:
        if m["rc"] != 0:
            why = "timed out" if m["rc"] == 124 else "refused or unreachable"
            yield Finding(
                check=NAME,
                code="SSVM_MGMT_UNREACHABLE",
                severity=Severity.CRIT,
                target=f"{label} → {m['host']}:{m['port']}",
                summary=f"{label} cannot open TCP to the management server {m['host']}:{m['port']} ({why})",
                evidence=(
                    Evidence(
                        kind=EvidenceKind.PROBE,
                        source=source,
                        data=m,
                        text=f"bash /dev/tcp/{m['host']}/{m['port']}: exit {m['rc']} after {m['ms']} ms",
                    ),
                ),
                remediation="Open TCP 8250 from the SSVM's management/link-local network to the management servers; "
                "check the 'host' global setting; then restart the cloud service on the SSVM.",
            )
    if out["check"]:
        yield from ssvm_script.findings(NAME, label, out["check"])
    for i, url in enumerate(urls):
        yield from _judge_url(label, source, url, out, i, settings, params)


def _judge_url(
    label: str, source: str, url: str, out: Mapping[str, Any], i: int, settings: Mapping[str, Any], params: ReachParams
) -> Iterator[Finding]:
    target = f"{label} → {url}"
    host = urlsplit(url).hostname or ""
    facts = _http_facts(out["http"].get(i, []))
    rc = out["rc"].get(i)
    text = "\n".join(out["http"].get(i, [])) or "(no output)"
    ev = (Evidence(kind=EvidenceKind.PROBE, source=f"{source} (curl -I {url})", text=f"{text}\ncurl exit {rc}"),)
    internal = _internal(host, settings["sites"])
    if internal:
        yield Finding(
            check=NAME,
            code="TEMPLATE_URL_INTERNAL_NOT_ALLOWED",
            severity=Severity.CRIT,
            target=target,
            summary=f"{host} is an internal address outside secstorage.allowed.internal.sites "
            f"({', '.join(settings['sites']) or 'empty'}): CloudStack refuses to download from it",
            remediation=f"Add the repository's network to secstorage.allowed.internal.sites (e.g. {host}/32).",
        )
    dns = out["dns"].get(i)
    if dns is not None and dns["rc"] != 0:
        yield Finding(
            check=NAME,
            code="TEMPLATE_URL_UNRESOLVABLE",
            severity=Severity.CRIT,
            target=target,
            summary=f"{host} does not resolve on {label} (getent exit {dns['rc']})",
            evidence=(Evidence(kind=EvidenceKind.PROBE, source=f"{source} (getent ahosts {host})", data=dns),),
            remediation="Check the SSVM's DNS servers (the zone's DNS settings) and the name itself.",
        )
        return
    if rc is None:
        return
    if rc != 0 or facts.get("code", 0) == 0:
        why = (
            "timed out" if rc == 28 else "connection refused" if rc == 7 else (facts["curl_error"] or f"curl exit {rc}")
        )
        yield Finding(
            check=NAME,
            code="TEMPLATE_URL_UNREACHABLE",
            severity=Severity.CRIT,
            target=target,
            summary=f"no HTTP answer from {url} on {label}: {why}"
            + (f" (through secstorage.proxy {settings['proxy']}, as the SSVM downloads)" if settings["proxy"] else ""),
            evidence=ev,
            remediation=(
                f"Check the proxy {settings['proxy']} (secstorage.proxy) answers from the SSVM and allows the URL, "
                "then the server itself."
                if settings["proxy"]
                else "Check the SSVM's egress (firewall, NAT on the public network), the server itself, and "
                "secstorage.proxy if downloads must go through a proxy."
            ),
        )
        return
    code = facts["code"]
    metrics = (
        Metric(
            name="connect_ms",
            value=round(facts["connect_ms"], 1),
            unit="ms",
            warn=params.latency_warn_ms,
            direction="upper",
        ),
        Metric(
            name="first_byte_ms",
            value=round(facts["first_byte_ms"], 1),
            unit="ms",
            warn=params.latency_warn_ms,
            direction="upper",
        ),
    )
    if 300 <= code < 400 and not settings["follow"]:
        yield Finding(
            check=NAME,
            code="TEMPLATE_URL_REDIRECT",
            severity=Severity.CRIT,
            target=target,
            summary=f"{url} redirects (HTTP {code} to {facts['headers'].get('location', '?')}); CloudStack "
            "does not follow redirects while store.download.follow.redirects is off",
            evidence=ev,
            metrics=metrics,
            remediation="Register the final URL, or turn store.download.follow.redirects on.",
        )
        return
    if code >= 400:
        yield Finding(
            check=NAME,
            code="TEMPLATE_URL_HTTP_ERROR",
            severity=Severity.CRIT,
            target=target,
            summary=f"{url} answered HTTP {code} on {label}",
            evidence=ev,
            metrics=metrics,
            remediation="Fix the URL or the server's access rules; re-register the template.",
        )
        return
    length = facts["headers"].get("content-length", "")
    if length.isdigit() and int(length) > settings["max_bytes"]:
        yield Finding(
            check=NAME,
            code="TEMPLATE_URL_TOO_LARGE",
            severity=Severity.CRIT,
            target=target,
            summary=f"{url} is {int(length) / 2**30:.1f} GiB, above max.template.iso.size "
            f"({settings['max_bytes'] / 2**30:g} GiB)",
            evidence=ev,
            metrics=metrics,
            remediation="Raise max.template.iso.size, or publish a smaller (QCOW2, thin) image.",
        )
    slow = max(facts["connect_ms"], facts["first_byte_ms"])
    if slow > params.latency_warn_ms:
        yield Finding(
            check=NAME,
            code="TEMPLATE_URL_SLOW",
            severity=Severity.WARN,
            target=target,
            summary=f"{url}: connect {facts['connect_ms']:.0f} ms, first byte {facts['first_byte_ms']:.0f} ms "
            f"from {label} (warn above {params.latency_warn_ms:g} ms)",
            evidence=ev,
            metrics=metrics,
            remediation="Mirror the templates closer to the zone, or add SSVMs (the runbook's mark is "
            "300 ms); downloads over slow links time out and leave templates in Error.",
        )
    elif 200 <= code < 300:
        ranges = facts["headers"].get("accept-ranges", "none")
        yield Finding(
            check=NAME,
            code="TEMPLATE_URL_OK",
            severity=Severity.INFO,
            target=target,
            summary=f"{url}: HTTP {code}, {length or '?'} bytes, Accept-Ranges {ranges}, connect "
            f"{facts['connect_ms']:.0f} ms, first byte {facts['first_byte_ms']:.0f} ms",
            evidence=ev,
            metrics=metrics,
        )


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
