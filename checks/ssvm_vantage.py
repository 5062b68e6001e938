"""The SSVM as a vantage point without SSH: CloudStack's ``runDiagnostics`` runs ping or traceroute on
the SSVM and returns their output (used by the ``mtu`` and ``reach`` checks).

Facts, from CloudStack at b0601e5478 (prashanthr2/cloudstack):

* ``RunDiagnosticsCmd`` (async, admin only): ``targetid`` (the system VM's UUID), ``ipaddress``, ``type``
  (``DiagnosticsType``: ping, ping6, traceroute, traceroute6, arping), ``params``;
* ``DiagnosticsServiceImpl.prepareShellCmd``: ``"<type> <ipaddress> <params>"``, params only when they
  match ``^[\\w\\-\\s.]+$`` — no ``=``, ``,``, ``:`` or ``/`` (IPv6 addresses go in ``ipaddress``);
* ``VirtualRoutingResource.execute(DiagnosticsCommand)``: ``diagnostics.py`` on the VM, 60 s at most;
  ``systemvm/debian/opt/cloud/bin/diagnostics.py`` adds ``-c 4`` to a ping without ``-c`` and ``-m 20``
  to a traceroute without ``-m``, runs it without a shell, and returns stdout and stderr stripped;
* ``DiagnosticsAnswer.getExecutionDetails``: ``exitcode`` ``-1`` and the agent's text in ``stderr``
  when the VM could not run it; ``RunDiagnosticsResponse``: ``stdout``, ``stderr``, ``exitcode``;
* the systemvm template installs ``inetutils-ping`` (GNU ping: no ``-M``, it cannot set DF) and Debian's
  ``traceroute`` (``-F`` sets DF, the packet length follows the host) —
  ``tools/appliance/systemvmtemplate/scripts/install_systemvm_packages.sh``. So a ``ping -M do`` the VM
  refuses is retried as ``traceroute -F`` with the same packet size.

Evidence of one job (``RawEvidence.data`` of the checks; evaluate re-parses it, so a bundle replays)::

    {"ssvm": "s-1-VM", "ssvm_id": "<uuid>", "type": "ping", "address": "10.0.0.5",
     "params": "-M do -s 8972 -c 3 -W 1 -n", "command": "ping 10.0.0.5 -M do ...",
     "exitcode": 0, "stdout": "…" (≤ 4000 chars), "stderr": "…" (≤ 2000), "elapsed_s": 1.2}
    or the same keys with "error": {"kind": "Timeout" | "AuthFailed" | "NotPermitted" | ..., "message"}
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from diagnostics.check import Code
from diagnostics.config import ApiSettings, Settings
from diagnostics.model import Evidence, EvidenceKind, Finding, Severity
from diagnostics.sources.cloudstack_api import CloudStackApi
from diagnostics.sources.errors import SourceError

API_CODES: tuple[Code, ...] = (
    Code(
        code="VANTAGE_API_REFUSED",
        severity=Severity.UNKNOWN,
        meaning="CloudStack refused the key for runDiagnostics or the listings (401 key/signature, 432 role)",
    ),
    Code(
        code="VANTAGE_API_FAILED",
        severity=Severity.UNKNOWN,
        meaning="the API did not serve the SSVM probe (unreachable, 530, a reply that is not CloudStack's JSON)",
    ),
    Code(
        code="VANTAGE_JOB_TIMEOUT",
        severity=Severity.UNKNOWN,
        meaning="a runDiagnostics job was still pending at the check's deadline",
    ),
    Code(
        code="VANTAGE_NO_SSVM",
        severity=Severity.UNKNOWN,
        meaning="the API lists no running secondary storage VM to probe from",
    ),
)
MAX_STDOUT, MAX_STDERR = 4000, 2000
MAX_CONCURRENT_JOBS = 8
MAX_TEMPLATE_URLS = 2000  # distinct URLs kept from listTemplates (10 000 templates share few hosts)
_REFUSED_KINDS = {"AuthFailed": "VANTAGE_API_REFUSED", "NotPermitted": "VANTAGE_API_REFUSED"}


def wanted(settings: Settings, ssh_reached_an_ssvm: bool) -> bool:
    """Probe through runDiagnostics: the API is configured and no SSVM was reached over SSH (none
    configured, or every one failed)."""
    return settings.cloudstack.api is not None and not ssh_reached_an_ssvm


def error_of(exc: SourceError | ValueError) -> dict[str, str]:
    kind = exc.kind if isinstance(exc, SourceError) else "Refused"
    return {"kind": kind, "message": str(exc)}


# --- what to probe: the SSVMs, image stores and template URLs as the API lists them -----------------------


def list_site(api_settings: ApiSettings, deadline: float, *, templates: bool = True) -> dict[str, Any]:
    """The running SSVMs, the image stores and the distinct template URLs (``SystemVmResponse``,
    ``ImageStoreResponse``, ``TemplateResponse`` fields); ``{"error": …}`` when the API fails us."""
    site: dict[str, Any] = {"endpoint": api_settings.endpoint, "ssvms": [], "stores": [], "templates": []}
    api = CloudStackApi(api_settings, deadline)
    try:
        for v in api.list("listSystemVms", "systemvm", systemvmtype="secondarystoragevm"):
            site["ssvms"].append({k: v.get(k) for k in ("id", "name", "state", "zoneid", "privateip", "publicip")})
        for s in api.list("listImageStores", "imagestore"):
            site["stores"].append({k: s.get(k) for k in ("id", "name", "url", "protocol", "zoneid")})
        if templates:
            seen: dict[str, dict[str, Any]] = {}
            for t in api.list("listTemplates", "template", templatefilter="all"):
                url = t.get("url")
                if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                    continue
                row = seen.setdefault(url, {"url": url, "isready": True, "status": None})
                if not t.get("isready"):  # one copy still downloading or failed is what matters
                    row.update(isready=False, status=t.get("status"))
                if len(seen) >= MAX_TEMPLATE_URLS:
                    break
            site["templates"] = list(seen.values())
    except SourceError as exc:
        site["error"] = error_of(exc)
    return site


def running_ssvms(site: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [s for s in site.get("ssvms", []) if s.get("id") and s.get("state") == "Running"]


def url_host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


# --- CloudStack's settings, as the database checks read them ------------------------------------------------


def setting_rows(api: ApiSettings, deadline: float, names: Sequence[str]) -> list[dict[str, Any]]:
    """``listConfigurations name=…`` (a LIKE match in ManagementServerImpl.searchForConfigurations at
    b0601e5478: exact names are kept here) as the rows checks.reach judges (name, value, default_value)."""
    rows = []
    client = CloudStackApi(api, deadline)
    for name in names:
        try:
            found = client.list("listConfigurations", "configuration", name=name)
        except SourceError:
            continue  # a key that may not read settings: the rules that need one stay silent
        rows += [
            {"name": r["name"], "value": r.get("value"), "default_value": r.get("defaultvalue")}
            for r in found
            if r.get("name") == name
        ]
    return rows


# --- running the jobs ------------------------------------------------------------------------------------


def run_jobs(api_settings: ApiSettings, jobs: Sequence[Mapping[str, str]], deadline: float) -> list[dict[str, Any]]:
    """Each job (``ssvm``, ``ssvm_id``, ``type``, ``address``, ``params``) through runDiagnostics, at most
    MAX_CONCURRENT_JOBS at once, every one ended by ``deadline``: a job pending then is a Timeout."""

    def one(job: Mapping[str, str]) -> dict[str, Any]:
        record: dict[str, Any] = {
            **job,
            "command": " ".join(p for p in (job["type"], job["address"], job["params"]) if p),
        }
        try:
            d = CloudStackApi(api_settings, deadline).run_diagnostics(
                job["ssvm_id"], job["type"], job["address"], job["params"]
            )
        except (SourceError, ValueError) as exc:
            record["error"] = error_of(exc)
            return record
        record.update(
            exitcode=d.exitcode,
            stdout=_bounded(d.stdout, MAX_STDOUT),
            stderr=_bounded(d.stderr, MAX_STDERR),
            elapsed_s=d.elapsed_s,
        )
        return record

    if not jobs:
        return []
    with ThreadPoolExecutor(max_workers=min(MAX_CONCURRENT_JOBS, len(jobs))) as pool:
        return list(pool.map(one, jobs))


def _bounded(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n… ({len(text) - limit} characters cut)"


def remaining(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


# --- parsing what ping and traceroute printed on the SSVM -------------------------------------------------

_OPTION_REFUSED = re.compile(r"invalid option|unrecognized option|invalid -M argument|invalid argument", re.I)
_UNRESOLVED = re.compile(
    r"unknown host|Name or service not known|Temporary failure in name resolution|"
    r"Cannot handle \"host\" cmdline arg|No address associated",
    re.I,
)
_NO_ROUTE = re.compile(r"Network is unreachable|No route to host", re.I)
_ROUTER_UNREACH = re.compile(r"From (\S+?):? .*(Destination (?:Host|Net|Port|Protocol) Unreachable|Packet filtered)")
_RECEIVED = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")
_RTT = re.compile(r"= [\d.]+/([\d.]+)/")
_HEADER = re.compile(r"^traceroute to \S+ \(([^)]+)\)")
_HOP = re.compile(r"^\s*(\d+)\s+(.*)$")
_HOP_ADDR = re.compile(r"^(?!\*)([0-9A-Fa-f:.]+)\s+([\d.]+) ms(?:\s+(!\S+))?")


def text_of(job: Mapping[str, Any]) -> str:
    return f"{job.get('stdout') or ''}\n{job.get('stderr') or ''}"


def option_refused(job: Mapping[str, Any]) -> bool:
    """The VM's tool does not know an option (inetutils ping has no ``-M``): exit 2 or 64 with usage text."""
    return job.get("exitcode") in (1, 2, 64) and bool(_OPTION_REFUSED.search(text_of(job)))


def parse_ping_summary(job: Mapping[str, Any]) -> dict[str, Any]:
    """A plain ping's answer: received count, average rtt, or why not (unresolved, no route, router said)."""
    text = text_of(job)
    out: dict[str, Any] = {"received": 0, "transmitted": 0, "rtt_ms": None, "unresolved": False, "no_route": False}
    if m := _RECEIVED.search(text):
        out.update(transmitted=int(m[1]), received=int(m[2]))
    if m := _RTT.search(text):
        out["rtt_ms"] = float(m[1])
    out["unresolved"] = bool(_UNRESOLVED.search(text))
    out["no_route"] = bool(_NO_ROUTE.search(text))
    if m := _ROUTER_UNREACH.search(text):
        out["router_unreachable"] = {"router": m[1], "message": m[2]}
    return out


def parse_traceroute(job: Mapping[str, Any]) -> dict[str, Any]:
    """Debian traceroute's output (``-n``): the hops, the last that answered, whether the target answered,
    a router's ``!`` annotation (``!H`` host, ``!N`` net, ``!X`` prohibited, ``!F-1500`` frag needed)."""
    text = text_of(job)
    out: dict[str, Any] = {
        "destination": None,
        "hops": [],
        "last_hop": None,
        "reached": False,
        "annotation": None,
        "unresolved": bool(_UNRESOLVED.search(text)),
        "no_route": bool(_NO_ROUTE.search(text)),
    }
    for line in text.splitlines():
        if m := _HEADER.match(line):
            out["destination"] = m[1]
            continue
        if not (m := _HOP.match(line)):
            continue
        hop: dict[str, Any] = {"ttl": int(m[1]), "address": None, "rtt_ms": None, "annotation": None}
        if a := _HOP_ADDR.match(m[2].strip()):
            hop.update(address=a[1], rtt_ms=float(a[2]), annotation=a[3])
            out["last_hop"] = hop
            if a[3]:
                out["annotation"] = a[3]
            if a[1] == out["destination"] and not a[3]:
                out["reached"] = True
        out["hops"].append(hop)
    return out


def traceroute_probe(job: Mapping[str, Any], size: int) -> dict[str, Any]:
    """A ``traceroute -F <size>`` run as an mtu probe record (like checks.mtu.parse_ping's)."""
    t = parse_traceroute(job)
    probe: dict[str, Any] = {"size": size, "outcome": "timeout", "mtu": None, "router": None, "rtt_ms": None}
    ann = t["annotation"] or ""
    if t["reached"]:
        probe.update(outcome="reply", rtt_ms=t["last_hop"]["rtt_ms"])
    elif ann.startswith("!F"):
        mtu = ann[3:]
        probe.update(outcome="frag_needed", router=t["last_hop"]["address"], mtu=int(mtu) if mtu.isdigit() else None)
    elif t["unresolved"]:
        probe.update(outcome="error", detail="the name does not resolve on the SSVM")
    return probe


def job_evidence(jobs: Iterable[Mapping[str, Any]]) -> tuple[Evidence, ...]:
    """The exact commands, the SSVM, exit codes and output, as evidence."""
    return tuple(
        Evidence(
            kind=EvidenceKind.COMMAND,
            source=f"runDiagnostics on {j.get('ssvm')} ({j.get('ssvm_id')}): {j.get('command')}",
            text=(
                f"error {j['error']['kind']}: {j['error']['message']}"
                if j.get("error")
                else f"exit {j.get('exitcode')} after {j.get('elapsed_s')} s\n{j.get('stdout') or ''}"
                + (f"\nstderr: {j['stderr']}" if j.get("stderr") else "")
            ),
        )
        for j in jobs
    )


# --- failures as findings ----------------------------------------------------------------------------------


def failure(
    check: str, target: str, err: Mapping[str, str], what: str, jobs: Sequence[Mapping[str, Any]] = ()
) -> Finding:
    """An API or job failure as a bounded UNKNOWN finding (``what``: the probe that could not run)."""
    if err.get("kind") == "Timeout":
        code = "VANTAGE_JOB_TIMEOUT"
        remediation = (
            "Raise [run] check_timeout_s; check the SSVM's agent is Up and the management server's job queue "
            "(listAsyncJobs) is not stuck."
        )
    else:
        code = _REFUSED_KINDS.get(err.get("kind", ""), "VANTAGE_API_FAILED")
        remediation = (
            "Give [cloudstack.api] a root-admin key whose role may call runDiagnostics, listSystemVms, "
            "listImageStores and listTemplates (csdiag api ping lists what the key may call)."
            if code == "VANTAGE_API_REFUSED"
            else "Check [cloudstack.api] endpoint answers CloudStack's JSON from here (not a proxy's page), "
            "and the management server's log for the job's error."
        )
    return Finding(
        check=check,
        code=code,
        severity=Severity.UNKNOWN,
        target=target,
        summary=f"{what} did not run through runDiagnostics: {err.get('message')}",
        evidence=job_evidence(jobs) if jobs else (Evidence(kind=EvidenceKind.PROBE, source=target, data=dict(err)),),
        remediation=remediation,
    )


def site_failures(check: str, site: Mapping[str, Any]) -> list[Finding]:
    """Findings for a listing that failed, or for no running SSVM to probe from."""
    target = f"{site.get('endpoint')} (runDiagnostics)"
    if err := site.get("error"):
        return [failure(check, target, err, "the SSVM probes (listing the SSVMs, stores, templates)")]
    if not running_ssvms(site):
        return [
            Finding(
                check=check,
                code="VANTAGE_NO_SSVM",
                severity=Severity.UNKNOWN,
                target=target,
                summary="no SSVM probe ran: the API lists no running secondary storage VM "
                f"({len(site.get('ssvms', []))} listed)",
                evidence=(Evidence(kind=EvidenceKind.ROW, source="listSystemVms", data={"ssvms": site.get("ssvms")}),),
                remediation="Start the zone's SSVM (the ssvm check tells why it is down).",
            )
        ]
    return []
