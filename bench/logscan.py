"""How fast does ``csdiag logs scan`` read a big management-server.log, next to grep?

Generates (once, cached in $TMPDIR) a management-server.log of SIZE_MB (default 1024) in the 4.18 format:
mostly ordinary DEBUG/INFO traffic (command traces, store-ref heartbeats, stats, API calls, agent pings),
about 0.5 % ordinary WARN lines, and fault lines sprinkled in (1 in ~4000 lines, some with stack traces):
every error-path message of the harvested table (CloudStack's own texts). Then, in the same run, times

- ``grep -E -c`` with the same signatures csdiag's pre-filter looks for (the baseline; its count goes to a
  file: GNU grep stops at the first match when its output is /dev/null), and
- ``csdiag logs scan FILE --format json``,

and prints both times, the ratio, csdiag's own peak RSS and the peak of the sum over all its processes
(the scan's worker processes included), sampled from /proc.

    .venv/bin/python bench/logscan.py [SIZE_MB] [RUNS]
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checks.signatures import pre_filter_anchors  # noqa: E402

ORDINARY = [
    "DEBUG [c.c.a.t.Request] (AgentManager-Handler-{a}:null) (logid:) Seq {h}-{n}: Processing:  {{ Ans: , MgmtId: "
    '90520734, via: {h}, Ver: v1, Flags: 110, [{{"com.cloud.agent.api.Answer":{{"result":"true","details":"","wait":"0"}}}}] }}',
    "INFO  [o.a.c.s.i.BaseImageStoreDriverImpl] (Timer-{a}:ctx-{x}) (logid:{x}) Updating store ref entry for template {t}",
    "DEBUG [c.c.s.StatsCollector] (StatsCollector-{a}:ctx-{x}) (logid:{x}) HostStatsCollector is running...",
    "DEBUG [c.c.a.m.ClusteredAgentManagerImpl] (AgentConnectTaskPool-{a}:ctx-{x}) (logid:{x}) Loading directly "
    "connected host {h}(kvm-host-{h})",
    "INFO  [c.c.a.ApiServer] (qtp1-{a}:ctx-{x}) (logid:{x}) (userId=2 accountId=2 sessionId=node0) 10.0.0.{a} -- GET "
    'command=listTemplates&response=json 200 {{ "listtemplatesresponse" : {{ "count":{t} }} }}',
    "DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-{a}:null) (logid:) SeqA {h}-{n}: Processing Seq {h}-{n}: "
    '{{ Cmd , MgmtId: -1, via: {h}, Ver: v1, Flags: 11, [{{"com.cloud.agent.api.PingRoutingCommand":{{}}}}] }}',
    "DEBUG [c.c.v.VirtualMachineManagerImpl] (Work-Job-Executor-{a}:ctx-{x} job-{n}/job-{n} ctx-{x}) (logid:{x}) "
    "VM i-2-{t}-VM state transited from Running to Running with event: FollowAgentPowerOnReport",
    "DEBUG [c.c.s.StatsCollector] (StatsCollector-{a}:ctx-{x}) (logid:{x}) Command executed: success",
]
NOISE_WARN = "WARN  [c.c.h.HighAvailabilityManagerImpl] (HA-Worker-{a}:ctx-{x}) (logid:{x}) Processing HAWork[{n}] late"
FAULTS = [
    "WARN  [c.c.s.d.DownloadListener] (Timer-{a}:ctx-{x}) (logid:{x}) Entering download error state: timeout waiting "
    "for response from storage host, TEMPLATE: {t} at host {h}",
    "WARN  [c.c.s.d.DownloadListener] (Timer-{a}:ctx-{x}) (logid:{x}) Entering download error state because the "
    "storage host disconnected, TEMPLATE: {t} at host {h}",
    "ERROR [c.c.s.StatsCollector] (StatsCollector-{a}:ctx-{x}) (logid:{x}) Image storage [nfs-{a}] has not enough "
    "capacity. Capacity: total=[1099511627776], used=[1044536049868], threshold=[0.9].",
    "INFO  [c.c.t.TemplateServiceImpl] (Work-Job-Executor-{a}:ctx-{x}) (logid:{x}) Template {t} is corrupted on "
    "secondary storage {a}",
    "ERROR [c.c.s.TemplateServiceImpl] (Work-Job-Executor-{a}:ctx-{x} job-{n}) (logid:{x}) Caught exception while "
    "doing template/volume sync\ncom.cloud.utils.exception.CloudRuntimeException: Unable to connect\n\tat "
    "com.cloud.template.TemplateServiceImpl.handleTemplateSync(TemplateServiceImpl.java:512)\nCaused by: "
    "java.net.ConnectException: Connection refused\n\t... 12 more",
]


def _table_faults() -> list[str]:
    """Every error-path message of management-server.log from the harvested table (CloudStack's own texts,
    tests/data/cloudstack_messages/messages.tsv), as 4.18 lines without the timestamp."""
    out = []
    with (ROOT / "tests/data/cloudstack_messages/messages.tsv").open(newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["log"] == "management" and row["finding"] == "yes" and row["level"] in LEVELS:
                parts = row["source"].split(":")[0].split("src/main/java/")[1].removesuffix(".java").split("/")
                cat = ".".join([p[0] for p in parts[:-1]] + parts[-1:])
                msg = row["message"].replace("{", "{{").replace("}", "}}").replace("{{}}", "{t}")
                out.append(f"{row['level']:<5} [{cat}] (Timer-{{a}}:ctx-{{x}}) (logid:{{x}}) {msg}")
    return out


LEVELS = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}


def generate(path: Path, size_mb: int) -> None:
    faults = FAULTS + _table_faults()
    rnd = random.Random(42)
    when = datetime(2024, 5, 1)
    target = size_mb << 20
    written = 0
    with path.open("w", buffering=1 << 22) as out:
        while written < target:
            lines = []
            for _ in range(20000):
                when += timedelta(milliseconds=rnd.randint(1, 20))
                r = rnd.random()
                tmpl = rnd.choice(faults) if r < 0.00025 else NOISE_WARN if r < 0.005 else rnd.choice(ORDINARY)
                body = tmpl.format(
                    a=rnd.randint(1, 64),
                    h=rnd.randint(1, 40),
                    n=rnd.randint(1000, 999999),
                    t=rnd.randint(200, 400),
                    x=f"{rnd.getrandbits(32):08x}",
                )
                lines.append(f"{when:%Y-%m-%d %H:%M:%S},{when.microsecond // 1000:03d} {body}\n")
            chunk = "".join(lines)
            out.write(chunk)
            written += len(chunk)


def _ere(literal: str) -> str:
    return "".join("\\" + c if c in ".[]()?*+{}|^$\\" else c for c in literal)


def signature_alternatives() -> list[str]:
    """The same signatures for grep as csdiag's pre-filter looks for in a management-server.log: a bad level,
    or one of the catalogue's texts that log writes below WARN. grep's count is then csdiag's number of
    candidate lines (before [logs] max_lines)."""
    return [",[0-9]{3} (WARN|ERROR|FATAL) ", *sorted(_ere(t) for t in pre_filter_anchors("management"))]


def _tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants (worker processes included), from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
                status = (d / "status").read_text()
            except OSError:
                continue
            parents[int(d.name)] = int(stat.rsplit(")", 1)[1].split()[1])
            rss[int(d.name)] = next((int(ln.split()[1]) for ln in status.splitlines() if ln.startswith("VmRSS:")), 0)
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo += [c for c, p in parents.items() if p == pid and c not in tree]
    return sum(rss.get(p, 0) for p in tree) / 1024


def timed(cmd: list[str], sample: bool = False) -> tuple[float, float, int, bytes]:
    """Wall time, peak memory (MB: the sum over the process tree when ``sample``, sampled every 20 ms; else
    the process's own peak), exit status and standard output."""
    t = time.perf_counter()
    peak = 0.0
    with tempfile.TemporaryFile() as out:  # a real file: GNU grep stops at the first match on /dev/null
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL)
        while sample and proc.poll() is None:
            peak = max(peak, _tree_rss_mb(proc.pid))
            time.sleep(0.02)
        _, status, usage = os.wait4(proc.pid, 0) if proc.returncode is None else (0, 0, None)
        elapsed = time.perf_counter() - t
        code = os.waitstatus_to_exitcode(status) if usage is not None else proc.returncode
        out.seek(0)
        text = out.read()
    return elapsed, max(peak, usage.ru_maxrss / 1024 if usage else 0.0), code, text


def _candidates(output: bytes) -> str:
    """The candidate-line count of csdiag's LOGS_SCANNED finding."""
    for f in json.loads(output)["findings"]:
        if f["code"] == "LOGS_SCANNED":
            return f["summary"].split("; ")[-1]
    return "?"


def main() -> None:
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    path = Path(tempfile.gettempdir()) / f"csdiag-bench-ms-v2-{size_mb}m.log"
    if not path.exists() or path.stat().st_size < (size_mb << 20):
        t = time.perf_counter()
        generate(path, size_mb)
        print(f"generated {path} ({path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t:.1f} s")
    pattern = "|".join(signature_alternatives())
    csdiag = str(Path(sys.executable).with_name("csdiag"))
    # (csdiag keeps at most [logs] max_lines = 20 000 candidate lines per file: the rest is reported as
    # LOG_SCAN_TRUNCATED, so of a 1 GiB file it reads every byte but evaluates 20 000 lines)
    cmd = [csdiag, "logs", "scan", str(path), "--since", "3650d", "--format", "json"]
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)  # same warm page cache for both
    grep, ours = [], []
    for _ in range(runs):  # alternated, so that both meet the same load from other processes
        grep.append(timed(["grep", "-E", "-c", pattern, str(path)]))
        ours.append(timed(cmd))
    _, tree_peak, _, _ = timed(cmd, sample=True)  # one more run, sampled: the sampling itself costs time
    g, c = min(x[0] for x in grep), min(x[0] for x in ours)
    print(f"file: {path.stat().st_size / 2**20:.0f} MiB, {len(pattern.split('|'))} signatures")
    print(
        f"baseline grep -E -c:  best {g:.2f} s  (runs {', '.join(f'{x[0]:.2f}' for x in grep)}), "
        f"{int(grep[0][3])} matching lines"
    )
    print(
        f"csdiag logs scan:     best {c:.2f} s  (runs {', '.join(f'{x[0]:.2f}' for x in ours)}), "
        f"peak RSS {max(x[1] for x in ours):.0f} MB (main process), {tree_peak:.0f} MB (all scan processes), "
        f"exit {ours[0][2]}, {_candidates(ours[0][3])}"
    )
    print(f"ratio csdiag / grep:  {c / g:.2f}×")


if __name__ == "__main__":
    main()
