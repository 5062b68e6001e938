"""The ``reach`` check's judgement of one SSH (or local) vantage point's probe script output: the tagged
lines parsed, then DNS, TCP to the management servers, ssvm-check.sh and each URL's HTTP answer judged
(pure; see checks.reach for the script and the settings)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from checks import ssvm_script
from diagnostics.model import Evidence, EvidenceKind, Finding, Metric, Severity

NAME = "reach"
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


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


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


def internal_ip(host: str, sites: Sequence[str]) -> bool | None:
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


def judge_vantage(
    probe: Mapping[str, Any], urls: list[str], settings: Mapping[str, Any], latency_warn_ms: float
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
        yield from _judge_url(label, source, url, out, i, settings, latency_warn_ms)


def _judge_url(
    label: str,
    source: str,
    url: str,
    out: Mapping[str, Any],
    i: int,
    settings: Mapping[str, Any],
    latency_warn_ms: float,
) -> Iterator[Finding]:
    target = f"{label} → {url}"
    host = urlsplit(url).hostname or ""
    facts = _http_facts(out["http"].get(i, []))
    rc = out["rc"].get(i)
    text = "\n".join(out["http"].get(i, [])) or "(no output)"
    ev = (Evidence(kind=EvidenceKind.PROBE, source=f"{source} (curl -I {url})", text=f"{text}\ncurl exit {rc}"),)
    internal = internal_ip(host, settings["sites"])
    if internal:
        yield internal_not_allowed(target, host, settings["sites"])
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
            warn=latency_warn_ms,
            direction="upper",
        ),
        Metric(
            name="first_byte_ms",
            value=round(facts["first_byte_ms"], 1),
            unit="ms",
            warn=latency_warn_ms,
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
    if slow > latency_warn_ms:
        yield Finding(
            check=NAME,
            code="TEMPLATE_URL_SLOW",
            severity=Severity.WARN,
            target=target,
            summary=f"{url}: connect {facts['connect_ms']:.0f} ms, first byte {facts['first_byte_ms']:.0f} ms "
            f"from {label} (warn above {latency_warn_ms:g} ms)",
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


def internal_not_allowed(target: str, host: str, sites: list[str], subjects: dict[str, str] | None = None) -> Finding:
    """An internal address the SSVM's download refuses (secstorage.allowed.internal.sites)."""
    return Finding(
        check=NAME,
        code="TEMPLATE_URL_INTERNAL_NOT_ALLOWED",
        severity=Severity.CRIT,
        target=target,
        summary=f"{host} is an internal address outside secstorage.allowed.internal.sites "
        f"({', '.join(sites) or 'empty'}): CloudStack refuses to download from it",
        remediation=f"Add the repository's network to secstorage.allowed.internal.sites (e.g. {host}/32).",
        subjects=subjects or {},
    )
