"""Every message CloudStack's template / SSVM / secondary-storage code writes (harvested from its source into
tests/data/cloudstack_messages/messages.tsv), rendered in the real log layouts, against the catalogue.

Layouts (from the log4j configuration files at the same commits):
- management-server.log, 4.18 (log4j 1, client/conf/log4j-cloud.xml.in):
  ``%d{ISO8601} %-5p [%c{1.}] (%t:%x) (logid:%X{logcontextid}) %m%n`` — NDC space-separated or ``null``;
- management-server.log, 4.20+ (log4j2): ``%d{DEFAULT} %-5p [%c{1.}] (%t:%x) (logid:…) %m%ex%n`` — NDC a list;
- KVM agent.log (agent/conf/log4j-cloud.xml.in): the same with ``[%c{3}]``;
- the SSVM's cloud.log (systemvm/agent/conf/log4j-cloud.xml): ``%d{ISO8601}{GMT} %-5p [%c{3}] (%t:%x) %m%n``,
  which log4j2 (4.20+) prints with a ``T`` between date and time.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from checks import logs, logs_scan, signatures
from checks.logs import LogsParams
from diagnostics.model import Severity
from tests.conftest import ROOT

pytestmark = pytest.mark.unit
TABLE = ROOT / "tests/data/cloudstack_messages/messages.tsv"
LOG_LEVELS = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}
TEXT_KINDS = {"answer", "error_str", "script", "text", "exception"}


def _rows() -> list[dict[str, str]]:
    with TABLE.open(newline="") as f:
        return list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))


ROWS = _rows()


def _category(source: str, log: str) -> str:
    path = source.split(":")[0]
    parts = path.split("src/main/java/")[1].removesuffix(".java").split("/")
    if log == "management":  # %c{1.}
        return ".".join([p[0] for p in parts[:-1]] + parts[-1:])
    return ".".join(parts[-3:])  # %c{3}


def render(row: dict[str, str], layout: str) -> str:
    """One log line of ``row`` as CloudStack ``layout`` ("4.18" or "4.20") writes it."""
    msg = row["message"].replace("{}", "7")
    level, log = row["level"], row["log"]
    if row["source"].startswith("scripts/"):  # install scripts' output reaches cloud.log inside this line
        cat, level, msg = "storage.template.DownloadManagerImpl", "ERROR", f"Failed post download script: {msg}"
    else:
        cat = _category(row["source"], log)
    if log == "ssvm":
        ts, ndc, logid = (
            ("2025-03-11T20:53:36,178", "[]", "") if layout == "4.20" else ("2021-02-21 04:45:16,799", "null", "")
        )
    elif log == "agent":
        ts, ndc = ("2025-01-09 08:00:01,002", "[]") if layout == "4.20" else ("2024-05-02 10:11:12,345", "null")
        logid = " (logid:)"
    else:
        ts = "2025-01-09 08:00:01,002" if layout == "4.20" else "2024-05-02 10:11:12,345"
        ndc = "[ctx-5b29434d, job-113/job-141, ctx-9e239170]" if layout == "4.20" else "ctx-8a0dd68f job-3564/job-3566"
        logid = " (logid:99887766)"
    thread = {"ssvm": "pool-1-thread-4", "agent": "agentRequest-Handler-4"}.get(log, "Work-Job-Executor-28")
    return f"{ts} {level:<5} [{cat}] ({thread}:{ndc}){logid} {msg}"


# An install script's output reaches cloud.log only when the script failed: its error-path rows go in.
LOG_ROWS = [
    r for r in ROWS if r["level"] in LOG_LEVELS or (r["source"].startswith("scripts/") and r["finding"] == "yes")
]
TEXT_ROWS = [r for r in ROWS if r["level"] in TEXT_KINDS and r["finding"] in {"yes", "no"}]
FILES = {"management": "management-server.log", "ssvm": "cloud.log", "agent": "agent.log"}


def test_the_table_covers_the_classes_the_issue_names() -> None:
    assert len(ROWS) >= 300
    classes = {Path(r["source"].split(":")[0]).stem for r in ROWS}
    named = [
        "DownloadListener",
        "DownloadMonitorImpl",
        "TemplateServiceImpl",
        "TemplateManagerImpl",
        "HypervisorTemplateAdapter",
        "ImageStoreUploadMonitorImpl",
        "BaseImageStoreDriverImpl",
        "DownloadManagerImpl",
        "HttpTemplateDownloader",
        "MetalinkTemplateDownloader",
        "NfsSecondaryStorageResource",
        "SecondaryStorageManagerImpl",
        "SystemVmLoadScanner",
        "AgentManagerImpl",
        "Agent",
        "NioClient",
        "AlertManagerImpl",
        "StorageOrchestrator",
        "DirectDownloadManagerImpl",
        "KVMStorageProcessor",
        "LibvirtStorageAdaptor",
        "HttpDirectTemplateDownloader",
        "QCOW2Processor",
        "createtmplt",
    ]
    assert not set(named) - classes
    assert {r["release"] for r in ROWS} == {"4.18.0.0", "4.19.0.0", "4.20.0.0", "4.21.0.0", "main"}
    assert all(r["finding"] in {"yes", "no", "-"} and (r["code"] != "") == (r["finding"] == "yes") for r in ROWS)


def _scan(tmp_path: Path, rows: list[dict[str, str]], layout: str, log: str) -> dict[int, dict[str, object]]:
    """Candidate lines (by line number) of a file holding ``rows`` in ``layout``, each followed by a stack trace
    (which must stay with its entry: no candidate starts inside it)."""
    path = tmp_path / layout / FILES[log]
    path.parent.mkdir(exist_ok=True)
    lines = []
    for row in rows:
        lines.append(render(row, layout))
        lines += [
            "com.cloud.utils.exception.CloudRuntimeException: Unable to process the request",
            "\tat com.cloud.storage.download.DownloadListener.log(DownloadListener.java:260)",
            "Caused by: java.net.SocketTimeoutException: Read timed out",
            "\t... 12 more",
        ]
    path.write_text("\n".join(lines) + "\n")
    scan = logs_scan.scanner(log).scan_file(path)
    assert not scan.error and not scan.truncated
    return {int(c["line"]): c for c in scan.candidates}  # type: ignore[call-overload]


@pytest.mark.parametrize("layout", ["4.18", "4.20"])
@pytest.mark.parametrize("log", ["management", "ssvm", "agent"])
def test_every_error_path_message_gets_its_code_and_routine_ones_stay_quiet(tmp_path, layout, log) -> None:
    rows = [r for r in LOG_ROWS if r["log"] == log]
    candidates = _scan(tmp_path, rows, layout, log)
    assert all((n - 1) % 5 == 0 for n in candidates), "a stack-trace line became an event of its own"
    wrong = []
    for i, row in enumerate(rows):
        cand = candidates.get(5 * i + 1)
        text = " ".join([str(cand["text"]), *list(cand["continuation"])[:3]]) if cand else None  # type: ignore[call-overload]
        got = signatures.classify(text, "log").code if text else "not a candidate"
        if row["finding"] == "yes" and got != row["code"]:
            wrong.append(f"{row['source']} {row['level']} {row['message']!r}: want {row['code']}, got {got}")
        if row["finding"] == "no" and got not in {"not a candidate", "UNCLASSIFIED"}:
            wrong.append(f"{row['source']} {row['level']} {row['message']!r}: routine, got {got}")
    assert not wrong, f"{len(wrong)} of {len(rows)} rows wrong:\n" + "\n".join(wrong)


def _plain_trace(row: dict[str, str], layout: str) -> str:
    return render(row, layout) + "\n\tat com.cloud.Foo.bar(Foo.java:1)\n"


@pytest.mark.parametrize("layout", ["4.18", "4.20"])
def test_end_to_end_findings_match_the_table(tmp_path, layout) -> None:
    """The whole logs check over every row: the codes it reports are exactly the table's, counted once per
    line; a file of routine rows only gives nothing above INFO."""
    want: Counter[str] = Counter()
    for d in ("yes", "no"):
        (tmp_path / d).mkdir()
    for log, name in FILES.items():
        rows = [r for r in LOG_ROWS if r["log"] == log]
        (tmp_path / "yes" / name).write_text("".join(_plain_trace(r, layout) for r in rows if r["finding"] == "yes"))
        (tmp_path / "no" / name).write_text("".join(_plain_trace(r, layout) for r in rows if r["finding"] == "no"))
        want.update(r["code"] for r in rows if r["finding"] == "yes")
    yes = logs_scan.scan_paths([str(tmp_path / "yes")], "2000-01-01", "UTC")
    got: Counter[str] = Counter()
    for f in logs.evaluate(yes, LogsParams()):
        if f.code not in {"LOGS_SCANNED"}:
            got[f.code] += f.count or 0
    assert got == want
    no = logs_scan.scan_paths([str(tmp_path / "no")], "2000-01-01", "UTC")
    loud = [f for f in logs.evaluate(no, LogsParams()) if f.severity.rank > Severity.INFO.rank]
    assert not loud, [(f.code, f.evidence[0].text[:120] if f.evidence else "") for f in loud]


@pytest.mark.parametrize("row", TEXT_ROWS, ids=lambda r: f"{r['source']}:{r['message'][:40]}")
def test_error_str_and_answer_texts_are_classified_by_the_same_catalogue(row) -> None:
    """What reaches template_store_ref.error_str (answer details, setErrorString, install-script output,
    the SSVM's exception texts) classifies through the function the templates check calls."""
    text = row["message"].replace("{}", "7")
    got = signatures.classify(text, "error_str").code
    assert got == (row["code"] if row["finding"] == "yes" else "UNCLASSIFIED")


def test_every_catalogue_entry_names_real_messages() -> None:
    messages = {r["message"] for r in ROWS}
    for sig in signatures.CATALOGUE:
        missing = [m for m in sig.messages if m not in messages]
        assert not missing, f"{sig.code} {sig.literal!r} names messages not in the table: {missing}"
    covered = {m for s in signatures.CATALOGUE for m in s.messages}
    assert len(covered) >= 150


def test_the_hyperscan_gates_and_the_plain_loop_classify_alike(monkeypatch) -> None:
    """Where Hyperscan is missing, classify tests each entry's literals itself: same answers."""
    texts = [render(r, layout) for r in LOG_ROWS for layout in ("4.18", "4.20")]
    texts += [r["message"].replace("{}", "7") for r in ROWS]
    fast = [(signatures.classify(t, "log").code, signatures.classify(t, "error_str").code) for t in texts]
    monkeypatch.setattr(signatures._GATES, "_db", None)
    plain = [(signatures.classify(t, "log").code, signatures.classify(t, "error_str").code) for t in texts]
    assert fast == plain
