"""The ``reach`` check from the SSVMs through CloudStack's ``runDiagnostics`` (no SSH needed).

runDiagnostics runs only ping, traceroute and arping on the SSVM, so this proves the *network path* to each
template URL's host, never the download: from every running SSVM the API lists, ``ping <host> -c 3 -i 0.2
-W 1 -n``, and for a host that does not answer, ``traceroute <host> -n -q 1 -w 1 -m 16`` for the last hop
that does. What it cannot test (DNS as the download resolves it behind secstorage.proxy, TCP to the port,
the HTTP status, redirects, size, latency to the first byte, the management servers on 8250,
ssvm-check.sh) is said once per SSVM as ``REACH_HTTP_NOT_PROVABLE`` (INFO) — never a silent pass.

Evidence (``data["api"]``: the site as listed; ``data["api_paths"]``)::

    {"vantage": "s-1-VM", "ssvm_id": "<uuid>", "host": "10.0.0.5", "urls": ["http://10.0.0.5/t.qcow2"],
     "jobs": [ping job record, traceroute job record?]}   # checks.ssvm_vantage's job records
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from checks import reach_http
from checks import ssvm_vantage as sv
from diagnostics.check import CheckContext, Code
from diagnostics.model import Finding, Severity

NAME = "reach"
CODES: tuple[Code, ...] = (
    Code(
        code="REACH_HTTP_NOT_PROVABLE",
        severity=Severity.INFO,
        meaning="through runDiagnostics only ICMP runs on the SSVM: DNS, TCP, HTTP, redirects, size, proxy and "
        "the management servers were not tested",
    ),
    Code(
        code="TEMPLATE_HOST_PATH_OK",
        severity=Severity.INFO,
        meaning="the SSVM reaches the template URL's host (ping or traceroute answered; HTTP not tested)",
    ),
    Code(
        code="TEMPLATE_HOST_PATH_SILENT",
        severity=Severity.WARN,
        meaning="no ICMP answer from the template URL's host on the SSVM; traceroute's last answering hop named "
        "(ICMP may be filtered: not proof the download fails)",
    ),
)
PING_PARAMS = "-c 3 -i 0.2 -W 1 -n"
TRACEROUTE_PARAMS = "-n -q 1 -w 1 -m 16"
MAX_HOSTS = 32
# Routers' refusals in traceroute's output (Debian traceroute, -n): the path is proven broken there.
_REFUSALS = {
    "!H": "host unreachable",
    "!N": "network unreachable",
    "!P": "protocol unreachable",
    "!S": "source route failed",
    "!X": "communication administratively prohibited",
    "!A": "communication administratively prohibited",
    "!C": "precedence cutoff",
    "!V": "host precedence violation",
}


def urls_from(site: Mapping[str, Any], sample: int) -> list[str]:
    """Template URLs as the DB path picks them: every one not ready on some store, then a sample."""
    rows = site.get("templates") or []
    failing = [t["url"] for t in rows if not t.get("isready")]
    ready = sorted(t["url"] for t in rows if t.get("isready"))
    return list(dict.fromkeys([*failing, *ready[:sample]]))


def collect(ctx: CheckContext[Any], urls: Sequence[str], with_templates: bool) -> dict[str, Any]:
    """List the SSVMs (and template URLs when ``with_templates``); ping each URL host from each SSVM, and
    traceroute the hosts that did not answer. Returns the keys to merge into the evidence."""
    settings = ctx.settings
    api = settings.cloudstack.api
    assert api is not None
    deadline = ctx.deadline - 1
    site = sv.list_site(api, deadline, templates=with_templates)
    all_urls = list(dict.fromkeys([*urls, *urls_from(site, settings.reach.sample)]))
    site["templates"] = {"urls": len(site["templates"])}
    hosts: dict[str, list[str]] = {}
    for url in all_urls:
        if host := sv.url_host(url):
            hosts.setdefault(host, []).append(url)
    hosts = dict(list(hosts.items())[:MAX_HOSTS])
    ssvms = sv.running_ssvms(site)
    pings = sv.run_jobs(
        api,
        [
            {"ssvm": s["name"], "ssvm_id": s["id"], "type": "ping", "address": h, "params": PING_PARAMS}
            for s in ssvms
            for h in hosts
        ],
        deadline,
    )
    silent = [j for j in pings if not j.get("error") and not sv.parse_ping_summary(j)["received"]]
    traces = sv.run_jobs(
        api,
        [
            {**{k: j[k] for k in ("ssvm", "ssvm_id", "address")}, "type": "traceroute", "params": TRACEROUTE_PARAMS}
            for j in silent
        ],
        deadline,
    )
    paths = [
        {
            "vantage": s["name"],
            "ssvm_id": s["id"],
            "host": h,
            "urls": u,
            "jobs": [j for j in (*pings, *traces) if j["ssvm_id"] == s["id"] and j["address"] == h],
        }
        for s in ssvms
        for h, u in hosts.items()
    ]
    rows = sv.setting_rows(api, deadline, ("secstorage.allowed.internal.sites",)) if site.get("ssvms") else []
    return {"api": site, "api_paths": paths, "api_settings": rows}


# --- evaluate --------------------------------------------------------------------------------------------


def evaluate(data: Mapping[str, Any], settings: Mapping[str, Any]) -> Iterator[Finding]:
    """Findings from the API vantage's evidence; ``settings`` as checks.reach reads them."""
    site = data.get("api")
    if site is None:
        return
    yield from sv.site_failures(NAME, site)
    for ssvm in sv.running_ssvms(site):
        yield Finding(
            check=NAME,
            code="REACH_HTTP_NOT_PROVABLE",
            severity=Severity.INFO,
            target=f"{ssvm['name']} → HTTP",
            summary=f"from {ssvm['name']} only the network path was tested (runDiagnostics runs ping, traceroute, "
            "arping): the HTTP download itself — DNS behind secstorage.proxy, TCP to the port, status, redirects, "
            "size, time to first byte — and the management servers on 8250 were not",
            remediation="For the full test give this host SSH access to the SSVM (port 3922, [reach] from_hosts or "
            "ssvm_from_inventory); csdiag reach URL --from SSVM_IP tests one URL that way.",
            subjects={"ssvm": str(ssvm["name"])},
        )
    for path in data.get("api_paths", []):
        yield from judge(path, settings)


def judge(path: Mapping[str, Any], settings: Mapping[str, Any]) -> Iterator[Finding]:
    ssvm, host = str(path["vantage"]), str(path["host"])
    jobs: list[Mapping[str, Any]] = path.get("jobs", [])
    target = f"{ssvm} → {host}"
    subjects = {"ssvm": ssvm, "server": host}
    evidence = sv.job_evidence(jobs)
    what = f"the path from {ssvm} to {host}"
    if reach_http.internal_ip(host, settings["sites"]) and settings.get("sites_known"):
        yield reach_http.internal_not_allowed(target, host, settings["sites"], subjects)
    if err := next((j["error"] for j in jobs if j.get("error")), None):
        yield sv.failure(NAME, target, err, what, jobs)
        return
    if broken := next((j for j in jobs if j.get("exitcode") == -1), None):
        msg = {"kind": "ProtocolError", "message": f"the SSVM could not run it: {broken.get('stderr') or '?'}"}
        yield sv.failure(NAME, target, msg, what, jobs)
        return
    ping = next((sv.parse_ping_summary(j) for j in jobs if j.get("type") == "ping"), None)
    trace = next((sv.parse_traceroute(j) for j in jobs if j.get("type") == "traceroute"), None)
    if ping is None:
        return
    urls = ", ".join(path.get("urls", []))
    last = (trace or {}).get("last_hop")
    if ping["unresolved"] or (trace and trace["unresolved"]):
        yield Finding(
            check=NAME,
            code="TEMPLATE_URL_UNRESOLVABLE",
            severity=Severity.CRIT,
            target=target,
            summary=f"{host} does not resolve on {ssvm} (its ping, through runDiagnostics)",
            details=f"URLs: {urls}",
            evidence=evidence,
            remediation="Check the SSVM's DNS servers (the zone's DNS settings) and the name itself.",
            subjects=subjects,
        )
        return
    if ping["received"] or (trace and trace["reached"]):
        rtt = f", rtt {ping['rtt_ms']:g} ms" if ping["rtt_ms"] is not None else ""
        yield Finding(
            check=NAME,
            code="TEMPLATE_HOST_PATH_OK",
            severity=Severity.INFO,
            target=target,
            summary=f"{host} answers ICMP from {ssvm} ({ping['received']}/{ping['transmitted']} pings{rtt}); "
            "the HTTP download was not tested (runDiagnostics)",
            details=f"URLs: {urls}",
            evidence=evidence,
            subjects=subjects,
        )
        return
    annotation = str((trace or {}).get("annotation") or "")
    refusal = next((r for a, r in _REFUSALS.items() if annotation.startswith(a)), None)
    said: Mapping[str, str] = ping.get("router_unreachable") or {}
    no_route = ping["no_route"] or bool(trace and trace["no_route"])
    if no_route or refusal or said:
        if no_route:
            why = f"{ssvm} has no route to {host}"
        elif refusal:
            why = f"router {last['address'] if last else '?'} answers {refusal}"
        else:
            why = f"router {said['router']} answers {said['message']}"
        yield Finding(
            check=NAME,
            code="TEMPLATE_URL_UNREACHABLE",
            severity=Severity.CRIT,
            target=target,
            summary=f"no path from {ssvm} to {host}: {why} (ping/traceroute through runDiagnostics)",
            details=f"URLs: {urls}",
            evidence=evidence,
            remediation="Check the SSVM's routes (its public and management networks' gateways) and the "
            "firewalls on the way; the traceroute evidence shows where the path ends.",
            subjects=subjects,
        )
        return
    hop = f"hop {last['ttl']} {last['address']}" if last else "no hop answered"
    yield Finding(
        check=NAME,
        code="TEMPLATE_HOST_PATH_SILENT",
        severity=Severity.WARN,
        target=target,
        summary=f"{host} does not answer ICMP from {ssvm}; traceroute's last answering hop: {hop} "
        "(ICMP may be filtered on the way: not proof the download fails, HTTP cannot be tested this way)",
        details=f"URLs: {urls}",
        evidence=evidence,
        remediation="Test the download from the SSVM itself over SSH (port 3922): csdiag reach URL --from SSVM_IP; "
        f"or check the firewall after {last['address'] if last else 'the SSVM'} lets the SSVM reach {host}.",
        subjects=subjects,
    )
