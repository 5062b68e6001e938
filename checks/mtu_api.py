"""The ``mtu`` check's paths from the SSVMs through CloudStack's ``runDiagnostics`` (no SSH needed).

From each running SSVM the API lists, to each image store's NFS server and each ``[mtu] targets`` entry
(``required`` bytes, the storage network's size) and to the hosts of the template URLs (1500 bytes: the
path a download takes), two pings with DF: ``ping <host> -M do -s <payload> -c 3 -i 0.2 -W 1 -n`` for
``min(1280, required)`` and ``required``. When the SSVM's ping refuses ``-M`` (the systemvm template's
inetutils ping has no DF option) the same sizes go as ``traceroute <host> -n -F -q 1 -w 1 -m 16 <size>``.
The job records are kept as they came (checks.ssvm_vantage); evaluate parses them into the probe records
of checks.mtu and judges them with the same rules as the SSH and local paths.

Path record (an entry of ``data["paths"]``)::

    {"host": "10.0.0.5", "vantage": "s-1-VM", "via": "runDiagnostics", "ssvm_id": "<uuid>",
     "role": "storage" | "template host", "required": 9000, "jobs": [job record + "size", ...]}
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from checks import mtu_judge as mtu
from checks import ssvm_vantage as sv
from diagnostics.check import CheckContext
from diagnostics.config import Settings
from diagnostics.model import Finding

NAME = "mtu"
TEMPLATE_PATH_BYTES = 1500  # a download from a template URL crosses ordinary 1500-byte networks
MAX_TEMPLATE_HOSTS = 8


def _payload(host: str, size: int) -> int:
    return size - (48 if ":" in host else 28)


def ping_params(host: str, size: int) -> str:
    return f"-M do -s {_payload(host, size)} -c 3 -i 0.2 -W 1 -n"


def traceroute_params(size: int) -> str:
    return f"-n -F -q 1 -w 1 -m 16 {size}"


def _sizes(required: int) -> tuple[int, ...]:
    return tuple(dict.fromkeys((min(1280, required), required)))


def store_servers(site: Mapping[str, Any]) -> list[str]:
    """The NFS servers of the image stores the API lists."""
    from diagnostics import inventory

    return list(dict.fromkeys(nfs[0] for s in site.get("stores", []) if (nfs := inventory.parse_nfs_url(s.get("url")))))


def collect(
    ctx: CheckContext[Any], settings: Settings, storage_targets: Sequence[str], site: dict[str, Any] | None
) -> dict[str, Any]:
    """``{"api": {site}, "paths": [...]}``: list the SSVMs, stores, templates (unless ``site`` is given);
    run the pings from every running SSVM."""
    api, from_inventory = settings.cloudstack.api, settings.mtu.storage_from_inventory
    assert api is not None
    deadline = ctx.deadline - 1
    site = site if site is not None else sv.list_site(api, deadline, templates=from_inventory)
    targets: dict[str, tuple[str, int]] = dict.fromkeys(storage_targets, ("storage", settings.mtu.required))
    if from_inventory:
        for server in store_servers(site):
            targets.setdefault(server, ("storage", settings.mtu.required))
        hosts = [h for t in site["templates"] if (h := sv.url_host(t["url"]))]
        for host in list(dict.fromkeys(h for h in hosts if h not in targets))[:MAX_TEMPLATE_HOSTS]:
            targets[host] = ("template host", min(TEMPLATE_PATH_BYTES, settings.mtu.required))
    if site.get("ssvms"):  # the API answers: CloudStack's own view of the SSVM's MTU too (checks.mtu._ssvm_mtu)
        site["settings"] = sv.setting_rows(api, deadline, ("secstorage.vm.mtu.size",))
    site["templates"] = {
        "urls": len(site["templates"]),
        "hosts_probed": [h for h, r in targets.items() if r[0] != "storage"],
    }
    ssvms = sv.running_ssvms(site)
    jobs = [
        {"ssvm": s["name"], "ssvm_id": s["id"], "type": "ping", "address": host, "params": ping_params(host, size)}
        for s in ssvms
        for host, (_, required) in targets.items()
        for size in _sizes(required)
    ]
    done = sv.run_jobs(api, jobs, deadline)
    # the VM's ping has no -M (inetutils): the same sizes with traceroute -F (Debian's traceroute sets DF)
    retry = [j for j in done if sv.option_refused(j)]
    again = sv.run_jobs(
        api,
        [
            {
                **{k: j[k] for k in ("ssvm", "ssvm_id", "address")},
                "type": "traceroute",
                "params": traceroute_params(_size(j)),
            }
            for j in retry
        ],
        deadline,
    )
    records = done + again
    paths = []
    for s in ssvms:
        for host, (role, required) in targets.items():
            mine = [{**j, "size": _size(j)} for j in records if j["ssvm_id"] == s["id"] and j["address"] == host]
            paths.append(
                {
                    "host": host,
                    "vantage": s["name"],
                    "via": "runDiagnostics",
                    "ssvm_id": s["id"],
                    "role": role,
                    "required": required,
                    "jobs": mine,
                }
            )
    return {"api": site, "paths": paths}


def _size(job: Mapping[str, Any]) -> int:
    """The packet size a job probed (IP header included), read back from its parameters."""
    words = str(job.get("params", "")).split()
    if job.get("type") == "traceroute":
        return int(words[-1])
    payload = int(words[words.index("-s") + 1])
    return payload + (48 if ":" in str(job.get("address")) else 28)


# --- evaluate --------------------------------------------------------------------------------------------


def failures(data: Mapping[str, Any]) -> Iterator[Finding]:
    if (site := data.get("api")) is not None:
        yield from sv.site_failures(NAME, site)


def judge(path: Mapping[str, Any]) -> Finding:
    """One SSVM → host path from its runDiagnostics jobs, judged by checks.mtu's rules."""
    jobs: list[Mapping[str, Any]] = path.get("jobs", [])
    target = f"{path['vantage']} → {path['host']}"
    what = f"the DF pings from {path['vantage']} to {path['host']}"
    if err := next((j["error"] for j in jobs if j.get("error")), None):
        return sv.failure(NAME, target, err, what, jobs)
    if broken := next((j for j in jobs if j.get("exitcode") == -1), None):
        msg = {"kind": "ProtocolError", "message": f"the SSVM could not run it: {broken.get('stderr') or '?'}"}
        return sv.failure(NAME, target, msg, what, jobs)
    traces = [j for j in jobs if j.get("type") == "traceroute"]
    pings = [j for j in jobs if j.get("type") == "ping" and not sv.option_refused(j)]
    if traces:
        probes, kind = [sv.traceroute_probe(j, int(j["size"])) for j in traces], "runDiagnostics traceroute -F"
    elif pings:
        probes = [mtu.parse_ping(f"PING 0 {j['size']}\n{sv.text_of(j)}")[0] for j in pings]
        kind = "runDiagnostics ping -M do"
    else:
        probes, kind = [], "runDiagnostics"
    record = {
        "host": path["host"],
        "vantage": path["vantage"],
        "required": path["required"],
        "probe_kind": kind,
        "probes": probes,
        "device": None,
        "device_mtu": None,
    }
    if not probes:
        record["error"] = {"kind": "NotFound", "message": "the SSVM's ping refused -M and no traceroute ran"}
    finding = mtu.judge_path(record)
    details = (
        f"Probed through CloudStack's runDiagnostics on {path['vantage']} ({path.get('role', 'storage')} path, "
        f"{path['required']} bytes required): the SSVM's own {kind.split()[1] if ' ' in kind else 'tools'}; "
        "its interface MTUs and route cache are not visible this way."
    )
    summary = finding.summary
    local = next((p for p in probes if p["outcome"] == "local_too_big"), None)
    if finding.code == "MTU_LOCAL_TOO_SMALL" and local:
        summary = (
            f"{path['vantage']} cannot send {path['required']}-byte packets with DF to {path['host']}: its kernel "
            f"holds MTU {local.get('mtu') or '?'} for this route — the SSVM's NIC (secstorage.vm.mtu.size) or a "
            "path MTU cached from a router's earlier frag-needed; runDiagnostics cannot show which"
        )
    return dataclasses.replace(
        finding,
        summary=summary,
        details="\n".join(x for x in (finding.details, details) if x),
        evidence=(*finding.evidence, *sv.job_evidence(jobs)),
        subjects={**finding.subjects, "ssvm": str(path["vantage"])},
    )
