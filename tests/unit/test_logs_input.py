"""The logs check on the errors CloudStack logs below WARN, and on bad input: unknown layouts, cut lines,
mixed encodings, a file without newlines, a 10 000-line stack trace, concatenated gz members."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pytest

from checks import logs, logs_scan, signatures
from checks.logs import LogsParams
from diagnostics.model import Severity
from diagnostics.sources import logfiles

pytestmark = pytest.mark.unit

# The three below-WARN examples, in the real layouts (messages from tests/data/cloudstack_messages):
# DownloadManagerImpl's INFO progress line on the SSVM (4.20+ cloud.log, UTC with a T), TemplateManagerImpl's
# DEBUG "copy template failed for image store {}:{}" (4.18 management-server.log) and the DEBUG command
# trace carrying the DownloadAnswer of DownloadManagerImpl's "invalid algorithm: " (4.20+).
QUIET = {
    "cloud.log": (
        "2025-03-11T20:53:36,178 INFO  [storage.template.DownloadManagerImpl] (pool-1-thread-4:[]) local: "
        "/mnt/SecStorage/5dc2ba2c-1f2b-3e5b-9a41-6b7f44e8f2e1/template/tmpl/2/210/dnld8123651208731tmp_, "
        "bytes=1073741824, error=No space left on device, pct=38",
        "STORAGE_FULL",
    ),
    "management-server.log": (
        "2024-05-02 10:11:12,345 DEBUG [c.c.t.TemplateManagerImpl] (API-Job-Executor-7:ctx-3c1f2a8b job-4117 "
        "ctx-77aa01de) (logid:3c1f2a8b) copy template failed for image store 2: HTTP Server returned 401 "
        "(expected 200 OK)",
        "TEMPLATE_COPY_FAILED",
    ),
    "management-server.log.1": (
        "2025-01-09 08:00:01,002 DEBUG [c.c.a.t.Request] (AgentManager-Handler-9:[]) (logid:) Seq 5-7182: "
        'Processing:  { Ans: , MgmtId: 90520734, via: 5, Ver: v1, Flags: 110, [{"com.cloud.agent.api.storage.'
        'DownloadAnswer":{"jobId":"","downloadPct":"0","errorString":"invalid algorithm: {SHA3}6a0f",'
        '"downloadStatus":"DOWNLOAD_ERROR","templateSize":"(0 bytes) 0","result":"false","wait":"0"}}] }',
        "CHECKSUM_MISMATCH",
    ),
}


@pytest.mark.parametrize("name", sorted(QUIET))
def test_errors_logged_below_warn_are_found(tmp_path, name):
    line, code = QUIET[name]
    path = tmp_path / name
    path.write_text("2024-05-02 10:11:12,345 INFO  [c.c.X] (t:null) (logid:) routine\n" + line + "\n")
    raw = logs_scan.scan_paths([str(path)], "2000-01-01", "UTC")
    found = [f for f in logs.evaluate(raw, LogsParams()) if f.code == code]
    assert found and found[0].count == 1


def test_hyperscan_and_the_plain_fallback_keep_the_same_lines(tmp_path):
    lines = [QUIET[n][0] for n in sorted(QUIET)] * 50
    text = "\n".join(
        f"2024-05-02 10:00:00,000 DEBUG [c.c.X] (t:null) (logid:) filler {i}\n{ln}" for i, ln in enumerate(lines)
    )
    path = tmp_path / "management-server.log"
    path.write_text(text + "\n")
    fast = logs_scan.scanner("management")
    plain = logs_scan.scanner("management")
    plain._hs_tried = True  # as where Hyperscan is not installed
    a, b = fast.scan_file(path), plain.scan_file(path)
    assert [c["line"] for c in a.candidates] == [c["line"] for c in b.candidates]
    assert len(a.candidates) == 100  # the two management lines of QUIET, 50 times each


def test_unknown_layouts_and_cut_lines_do_not_crash_and_known_lines_are_still_found(tmp_path):
    path = tmp_path / "management-server.log"
    path.write_bytes(
        b"<134>May  2 10:11:12 mgmt01 java[1234]: WARN something in syslog form\n"
        b'{"level":"ERROR","msg":"json logs"}\n'
        b"2024-05-02 10:11:12,345 WARN  [c.c.s.d.DownloadListener] (Timer-1:ctx-1) (logid:1) Entering downl\n"
        b"2024-05-02 10:11:\n"
        b"\xff\xfe\x00garbage\x00\n"
        b"2024-05-02 10:11:13,000 WARN  [c.c.s.d.DownloadListener] (Timer-1:ctx-1) (logid:1) Entering download "
        b"error state: timeout waiting for response from storage host, TEMPLATE: 321 at host 7\n"
        b"2024-05-02 10:11:14,000 ERROR [c.c.s.StatsCollector] (S:null) (logid:) caf\xe9 \xe2\x82\xac Image storage "
        b"[nfs-1] has not enough capacity. Capacity: total=[1], used=[1], threshold=[90.0%].\n"
        b"2024-05-02 10:11:15,000 WARN  [c.c.s.d.DownloadListener] (Timer-1:ctx-1) (logid:1) Unable to monitor dow"
    )
    raw = logs_scan.scan_paths([str(path)], "2000-01-01", "UTC")
    codes = {f.code for f in logs.evaluate(raw, LogsParams())}
    assert {"DOWNLOAD_TIMEOUT", "STORAGE_FULL"} <= codes


def test_a_10000_line_stack_trace_is_one_event(tmp_path):
    trace = ["com.cloud.utils.exception.CloudRuntimeException: Failed to install: No space left on device"]
    trace += [f"\tat com.cloud.Foo.bar{i}(Foo.java:{i})" for i in range(10_000)]
    trace += ["Caused by: java.io.IOException: Lost connection to host: Read-only file system", "\t... 12 more"]
    path = tmp_path / "cloud.log"
    path.write_text(
        "2021-02-21 04:45:16,799 ERROR [storage.template.DownloadManagerImpl] (pool-1-thread-4:null) Failed post "
        "download script: cp: error writing: No space left on device\n"
        + "\n".join(trace)
        + "\n2021-02-21 04:45:17,000 INFO  [cloud.agent.Agent] (main:null) Lost connection to host: 10.0.0.1. "
        "Attempting reconnection while we still have 0 commands in progress.\n"
    )
    scan = logs_scan.scanner("ssvm").scan_file(path)
    assert [c["line"] for c in scan.candidates] == [1, 10_005]  # the trace's own texts are no events
    assert len(scan.candidates[0]["continuation"]) == logfiles.MAX_CONTINUATION
    raw = logs_scan.scan_paths([str(path)], "2000-01-01", "UTC")
    counts = {f.code: f.count for f in logs.evaluate(raw, LogsParams()) if f.severity.rank > Severity.INFO.rank}
    assert counts == {"STORAGE_FULL": 1, "AGENT_DISCONNECTED": 1}


def test_concatenated_gz_members_are_read_to_the_end(tmp_path):
    a = b"2024-05-02 10:00:00,000 WARN  [c.c.s.d.DownloadListener] (T:null) (logid:) Entering download error state: timeout waiting for response from storage host, TEMPLATE: 1 at host 2\n"
    b = b"2024-05-02 11:00:00,000 ERROR [o.a.c.s.i.BaseImageStoreDriverImpl] (T:null) (logid:) Failed to register template: 7 with error: HTTP Server returned 404 (expected 200 OK)\n"
    path = tmp_path / "management-server.log.2024-05-02.gz"
    path.write_bytes(gzip.compress(a * 1000) + gzip.compress(b * 1000))
    scan = logs_scan.scanner("management").scan_file(path)
    assert not scan.error and scan.lines == 2000 and len(scan.candidates) == 2000


_NO_NEWLINE = """
import sys
sys.path.insert(0, {root!r})
from checks import logs_scan

class Endless:
    '''{size} bytes of one line without a newline, with a known text every 64 MiB.'''
    def __init__(self):
        self.left = {size}
        self.chunk = (b"x" * ((1 << 20) - 80) + b" No space left on device error=No space left on device ")[: 1 << 20]
    def read(self, n):
        if self.left <= 0:
            return b""
        n = min(n, self.left)
        self.left -= n
        reps = n // len(self.chunk) + 1
        return (self.chunk * reps)[:n]

from diagnostics.sources import logfiles
result = logfiles.FileScan(path="endless")
logs_scan.scanner("ssvm", max_lines=100).scan_stream(Endless(), result)
# VmHWM is this process's own peak: ru_maxrss would carry over the parent's peak across fork + exec (Linux
# keeps signal->maxrss through execve), which in a long test session is pytest's, not the scan's.
hwm = next(ln for ln in open("/proc/self/status") if ln.startswith("VmHWM:"))
peak = int(hwm.split()[1]) / 1024
print(result.lines, len(result.candidates), result.bytes_read, int(peak))
"""


def test_a_multi_gb_file_without_newlines_in_bounded_memory():
    size = 2 << 30
    code = _NO_NEWLINE.format(root=str(Path(__file__).resolve().parents[2]), size=size)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    lines, candidates, read, peak_mb = map(int, out.stdout.split())
    assert read == size and lines == 0 and candidates >= 1
    assert peak_mb < 200, peak_mb


def test_catalogue_anchors_cover_the_quiet_texts():
    """Every entry that says a log writes it below WARN has pre-filter anchors for that log."""
    for sig in signatures.CATALOGUE:
        for kind in sig.quiet_in:
            assert set(sig.anchors) <= set(signatures.pre_filter_anchors(kind))


def test_blocks_carry_an_entry_longer_than_the_buffer():
    """An entry whose stack trace is longer than two blocks, starting mid-block: every byte is delivered
    once, in order, in bounded pieces."""
    import io

    entry = b"2024-05-02 10:00:00,000 ERROR [c.X] (t:null) (logid:) boom\n"
    trace = b"".join(b"\tat com.cloud.Foo.bar%d(Foo.java:1)\n" % i for i in range(20_000))  # ~700 KB
    data = entry * 300 + entry + trace + entry * 300
    out = []
    for buf, end in logfiles.blocks(io.BytesIO(data), size=64 << 10):
        out.append(bytes(buf[:end]))
    assert b"".join(out) == data
    # where an entry fits, a block ends where the next entry starts; the long one is handed over in pieces
    assert sum(chunk.endswith(b"boom\n") for chunk in out) >= 2 and max(map(len, out)) <= 2 * (64 << 10)


def test_a_class_fallback_finding_says_what_the_line_said(tmp_path):
    path = tmp_path / "cloud.log"
    path.write_text(
        "2025-03-11T20:53:36,178 WARN  [storage.resource.NfsSecondaryStorageResource] (main:[]) No DNS entry "
        "found during configuration of NfsSecondaryStorage\n"
    )
    raw = logs_scan.scan_paths([str(path)], "2000-01-01", "UTC")
    [f] = [f for f in logs.evaluate(raw, LogsParams()) if f.code == "SSVM_ERROR"]
    assert f.severity is Severity.WARN and "No DNS entry found during configuration" in f.summary
