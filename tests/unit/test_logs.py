"""The logs check on excerpts written in every format of cloudstack.md §3 (tests/data/logs)."""

import gzip
import json
from datetime import UTC, datetime

import pytest

from checks import logparse, logs, logs_scan
from checks.logs import LogsParams
from diagnostics.sources import logfiles
from tests.conftest import ROOT, run_cli

pytestmark = pytest.mark.unit
LOGS = ROOT / "tests/data/logs"


def findings(*paths, since="2020-01-01"):
    raw = logs_scan.scan_paths([str(p) for p in paths], since, "UTC")
    return list(logs.evaluate(raw, LogsParams()))


def by_key(fs):
    return {(f.code, f.target): f for f in fs}


@pytest.mark.parametrize(
    "line, fmt, logid, level",
    [
        (
            "2024-05-02 10:11:12,345 WARN  [c.c.s.d.DownloadListener] (Timer-12:ctx-1a2b3c4d) (logid:0f1e2d3c) msg",
            "ms",
            "0f1e2d3c",
            "WARN",
        ),
        (
            "2024-05-02 10:11:12,345 DEBUG [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-13:null) (logid:) msg",
            "ms",
            None,
            "DEBUG",
        ),
        (
            "2024-05-02 10:11:12,345 INFO  [o.a.c.s.i.X] (Work-Job-Executor-28:ctx-8a0dd68f job-3564/job-3566 ctx-7c4e0d7c) "
            "(logid:8a8a8a8a) msg",
            "ms",
            "8a8a8a8a",
            "INFO",
        ),
        (
            "2025-01-09 08:00:01,002 INFO  [o.a.c.s.i.X] (Work-Job-Executor-28:[ctx-5b29434d, job-113/job-141, ctx-9e239170]) "
            "(logid:99887766) msg",
            "ms",
            "99887766",
            "INFO",
        ),
        (
            "2025-01-09 08:00:01,002 WARN  [c.c.a.m.AgentManagerImpl] (AgentManager-Handler-9:[]) (logid:) msg",
            "ms",
            None,
            "WARN",
        ),
        (
            "2025-03-11T20:53:36,178 ERROR [storage.template.DownloadManagerImpl] (pool-1-thread-4:[]) msg",
            "ssvm",
            None,
            "ERROR",
        ),
        ("2021-02-21 04:45:16,799 INFO  [cloud.agent.Agent] (main:null) msg", "ssvm", None, "INFO"),
        (
            "mgmt01 2024-05-02 10:11:12,345 WARN  [c.c.s.d.DownloadListener] (T:ctx-1) (logid:0f1e2d3c) msg",
            "ms",
            "0f1e2d3c",
            "WARN",
        ),
        (
            "./management-server.log:393287:2024-05-02 10:11:12,345 WARN  [c.c.X] (T:null) (logid:0f1e2d3c) msg",
            "ms",
            "0f1e2d3c",
            "WARN",
        ),
        ("Thu May  2 09:58:01 UTC 2024 msg", "boot", None, None),
    ],
)
def test_parse_formats(line, fmt, logid, level):
    p = logparse.parse(line, UTC)
    assert (p.format, p.logid, p.level, p.message) == (fmt, logid, level, "msg")
    assert p.time is not None and p.time.tzinfo is not None


def test_unknown_format_is_counted_not_crashing():
    p = logparse.parse("garbage \x00 line ü", UTC)
    assert p.format == "unknown" and p.time is None


def test_every_code_from_the_excerpts():
    fs = by_key(findings(LOGS))
    expected = {
        ("DOWNLOAD_TIMEOUT", "template 555"),
        ("DOWNLOAD_TIMEOUT", 'template 999 "rocky-9"'),
        ("DOWNLOAD_TIMEOUT", "template 888"),
        ("DOWNLOAD_TIMEOUT", "template 889"),
        ("STORAGE_DISCONNECTED", "template 556"),
        ("CHECKSUM_MISMATCH", "template 600"),
        ("NO_SSVM", "store nfs-east-1"),
        ("STORAGE_FULL", "store nfs-east-1"),
        ("SSVM_START_FAILED", "ssvm s-12-VM"),
        ("AGENT_DISCONNECTED", "host 7"),
        ("AGENT_DISCONNECTED", "host 10.1.0.5"),
        ("TEMPLATE_CORRUPTED", "template 777"),
        ("SCRIPT_TIMEOUT", "management server this server"),
        ("NFS_MOUNT_FAILED", "ssvm at this server"),
        ("STORAGE_READ_ONLY", "kvm host this server"),
        ("DOWNLOAD_FAILED", "template 444"),
        ("INVALID_TEMPLATE_FORMAT", None),
    }
    for code, target in expected:
        if target is None:
            continue
        assert (code, target) in fs, (code, target, sorted(fs))
    codes = {c for c, _ in fs}
    assert {
        "DOWNLOAD_TIMEOUT",
        "STORAGE_DISCONNECTED",
        "CHECKSUM_MISMATCH",
        "DOWNLOAD_FAILED",
        "NO_SSVM",
        "SSVM_START_FAILED",
        "AGENT_DISCONNECTED",
        "NFS_MOUNT_FAILED",
        "STORAGE_FULL",
        "STORAGE_READ_ONLY",
        "TEMPLATE_CORRUPTED",
        "SCRIPT_TIMEOUT",
    } <= codes


def test_invalid_format_code(tmp_path):
    f = tmp_path / "cloud.log"
    f.write_text(
        "2025-03-11T20:53:36,178 ERROR [storage.template.DownloadManagerImpl] (pool-1-thread-4:[]) "
        "Failed post download script: The downloaded file is not a valid QCOW2. Image header mismatch\n"
    )
    [f1, _] = findings(f)
    assert f1.code == "INVALID_TEMPLATE_FORMAT" and f1.severity.value == "CRIT"


def test_aggregation_samples_and_logid():
    f = by_key(findings(LOGS / "ms-4.18.log"))[("DOWNLOAD_TIMEOUT", "template 555")]
    assert f.count == 2
    assert f.first_seen == datetime(2024, 5, 2, 10, 2, tzinfo=UTC)
    assert f.last_seen == datetime(2024, 5, 2, 10, 3, tzinfo=UTC)
    assert [e.source.rsplit(":", 1)[1] for e in f.evidence] == ["6", "7"]
    assert "0f1e2d3d" in f.details and "ms-4.18.log (2)" in f.details


def test_checksum_facts_and_upper_case():
    f = by_key(findings(LOGS / "ms-4.18.log"))[("CHECKSUM_MISMATCH", "template 600")]
    assert "expected C0FFEE" in f.summary and "upper-case" in f.summary


def test_stack_trace_attached_to_its_entry():
    f = next(f for f in findings(LOGS / "ms-4.18.log") if "template sync failed" in f.summary)
    text = f.evidence[0].text
    assert "Caught exception while doing template/volume sync" in text
    assert "\tat com.cloud.template.TemplateServiceImpl.handleTemplateSync" in text and "Caused by:" in text


def test_recovered_timeout_is_info():
    f = by_key(findings(LOGS / "ms-4.18.log"))[("DOWNLOAD_TIMEOUT", "template 321")]
    assert f.severity.value == "INFO" and f.summary.startswith("recovered:")


def test_ordinary_traffic_is_quiet():
    fs = findings(LOGS / "normal.log")
    assert [f.code for f in fs] == ["LOGS_SCANNED"]


def test_time_window(tmp_path):
    fs = findings(LOGS / "ms-4.18.log", since="2024-05-02T10:05:30")
    codes = {f.code for f in fs}
    assert "STORAGE_DISCONNECTED" not in codes and "TEMPLATE_CORRUPTED" in codes


def test_rotated_and_gz_oldest_first(tmp_path):
    (tmp_path / "cloud.log").write_text(
        "2025-03-11T20:58:00,000 ERROR [x.y.Z] (t:[]) Unable to download due to No space left on device\n"
    )
    (tmp_path / "cloud.1.log").write_text(
        "2025-03-11T19:00:00,000 ERROR [x.y.Z] (t:[]) Unable to download due to No space left on device\n"
    )
    with gzip.open(tmp_path / "cloud.2.log.gz", "wt") as g:
        g.write("2025-03-11T18:00:00,000 ERROR [x.y.Z] (t:[]) Unable to download due to No space left on device\n")
    files, missing = logfiles.expand([str(tmp_path)])
    assert [f.name for f in files] == ["cloud.2.log.gz", "cloud.1.log", "cloud.log"] and not missing
    [f, _] = findings(tmp_path)
    assert f.code == "STORAGE_FULL" and f.count == 3
    assert f.first_seen.hour == 18 and f.last_seen.hour == 20


def test_bad_input_is_reported_and_the_rest_goes_on(tmp_path):
    good = tmp_path / "good.log"
    good.write_text((LOGS / "ms-4.18.log").read_text())
    (tmp_path / "binary.log").write_bytes(b"\x00\x01\x02" * 1000)
    (tmp_path / "latin1.log").write_bytes(
        b"2024-05-02 10:00:00,000 WARN  [c.X] (t:null) (logid:) caf\xe9 Stream closed \xff\xfe\n"
    )
    (tmp_path / "empty.log").write_bytes(b"")
    data = gzip.compress(
        b"2024-05-02 10:00:00,000 ERROR [storage.template.DownloadManagerImpl] (t:null) Failed post download script: "
        b"cp: error writing: No space left on device\n" * 5000
    )
    (tmp_path / "broken.log.gz").write_bytes(data[: len(data) // 2])
    long_line = b"2024-05-02 10:00:00,000 WARN  [c.X] (t:null) (logid:) " + b"x" * (20 << 20) + b"\n"
    (tmp_path / "long.log").write_bytes(
        long_line + b"2024-05-02 10:00:01,000 WARN  [c.X] (t:null) (logid:) Failed to install: Read-only file system\n"
    )
    fs = findings(tmp_path, tmp_path / "nope.log")
    keys = {(f.code, f.target.rsplit("/", 1)[-1]) for f in fs}
    assert ("LOG_FILE_DAMAGED", "binary.log") in keys
    assert ("LOG_FILE_DAMAGED", "broken.log.gz") in keys
    assert ("LOG_FILE_MISSING", "nope.log") in keys
    assert ("DOWNLOAD_TIMEOUT", "template 321") in keys  # the good file is still analysed
    assert any(f.code == "STORAGE_FULL" for f in fs)  # what was read from the broken .gz counts
    assert any(f.code == "STORAGE_READ_ONLY" for f in fs)  # after the 20 MB line
    texts = [e.text for f in fs for e in f.evidence if "latin1.log" in e.source]
    assert any("caf\ufffd Stream closed" in t for t in texts)


def test_logs_scan_command_needs_no_config(tmp_path):
    r = run_cli("logs", "scan", str(LOGS / "ms-4.20.log"), "--since", "2020-01-01", "--format", "json", cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    doc = json.loads(r.stdout)
    assert doc["findings"][0]["code"] == "DOWNLOAD_TIMEOUT"
    r = run_cli("logs", "scan", str(LOGS), "--since", "yesterday", cwd=tmp_path)
    assert r.returncode == 64 and "--since" in r.stderr


@pytest.mark.parametrize("workers", [2, 3, 7])
def test_parallel_scan_equals_sequential(tmp_path, monkeypatch, workers):
    """Byte ranges cut at line ends: every line scanned once, line numbers exact."""
    src = (LOGS / "ms-4.18.log").read_bytes()
    f = tmp_path / "big.log"
    f.write_bytes(src * 40)
    sequential = logfiles.Scanner(
        logs_scan.anchors("management"), parallel_from=1 << 40, pattern=logs_scan.LEVEL_PATTERN
    ).scan_file(f)
    monkeypatch.setattr(logfiles.os, "cpu_count", lambda: workers)
    parallel = logfiles.Scanner(
        logs_scan.anchors("management"), parallel_from=0, pattern=logs_scan.LEVEL_PATTERN
    ).scan_file(f)
    assert parallel.lines == sequential.lines == src.count(b"\n") * 40
    assert parallel.candidates == sequential.candidates
    assert parallel.bytes_read == sequential.bytes_read == len(src) * 40


def _line(ts, text="Unable to download due to No space left on device"):
    return f"2025-03-11T{ts},000 ERROR [storage.template.DownloadManagerImpl] (pool-1-thread-4:[]) {text}\n"


def test_cursors_report_only_what_is_new_across_rotation(tmp_path):
    logdir = tmp_path / "var-log"
    logdir.mkdir()
    live = logdir / "cloud.log"
    live.write_text(_line("10:00:00") + _line("10:01:00"))
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[logs]\nmanagement = ["{logdir}"]\nsince = "2020-01-01"\nincremental = true\n'
        f'cursor_file = "{tmp_path / "cursors.sqlite"}"\n\n'
        # cursors move only with a recorded run (the lines were evaluated and the run stored)
        f'[history]\nurl = "sqlite:///{tmp_path / "history.sqlite"}"\nrecord = true\n'
    )

    def storage_full():
        r = run_cli("triage", "--config", str(cfg), "--only", "logs", "--format", "json", cwd=tmp_path)
        fs = [f for f in json.loads(r.stdout)["findings"] if f["code"] == "STORAGE_FULL"]
        return (fs[0]["count"], [e["source"].rsplit("/", 1)[1] for e in fs[0]["evidence"]]) if fs else (0, [])

    assert storage_full() == (2, ["cloud.log:1", "cloud.log:2"])
    assert storage_full() == (0, [])  # nothing new
    with live.open("a") as f:
        f.write(_line("10:02:00"))
    assert storage_full() == (1, ["cloud.log:3"])  # line numbers continue
    with live.open("a") as f:  # written, then rotated: the rest of the old file, then the new one
        f.write(_line("10:03:00"))
    live.rename(logdir / "cloud.1.log")
    live.write_text(_line("10:04:00"))
    assert storage_full() == (2, ["cloud.1.log:4", "cloud.log:1"])
    assert storage_full() == (0, [])
    live.write_text(_line("11:00:00"))  # truncated and rewritten (copytruncate): read again from the start
    assert storage_full() == (1, ["cloud.log:1"])


def test_cursors_do_not_move_with_a_run_that_is_not_recorded(tmp_path):
    """triage without [history] record evaluates the lines but stores no run: the next run reads them again."""
    logdir = tmp_path / "var-log"
    logdir.mkdir()
    (logdir / "cloud.log").write_text(_line("10:00:00"))
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[logs]\nmanagement = ["{logdir}"]\nsince = "2020-01-01"\nincremental = true\n\n'
        f'[history]\nurl = "sqlite:///{tmp_path / "history.sqlite"}"\n'
    )
    counts = []
    for _ in range(2):
        r = run_cli("triage", "--config", str(cfg), "--only", "logs", "--format", "json", cwd=tmp_path)
        counts.append(sum(f["count"] for f in json.loads(r.stdout)["findings"] if f["code"] == "STORAGE_FULL"))
    assert counts == [1, 1]


def test_a_scan_cut_short_moves_its_cursor_only_to_the_first_line_not_kept(tmp_path):
    logdir = tmp_path / "var-log"
    logdir.mkdir()
    (logdir / "cloud.log").write_text("".join(_line(f"10:{s // 60:02d}:{s % 60:02d}") for s in range(250)))
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[logs]\nmanagement = ["{logdir}"]\nsince = "2020-01-01"\nincremental = true\nmax_lines = 100\n\n'
        f'[history]\nurl = "sqlite:///{tmp_path / "history.sqlite"}"\nrecord = true\n'
    )
    counts = []
    for _ in range(4):
        r = run_cli("triage", "--config", str(cfg), "--only", "logs", "--format", "json", cwd=tmp_path)
        fs = [f for f in json.loads(r.stdout)["findings"] if f["code"] == "STORAGE_FULL"]
        counts.append(sum(f["count"] for f in fs))
    assert counts == [100, 100, 50, 0]  # every line evaluated once: none skipped, none twice


def test_cursors_live_in_the_history_store_by_default(tmp_path):
    logdir = tmp_path / "var-log"
    logdir.mkdir()
    (logdir / "cloud.log").write_text(_line("10:00:00"))
    store = tmp_path / "history.sqlite"
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[logs]\nmanagement = ["{logdir}"]\nsince = "2020-01-01"\nincremental = true\n\n'
        f'[history]\nurl = "sqlite:///{store}"\nrecord = true\n'
    )
    counts = []
    for _ in range(2):
        r = run_cli("triage", "--config", str(cfg), "--only", "logs", "--format", "json", cwd=tmp_path)
        counts.append(sum(f["count"] for f in json.loads(r.stdout)["findings"] if f["code"] == "STORAGE_FULL"))
    assert counts == [1, 0]
    import sqlite3

    with sqlite3.connect(store) as db:
        [(path, offset, lines)] = db.execute("SELECT path, offset_bytes, line_count FROM csdiag_log_cursors").fetchall()
    assert path.endswith("cloud.log") and lines == 1 and offset == len(_line("10:00:00"))
